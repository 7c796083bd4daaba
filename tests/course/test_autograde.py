"""``grading.autograde`` (grading/course/autograde.py): regrading just what changed or what is asked for.

A scratch course of the small second assignment (tests/assignments/pooling_demo: one notebook, two
graded functions, three students) is graded through the Python function scripts call, in this
process, one job at a time. Each step checks the exact scores in nbgrader's gradebook and which
tests ran: a test that did not run keeps its stored result byte for byte, timing included.
"""

import json
import os
import shutil
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook

import grading
from grading.core import assignment as assignments
from nbtools import BIN, ROOT, SOLUTION_DELIMITERS, nbgrader, nbgrader_meta, read

pytestmark = pytest.mark.slow

NAME, NOTEBOOK = "pooling_demo", "01_pooling"
PACKAGE = ROOT / "tests" / "assignments" / NAME
WRONG_AVERAGE = "def avg_pool2d(X, size, stride=None):\n    return max_pool2d(X, size, stride)\n"
EXPECTED = {"correct": {"test_max_pool2d": 2.0, "test_avg_pool2d": 2.0},
            "wrong_average": {"test_max_pool2d": 2.0, "test_avg_pool2d": 0.0},
            "blank": {"test_max_pool2d": 0.0, "test_avg_pool2d": 0.0}}


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A graded-once course; the assignment's package is a copy that a test may change."""
    packages = tmp_path / "packages"
    shutil.copytree(PACKAGE, packages / NAME, ignore=shutil.ignore_patterns("__pycache__"))
    root = tmp_path / "course"
    (root / "source" / NAME).mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    shutil.copy(PACKAGE / "source" / f"{NOTEBOOK}.ipynb", root / "source" / NAME)
    monkeypatch.setenv(assignments.PATH_VARIABLE, str(packages))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(assignments, "_LOADED", {})
    for module in [m for m in sys.modules if m.startswith(assignments.EXTERNAL_PACKAGE + ".")]:
        monkeypatch.delitem(sys.modules, module)
    nbgrader("generate_assignment", NAME, "--force", cwd=root)
    release = read(root / "release" / NAME / f"{NOTEBOOK}.ipynb")
    answers = {nbgrader_meta(c)["grade_id"]: "\n".join(line for line in c.source.splitlines()
                                                       if line.strip() not in SOLUTION_DELIMITERS)
               for c in read(root / "source" / NAME / f"{NOTEBOOK}.ipynb").cells if nbgrader_meta(c).get("solution")}
    for student, changes in {"correct": answers, "wrong_average": {**answers, "avg_pool2d": WRONG_AVERAGE},
                             "blank": {}}.items():
        nb = nbformat.from_dict(release)
        for cell in nb.cells:
            if nbgrader_meta(cell).get("solution") and nbgrader_meta(cell)["grade_id"] in changes:
                cell.source = changes[nbgrader_meta(cell)["grade_id"]]
        (root / "submitted" / student / NAME).mkdir(parents=True)
        nbformat.write(nb, str(root / "submitted" / student / NAME / f"{NOTEBOOK}.ipynb"))
    summary = grading.autograde(NAME, root, workers=1)
    assert summary["status"] == 0 and summary["tests_graded"] == 6, summary
    assert sorted(summary["recorded"]) == sorted(EXPECTED)
    return {"root": root, "package": packages / NAME}


def scores(root):
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {student: {grade.name: grade.auto_score
                          for grade in gradebook.find_submission_notebook(NOTEBOOK, NAME, student).grades
                          if grade.name in EXPECTED["correct"]}
                for student in EXPECTED}


def records(root):
    """{student: {grade_id: the stored result of the test, as text}}."""
    found = {}
    for student in EXPECTED:
        stored = json.loads((root / ".grading" / NAME / student / f"{NOTEBOOK}.json").read_text())
        found[student] = {gid: json.dumps(test, sort_keys=True) for gid, test in stored["result"]["tests"].items()}
    return found


def test_a_second_run_grades_and_records_nothing(course):
    summary = grading.autograde(NAME, course["root"], workers=1)
    assert summary["tests_graded"] == 0 and summary["recorded"] == [] and summary["status"] == 0
    assert scores(course["root"]) == EXPECTED


def test_one_test_asked_for_is_graded_again_for_everyone_and_nothing_else(course):
    before = records(course["root"])
    summary = grading.autograde(NAME, course["root"], tests=["test_avg_pool2d"], workers=1)
    assert summary["tests_graded"] == 3 and summary["status"] == 0, summary
    after = records(course["root"])
    assert all(after[s]["test_max_pool2d"] == before[s]["test_max_pool2d"] for s in EXPECTED)
    assert any(after[s]["test_avg_pool2d"] != before[s]["test_avg_pool2d"] for s in EXPECTED), "it ran again"
    assert summary["recorded"] == [], "the same verdicts: nothing new for nbgrader to record"
    assert scores(course["root"]) == EXPECTED


