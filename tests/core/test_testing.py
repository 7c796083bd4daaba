"""The trusted-test API (grading/core/testing.py): registration, phases, the student, expectations.

The student's cells run in this process through :class:`grading.core.testing.LocalConnection`,
which speaks the sandbox's codec; the sandbox itself is tests/core/test_sandbox.py. That the
``expect_*`` helpers judge exactly as :mod:`helpers.checking` does is tests/test_checking.py.
"""

import pytest

from grading.core import testing
from grading.core.errors import Failed, StudentError
from grading.core.results import Phase
from grading.core.runner import Handle
from grading.core.testing import LocalConnection, Student, current_phase, expect_raises, expect_true, hidden, visible

#: Solution cells of a made-up notebook: one that works, one that raises before its def.
CELLS = [
    ("double", "def double(x):\n    return 2 * x\n\nclass Box:\n    def __init__(self):\n        self.items = []\n"
               "    def add(self, item):\n        self.items.append(item)\n        return len(self.items)\n"),
    ("broken", "limit = 1 / 0\n\ndef halve(x):\n    return x / 2\n"),
    ("checked", "def positive(x):\n    if x <= 0:\n        raise ValueError(f'{x} is not positive')\n    return x\n"),
]


def fixture_tripled(x):
    """Furniture the student side can be asked for by name (this module is the fixture module)."""
    return 3 * x


@pytest.fixture
def student():
    return Student(LocalConnection(CELLS, ["import math"], [__name__]))


# ------------------------------------------------------------------ registration

def test_a_registered_test_is_found_by_its_module_with_its_policy_and_references():
    @testing.test("test_made_up", policy="torch", references=["some.reference"])
    def made_up(student):
        pass

    found = testing.registered(__name__)["test_made_up"]
    assert (found.function, found.grade_id, found.policy, found.references) == \
        (made_up, "test_made_up", "torch", ("some.reference",))
    assert "test_made_up" not in testing.registered("another.module")


def test_an_unknown_policy_and_a_second_test_of_one_cell_are_refused():
    with pytest.raises(ValueError, match="unknown policy 'tensorflow'"):
        testing.test("test_x", policy="tensorflow")

    @testing.test("test_twice")
    def first(student):
        pass

    def second(student):
        pass

    with pytest.raises(ValueError, match="two trusted tests for test_twice"):
        testing.test("test_twice")(second)


# ------------------------------------------------------------------ phases

def test_a_failure_carries_the_innermost_phase_it_was_raised_in():
    assert current_phase() == (Phase.HIDDEN, "")
    with pytest.raises(Failed) as visible_failure:
        with visible("double(2) is 4"):
            assert current_phase() == (Phase.VISIBLE, "double(2) is 4")
            expect_true(False, "double(2) is not 4")
    assert visible_failure.value.phase == (Phase.VISIBLE, "double(2) is 4")
    with pytest.raises(Failed) as hidden_failure:
        with visible("outer"):
            with hidden():
                expect_true(False, "a hidden check")
    assert hidden_failure.value.phase == (Phase.HIDDEN, "")
    assert current_phase() == (Phase.HIDDEN, "")


# ------------------------------------------------------------------ the student

def test_calls_reach_the_student_s_names_and_come_back_as_data(student):
    assert student.double(21) == 42
    assert student.call("double", [1, 2]) == [1, 2, 1, 2]
    assert student.fixture("fixture_tripled", 5) == 15
    assert student.names_used() == ["double"]  # fixtures are not the student's


def test_objects_stay_on_the_student_side_behind_handles(student):
    box = student.Box()
    assert isinstance(box, Handle)
    assert student.method(box, "add", "a") == 1 and student.method(box, "add", "b") == 2
    assert student.attribute(box, "items") == ["a", "b"]
    kept = student.keep([1, 2])
    assert student.value(kept) == [1, 2]


def test_the_student_s_exceptions_and_failed_cells_are_reported_by_name(student):
    with pytest.raises(StudentError) as raised:
        student.positive(-1)
    assert (raised.value.type, raised.value.message) == ("ValueError", "-1 is not positive")
    assert raised.value.is_a("Exception")
    assert student.cell_errors() == {"broken": "ZeroDivisionError: division by zero"}
    with pytest.raises(StudentError, match="NameError: name 'halve' is not defined"):
        student.halve(4)


def test_a_name_is_replaced_by_a_fixture_inside_the_block_only(student):
    with student.replaced("double", "fixture_tripled"):
        assert student.double(2) == 6
    assert student.double(2) == 4


# ------------------------------------------------------------------ expectations

def test_expect_raises_passes_on_the_named_error_and_fails_saying_what_happened(student):
    assert expect_raises("ValueError", lambda: student.positive(0), "positive(0)").type == "ValueError"
    with pytest.raises(Failed, match=r"positive\(0\) should raise TypeError, but raised ValueError: 0 is not"):
        expect_raises("TypeError", lambda: student.positive(0), "positive(0)")
    with pytest.raises(Failed, match=r"positive\(3\) should raise ValueError, but returned 3"):
        expect_raises("ValueError", lambda: student.positive(3), "positive(3)")
