"""Every trusted test of ex04 (grading/ex04/nb*.py), run in this process: the instructor's answers
pass it, the stubs of the release fail it with a message that says why.

The engine's own :func:`grading.core.engine.run_test` judges, through the sandbox's codec
(:class:`grading.core.testing.LocalConnection`), but the student's cells run here instead of in a
sandbox: seconds for the whole assignment, so that ``make test-fast`` checks the trusted tests
against both ends. The same tests through the sandbox, on every crafted case, are
tests/test_grading_cases.py.
"""

import pytest

from grading.core import assignment
from grading.core.engine import notebook_plan, run_test, student_cells
from grading.core.policies import policy_named
from grading.core.results import Kind
from grading.core.testing import LocalConnection
from nbtools import ASSIGNMENT, RELEASE, SOURCE, notebook_names
from test_grading_cases import instructor_answers

#: Tests whose passing run trains a network for 40 epochs (about 8 s): outside the fast set. On the
#: stubs they fail at once.
TRAINING = {("06_pytorch_cnn", "test_accuracy")}

#: The words a failure caused by an untouched stub leads with (grading.core.engine.run_test).
STUB_WORDS = "your code raised NotImplementedError"


class InProcessSession:
    """What :func:`grading.core.engine.run_test` asks of a sandbox session, with the cells run here.

    Each test gets a fresh namespace (as each sandbox test gets a fresh copy of the set-up):
    the policy's prelude, then the student's cells, with the policy's furniture and the test's
    references as the fixtures.
    """

    def __init__(self, cells, prelude, fixture):
        self.cells, self.prelude, self.fixture = list(cells), tuple(prelude), fixture
        self.cell_errors = {}
        self.deadline, self.limit_text = None, ""
        self._connection = None

    def fork(self, references=()):
        fixtures = [name for name in (self.fixture, *references) if name]
        self._connection = LocalConnection(self.cells, self.prelude, fixtures)
        self.cell_errors = self._connection.cell_errors

    def request(self, document):
        return self._connection.request(document)

    def end_test(self):
        self._connection = None


def _trusted_tests(training_is_slow):
    """(notebook, grade_id) of every trusted test; those of :data:`TRAINING` marked slow if asked."""
    ex04 = assignment.load(ASSIGNMENT)
    found = []
    for name in notebook_names():
        for gid in ex04.tests(name):
            marks = [pytest.mark.slow] if training_is_slow and (name, gid) in TRAINING else []
            found.append(pytest.param(name, gid, marks=marks, id=f"{name}-{gid}"))
    return found


def _judge(name, gid, cells):
    """The :class:`grading.core.results.TestResult` of one trusted test on ``cells``."""
    ex04 = assignment.load(ASSIGNMENT)
    trusted = ex04.tests(name)[gid]
    session = InProcessSession(cells, policy_named(trusted.policy).prelude, ex04.fixture_module(trusted.policy))
    plan = notebook_plan(SOURCE / f"{name}.ipynb")
    return run_test(trusted, session, ex04.test_seconds(name, gid), plan["defines"])


@pytest.mark.parametrize("name, gid", _trusted_tests(training_is_slow=True))
def test_the_instructor_s_answers_pass(name, gid):
    plan = notebook_plan(SOURCE / f"{name}.ipynb")
    answers = instructor_answers(name)
    result = _judge(name, gid, [(cell, answers[cell]) for cell in plan["solutions"]])
    assert result.passed, f"{result.kind} in the {result.phase} phase: {result.message}"


@pytest.mark.parametrize("name, gid", _trusted_tests(training_is_slow=False))
def test_the_stubs_fail_naming_the_stub(name, gid):
    plan = notebook_plan(SOURCE / f"{name}.ipynb")
    cells, problems = student_cells(RELEASE / f"{name}.ipynb", plan["solutions"])
    assert problems == []
    result = _judge(name, gid, cells)
    assert not result.passed and result.kind is Kind.ERROR, result
    assert result.message.startswith(STUB_WORDS) and "still holds the stub" in result.message, result.message
