"""What can go wrong in a grading job, by whose fault.

* The student's: a check failed (:class:`Failed`), their code raised (:class:`StudentError`),
  or their process is gone (:class:`SandboxLost`: :class:`SandboxCrashed`, :class:`SandboxTimedOut`).
  These become the test's result.
* The machine's: :class:`MachineFailure` (and :class:`SandboxUnavailable`). The job is graded
  again later, never given a score.

A message that breaks the channel's protocol is :class:`grading.core.runner.ChannelError`, which
lives with the codec because the sandbox side raises it too.
"""

from grading.core.results import Kind


class Failed(Exception):
    """A check of a trusted test failed; the message is for the student."""


class StudentError(Exception):
    """The student's code raised (or its sandbox died, or ran out of time).

    Attributes
    ----------
    type : str
        Name of the exception's class, as the sandbox reported it ("ValueError"); "Crashed" or
        "TimedOut" for a :class:`SandboxLost`.
    bases : list of str
        Names of its base classes.
    message : str
    """

    def __init__(self, type_name, message, bases=()):
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type = type_name
        self.bases = list(bases)
        self.message = message

    def is_a(self, name):
        """True when the exception is of class ``name`` or a subclass of it."""
        return name == self.type or name in self.bases


class SandboxLost(StudentError):
    """The sandbox process is gone: raise one of the subclasses, which say how.

    Attributes
    ----------
    kind : grading.core.results.Kind
        The kind of a test's result that this loss makes.
    """

    kind = Kind.CRASHED
    #: What :attr:`StudentError.type` says (it starts messages: "Crashed: ...").
    type_name = "SandboxLost"

    def __init__(self, message):
        super().__init__(self.type_name, message)


class SandboxCrashed(SandboxLost):
    """The student's process died, was killed, or broke the grading protocol."""

    kind = Kind.CRASHED
    type_name = "Crashed"


class SandboxTimedOut(SandboxLost):
    """The student's process did not answer in time (the sandbox was killed)."""

    kind = Kind.TIMEOUT
    type_name = "TimedOut"


class MachineFailure(RuntimeError):
    """The grading machine failed, not the student's code: no sandbox or process could start.

    Raised before any of the student's code ran (or, for a test's process, while the sandbox
    held fewer processes than its limit), so the job is graded again, never given a score.
    """


class SandboxUnavailable(MachineFailure):
    """bubblewrap is missing or cannot create a sandbox here."""
