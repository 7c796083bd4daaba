"""The whole nbgrader cycle in a scratch course: generate, submit, ``make autograde``, feedback, export.

``make autograde``'s own command (``python -m grading autograde``) grades, so the student code
runs in the sandbox and the trusted tests decide; nbgrader records. Submissions per notebook:

* ``instructor``: the source solutions typed into the student version (full marks);
* ``untouched``: the student version as released (0);
* ``edited_tests``: every test cell replaced by a passing stub (0: tests come from the source);
* ``deleted_tests``: the instructor solutions with every test cell deleted (full marks);
* ``metadata_edits``: the instructor solutions in a notebook whose cells were tampered with:
  test cells turned into markdown or solution cells, grade_ids swapped and deleted, a cell
  duplicated, an nbgrader entry removed; only the solution cells whose grade_id and type
  survived count (see :func:`_tamper`);
* ``threat``: notebook 01's ``threat_course_folder`` case (attacks the course folder, the
  gradebook, later kernels; leaves a process behind): full marks, and nothing outside changes;
* ``unreadable``: a truncated file (set aside with a clear message, the student still listed);
and, for one student, a notebook with an unexpected name and a zip where a notebook should be;
and odd input, one notebook or two per student (:func:`_odd_submissions`): lone surrogates and a
NUL in a written answer, a code cell and an error message (``odd_text``), a 2 MB solution cell
(``big_cell``), a ``train`` that installs smuggled weights (``smuggler``).
Every graded cell's score is asserted exactly. The crafted cases are graded one by one, without
nbgrader, in tests/test_grading_cases.py.
"""

import csv
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from nbtools import (ASSIGNMENT, ROOT, SOLUTION_DELIMITERS, autograded_test_cells, cases, grade_cells, make_course,
                     nbgrader, nbgrader_meta, notebook_names, read, remote_resources, solution_cells)

pytestmark = pytest.mark.slow

MODEL_ANSWER_POINTS_GIVEN = 1.5  # what the "instructor" gets on each written answer in formgrader


def _solution_source(cell):
    return "\n".join(line for line in cell.source.splitlines() if line.strip() not in SOLUTION_DELIMITERS)


def _fill(release_nb, answers):
    nb = nbformat.from_dict(release_nb)  # a copy
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


def _is_test(cell):
    return nbgrader_meta(cell).get("grade") and cell.cell_type == "code" and not nbgrader_meta(cell).get("solution")


def _edit_tests(release_nb):
    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        if _is_test(cell):
            cell.source = 'print("all tests pass")'
    return nb


def _delete_tests(nb):
    nb = nbformat.from_dict(nb)
    nb.cells = [c for c in nb.cells if not _is_test(c)]
    return nb


#: The tests that use the function of each notebook's last code solution cell.
LAST_SOLUTION_TESTS = {
    "01_convolutions": {"test_conv2d"}, "02_sobel_laplace": {"test_separable_factors"},
    "03_conv_backprop": {"test_conv_backward"}, "04_receptive_field": {"test_input_region"},
    "05_equivariance": {"test_equivariance_error"}, "06_pytorch_cnn": {"test_train", "test_accuracy"},
}


def _tamper(nb):
    """Every kind of metadata edit at once.

    Test cells: the first becomes markdown, the second a solution cell, the third loses its
    nbgrader entry. Solution cells: the first is duplicated (an empty copy before it, so the
    real one, which comes last, is graded); the second and third swap grade_ids (both still run,
    so nothing is lost); the last loses its nbgrader entry, so its code is no longer an answer
    and only the tests of its function lose their points. Nothing of it may stop nbgrader.
    """
    nb = nbformat.from_dict(nb)
    tests = [c for c in nb.cells if _is_test(c)]
    if len(tests) > 0:
        tests[0].cell_type = "markdown"
        tests[0].pop("outputs", None)
        tests[0].pop("execution_count", None)
    if len(tests) > 1:
        nbgrader_meta(tests[1])["solution"] = True
    if len(tests) > 2:
        tests[2].metadata.pop("nbgrader")
    solutions = [c for c in nb.cells if nbgrader_meta(c).get("solution") and c.cell_type == "code"
                 and not nbgrader_meta(c).get("grade")]
    last = solutions[-1]
    if len(solutions) > 1:
        empty = nbformat.from_dict(solutions[0])
        empty.source = "# an empty copy, graded only if it came last"
        empty.pop("id", None)
        nb.cells.insert(nb.cells.index(solutions[0]), empty)
    if len(solutions) > 3:
        a, b = nbgrader_meta(solutions[1]), nbgrader_meta(solutions[2])
        a["grade_id"], b["grade_id"] = b["grade_id"], a["grade_id"]
    last.metadata.pop("nbgrader")
    return nb


