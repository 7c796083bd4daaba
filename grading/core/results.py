"""The result of one trusted test, as the engine builds it and the course tooling reads it.

A result crosses two boundaries: it is cached as JSON (``.grading/<assignment>/<student>/<notebook>.json``)
and read again by the course tooling (feedback, the gradebook, reports). :class:`TestResult` is
that record; :meth:`TestResult.to_dict` gives the JSON form and :meth:`TestResult.from_dict` reads
it back. Kinds and phases are string-valued enums, so the JSON holds their plain values
("passed", "visible") and caches written before this module stay valid.
"""

import dataclasses
import enum

#: Longest message a result keeps (characters).
MAX_MESSAGE = 3000


class Kind(str, enum.Enum):
    """How a test ended."""

    PASSED = "passed"
    #: A check found a wrong value.
    FAILED = "failed"
    #: The student's code raised, or returned something a check cannot use.
    ERROR = "error"
    #: The student's process died (or broke the grading protocol).
    CRASHED = "crashed"
    #: The student's process did not answer within the test's time.
    TIMEOUT = "timeout"

    def __str__(self):
        return self.value


class Phase(str, enum.Enum):
    """Where a test failed: what the student is told about it."""

    #: A check the student also sees in the notebook, reported by name.
    VISIBLE = "visible"
    #: A check on inputs the student never saw.
    HIDDEN = "hidden"
    #: Before any check: the test's copy of the set-up process did not start.
    SETUP = "setup"

    def __str__(self):
        return self.value


@dataclasses.dataclass
class TestResult:
    """One trusted test's outcome.

    Attributes
    ----------
    passed : bool
    kind : Kind
    phase : Phase or None
        None for a passed test.
    check : str
        The visible check's description, when ``phase`` is :attr:`Phase.VISIBLE`; else "".
    message : str
        What the student is told (at most :data:`MAX_MESSAGE` characters).
    points, score, seconds : float or None
        Set once the test is scored: its points (from the source notebook), the points given, its wall time.
    cause : str
        The root cause that a failure leads with (:func:`grading.core.engine.root_cause`); "" when none.
        Written to JSON only when not empty.
    """

    __test__ = False  # a result, not a test for pytest to collect

    passed: bool
    kind: Kind
    phase: Phase = None
    check: str = ""
    message: str = ""
    points: float = None
    score: float = None
    seconds: float = None
    cause: str = ""

    def __post_init__(self):
        self.kind = Kind(self.kind)
        self.phase = None if self.phase is None else Phase(self.phase)
        if self.passed != (self.kind is Kind.PASSED):
            raise ValueError(f"a result with passed={self.passed} cannot be of kind {self.kind.value!r}")

    @classmethod
    def success(cls):
        """A passed test (not scored yet)."""
        return cls(passed=True, kind=Kind.PASSED)

    @classmethod
    def failure(cls, kind, message, phase=Phase.HIDDEN, check=""):
        """A failed test (not scored yet); the message is cut to :data:`MAX_MESSAGE` characters."""
        return cls(passed=False, kind=kind, phase=phase, check=check, message=str(message)[:MAX_MESSAGE])

    def scored(self, points, seconds):
        """This result with its points, its score (all points when passed, else 0) and its wall time."""
        return dataclasses.replace(self, points=points, score=points if self.passed else 0.0, seconds=seconds)

    def to_dict(self):
        """The JSON form: {passed, kind, phase, check, message, points, score, seconds[, cause]}, plain values.

        ``points``, ``score`` and ``seconds`` are left out while None (a result not scored yet).
        """
        phase = None if self.phase is None else self.phase.value
        data = {"passed": self.passed, "kind": self.kind.value, "phase": phase, "check": self.check,
                "message": self.message}
        if self.cause:
            data["cause"] = self.cause
        for name in ("points", "score", "seconds"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data

    @classmethod
    def from_dict(cls, data):
        """The inverse of :meth:`to_dict`.

        Raises
        ------
        ValueError
            For a kind or phase that is not one of :class:`Kind`, :class:`Phase`, or a missing field
            (a cache written by some other program).
        """
        try:
            return cls(passed=bool(data["passed"]), kind=data["kind"], phase=data.get("phase"),
                       check=data.get("check", ""), message=data.get("message", ""), points=data.get("points"),
                       score=data.get("score"), seconds=data.get("seconds"), cause=data.get("cause") or "")
        except KeyError as error:
            raise ValueError(f"a test result without {error.args[0]!r}: {str(data)[:200]}") from None
