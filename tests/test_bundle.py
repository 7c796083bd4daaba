"""The student bundle (make student-bundle): nothing of the solutions in it, and it is the whole
student environment.

The slow tests do what a student does, once per module: unpack the zip (unzip) in an empty folder
outside this repository and run the set-up command that the bundle's README gives for Linux,
verbatim, with a fresh home folder and without this repository's venv. Then: the environment
holds exactly the bundle's pins; every notebook, run headless, stops at its first task as handed
out, and 02 to 05 run to the end with the instructor's solutions typed in; and the bundle's own
JupyterLab, started with the README's command, works in headless Chromium: 06 and 01 with the
solutions run to the end under Run All (06's training cell draws its tqdm bar, Task 5's check
prints ✓), and in 01 a check prints ✓ after a right cell and names the mistake after a wrong one
typed in.

``EX04_BUNDLE=path/to/ex04-student.zip`` tests that zip instead of building one from this checkout
(a bundle about to be handed out, or an old one).
"""
import io
import json
import os
import re
import shlex
import signal
import struct
import subprocess
import time
import types
import urllib.request
import zipfile
from pathlib import Path

import pytest

from nbtools import (HIDDEN_DELIMITERS, ROOT, SOLUTION_DELIMITERS, SOURCE, free_port, nbgrader_meta, notebook_names,
                     read, region)
from labdriver import execution_count
from test_grading_cases import instructor_answers

MIN_LENGTH = 16  # shorter lines ("return Y", "else:") say nothing about a solution


def secret_lines():
    """Stripped lines of every solution and hidden-test region of the source notebooks.

    A line that the source also shows outside such regions (a worked example, an import) is
    public and not counted.
    """
    secret, public = set(), set()
    for name in notebook_names():
        for cell in read(SOURCE / f"{name}.ipynb").cells:
            source = cell.source
            inside = []
            for delimiters in (SOLUTION_DELIMITERS, HIDDEN_DELIMITERS):
                inside += region(source, delimiters, inside=True)
            if nbgrader_meta(cell).get("solution") and not any(d in source for d in SOLUTION_DELIMITERS):
                inside += source.splitlines()  # a solution cell without delimiters is all solution
            outside = set(source.splitlines()) - set(inside)
            secret.update(line.strip() for line in inside)
            public.update(line.strip() for line in outside)
    return {line for line in secret - public if len(line) >= MIN_LENGTH}


def texts_of(data, name):
    """Every text a file holds, as lines: notebook cells and outputs, wheel members, plain text."""
    if name.endswith((".zip", ".whl")):
        archive = zipfile.ZipFile(io.BytesIO(data))
        return [line for member in archive.namelist() for line in texts_of(archive.read(member), member)]
    text = data.decode("utf-8", errors="replace")
    if name.endswith(".ipynb"):
        nb = json.loads(text)
        parts = []
        for cell in nb.get("cells", []):
            parts.append("".join(cell.get("source", "")))
            for output in cell.get("outputs", []):
                parts.append(json.dumps(output))
        text = "\n".join(parts)
    return [line.strip() for line in text.splitlines()]


def leaks(zip_path):
    """(file, line) for every secret line found in the zip."""
    secret = secret_lines()
    found = []
    with zipfile.ZipFile(zip_path) as archive:
        for member in archive.namelist():
            for line in texts_of(archive.read(member), member):
                if line in secret:
                    found.append((member, line))
    return found


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    if os.environ.get("EX04_BUNDLE"):
        return Path(os.environ["EX04_BUNDLE"]).resolve()
    from grading.course.bundle import build

    return build("ex04", tmp_path_factory.mktemp("dist") / "ex04-student.zip", title="Convolutional neural networks")


