"""Grading as an ordinary account (``useradd``), as an instructor on a shared server does.

The sandbox must be the same as root's: nothing of the grader inside it (its environment, its
keyring), and no sandbox that fails or slows because of what else the account runs or what a
classmate's code does. A failure of the machine itself is never a student's result: it is
reported as the grader's, nothing of it is stored, and the next run grades the notebook.

The account sees the interpreter, the course's venv and its ``grading`` and ``helpers``
packages, read-only at their own paths (as in tests/test_exchange.py, whose helpers these tests
use), and grades a course in its own home. Needs root (to create the account), which CI has.
"""

import json
import os
import shutil
import secrets
import subprocess
import tempfile
from pathlib import Path

import pytest

from nbtools import ASSIGNMENT, BIN, make_course, notebook_names
from test_exchange import Account
from test_grading_cases import instructor_answers, submission
from test_sandbox import GRADER_PROBE, GRADER_SCRIPT, nothing_of_the_grader_inside

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("useradd") is None or shutil.which("bwrap") is None,
                       reason="needs root (a throwaway account) and bubblewrap"),
]

NOTEBOOK = "01_convolutions"  # quick to grade; every notebook meets the sandbox the same way
POINTS = 8.0

#: A solution cell that fills the sandbox with processes (and leaves them waiting).
FORK_HOG = """
import os, time
for _ in range(500):
    try:
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
    except OSError:
        break
"""

#: Run as the account in the course folder: a process of 60 threads runs while ``python -m
#: grading autograde`` (what make autograde runs) grades everything, two jobs at a time.
BUSY_ACCOUNT = """
import subprocess, sys
busy = subprocess.Popen([sys.executable, "-c", "import threading, time\\n"
                         "for _ in range(60):\\n"
                         "    threading.Thread(target=time.sleep, args=(900,), daemon=True).start()\\n"
                         "print('ready', flush=True)\\ntime.sleep(900)"], stdout=subprocess.PIPE, text=True)
assert busy.stdout.readline().strip() == "ready"
done = subprocess.run([sys.executable, "-m", "grading", "autograde", "ex04", "--workers", "2"],
                      capture_output=True, text=True)
busy.kill()
print(done.stdout + done.stderr)
sys.exit(done.returncode)
"""

#: Run as the account in the course folder: grades one job while the account may start no more
#: processes (its process limit), then again with its usual limit. Prints JSON.
OUT_OF_PROCESSES = """
import io, json, os, resource, sys
sys.path.insert(0, os.getcwd())
from grading.core import assignment, jobs

jobs.RETRY_SECONDS = 0.2
job = (sys.argv[1], sys.argv[2])
# The trusted tests import NumPy and SciPy, which start threads: before the limit.
assignment.load("ex04").test_module(job[1])
usual = resource.getrlimit(resource.RLIMIT_NPROC)
# The account runs nothing but this process's threads: all it may have.
resource.setrlimit(resource.RLIMIT_NPROC, (len(os.listdir("/proc/self/task")), usual[1]))
log = io.StringIO()
short = jobs.run_all(".", "ex04", [job], workers=1, out=log)
stored = jobs.cached(".", "ex04", *job)
resource.setrlimit(resource.RLIMIT_NPROC, usual)
again = jobs.run_all(".", "ex04", [job], workers=1, out=log)
result = jobs.cached(".", "ex04", *job)
print(json.dumps({"short": {k: short[k] for k in ("graded", "failed", "failures", "machine_failures")},
                  "stored_after_failure": stored, "again": {k: again[k] for k in ("graded", "failed")},
                  "scores": {gid: test["score"] for gid, test in result["tests"].items()} if result else None,
                  "log": log.getvalue()}))
"""

#: A solution cell that patches the runner (the module ``__main__`` in the sandbox) so that the
#: set-up process, pid 2, computes while it waits for a test's copy; and two calls for the tests.
BUSY_WAITING_SETUP = """
import os, sys
runner = sys.modules["__main__"]
waitpid = runner.os.waitpid
def busy_waitpid(pid, options):
    while True:
        found = waitpid(pid, options | os.WNOHANG)
        if found[0]:
            return found
runner.os.waitpid = busy_waitpid

def answer():
    return 42

def crash():
    os._exit(3)
"""