def _write_escaped(nb, path):
    """Write a notebook as JupyterLab would keep text it cannot encode: as JSON escapes (\\ud800)."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=True))


#: The odd-input students' written answers waiting for a person (those they handed in).
ODD_WAITING = {"odd_text": 2, "big_cell": 1, "smuggler": 1}


def _odd_submissions(root):
    """(student, notebook, notebook node, exact scores) of the odd-input students.

    Scores are given for the tests that lose points; every other test cell scores full marks.
    """
    def instructor(name):
        source_nb = read(root / "source" / ASSIGNMENT / f"{name}.ipynb")
        return {gid: _solution_source(c) for gid, c in solution_cells(source_nb).items()}

    def release(name):
        return read(root / "release" / ASSIGNMENT / f"{name}.ipynb")

    # Lone surrogates and a NUL: in a written answer, in a code cell (Python refuses to compile
    # it, as a kernel would: conv2d is never defined) and in an error message made at run time.
    answers = instructor("01_convolutions")
    answers["written_correlation_vs_convolution"] = "The kernel is flipped \ud800 (a lone surrogate) and a NUL \x00."
    answers["conv2d"] += "\n# a comment with a lone surrogate \udcff\n"
    yield "odd_text", "01_convolutions", _fill(release("01_convolutions"), answers), {"test_conv2d": 0.0}
    answers = instructor("04_receptive_field")
    answers["input_region"] = ("def input_region(layers, i, j, image_shape=None):\n"
                               "    raise ValueError('not yet ' + chr(0xD800) + chr(0))\n")
    yield "odd_text", "04_receptive_field", _fill(release("04_receptive_field"), answers), {"test_input_region": 0.0}
    # A table of 2 MB pasted into the cell, and a correct corr2d after it: the pages show the
    # table's start, the sandbox runs all of it.
    answers = instructor("01_convolutions")
    rows = "".join(f"    ({i}, {i / 2:.6f}, 'row {i:06d} of a table pasted into the cell'),\n" for i in range(28_000))
    answers["corr2d"] = f"_TABLE = [\n{rows}]\n\n{answers['corr2d']}"
    assert len(answers["corr2d"]) > 2_000_000
    yield "big_cell", "01_convolutions", _fill(release("01_convolutions"), answers), {}
    # Task 5's train installs weights trained elsewhere (tests/cases/06_pytorch_cnn).
    case = cases("06_pytorch_cnn")["threat_smuggled_weights"]
    answers = instructor("06_pytorch_cnn")
    answers = {gid: text + ("\n\n" + case["cells"][gid] if gid in case["cells"] else "")
               for gid, text in answers.items()}
    yield "smuggler", "06_pytorch_cnn", _fill(release("06_pytorch_cnn"), answers), case["scores"]


def _course_fingerprint(root):
    """Hashes of every file the grading must not change (all but nbgrader's and the cache's output)."""
    skip = ("autograded/", "feedback/", ".grading/", "gradebook.db", "grades.csv", "submitted/", "grading/",
            "autograde.log")
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not relative.startswith(skip) and not path.is_symlink():
            found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("course"))
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=root)
    expected, written = {}, {}
    for name in notebook_names():
        source_nb = read(root / "source" / ASSIGNMENT / f"{name}.ipynb")
        release_nb = read(root / "release" / ASSIGNMENT / f"{name}.ipynb")
        answers = {gid: _solution_source(c) for gid, c in solution_cells(source_nb).items()}
        tests = autograded_test_cells(source_nb)
        full = {gid: float(nbgrader_meta(c)["points"]) for gid, c in tests.items()}
        zero = {gid: 0.0 for gid in tests}
        written[name] = [gid for gid, c in grade_cells(source_nb).items() if c.cell_type == "markdown"]
        tampered = _tamper(_fill(release_nb, answers))
        submissions = {
            "instructor": (_fill(release_nb, answers), full),
            "untouched": (release_nb, zero),
            "edited_tests": (_edit_tests(release_nb), zero),
            "deleted_tests": (_delete_tests(_fill(release_nb, answers)), full),
            "metadata_edits": (tampered, {gid: 0.0 if gid in LAST_SOLUTION_TESTS[name] else points
                                          for gid, points in full.items()}),
        }
        if name == "01_convolutions":
            case = cases(name)["threat_course_folder"]
            submissions["threat"] = (_fill(release_nb, case["cells"]), {k: float(v) for k, v in case["scores"].items()})
        for student, (nb, scores) in submissions.items():
            folder = root / "submitted" / student / ASSIGNMENT
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(folder / f"{name}.ipynb"))
            if scores is not None:
                expected.setdefault(student, {})[name] = scores
        folder = root / "submitted" / "unreadable" / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        text = (root / "release" / ASSIGNMENT / f"{name}.ipynb").read_text()
        (folder / f"{name}.ipynb").write_text(text[: len(text) // 2])
        expected.setdefault("unreadable", {})[name] = zero
    for student, name, nb, lost in _odd_submissions(root):
        _write_escaped(nb, root / "submitted" / student / ASSIGNMENT / f"{name}.ipynb")
        tests = autograded_test_cells(read(root / "source" / ASSIGNMENT / f"{name}.ipynb"))
        expected.setdefault(student, {})[name] = {gid: float(lost.get(gid, nbgrader_meta(c)["points"]))
                                                  for gid, c in tests.items()}
    # Files that are not notebooks of the assignment are named and left alone.
    odd = root / "submitted" / "untouched" / ASSIGNMENT
    (odd / "my_notes.ipynb").write_text((root / "release" / ASSIGNMENT / "01_convolutions.ipynb").read_text())
    (odd / "02_sobel_laplace.zip").write_bytes(b"PK\x03\x04 not really a zip")
    for student in expected:
        for name in notebook_names():
            if name not in expected[student]:
                tests = autograded_test_cells(read(root / "source" / ASSIGNMENT / f"{name}.ipynb"))
                expected[student][name] = {gid: 0.0 for gid in tests}
    before = _course_fingerprint(root)
    started = time.monotonic()
    marker = f"EX04_ROUNDTRIP_RUN={os.getpid()}-{time.time_ns()}"  # finds this run's processes later
    run = subprocess.run([sys.executable, "-m", "grading", "autograde", ASSIGNMENT], cwd=root,
                         capture_output=True, text=True, timeout=3600,
                         env=dict(os.environ, **dict([marker.split("=", 1)])))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    seconds = time.monotonic() - started
    before_manual = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for name, gids in written.items():
            for gid in gids:
                for student in ("instructor", "untouched"):
                    grade = gb.find_grade(gid, name, ASSIGNMENT, student)
                    before_manual[student, name, gid] = (grade.needs_manual_grade, grade.auto_score)
                grade = gb.find_grade(gid, name, ASSIGNMENT, "instructor")
                grade.manual_score = MODEL_ANSWER_POINTS_GIVEN
                grade.needs_manual_grade = False
        gb.db.commit()
    (root / "autograde.log").write_text(run.stdout + run.stderr)
    return {"root": root, "expected": expected, "written": written, "log": run.stdout + run.stderr,
            "before_manual": before_manual, "before": before, "seconds": seconds, "marker": marker}


def _auto_scores(root, student, notebook):
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        try:
            sub = gb.find_submission_notebook(notebook, ASSIGNMENT, student)
        except MissingEntry:
            assert student == "unreadable", f"{student} has no graded {notebook}"
            return {g.name: 0.0 for g in gb.find_notebook(notebook, ASSIGNMENT).grade_cells}
        return {g.name: g.auto_score for g in sub.grades if g.cell.cell_type == "code"}


def test_every_graded_cell_scores_exactly_as_expected(course):
    root, expected = course["root"], course["expected"]
    mismatches = []
    for student, by_notebook in expected.items():
        for notebook, scores in by_notebook.items():
            got = _auto_scores(root, student, notebook)
            for gid, points in scores.items():
                if got.get(gid) != points:
                    mismatches.append(f"{student}/{notebook}/{gid}: expected {points}, got {got.get(gid)}")
    assert not mismatches, "\n".join(mismatches) + "\n" + course["log"][-3000:]


def test_metadata_edits_never_stop_nbgrader(course):
    """Tampered metadata costs only the tasks of the lost cell (asserted with all scores above)."""
    root = course["root"]
    for name in notebook_names():
        graded = read(root / "autograded" / "metadata_edits" / ASSIGNMENT / f"{name}.ipynb")
        assert set(autograded_test_cells(graded)) == set(autograded_test_cells(
            read(root / "source" / ASSIGNMENT / f"{name}.ipynb"))), "every test cell is back"
    log = course["log"]
    for alarm in ("inconsistent checksums", "checksum has changed", "Traceback"):
        assert alarm not in log, f"{alarm!r} in the autograde log"


def test_edited_test_cells_are_restored(course):
    root = course["root"]
    for name in notebook_names():
        source_tests = autograded_test_cells(read(root / "source" / ASSIGNMENT / f"{name}.ipynb"))
        graded = autograded_test_cells(read(root / "autograded" / "edited_tests" / ASSIGNMENT / f"{name}.ipynb"))
        for gid, cell in source_tests.items():
            assert graded[gid].source == cell.source, f"{name}/{gid} was not restored"


def _stray_sandbox_processes(marker):
    """Student-side processes that outlived their job: of this course's run, or of no live sandbox.

    Other tests may grade at the same time (make test runs in parallel): their processes sit
    under a live bubblewrap process that was not started by this course's run.
    """
    stray = []
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or b"sandbox_runner.py" not in (proc / "cmdline").read_bytes():
                continue
        except OSError:
            continue
        pid, under_bwrap, ours = proc.name, False, False
        for _ in range(8):  # runner <- bwrap (namespace init) <- bwrap <- grading worker
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                under_bwrap |= Path(f"/proc/{pid}/comm").read_text().strip() == "bwrap"
                ours |= marker.encode() in Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                break
            pid = status.split("PPid:")[1].split()[0]
            if pid in ("0", "1"):
                break
        if ours or not under_bwrap:
            stray.append(proc.name)
    return stray


def test_nothing_outside_the_job_changed(course):
    """The threat case wrote to the gradebook, the course, later kernels: none of it arrived."""
    root = course["root"]
    assert _course_fingerprint(root) == course["before"]
    for path in ("/tmp/ex04-planted.py", "/tmp/ex04-late-write", "/tmp/ex04-startup-ran"):
        assert not __import__("os").path.exists(path), path
    time.sleep(1)
    left = _stray_sandbox_processes(course["marker"])
    assert not left, f"processes of a grading job are still running: {left}"
    # Classmates' grades are exactly theirs (asserted above); the gradebook has no stray text.
    assert b"tampered" not in (root / "gradebook.db").read_bytes()


def test_log_names_what_is_not_graded(course):
    log = course["log"]
    assert f"NOT GRADED: submitted/untouched/{ASSIGNMENT}/my_notes.ipynb: no notebook of {ASSIGNMENT}" in log
    assert f"NOT GRADED: submitted/untouched/{ASSIGNMENT}/02_sobel_laplace.zip: a zip archive" in log
    for name in notebook_names():
        assert f"NOT GRADED: submitted/unreadable/{ASSIGNMENT}/{name}.ipynb: the file is not a notebook" in log
        assert (course["root"] / "submitted" / "unreadable" / ASSIGNMENT / f"{name}.ipynb.unreadable").exists()


def test_feedback_says_which_files_were_not_graded(course):
    root = course["root"]
    nbgrader("generate_feedback", ASSIGNMENT, cwd=root)
    note = (root / "feedback" / "untouched" / ASSIGNMENT / "NOT_GRADED.txt").read_text()
    assert "my_notes.ipynb: no notebook of ex04" in note and "02_sobel_laplace.zip: a zip archive" in note
    note = (root / "feedback" / "unreadable" / ASSIGNMENT / "NOT_GRADED.txt").read_text()
    assert "01_convolutions.ipynb: the file could not be read" in note


def test_written_answers_wait_for_manual_grading(course):
    for name, gids in course["written"].items():
        for gid in gids:
            needs_manual, auto_score = course["before_manual"]["instructor", name, gid]
            assert needs_manual and auto_score is None, "an answer must wait for a person"
            needs_manual, auto_score = course["before_manual"]["untouched", name, gid]
            assert auto_score == 0 and not needs_manual, "an unanswered question scores 0 by itself"


def test_feedback_shows_results_and_visible_checks_but_no_grading_code(course):
    root = course["root"]
    nbgrader("generate_feedback", ASSIGNMENT, cwd=root)
    grading_lines = {line.strip() for path in (ROOT / "grading" / "ex04").glob("nb*.py")
                     for line in path.read_text().splitlines() if len(line.strip()) > 30}
    for name in notebook_names():
        source = read(root / "source" / ASSIGNMENT / f"{name}.ipynb")
        visible = [line.strip() for c in autograded_test_cells(source).values()
                   for line in c.source.splitlines() if len(line.strip()) > 6]
        shown_anyway = "\n".join(c.source for c in source.cells)
        for student in ("instructor", "untouched", "edited_tests", "metadata_edits"):
            html = (root / "feedback" / student / ASSIGNMENT / f"{name}.html").read_text()
            soup = BeautifulSoup(html, "html.parser")
            text = soup.get_text()
            # Offline, and in JupyterLab's HTML viewer (no scripts), formulas are there: MathML.
            assert remote_resources(soup) == [], f"feedback for {student}/{name} fetches from outside"
            assert soup.find("math") is not None
            raw_tex = [c.get_text()[:60] for c in soup.select("div.text_cell_render") if "$" in c.get_text()]
            assert not raw_tex, f"feedback for {student}/{name} shows raw TeX: {raw_tex[:2]}"
            leaked = [line for line in grading_lines if line in text and line not in shown_anyway]
            assert not leaked, f"feedback for {student}/{name} shows grading code: {leaked[:3]}"
            assert any(line in text for line in visible), f"feedback for {student}/{name} lost the visible tests"
        text = BeautifulSoup((root / "feedback" / "untouched" / ASSIGNMENT / f"{name}.html").read_text(),
                             "html.parser").get_text()
        assert "A visible check failed" in text and "NotImplementedError" in text
        text = BeautifulSoup((root / "feedback" / "instructor" / ASSIGNMENT / f"{name}.html").read_text(),
                             "html.parser").get_text()
        assert "✓ Passed" in text
        if course["written"][name]:
            untouched_html = (root / "feedback" / "metadata_edits" / ASSIGNMENT / f"{name}.html").read_text()
            assert "waiting for manual grading" in untouched_html


def test_exported_grades_add_up(course):
    root = course["root"]
    nbgrader("export", "--to", "grades.csv", cwd=root)
    with open(root / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert set(course["expected"]) <= set(rows)
    max_total = None
    for student, by_notebook in course["expected"].items():
        total = sum(sum(scores.values()) for scores in by_notebook.values())
        if student == "instructor":
            total += MODEL_ANSWER_POINTS_GIVEN * sum(len(g) for g in course["written"].values())
        assert float(rows[student]["score"]) == pytest.approx(total), student
        # The instructor's answers were graded by hand above; the others still wait for a person.
        waiting = 0 if student in ("instructor", "untouched", "edited_tests", "unreadable", "threat") else \
            ODD_WAITING.get(student, sum(len(g) for g in course["written"].values()))
        assert int(rows[student]["waiting_for_manual_grading"]) == waiting, student
        max_total = max_total or float(rows[student]["max_score"])
        assert float(rows[student]["max_score"]) == max_total
    source_points = sum(float(nbgrader_meta(c)["points"]) for name in notebook_names()
                        for c in grade_cells(read(root / "source" / ASSIGNMENT / f"{name}.ipynb")).values())
    assert max_total == source_points


def test_a_second_run_grades_nothing_again(course):
    """Results are cached per submission: running again (after an interruption, say) redoes nothing."""
    root = course["root"]
    run = subprocess.run([sys.executable, "-m", "grading", "autograde", ASSIGNMENT], cwd=root,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:]
    assert " 0 to grade" in run.stdout
    test_every_graded_cell_scores_exactly_as_expected(course)


def test_grading_guides_are_next_to_the_answer_for_the_grader_and_never_in_feedback(course):
    root = course["root"]
    nbgrader("generate_feedback", ASSIGNMENT, cwd=root)
    for name in notebook_names():
        source = read(root / "source" / ASSIGNMENT / f"{name}.ipynb")
        guides = {nbgrader_meta(c)["grade_id"]: c.source for c in source.cells
                  if c.cell_type == "markdown" and nbgrader_meta(c).get("solution") and nbgrader_meta(c).get("grade")}
        assert guides, name
        graded = read(root / "autograded" / "untouched" / ASSIGNMENT / f"{name}.ipynb").cells
        for gid, guide in guides.items():
            at = next(i for i, c in enumerate(graded) if nbgrader_meta(c).get("grade_id") == gid)
            assert guide in graded[at + 1].source and "For the grader only" in graded[at + 1].source
        for student in ("instructor", "untouched"):
            html = (root / "feedback" / student / ASSIGNMENT / f"{name}.html").read_text()
            text = BeautifulSoup(html, "html.parser").get_text()
            assert "For the grader only" not in text, (student, name)
            # "instructor" typed the model answers in as their own; an untouched notebook has none.
            assert student == "instructor" or "Model answer" not in text, (student, name)


# ------------------------------------------------------------------ odd input

def test_text_nbgrader_cannot_store_is_recorded_replaced_and_said_so(course):
    """Lone surrogates and a NUL reach the autograded notebooks as U+FFFD, with a note (scores above)."""
    root = course["root"]
    answers = solution_cells(read(root / "autograded" / "odd_text" / ASSIGNMENT / "01_convolutions.ipynb"))
    for gid in ("written_correlation_vs_convolution", "conv2d"):
        source = answers[gid].source
        assert "\ufffd" in source and "Note from grading" in source, source[-300:]
    tests = autograded_test_cells(read(root / "autograded" / "odd_text" / ASSIGNMENT / "04_receptive_field.ipynb"))
    assert "not yet \ufffd\ufffd" in tests["test_input_region"].outputs[0]["evalue"]


def _formgrader_page(root, notebook_path):
    """The page Formgrader shows for an autograded notebook: its exporter under the course's nbgrader_config.py."""
    from nbconvert.exporters import HTMLExporter
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.merge(Config({"HTMLExporter": {"template_name": "formgrade"}}))
    resources = {"nbgrader": {"notebook": notebook_path.stem, "score": 0, "max_score": 0, "late_penalty": 0},
                 "base_url": "", "index": 0, "total": 1, "submission_id": "s", "notebook_id": notebook_path.stem}
    return HTMLExporter(config=config).from_notebook_node(read(notebook_path), resources=resources)[0]


