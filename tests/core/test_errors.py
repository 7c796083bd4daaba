"""Whose fault it was (grading/core/errors.py): a lost sandbox says how by its class; unit tests."""

from grading.core.engine import cell_fault
from grading.core.errors import (MachineFailure, SandboxCrashed, SandboxLost, SandboxTimedOut, SandboxUnavailable,
                                  StudentError)
from grading.core.results import Kind
from grading.core.sandbox import Limits


def test_a_lost_sandbox_is_the_student_s_and_its_class_gives_the_result_s_kind():
    for error, kind, name in ((SandboxCrashed("gone"), Kind.CRASHED, "Crashed"),
                              (SandboxTimedOut("slow"), Kind.TIMEOUT, "TimedOut")):
        assert isinstance(error, SandboxLost) and isinstance(error, StudentError)
        assert error.kind is kind and error.type == name and str(error) == f"{name}: {error.message}"
    assert issubclass(SandboxUnavailable, MachineFailure) and not issubclass(MachineFailure, StudentError)


def test_a_cell_set_aside_is_described_by_how_its_sandbox_was_lost():
    limits = Limits(cell_seconds=5)
    slow = cell_fault(SandboxTimedOut("no answer"), None, limits)
    assert slow["kind"] == "timeout" and "after 5 s" in slow["what"]
    gone = cell_fault(SandboxCrashed("the student's process ended"), 3, limits, sandboxed=False)
    assert gone == {"kind": "crashed", "what": "ended the process (exit status 3, as os._exit(3) does)",
                    "message": "the student's process ended"}