@pytest.mark.slow
def test_the_bundle_holds_the_student_material_only(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        wheel = next(n for n in names if n.endswith(".whl"))
        wheel_members = zipfile.ZipFile(io.BytesIO(archive.read(wheel))).namelist()
        requirements = archive.read("ex04-student/requirements.txt").decode()
    assert sorted(n.split("/", 1)[1] for n in names if not n.endswith(".whl")) == sorted(
        ["README.md", "requirements.txt", "setup_ex04.py"] + [f"ex04/{name}.ipynb" for name in notebook_names()])
    assert all(m.startswith(("helpers/", "ex04_helpers-")) for m in wheel_members), wheel_members
    assert not any(m.startswith("grading") for m in wheel_members)
    for tool in ("nbgrader", "dask", "distributed", "pytest", "nbval"):
        assert not re.search(rf"^{tool}==", requirements, re.M | re.I), f"{tool} is for instructors"
    for needed in ("torch==", "jupyterlab==", "numpy==", "scikit-learn==", "scikit-image==", "scipy==", "tqdm=="):
        assert needed in requirements
    # Left out on purpose, as in the course venv (1 s more for every nbformat import).
    assert not re.search(r"^(rfc3987-syntax|lark)==", requirements, re.M | re.I)


@pytest.mark.slow
def test_no_solution_or_hidden_test_line_is_in_the_bundle(bundle):
    assert len(secret_lines()) > 100, "the scan must have solution lines to look for"
    assert leaks(bundle) == []


def test_the_scan_finds_a_solution_where_there_is_one(tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:  # a bundle built from notebooks/ by mistake
        archive.write(ROOT / "notebooks" / "ex04" / "01_convolutions.ipynb", "ex04-student/ex04/01_convolutions.ipynb")
    assert len(leaks(bad)) > 10


def _utc_time(info):
    """The extended-timestamp (UT) time of a zip member, as unzip and macOS read it; None without one."""
    extra = info.extra
    while len(extra) >= 4:
        tag, size = struct.unpack("<HH", extra[:4])
        if tag == 0x5455 and extra[4] & 1:
            return struct.unpack("<l", extra[5:9])[0]
        extra = extra[4 + size:]
    return None


@pytest.mark.slow
def test_the_files_are_dated_when_their_inputs_last_changed(bundle):
    # Not a fixed old date (the Lab listed the notebooks as "11mo ago"): the last commit of what
    # the bundle is made of, or the build time when that has uncommitted changes.
    notebooks_committed = int(subprocess.run(["git", "log", "-1", "--format=%ct", "--", "release"], cwd=ROOT,
                                             capture_output=True, text=True, check=True).stdout)
    with zipfile.ZipFile(bundle) as archive:
        infos = archive.infolist()
    utc = {info.filename: _utc_time(info) for info in infos}
    assert None not in utc.values(), "every member carries its time in UTC"
    assert len(set(utc.values())) == 1
    (seconds,) = set(utc.values())
    assert notebooks_committed <= seconds <= time.time() + 5, time.ctime(seconds)
    dos = {time.mktime(info.date_time + (0, 0, -1)) for info in infos}  # the DOS time is local time
    assert dos == {float(seconds - seconds % 2)} or dos == {float(seconds)}, (dos, seconds)


@pytest.mark.slow
def test_the_same_inputs_give_the_same_zip(tmp_path, monkeypatch):
    from grading.course.bundle import build

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    first, second = build("ex04", tmp_path / "a.zip"), build("ex04", tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert {_utc_time(info) for info in archive.infolist()} == {1790000000}


def _readme_commands(readme):
    """The Linux set-up and open commands of the bundle's README (its first bash block)."""
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    setup, open_lab = [line for line in block.splitlines() if line.strip()][:2]
    assert "jupyter lab" in open_lab
    return setup, open_lab


@pytest.mark.slow
def test_the_readme_set_up_tries_no_other_index(bundle):
    # pip retried an unreachable --extra-index-url for 16 minutes; the set-up script tries
    # PyTorch's CPU index once, alone, without retries.
    with zipfile.ZipFile(bundle) as archive:
        readme = archive.read("ex04-student/README.md").decode()
        script = archive.read("ex04-student/setup_ex04.py").decode()
    setup, open_lab = _readme_commands(readme)
    assert "index-url" not in readme and "://" not in setup
    assert re.search(r'"--retries", "0", "--timeout", "\d+", "--index-url", CPU_INDEX', script)
    assert "py setup_ex04.py" in readme and ".venv\\Scripts\\jupyter lab ex04" in readme  # Windows


def _student_environment(home):
    """A student's shell: a fresh home folder, nothing of this repository's venv or Jupyter set-up."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith(("JUPYTER", "XDG_", "JPY_"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    env["HOME"] = str(home)
    return env


@pytest.fixture(scope="module")
def student(bundle, tmp_path_factory):
    """The bundle unpacked and set up as its README says, once for the module's slow tests."""
    home = tmp_path_factory.mktemp("student")
    assert ROOT not in home.parents
    unpacked = subprocess.run(["unzip", "-q", str(bundle)], cwd=home, capture_output=True, text=True)
    assert unpacked.returncode == 0, f"unzip (make browser-tools installs it): {unpacked.stderr}"
    folder = home / "ex04-student"
    env = _student_environment(home)
    setup, open_lab = _readme_commands((folder / "README.md").read_text())
    # Verbatim, in a shell. pip's default retries on an unreachable index took 16 minutes: the
    # time limit fails such a set-up.
    done = subprocess.run(setup, shell=True, cwd=folder, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return types.SimpleNamespace(home=home, folder=folder, env=env, open_lab=open_lab,
                                 python=folder / ".venv" / "bin" / "python")


@pytest.mark.slow
def test_the_student_environment_is_exactly_the_bundle_pins(student):
    from packaging.requirements import Requirement

    listed = subprocess.run([str(student.python), "-m", "pip", "list", "--format=json"], env=student.env,
                            capture_output=True, text=True, check=True)
    installed = {re.sub(r"[-_.]+", "-", p["name"]).lower(): p["version"] for p in json.loads(listed.stdout)}
    pins = {}
    for line in (student.folder / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate():
                pins[re.sub(r"[-_.]+", "-", requirement.name).lower()] = str(requirement.specifier)[2:]
    assert {name: version.split("+")[0] for name, version in installed.items()
            if name not in ("pip", "ex04-helpers")} == pins
    where = subprocess.run([str(student.python), "-c",
                            "import helpers, tqdm, sys; print(helpers.__file__, sys.prefix)"],
                           cwd=student.home, env=student.env, capture_output=True, text=True)
    assert str(student.folder / ".venv") in where.stdout and str(ROOT) not in where.stdout, where.stdout + where.stderr


RUN_NOTEBOOKS = r"""
import json, sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
results = {}
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": "."}}).execute()
        results[path] = {"ok": True}
    except CellExecutionError as error:
        results[path] = {"ok": False, "ename": error.ename, "evalue": str(error.evalue)[:300]}
print("RESULTS " + json.dumps(results))
"""


def _solved(path, name):
    """The notebook at ``path`` with the instructor's solutions typed into its solution cells."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    answers = instructor_answers(name)
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if cell.cell_type == "code" and nbgrader_meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


@pytest.mark.slow
def test_a_student_runs_every_notebook_headless(student):
    import nbformat

    def run(paths):
        done = subprocess.run([str(student.python), "-c", RUN_NOTEBOOKS, *map(str, paths)], cwd=student.folder / "ex04",
                              env=student.env, capture_output=True, text=True, timeout=1800)
        line = next((out for out in done.stdout.splitlines() if out.startswith("RESULTS ")), None)
        assert line, done.stdout[-2000:] + done.stderr[-3000:]
        return json.loads(line[len("RESULTS "):])

    handed_out = run([student.folder / "ex04" / f"{name}.ipynb" for name in notebook_names()])
    for path, result in handed_out.items():
        assert not result["ok"] and result["ename"] == "NotImplementedError", (path, result)

    solved = []
    for name in notebook_names():
        if name.startswith(("01", "06")):
            continue  # run to the end in the browser test, with the live front end
        path = student.folder / "ex04" / f"solved_{name}.ipynb"
        nbformat.write(_solved(student.folder / "ex04" / f"{name}.ipynb", name), str(path))
        solved.append(path)
    for path, result in run(solved).items():
        assert result["ok"], (path, result)


TOKEN = "ex04-student-test"


@pytest.fixture
def student_lab(student, tmp_path):
    """The bundle's JupyterLab, started with the README's command; yields its address."""
    port = free_port()
    args = shlex.split(student.open_lab) + ["--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                                            f"--IdentityProvider.token={TOKEN}"]
    if os.geteuid() == 0:
        args.append("--allow-root")  # CI runs as root; Jupyter refuses to otherwise
    log = open(tmp_path / "lab.log", "w")
    server = subprocess.Popen(args, cwd=student.folder, env=student.env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=10):
                    break
            except OSError:
                assert server.poll() is None, (tmp_path / "lab.log").read_text()[-3000:]
                time.sleep(0.5)
        else:
            pytest.fail("the student's JupyterLab did not answer within 2 minutes")
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def _index(nb, *, grade_id=None, containing=None):
    """Position of the cell with ``grade_id``, or of the code cell whose source contains ``containing``."""
    for i, cell in enumerate(nb.cells):
        if (grade_id and nbgrader_meta(cell).get("grade_id") == grade_id) or (
                containing and cell.cell_type == "code" and containing in cell.source):
            return i
    raise LookupError(grade_id or containing)


@pytest.fixture
def browser(student_lab, tmp_path_factory):
    from labdriver import Lab, missing_tools

    missing = missing_tools()
    assert not missing, \
        f"{missing} not found: make browser-tools (as root) installs Debian's chromium and chromium-driver"
    screens = tmp_path_factory.mktemp("screenshots")
    lab = Lab(student_lab, TOKEN, tmp_path_factory.mktemp("chromium-profile"), screens)
    yield lab
    lab.close()


@pytest.fixture
def notebooks_restored(student):
    """The student's notebooks are put back as handed out once the Lab (which may autosave) has stopped."""
    originals = {path: path.read_bytes() for path in (student.folder / "ex04").glob("*.ipynb")}
    yield
    for path, data in originals.items():
        path.write_bytes(data)


@pytest.mark.slow
def test_a_student_runs_the_notebooks_in_the_bundle_jupyterlab(student, notebooks_restored, browser):
    import nbformat

    ex04 = student.folder / "ex04"
    names = {name[:2]: name for name in notebook_names()}
    # 06 with the instructor's solutions typed in: Run All with the live front end.
    nb06 = _solved(ex04 / f"{names['06']}.ipynb", names["06"])
    nbformat.write(nb06, str(ex04 / f"{names['06']}.ipynb"))
    browser.open(f"{names['06']}.ipynb", len(nb06.cells))
    browser.menu("Run", "Run All Cells")
    last = max(i for i, c in enumerate(nb06.cells) if c.cell_type == "code")
    try:
        cells = browser.wait_for_run(last, timeout=900)
    finally:
        shot = browser.screenshot("06-after-run-all")
    failed = {i: c["output"][-1500:] for i, c in cells.items() if c["error"]}
    training = _index(nb06, containing="progress=progress_bar")
    browser.show(training)
    shot = browser.screenshot("06-training-cell")
    assert not failed, f"06: cells failed under Run All (screenshot {shot}): {failed}"
    bars = cells[training]["progress"]
    assert bars and bars[-1] == 1.0, \
        f"06: the training cell drew no full progress bar (screenshot {shot}): {cells[training]}"
    assert re.search(r"100%\s*40/40", cells[training]["output"]), cells[training]["output"][:300]
    accuracy = _index(nb06, grade_id="test_accuracy")
    browser.show(accuracy)
    shot = browser.screenshot("06-task5-check")
    assert cells[accuracy]["output"].startswith("✓"), (shot, cells[accuracy]["output"][:500])
    assert execution_count(cells[last]), "Run All reached the last cell"
    # The news pop-up ("Would you like to get notified about official Jupyter news?") is off.
    assert "Jupyter news" not in browser.text(), f"the news pop-up is shown (screenshot {shot})"

    # 01: a check prints ✓ after the right conv2d, and names the mistake after a wrong one.
    nb01 = _solved(ex04 / f"{names['01']}.ipynb", names["01"])
    nbformat.write(nb01, str(ex04 / f"{names['01']}.ipynb"))
    browser.open(f"{names['01']}.ipynb", len(nb01.cells))
    browser.menu("Run", "Run All Cells")
    check, solution = _index(nb01, grade_id="test_conv2d"), _index(nb01, grade_id="conv2d")
    last = max(i for i, c in enumerate(nb01.cells) if c.cell_type == "code")
    cells = browser.wait_for_run(last, timeout=300)
    browser.show(check)
    shot = browser.screenshot("01-right-conv2d")
    failed = {i: c["output"][-1500:] for i, c in cells.items() if c["error"]}
    assert not failed and execution_count(cells[last]), \
        f"01: Run All did not reach the end (screenshot {shot}): {failed}"
    assert cells[check]["output"].startswith("✓ conv2d"), (shot, cells[check])
    count = execution_count(cells[check])
    browser.retype(solution, "def conv2d(X, K): return corr2d(X, K)")
    browser.shift_enter()  # runs the solution cell and selects the check below it
    count = execution_count(browser.wait_for_cell(solution, newer_than=count))
    browser.shift_enter()
    after = browser.wait_for_cell(check, newer_than=count)
    browser.show(solution)
    shot = browser.screenshot("01-wrong-conv2d")
    assert after["error"] and "It equals the correlation with the kernel as given: the kernel was not flipped." \
        in after["output"], (shot, after["output"][-1500:])
    assert "✓" not in after["output"]
