"""The cell predicates every preprocessor shares (grading/course/preprocessors/base.py): unit tests, seconds."""

from nbformat.v4 import new_code_cell, new_markdown_cell

from grading.course.preprocessors.base import (
    GUIDE_MARK,
    TASK_MARK,
    course_mark,
    is_autograded_test,
    is_grading_guide,
    is_solution,
    is_written_answer,
    nbgrader_meta,
    set_course_mark,
)


def _cell(new, **flags):
    return new("x", metadata={"nbgrader": {"grade_id": "g", "grade": False, "solution": False, **flags}})


def test_cells_are_told_apart_by_their_nbgrader_flags():
    test, code = _cell(new_code_cell, grade=True), _cell(new_code_cell, solution=True)
    answer = _cell(new_markdown_cell, grade=True, solution=True)
    assert [is_autograded_test(c) for c in (test, code, answer)] == [True, False, False]
    assert [is_solution(c) for c in (test, code, answer)] == [False, True, True]
    assert [is_written_answer(c) for c in (test, code, answer)] == [False, False, True]


def test_metadata_a_student_mangled_reads_as_none_and_is_replaced_when_marked():
    mangled = [new_code_cell("x", metadata={"nbgrader": "not a dict", "course": ["a", "list"]}), {"metadata": 3}, 7]
    assert [nbgrader_meta(c) for c in mangled] == [{}, {}, {}]
    assert not any(is_grading_guide(c) or is_solution(c) for c in mangled)
    assert course_mark(mangled[0], TASK_MARK) is None
    set_course_mark(mangled[0], TASK_MARK, "Task 1")
    assert mangled[0].metadata["course"] == {TASK_MARK: "Task 1"} and not is_grading_guide(mangled[0])
    set_course_mark(mangled[0], GUIDE_MARK, True)
    assert is_grading_guide(mangled[0]) and course_mark(mangled[0], TASK_MARK) == "Task 1"