#: Run as the account: two tests (a call each) and one whose copy crashes, in a sandbox whose pid 2
#: busy-waits; samples pid 2's state and CPU time from outside during each. Prints JSON.
WATCH_SETUP_DURING_TESTS = """
import json, os, sys, time
sys.path.insert(0, os.getcwd())
from grading.core.errors import SandboxCrashed, SandboxLost
from grading.core.sandbox import Session

def state_and_cpu(pid):
    with open(f"/proc/{pid}/stat") as stream:
        fields = stream.read().rsplit(")", 1)[1].split()
    return fields[0], (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

found = {"tests": []}
with Session("numpy", [("busy", sys.argv[1])], ["import numpy as np"]) as session:
    for _ in range(2):
        session.deadline = time.monotonic() + 30
        session.fork()
        setup = session.setup_host_pid
        time.sleep(0.2)
        states, cpu_before = [], state_and_cpu(setup)[1]
        for _ in range(20):
            states.append(state_and_cpu(setup)[0])
            time.sleep(0.05)
        cpu = state_and_cpu(setup)[1] - cpu_before
        reply = session.request({"op": "call", "target": "answer"})
        session.end_test()
        found["tests"].append({"states": "".join(states), "cpu": cpu, "reply": reply,
                               "after": state_and_cpu(setup)[0], "usable": session.usable})
    session.deadline = time.monotonic() + 30
    session.fork()
    try:
        session.request({"op": "call", "target": "crash"})
    except SandboxLost as error:
        found["crash"] = [isinstance(error, SandboxCrashed), time.monotonic() - session.deadline + 30]
    session.end_test()
    found["usable_after_crash"] = session.usable
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def instructor():
    """An ordinary account with a course of one notebook in its home: (account, course folder)."""
    base = Path(tempfile.mkdtemp(prefix="ex04-account-", dir="/tmp"))
    base.chmod(0o755)
    account = None
    try:
        account = Account(f"ex04ins{secrets.token_hex(3)}", base / "home")
        course = make_course(account.home / "course")
        for other in notebook_names():
            if other != NOTEBOOK:
                (course / "source" / ASSIGNMENT / f"{other}.ipynb").unlink()
        answers = instructor_answers(NOTEBOOK)
        first_cell = next(iter(answers))
        for student, cells in (("honest", answers),
                               ("hog", dict(answers, **{first_cell: FORK_HOG + "\n" + answers[first_cell]}))):
            hand_in(course, student, cells)
        for path in [course, *course.rglob("*")]:
            os.lchown(path, account.uid, account.gid)
        account.run(BIN / "nbgrader", "generate_assignment", ASSIGNMENT, "--force", cwd=course)
        yield account, course
    finally:
        if account is not None:
            subprocess.run(["pkill", "-KILL", "-u", account.name], capture_output=True)
            subprocess.run(["userdel", account.name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def hand_in(course, student, answers):
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    submission(NOTEBOOK, answers, folder / f"{NOTEBOOK}.ipynb")
    return folder


def stored_result(course, student):
    path = course / ".grading" / ASSIGNMENT / student / f"{NOTEBOOK}.json"
    return json.loads(path.read_text())["result"] if path.exists() else None


def test_nothing_of_the_grader_is_inside_an_ordinary_account_s_sandbox(instructor):
    account, course = instructor
    done = account.run(BIN / "python", "-c", GRADER_SCRIPT, GRADER_PROBE, cwd=course)
    nothing_of_the_grader_inside(json.loads(done.stdout.splitlines()[-1]))


def test_a_busy_account_and_a_fork_hogging_classmate_change_no_one_s_score(instructor):
    account, course = instructor
    done = account.run(BIN / "python", "-c", BUSY_ACCOUNT, cwd=course, check=False)
    assert done.returncode == 0 and "0 failed" in done.stdout, done.stdout[-4000:] + done.stderr[-2000:]
    honest = stored_result(course, "honest")
    assert {gid: test["score"] for gid, test in honest["tests"].items()} == \
        {gid: test["points"] for gid, test in honest["tests"].items()}
    assert sum(test["points"] for test in honest["tests"].values()) == POINTS
    # The hog's own sandbox was full: its tests failed for that, as its own result.
    hog = stored_result(course, "hog")
    assert not any(test["passed"] for test in hog["tests"].values())
    assert all("processes" in test["message"] for test in hog["tests"].values()), hog["tests"]


def test_a_machine_out_of_processes_is_never_a_student_s_result(instructor):
    account, course = instructor
    folder = hand_in(course, "late", instructor_answers(NOTEBOOK))
    for path in (folder.parent, folder, *folder.iterdir()):
        os.lchown(path, account.uid, account.gid)
    done = account.run(BIN / "python", "-c", OUT_OF_PROCESSES, "late", NOTEBOOK, cwd=course)
    found = json.loads(done.stdout.splitlines()[-1])
    short = found["short"]
    assert short["graded"] == 0 and short["failed"] == 1 and short["machine_failures"] == [["late", NOTEBOOK]], found
    reason = short["failures"][0][2]
    assert "the grading machine failed" in reason
    # The machine's cause: whichever of the grader's process, thread or bubblewrap's namespace found no room.
    assert "out of processes" in reason or "Resource temporarily unavailable" in reason, reason
    assert found["log"].count("graded again") == 2, found["log"]
    assert found["stored_after_failure"] is None, "a machine failure is never stored"
    assert found["again"] == {"graded": 1, "failed": 0}
    assert sum(found["scores"].values()) == POINTS


def _children(pid):
    children = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/stat") as stream:
                fields = stream.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            children.append(int(name))
    return children


def _kill_grading_workers(times, stop):
    """SIGKILL a worker process of this test while it runs a sandbox, ``times`` times, each time of
    a new pool (its predecessor's workers gone), until ``stop`` is set; returns the pids killed."""
    import signal
    import time

    def workers():
        return {pid for pid in _children(os.getpid()) if b"spawn_main" in _read(f"/proc/{pid}/cmdline")}

    killed = []
    while len(killed) < times and not stop.is_set():
        pool = workers()
        running = [w for w in pool for child in _children(w) if _read(f"/proc/{child}/comm").strip() == b"bwrap"]
        if running:
            os.kill(running[0], signal.SIGKILL)
            killed.append(running[0])
            while pool & workers() and not stop.is_set():
                time.sleep(0.02)
        time.sleep(0.02)
    return killed


def _read(path):
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def test_a_grading_worker_that_keeps_dying_is_the_machine_s_failure(tmp_path, monkeypatch):
    import io
    import threading

    from grading.core import jobs

    course = make_course(tmp_path / "course")
    answers = instructor_answers(NOTEBOOK)
    every_job = [("ada", NOTEBOOK), ("ben", NOTEBOOK)]
    for student, _ in every_job:
        hand_in(course, student, answers)
    monkeypatch.setattr(jobs, "RETRY_SECONDS", 0.2)
    killed, log, stop = [], io.StringIO(), threading.Event()
    # Three rounds, each of which loses its worker: a job still waiting in the third lost it each time.
    killer = threading.Thread(target=lambda: killed.extend(_kill_grading_workers(3, stop)))
    killer.start()
    try:
        counts = jobs.run_all(course, ASSIGNMENT, every_job, workers=2, out=log)
    finally:
        stop.set()
        killer.join()
    assert len(killed) == 3 and "graded again" in log.getvalue(), (killed, log.getvalue())
    lost = sorted(tuple(job) for job in counts["machine_failures"])
    assert lost and counts["failed"] == len(lost), log.getvalue()
    assert all("the grading worker's process died" in reason for _, _, reason in counts["failures"])
    for student, notebook in every_job:
        if (student, notebook) in lost:
            assert stored_result(course, student) is None, "a machine failure is never stored"
        else:
            assert sum(test["score"] for test in stored_result(course, student)["tests"].values()) == POINTS
    again = jobs.run_all(course, ASSIGNMENT, every_job, workers=2, out=log)
    assert again["graded"] == len(lost) and again["failed"] == 0, log.getvalue()
    for student, _ in every_job:
        assert sum(test["score"] for test in stored_result(course, student)["tests"].values()) == POINTS


def test_the_set_up_process_is_stopped_during_a_test_as_an_ordinary_account(instructor):
    # As an ordinary account pid 2 keeps the normal policy during a test (only root could give it
    # back): a student's pid 2 that computes then would take a classmate's share of a core.
    account, course = instructor
    done = account.run(BIN / "python", "-c", WATCH_SETUP_DURING_TESTS, BUSY_WAITING_SETUP, cwd=course)
    found = json.loads(done.stdout.splitlines()[-1])
    for test in found["tests"]:
        assert set(test["states"]) == {"T"} and test["cpu"] < 0.1, found
        assert test["reply"] == {"ok": 42} and test["after"] != "T" and test["usable"], found
    # A copy that crashes is reported as a crash at once: pid 2, continued, says how it ended.
    assert found["crash"][0] is True and found["crash"][1] < 5 and found["usable_after_crash"], found
