"""The engine (grading/core/engine.py): the order tests run in and the root cause a failure leads with.

Whole notebooks graded through the sandbox are tests/test_grading_cases.py; the trusted tests run
in this process on the instructor's answers and the stubs are tests/ex04/test_trusted_in_process.py.
"""

from types import SimpleNamespace as T

from grading.core import engine
from grading.core.engine import root_cause


def test_tests_share_a_set_up_only_behind_every_reference_seen_before():
    tests = {"a": T(policy="torch", references=["r1", "r2"]), "b": T(policy="torch", references=[]),
             "c": T(policy="numpy", references=[]), "d": T(policy="torch", references=["r1"]),
             "e": T(policy="torch", references=["r3"])}
    order = [(gid, fresh) for gid, _, fresh in engine.test_order(tests)]
    # Fewer references first; "e" lacks r1, which "d" (before it) had: a fresh set-up.
    assert order == [("c", True), ("b", True), ("d", False), ("e", True), ("a", True)]


def test_only_the_cells_a_failure_depends_on_are_named():
    defines = {"output_size": ["output_size"], "corr2d": ["corr2d"], "conv2d": ["conv2d"]}
    errors = {"output_size": {"type": "ValueError", "bases": ["Exception"], "message": "no", "line": 3}}
    assert root_cause("corr2d(X, K): 3 of 9 values differ", ["corr2d"], errors, defines) == ""
    assert root_cause("a hidden test failed", ["output_size"], errors, defines) == \
        "Your output_size cell raised a ValueError on line 3 (no) when it ran."
    errors["corr2d"] = {"type": "IndentationError", "bases": ["SyntaxError", "Exception"],
                        "message": "expected an indented block after 'for' statement on line 4", "line": 5}
    assert root_cause("your code raised NameError: name 'corr2d' is not defined", ["conv2d"], errors, defines) == (
        "Your corr2d cell has an IndentationError on line 5 (expected an indented block after 'for' statement "
        "on line 4), so corr2d was never defined.")


def test_what_the_sandbox_reports_about_a_cell_is_only_read_as_plain_values():
    # The sandbox's reply is the student's to forge: wrong types give a plainer sentence, never an error.
    defines = {"corr2d": ["corr2d"]}
    for forged in ({"type": ["x"], "line": "27", "message": None}, {"type": None, "line": -4, "bases": "SyntaxError"},
                   {"line": True}):
        cause = root_cause("name 'corr2d' is not defined", [], {"corr2d": forged}, defines)
        assert cause.startswith("Your corr2d cell raised a") and "line" not in cause, cause
        assert cause.endswith(", so corr2d was never defined.")
    assert root_cause("name 'corr2d' is not defined", [], ["not", "a", "dict"], defines) == ""
    assert root_cause("name 'corr2d' is not defined", [], {"corr2d": "SyntaxError"}, defines) == ""
