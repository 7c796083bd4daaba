"""The student bundle (make student-bundle): nothing of the solutions in it, and it works on its own.

The second test does what a student does: unpacks the zip in an empty folder outside this
repository, runs the set-up command that the bundle's README gives for Linux, then runs every
notebook in that fresh environment: as handed out, each stops at its first task with
NotImplementedError; with the instructor's solutions typed in, each runs to the end, every
visible check passing.
"""

import io
import json
import os
import re
import subprocess
import sys
import zipfile

import pytest

from nbtools import HIDDEN_DELIMITERS, ROOT, SOLUTION_DELIMITERS, SOURCE, nbgrader_meta, notebook_names, read, region
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
    from grading.bundle import build

    return build(tmp_path_factory.mktemp("dist") / "ex04-student.zip")


def test_the_bundle_holds_the_student_material_only(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        wheel = next(n for n in names if n.endswith(".whl"))
        wheel_members = zipfile.ZipFile(io.BytesIO(archive.read(wheel))).namelist()
        requirements = archive.read("ex04-student/requirements.txt").decode()
    assert sorted(n.split("/", 1)[1] for n in names if not n.endswith(".whl")) == sorted(
        ["README.md", "requirements.txt"] + [f"ex04/{name}.ipynb" for name in notebook_names()])
    assert all(m.startswith(("helpers/", "ex04_helpers-")) for m in wheel_members), wheel_members
    assert not any(m.startswith("grading") for m in wheel_members)
    for tool in ("nbgrader", "dask", "distributed", "pytest", "nbval"):
        assert not re.search(rf"^{tool}==", requirements, re.M | re.I), f"{tool} is for instructors"
    for needed in ("torch==", "jupyterlab==", "numpy==", "scikit-learn==", "scikit-image==", "scipy=="):
        assert needed in requirements


def test_no_solution_or_hidden_test_line_is_in_the_bundle(bundle):
    assert len(secret_lines()) > 100, "the scan must have solution lines to look for"
    assert leaks(bundle) == []


def test_the_scan_finds_a_solution_where_there_is_one(tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:  # a bundle built from notebooks/ by mistake
        archive.write(ROOT / "notebooks" / "ex04" / "01_convolutions.ipynb", "ex04-student/ex04/01_convolutions.ipynb")
    assert len(leaks(bad)) > 10


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


def _setup_command(readme):
    """The Linux set-up line of the bundle's README (its first bash block, first line)."""
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    setup, open_lab = [line for line in block.splitlines() if line.strip()][:2]
    assert "jupyter lab" in open_lab
    return setup


@pytest.mark.slow
def test_a_student_sets_up_the_bundle_and_runs_every_notebook(bundle, tmp_path):
    home = tmp_path / "student"
    home.mkdir()
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(home)
    folder = home / "ex04-student"
    assert ROOT not in folder.parents
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    setup = _setup_command((folder / "README.md").read_text())
    done = subprocess.run(setup, shell=True, cwd=folder, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    python = folder / ".venv" / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import helpers, sys; print(helpers.__file__, sys.prefix)"],
                           cwd=home, env=env, capture_output=True, text=True)
    assert str(folder / ".venv") in where.stdout and str(ROOT) not in where.stdout, where.stdout + where.stderr

    def run(paths):
        done = subprocess.run([str(python), "-c", RUN_NOTEBOOKS, *map(str, paths)], cwd=folder / "ex04", env=env,
                              capture_output=True, text=True, timeout=1800)
        line = next((l for l in done.stdout.splitlines() if l.startswith("RESULTS ")), None)
        assert line, done.stdout[-2000:] + done.stderr[-3000:]
        return json.loads(line[len("RESULTS "):])

    handed_out = run([folder / "ex04" / f"{name}.ipynb" for name in notebook_names()])
    for path, result in handed_out.items():
        assert not result["ok"] and result["ename"] == "NotImplementedError", (path, result)

    import nbformat

    solved = []
    for name in notebook_names():
        nb = nbformat.read(str(folder / "ex04" / f"{name}.ipynb"), as_version=4)
        answers = instructor_answers(name)
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if cell.cell_type == "code" and nbgrader_meta(cell).get("solution") and gid in answers:
                cell.source = answers[gid]
        path = folder / "ex04" / f"solved_{name}.ipynb"
        nbformat.write(nb, str(path))
        solved.append(path)
    for path, result in run(solved).items():
        assert result["ok"], (path, result)
