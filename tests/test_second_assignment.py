"""A second assignment, from a folder of its own, through the same round trip as ex04.

``tests/assignments/pooling_demo`` (one notebook: two graded functions and a written answer) is
graded in a scratch course by ``python -m grading --assignments tests/assignments autograde``,
the command the README gives. The course holds only nbgrader_config.py and the source notebook;
the engine comes from this repository, and no module of it names the assignment.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook

from nbtools import BIN, ROOT, SOLUTION_DELIMITERS, nbgrader_meta, read

pytestmark = pytest.mark.slow

NAME = "pooling_demo"
NOTEBOOK = "01_pooling"
PACKAGES = ROOT / "tests" / "assignments"
SOURCE = PACKAGES / NAME / "source" / f"{NOTEBOOK}.ipynb"

#: A max_pool2d whose maximum starts from 0: right on the notebook's non-negative arrays, wrong
#: as soon as a window holds only negative values (the hidden tests have such windows).
MAX_FROM_ZERO = '''def max_pool2d(X, size, stride=None):
    X = np.asarray(X)
    stride = size if stride is None else stride
    rows, cols = (X.shape[0] - size) // stride + 1, (X.shape[1] - size) // stride + 1
    Y = np.zeros((rows, cols), dtype=X.dtype)
    for i in range(rows):
        for j in range(cols):
            best = 0
            for value in X[i * stride:i * stride + size, j * stride:j * stride + size].ravel():
                best = max(best, value)
            Y[i, j] = best
    return Y
'''

WRITTEN_ANSWER = "The maximum stays when its pixel moves inside the window; averaging keeps the overall strength."

#: Exact points of every autograded cell, per student (the notebook gives 2 to each test cell).
EXPECTED = {
    "correct": {"test_max_pool2d": 2.0, "test_avg_pool2d": 2.0},
    "max_from_zero": {"test_max_pool2d": 0.0, "test_avg_pool2d": 2.0},
    "blank": {"test_max_pool2d": 0.0, "test_avg_pool2d": 0.0},
}


def _environment():
    """This venv's tools first on PATH; the engine importable from the course's nbgrader_config.py."""
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])))


def _solution_sources(source_nb):
    """{grade_id: the instructor's code} of the code solution cells, without the delimiters."""
    return {nbgrader_meta(c)["grade_id"]: "\n".join(line for line in c.source.splitlines()
                                                    if line.strip() not in SOLUTION_DELIMITERS)
            for c in source_nb.cells if nbgrader_meta(c).get("solution")}


def _filled(release_nb, answers):
    """A copy of the release notebook with ``answers`` ({grade_id: source}) in its solution cells."""
    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("second_course")
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "source" / NAME).mkdir(parents=True)
    shutil.copy(SOURCE, root / "source" / NAME / f"{NOTEBOOK}.ipynb")
    env = _environment()
    generated = subprocess.run([str(BIN / "nbgrader"), "generate_assignment", NAME, "--force", "--log-level=WARN"],
                               cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert generated.returncode == 0, generated.stdout[-3000:] + generated.stderr[-3000:]
    release_nb = read(root / "release" / NAME / f"{NOTEBOOK}.ipynb")
    answers = _solution_sources(read(SOURCE))
    answers["written_max_vs_average"] = WRITTEN_ANSWER
    submissions = {"correct": _filled(release_nb, answers),
                   "max_from_zero": _filled(release_nb, {**answers, "max_pool2d": MAX_FROM_ZERO}),
                   "blank": release_nb}
    for student, nb in submissions.items():
        folder = root / "submitted" / student / NAME
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{NOTEBOOK}.ipynb"))
    run = subprocess.run([sys.executable, "-m", "grading", "--assignments", str(PACKAGES), "autograde", NAME,
                          "--root", str(root)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-4000:]
    return {"root": root, "log": log}


def _grades(root, student):
    """{grade_id: (auto_score, needs_manual_grade)} of one student's notebook in the gradebook."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        submitted = gradebook.find_submission_notebook(NOTEBOOK, NAME, student)
        return {grade.name: (grade.auto_score, grade.needs_manual_grade) for grade in submitted.grades}


def test_every_autograded_cell_scores_exactly(course):
    for student, scores in EXPECTED.items():
        got = {gid: score for gid, (score, _) in _grades(course["root"], student).items() if gid in scores}
        assert got == scores, f"{student}: {got}\n{course['log'][-3000:]}"


def test_the_run_reports_no_failure(course):
    assert "Traceback" not in course["log"] and "NOTE" not in course["log"], course["log"][-3000:]
    assert "3 notebooks graded now" in course["log"] and "0 failed" in course["log"], course["log"][-3000:]


def test_the_wrong_maximum_fails_a_hidden_check_only(course):
    """The notebook's checks pass for max_from_zero: the points are lost in the trusted module's hidden phase."""
    cached = json.loads((course["root"] / ".grading" / NAME / "max_from_zero" / f"{NOTEBOOK}.json").read_text())
    result = cached["result"]["tests"]["test_max_pool2d"]
    assert (result["kind"], result["phase"]) == ("failed", "hidden"), result


def test_the_written_answer_waits_for_a_person(course):
    score, waiting = _grades(course["root"], "correct")["written_max_vs_average"]
    assert waiting and score is None
    score, waiting = _grades(course["root"], "blank")["written_max_vs_average"]
    assert score == 0 and not waiting, "an unanswered question scores 0 by itself"


def test_the_engine_never_names_the_assignment():
    """Grading found the package through --assignments alone: no file of grading/ mentions it."""
    pattern = re.compile(rf"\b{NAME}\b")
    naming = [path.relative_to(ROOT).as_posix()
              for path in [*sorted((ROOT / "grading").rglob("*")), ROOT / "nbgrader_config.py", ROOT / "Makefile"]
              if path.is_file() and path.suffix != ".pyc" and pattern.search(path.read_text(errors="replace"))]
    assert not naming


def test_make_hands_the_folder_of_assignments_to_every_command():
    """``make ... ASSIGNMENTS=DIR`` (README) exports the folder, as an absolute path, before any earlier one."""
    show = "show-assignments-path: ; @echo \"$$GRADING_ASSIGNMENTS_PATH\""
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MFLAGS")}
    for earlier, expected in [(None, str(PACKAGES)), ("/elsewhere", f"{PACKAGES}:/elsewhere")]:
        env.pop("GRADING_ASSIGNMENTS_PATH", None)
        if earlier:
            env["GRADING_ASSIGNMENTS_PATH"] = earlier
        run = subprocess.run(["make", "-s", "--eval", show, "show-assignments-path", "ASSIGNMENTS=tests/assignments"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert (run.returncode, run.stdout.strip()) == (0, expected), run.stderr