def test_one_student_asked_for_is_graded_again_and_recorded_alone(course):
    before = records(course["root"])
    summary = grading.autograde(NAME, course["root"], students=["wrong_average"], workers=1)
    assert summary["tests_graded"] == 2 and summary["recorded"] == ["wrong_average"], summary
    after = records(course["root"])
    assert after["correct"] == before["correct"] and after["blank"] == before["blank"]
    assert scores(course["root"]) == EXPECTED


def test_a_changed_trusted_test_regrades_that_test_only(course):
    before = records(course["root"])
    module = course["package"] / "nb01_pooling.py"
    text = module.read_text()
    # Stricter hidden checks of avg_pool2d: the blank and the wrong student still fail, the correct one passes.
    probe = 'def avg_pool2d(student):\n'
    changed = text.replace(probe, probe + '    student.avg_pool2d(np.ones((2, 2)), 2)\n', 1)
    assert changed != text
    module.write_text(changed)
    summary = grading.autograde(NAME, course["root"], workers=1)
    assert summary["tests_graded"] == 3 and summary["status"] == 0, summary
    after = records(course["root"])
    assert all(after[s]["test_max_pool2d"] == before[s]["test_max_pool2d"] for s in EXPECTED)
    assert scores(course["root"]) == EXPECTED


def test_a_new_submission_regrades_that_student_s_notebook_and_its_new_score_is_recorded(course):
    root = course["root"]
    path = root / "submitted" / "blank" / NAME / f"{NOTEBOOK}.ipynb"
    nb = read(path)
    fixed = read(root / "submitted" / "wrong_average" / NAME / f"{NOTEBOOK}.ipynb")
    answers = {nbgrader_meta(c)["grade_id"]: c.source for c in fixed.cells if nbgrader_meta(c).get("solution")}
    for cell in nb.cells:
        if nbgrader_meta(cell).get("solution") and nbgrader_meta(cell)["grade_id"] == "max_pool2d":
            cell.source = answers["max_pool2d"]
    nbformat.write(nb, str(path))
    summary = grading.autograde(NAME, root, workers=1)
    assert summary["tests_graded"] == 2 and summary["recorded"] == ["blank"], summary
    assert scores(root) == {**EXPECTED, "blank": {"test_max_pool2d": 2.0, "test_avg_pool2d": 0.0}}


def test_an_unknown_test_or_student_is_refused_by_name(course):
    with pytest.raises(SystemExit, match="has no test test_nothing"):
        grading.autograde(NAME, course["root"], tests=["test_nothing"], workers=1)
    with pytest.raises(SystemExit, match="nothing of nobody to grade"):
        grading.autograde(NAME, course["root"], students=["nobody"], workers=1)


def test_a_cell_set_aside_is_not_run_again_when_its_tests_are_regraded(course):
    """A hanging cell costs its time limit once: regrading a test of that notebook skips it."""
    root = course["root"]
    release = read(root / "release" / NAME / f"{NOTEBOOK}.ipynb")
    for cell in release.cells:
        if nbgrader_meta(cell).get("solution") and nbgrader_meta(cell)["grade_id"] == "max_pool2d":
            cell.source = "while True:\n    pass\n"
    (root / "submitted" / "hangs" / NAME).mkdir(parents=True)
    nbformat.write(release, str(root / "submitted" / "hangs" / NAME / f"{NOTEBOOK}.ipynb"))
    first = grading.autograde(NAME, root, workers=1)
    record_path = root / ".grading" / NAME / "hangs" / f"{NOTEBOOK}.json"
    graded = json.loads(record_path.read_text())["result"]
    assert first["tests_graded"] == 2 and list(graded["faulty_cells"]) == ["max_pool2d"]
    assert [s["cells_set_aside"] for s in graded["setups"]] == [["max_pool2d"]]
    again = grading.autograde(NAME, root, tests=["test_max_pool2d", "test_avg_pool2d"], workers=1)
    regraded = json.loads(record_path.read_text())["result"]
    assert again["tests_graded"] == 8 and list(regraded["faulty_cells"]) == ["max_pool2d"]
    assert [s["cells_set_aside"] for s in regraded["setups"]] == [[]], "the hanging cell ran again"
    assert regraded["tests"]["test_max_pool2d"]["message"] == graded["tests"]["test_max_pool2d"]["message"]
    # Asked for by name, the student is graded from scratch: the cell runs (and hangs) again.
    by_name = grading.autograde(NAME, root, students=["hangs"], workers=1)
    fresh = json.loads(record_path.read_text())["result"]
    assert by_name["tests_graded"] == 2 and [s["cells_set_aside"] for s in fresh["setups"]] == [["max_pool2d"]]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        scores = {g.name: g.auto_score for g in gradebook.find_submission_notebook(NOTEBOOK, NAME, "hangs").grades
                  if g.name in EXPECTED["correct"]}
    assert scores == {"test_max_pool2d": 0.0, "test_avg_pool2d": 0.0}
