"""The whole nbgrader cycle in a scratch course: generate, submit, autograde, feedback, export.

Submissions per notebook:
(a) ``instructor``: the source solutions typed into the student version;
(b) ``untouched``: the student version as released;
(c) the partly correct ones in tests/submissions.py;
(d) ``edited_tests``: the untouched version with every test cell replaced by a passing stub, and
    ``deleted_tests``: the instructor solutions with every test cell deleted (full marks only if
    autograde puts the tests back and runs them);
(e) ``noisy``: the instructor solutions, wrapped so that they warn and print to stderr;
and ``unreadable``: a truncated file, which the pre-flight of `make autograde` sets aside.
Every graded cell's score is asserted exactly.
"""

import csv
import subprocess
import sys

import pytest
from bs4 import BeautifulSoup

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from nbtools import (ASSIGNMENT, HIDDEN_DELIMITERS, SOLUTION_DELIMITERS, autograded_test_cells, grade_cells,
                     make_course, nbgrader, nbgrader_meta, notebook_names, read, region, solution_cells)
from submissions import NOISY_WRAPPERS, SUBMISSIONS

pytestmark = pytest.mark.slow

MODEL_ANSWER_POINTS_GIVEN = 1.5  # what the "instructor" gets on each written answer in formgrader


def _solution_source(cell):
    """A source solution as a student would type it: without the nbgrader delimiters."""
    return "\n".join(line for line in cell.source.splitlines() if line.strip() not in SOLUTION_DELIMITERS)


def _instructor_answers(source_nb):
    return {gid: _solution_source(c) for gid, c in solution_cells(source_nb).items()}


def _fill(release_nb, answers):
    nb = nbformat.from_dict(release_nb)  # a copy
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


def _edit_tests(release_nb):
    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade") and cell.cell_type == "code" and not nbgrader_meta(cell).get("solution"):
            cell.source = 'print("all tests pass")'
    return nb


def _delete_tests(nb):
    nb = nbformat.from_dict(nb)
    nb.cells = [c for c in nb.cells if not (nbgrader_meta(c).get("grade") and c.cell_type == "code"
                                             and not nbgrader_meta(c).get("solution"))]
    return nb