def test_a_2_mb_solution_cell_is_cut_on_its_pages_and_graded_whole(course):
    """Feedback and Formgrader show the cell's start with a note; pages stay under 2 MB. Its corr2d,
    after the table, scored full marks (asserted above): the sandbox ran the whole cell."""
    root = course["root"]
    graded = root / "autograded" / "big_cell" / ASSIGNMENT / "01_convolutions.ipynb"
    source = solution_cells(read(graded))["corr2d"].source
    assert len(source) > 2_000_000, "the autograded notebook keeps the whole cell"
    nbgrader("generate_feedback", ASSIGNMENT, "--student=big_cell", cwd=root)
    feedback = (root / "feedback" / "big_cell" / ASSIGNMENT / "01_convolutions.html").read_text()
    for page in (feedback, _formgrader_page(root, graded)):
        assert len(page.encode()) < 2_000_000
        text = BeautifulSoup(page, "html.parser").get_text()
        assert f"This cell has {len(source.splitlines()):,} lines and {len(source):,} characters" in text
        assert "row 000000 of a table" in text and "row 027999 of a table" not in text


def test_a_student_nbgrader_cannot_record_is_named_and_keeps_the_earlier_record(course):
    """nbgrader fails for one student (a timestamp.txt it cannot read): the summary names them, their
    earlier autograded notebooks stay, the others' records stand; once the cause is gone the next run
    records them."""
    from grading.core.jobs import cache_path

    root, student = course["root"], "edited_tests"
    folder = root / "autograded" / student / ASSIGNMENT
    before = {path.name: path.read_bytes() for path in folder.glob("*.ipynb")}
    stamp = root / "submitted" / student / ASSIGNMENT / "timestamp.txt"
    stamp.write_text("not a time\n")
    record_path = cache_path(root, ASSIGNMENT, student, "01_convolutions")
    record = json.loads(record_path.read_text())
    record["changed"] = time.time_ns()  # due for recording, as after results that judge differently
    record_path.write_text(json.dumps(record))
    command = [sys.executable, "-m", "grading", "autograde", ASSIGNMENT]
    try:
        run = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=900)
        assert run.returncode == 1, run.stdout[-3000:]
        assert f"FAILED {student}: nbgrader could not record their results" in run.stdout, run.stdout[-3000:]
        summary = next(line for line in run.stdout.splitlines() if line.startswith("summary:"))
        assert summary.endswith(", 1 FAILED)"), summary
        assert {path.name: path.read_bytes() for path in folder.glob("*.ipynb")} == before
        test_every_graded_cell_scores_exactly_as_expected(course)
    finally:
        stamp.unlink()
    run = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0 and "FAILED" not in run.stdout, run.stdout[-3000:]
    assert {path.name for path in folder.glob("*.ipynb")} == set(before)
    test_every_graded_cell_scores_exactly_as_expected(course)


