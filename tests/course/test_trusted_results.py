"""Test cells get the trusted results, the grader the guides (grading/course/preprocessors): unit tests, seconds."""

import nbformat
from nbformat.v4 import new_code_cell
from nbgrader.utils import determine_grade

from grading.course.preprocessors.trusted_results import result_text, trusted_outputs


def _meta(gid, **flags):
    return {"nbgrader": {"schema_version": 3, "grade_id": gid, "locked": False, "solution": False, "grade": False,
                         **flags}}


def _outcome(**kw):
    base = {"passed": False, "kind": "failed", "phase": "hidden", "check": "", "message": "wrong values"}
    base.update(kw)
    return base


PASSED = {"passed": True, "kind": "passed", "phase": None, "check": "", "message": ""}


def test_trusted_outputs_give_nbgrader_the_trusted_score():
    cell = new_code_cell("check()", metadata=_meta("t", grade=True, points=3))
    cell.outputs = trusted_outputs(PASSED)
    assert determine_grade(cell) == (3, 3)
    for outcome in (_outcome(), _outcome(phase="visible", check="corr2d on the sheet"), _outcome(kind="timeout")):
        cell.outputs = trusted_outputs(outcome)
        assert determine_grade(cell) == (0, 3)


def test_messages_say_visible_check_or_hidden_test():
    visible = result_text(_outcome(phase="visible", check="corr2d(X, K)"))
    assert visible.startswith("A visible check failed (corr2d(X, K))")
    assert result_text(_outcome()).startswith("A hidden test failed: wrong values")
    assert "did not answer in time" in result_text(_outcome(kind="timeout", message="30 s"))
    assert result_text(PASSED).startswith("✓ Passed")


def test_grading_guides_come_out_the_same_on_every_run():
    # nbformat gave each inserted guide a random cell id: every re-recording rewrote the
    # autograded notebooks of students whose work had not changed.
    from nbtools import SOURCE

    from grading.course.preprocessors.base import is_grading_guide
    from grading.course.preprocessors.trusted_results import with_grading_guides

    source = SOURCE / "01_convolutions.ipynb"
    cells = nbformat.read(str(source), as_version=4).cells
    first, second = with_grading_guides(cells, source), with_grading_guides(cells, source)
    guides = [c for c in first if is_grading_guide(c)]
    assert guides and [c.id for c in first] == [c.id for c in second]
    assert all(c.id.startswith("grading-guide-") for c in guides)
    nbformat.validate(nbformat.v4.new_notebook(cells=first))