def _expected_scores(source_nb, kind, scores=None):
    """{grade_id: auto score} for every autograded test cell."""
    tests = autograded_test_cells(source_nb)
    if kind in ("instructor", "noisy", "deleted_tests"):
        return {gid: float(nbgrader_meta(c)["points"]) for gid, c in tests.items()}
    if kind in ("untouched", "edited_tests", "unreadable"):
        return {gid: 0.0 for gid in tests}
    assert set(scores) == set(tests), f"submission must list a score for every test cell: {sorted(tests)}"
    return {gid: float(points) for gid, points in scores.items()}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("course"))
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=root)
    expected = {}  # student -> notebook -> grade_id -> score
    written = {}   # notebook -> [grade_id of written answers]
    for name in notebook_names():
        source_nb = read(root / "source" / ASSIGNMENT / f"{name}.ipynb")
        release_nb = read(root / "release" / ASSIGNMENT / f"{name}.ipynb")
        answers = _instructor_answers(source_nb)
        written[name] = [gid for gid, c in grade_cells(source_nb).items() if c.cell_type == "markdown"]
        noisy = dict(answers)
        for gid, wrapper in NOISY_WRAPPERS.get(name, {}).items():
            noisy[gid] = answers[gid] + "\n\n" + wrapper
        submissions = {
            "instructor": (_fill(release_nb, answers), None),
            "untouched": (release_nb, None),
            "edited_tests": (_edit_tests(release_nb), None),
            "noisy": (_fill(release_nb, noisy), None),
            "deleted_tests": (_delete_tests(_fill(release_nb, answers)), None),
        }
        for student, case in SUBMISSIONS.get(name, {}).items():
            submissions[student] = (_fill(release_nb, case["cells"]), case["scores"])
        for student, (nb, scores) in submissions.items():
            folder = root / "submitted" / student / ASSIGNMENT
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(folder / f"{name}.ipynb"))
            kind = student if scores is None else "partial"
            expected.setdefault(student, {})[name] = _expected_scores(source_nb, kind, scores)
        # Half a notebook, as an interrupted upload leaves it.
        folder = root / "submitted" / "unreadable" / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        text = (root / "release" / ASSIGNMENT / f"{name}.ipynb").read_text()
        (folder / f"{name}.ipynb").write_text(text[: len(text) // 2])
        expected.setdefault("unreadable", {})[name] = _expected_scores(source_nb, "unreadable")
    # Students who did not submit a notebook get 0 for it (later notebooks add no partial cases).
    for student in expected:
        for name in notebook_names():
            if name not in expected[student]:
                source_nb = read(root / "source" / ASSIGNMENT / f"{name}.ipynb")
                expected[student][name] = _expected_scores(source_nb, "untouched")
    # The same two steps as `make autograde`.
    preflight = subprocess.run([sys.executable, "-m", "helpers.grading", "preflight", ASSIGNMENT], cwd=root,
                               capture_output=True, text=True, check=True).stdout
    # One kernel per submitted notebook, one after the other: minutes, more on a busy machine.
    nbgrader("autograde", ASSIGNMENT, cwd=root, timeout=3600)
    # What autograde left for the written answers, then grade them as Formgrader does.
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
    return {"root": root, "expected": expected, "written": written, "preflight": preflight,
            "before_manual": before_manual}


def _auto_scores(root, student, notebook):
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        try:
            sub = gb.find_submission_notebook(notebook, ASSIGNMENT, student)
        except MissingEntry:
            # Only a student with nothing readable may lack a submission (then the export says 0).
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
    assert not mismatches, "\n".join(mismatches)


def test_edited_test_cells_are_restored(course):
    root = course["root"]
    for name in notebook_names():
        source_tests = autograded_test_cells(read(root / "source" / ASSIGNMENT / f"{name}.ipynb"))
        graded = autograded_test_cells(read(root / "autograded" / "edited_tests" / ASSIGNMENT / f"{name}.ipynb"))
        for gid, cell in source_tests.items():
            assert graded[gid].source == cell.source, f"{name}/{gid} was not restored"
            assert 'print("all tests pass")' not in graded[gid].source


def test_noise_on_stderr_stays_visible_but_costs_nothing(course):
    root = course["root"]
    for name, wrappers in NOISY_WRAPPERS.items():
        nb = read(root / "autograded" / "noisy" / ASSIGNMENT / f"{name}.ipynb")
        text = "".join(o.get("text", "") for c in autograded_test_cells(nb).values() for o in c.outputs)
        assert "debug output on stderr" in text, "the stderr text must be kept (as stdout) for feedback"


def test_written_answers_wait_for_manual_grading(course):
    for name, gids in course["written"].items():
        for gid in gids:
            needs_manual, auto_score = course["before_manual"]["instructor", name, gid]
            assert needs_manual and auto_score is None, "an answer must wait for a person"
            needs_manual, auto_score = course["before_manual"]["untouched", name, gid]
            assert auto_score == 0 and not needs_manual, "an unanswered question scores 0 by itself"


def test_feedback_hides_hidden_tests_but_shows_visible_ones(course):
    root = course["root"]
    nbgrader("generate_feedback", ASSIGNMENT, cwd=root)
    for name in notebook_names():
        source = read(root / "source" / ASSIGNMENT / f"{name}.ipynb")
        source_tests = autograded_test_cells(source)
        hidden = [line.strip() for c in source_tests.values()
                  for line in region(c.source, HIDDEN_DELIMITERS).splitlines() if len(line.strip()) > 6]
        visible = [line.strip() for c in source_tests.values()
                   for line in region(c.source, HIDDEN_DELIMITERS, inside=False).splitlines() if len(line.strip()) > 6]
        assert hidden and visible
        # A hidden line that also occurs outside every hidden region, whole or inside a longer line
        # (a reference implementation sharing `return result` with the solution, `_model.eval()`
        # inside `dropout_model.eval()`), gives nothing away when it shows up.
        shown_anyway = "\n".join(region(c.source, HIDDEN_DELIMITERS, inside=False) for c in source.cells)
        hidden = [line for line in hidden if line not in shown_anyway]
        for student in course["expected"]:
            if student == "unreadable":
                continue  # nothing of theirs could be graded, so there is no feedback to leak
            if not (root / "submitted" / student / ASSIGNMENT / f"{name}.ipynb").exists():
                continue  # partial cases are per notebook: no submission, no feedback
            html = (root / "feedback" / student / ASSIGNMENT / f"{name}.html").read_text()
            text = BeautifulSoup(html, "html.parser").get_text()
            # Nor does a line the student wrote themselves (`if mode != "zero":`, say).
            own = "\n".join(c.source for c in read(root / "submitted" / student / ASSIGNMENT / f"{name}.ipynb").cells)
            leaked = [line for line in hidden if line in text and line not in own]
            assert not leaked, f"feedback for {student}/{name} shows hidden-test lines: {leaked[:3]}"
            # The search itself works: the visible tests are there, word for word.
            assert any(line in text for line in visible), f"feedback for {student}/{name} lost the visible tests"


def test_exported_grades_add_up(course):
    root = course["root"]
    nbgrader("export", "--to", "grades.csv", cwd=root)
    with open(root / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(course["expected"])
    max_total = None
    for student, by_notebook in course["expected"].items():
        total = sum(sum(scores.values()) for scores in by_notebook.values())
        if student == "instructor":
            total += MODEL_ANSWER_POINTS_GIVEN * sum(len(g) for g in course["written"].values())
        assert float(rows[student]["score"]) == pytest.approx(total), student
        max_total = max_total or float(rows[student]["max_score"])
        assert float(rows[student]["max_score"]) == max_total
    source_points = sum(float(nbgrader_meta(c)["points"]) for name in notebook_names()
                        for c in grade_cells(read(root / "source" / ASSIGNMENT / f"{name}.ipynb")).values())
    assert max_total == source_points


def test_unreadable_submission_is_set_aside_with_a_clear_message(course):
    root = course["root"]
    for name in notebook_names():
        folder = root / "submitted" / "unreadable" / ASSIGNMENT
        assert not (folder / f"{name}.ipynb").exists()
        assert (folder / f"{name}.ipynb.unreadable").exists(), "the file must be kept"
        assert f"NOT GRADED: submitted/unreadable/{ASSIGNMENT}/{name}.ipynb: the file is not a notebook" \
            in course["preflight"]
    assert course["preflight"].count("NOT GRADED") == len(notebook_names()), "only the broken files are set aside"