def test_make_report_and_make_similarity_work_on_the_round_trips_class(course):
    """Both read what the round trip wrote (gradebook, .grading/, submitted/); tests/course/ checks their numbers."""
    root = course["root"]
    for command in ("report", "similarity"):
        run = subprocess.run([sys.executable, "-m", "grading", command, ASSIGNMENT], cwd=root, capture_output=True,
                             text=True, timeout=300)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    folder = root / "reports" / ASSIGNMENT
    with open(folder / "items.csv", newline="") as handle:
        items = list(csv.DictReader(handle))
    test_cells = {(name, gid) for name in notebook_names()
                  for gid in autograded_test_cells(read(root / "source" / ASSIGNMENT / f"{name}.ipynb"))}
    assert {(row["notebook"], row["grade_id"]) for row in items} == test_cells
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submissions = len(gb.assignment_submissions(ASSIGNMENT))
    assert submissions >= len(course["expected"]) - 1 and {row["students"] for row in items} == {str(submissions)}
    with open(folder / "similarity.csv", newline="") as handle:
        pairs = {frozenset((row["student_a"], row["student_b"])): float(row["similarity"])
                 for row in csv.DictReader(handle) if row["notebook"] == "01_convolutions" and row["grade_id"] == "all"}
    # Both typed in the instructor's answers; an untouched notebook is the template, which is taken out.
    assert pairs[frozenset({"instructor", "deleted_tests"})] == 1.0
    assert pairs[frozenset({"instructor", "untouched"})] == 0
    for page in ("class.html", "similarity.html"):
        assert remote_resources(BeautifulSoup((folder / page).read_text(), "html.parser")) == [], page
