"""The sandbox (grading/sandbox.py): what student code can reach, and the limits it runs under.

Each defence is checked twice where that is possible: inside the sandbox the probe finds
nothing, and the same probe run *without* the sandbox finds what it looks for, so the test
would fail if the defence were missing.
"""

import os
import socket
import subprocess
import time

import pytest

from grading.framework import SandboxLost, Student
from grading.sandbox import ALLOWED_PACKAGES, FORBIDDEN, Limits, Session, bwrap_path
from nbtools import ROOT

pytestmark = pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap is not installed (make venv installs it as root)")

PRELUDE = ["import numpy as np"]


def run(code, policy="numpy", sandboxed=True, limits=Limits(), seconds=20, uid=None):
    """Run ``code`` (which defines ``probe()``) in a session and return what probe() returns."""
    with Session(policy, [("probe", code)], PRELUDE, None, limits, sandboxed, uid) as session:
        assert not session.cell_errors, session.cell_errors
        session.deadline = time.monotonic() + seconds
        return Student(session).probe()


WALK = """
import os
def probe(names):
    found = []
    for folder, dirs, files in os.walk("/"):
        if folder.startswith(("/proc", "/sys", "/dev")):
            dirs[:] = []
            continue
        # A package of that name (a folder with __init__.py), or a file of that name.
        found += [os.path.join(folder, n) for n in dirs if n in names
                  and os.path.exists(os.path.join(folder, n, "__init__.py"))]
        found += [os.path.join(folder, n) for n in files if n in names]
    return found
"""


@pytest.mark.parametrize("policy", ["numpy", "torch"])
def test_forbidden_libraries_exist_nowhere_in_the_sandbox(policy):
    names = list(FORBIDDEN[policy]) + ["gradebook.db", "nbgrader_config.py", "grading.py", "engine.py"]
    with Session(policy, [("probe", WALK)], PRELUDE) as session:
        found = Student(session).probe(names)
    # PyTorch ships an empty stand-in named scipy for its CUTLASS code generator: no SciPy in it.
    found = [path for path in found if "/cutlass_mock_imports/" not in path]
    assert found == [], found
    with Session(policy, [("probe", WALK)], PRELUDE, sandboxed=False) as session:
        assert Student(session).probe(["scipy"]), "the probe must find SciPy outside the sandbox"


@pytest.mark.parametrize("policy", ["numpy", "torch"])
def test_only_the_policy_s_libraries_import(policy):
    code = ("import importlib\ndef probe(names):\n    ok = []\n    for n in names:\n        try:\n"
            "            importlib.import_module(n); ok.append(n)\n        except ImportError:\n            pass\n    return ok")
    wanted = ["numpy", "torch", "scipy", "sklearn", "skimage", "helpers", "matplotlib", "IPython", "nbgrader", "grading.engine"]
    with Session(policy, [("probe", code)], PRELUDE) as session:
        importable = Student(session).probe(wanted)
    assert importable == (["numpy", "torch"] if policy == "torch" else ["numpy"])
    assert "torch" in ALLOWED_PACKAGES["torch"] and "torch" not in ALLOWED_PACKAGES["numpy"]


def test_no_network():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    code = (f"import socket\ndef probe():\n    try:\n        socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
            "        return 'connected'\n    except OSError as e:\n        return type(e).__name__")
    try:
        assert run(code) != "connected"
        assert run(code, sandboxed=False) == "connected", "the probe must connect without the sandbox"
    finally:
        server.close()


def test_the_course_folder_and_the_system_are_out_of_reach():
    code = f"""
import os
def probe():
    seen = {{"course": os.path.exists({str(ROOT)!r}), "uid": os.getuid()}}
    for path in ("/usr/ex04-planted", "/etc/ex04-planted", "/sbx/site/ex04-planted", {str(ROOT / 'planted')!r}):
        try:
            open(path, "w").close()
            seen[path] = "written"
        except OSError:
            pass
    return seen
"""
    seen = run(code)
    assert seen["course"] is False and not [k for k, v in seen.items() if v == "written"], seen
    if os.geteuid() == 0:
        assert seen["uid"] != 0, "as root, the student's code runs as an unprivileged user"
    assert not (ROOT / "planted").exists()


def test_home_and_tmp_are_private_and_do_not_outlive_the_session():
    plant = ("import os\ndef probe():\n    before = sorted(os.listdir(os.path.expanduser('~'))) + sorted(os.listdir('/tmp'))\n"
             "    os.makedirs(os.path.expanduser('~/.ipython/profile_default/startup'))\n"
             "    open(os.path.expanduser('~/.ipython/profile_default/startup/00.py'), 'w').write('x')\n"
             "    open('/tmp/left-behind', 'w').write('x')\n    return before")
    assert run(plant) == []
    assert run(plant) == [], "a second session starts empty again"


def test_every_process_ends_with_the_session():
    code = ("import os, time\ndef probe():\n    if os.fork() == 0:\n        os.setsid()\n"
            "        if os.fork() == 0:\n            time.sleep(120)\n        os._exit(0)\n    time.sleep(0.5)\n    return 'forked'")
    # As root the sandbox runs as a user of its own: every process of that user must be gone.
    uid = 63999
    assert run(code, uid=uid) == "forked"
    time.sleep(0.5)
    which = ["-u", str(uid)] if os.geteuid() == 0 else ["-f", "sandbox_runner.py"]
    left = subprocess.run(["pgrep", *which], capture_output=True, text=True).stdout.split()
    assert not left, f"still running after the session: {left}"


def test_memory_processes_output_and_time_are_limited():
    small = Limits(memory_bytes=1 * 2**30, processes=16, output_bytes=1000)
    assert run("def probe():\n    try:\n        bytearray(2 * 2**30)\n    except MemoryError:\n        return 'refused'",
               limits=small) == "refused"
    forks = ("import os, time\ndef probe():\n    n = 0\n    try:\n        while n < 200:\n"
             "            if os.fork() == 0:\n                time.sleep(5); os._exit(0)\n            n += 1\n"
             "    except OSError:\n        pass\n    return n")
    assert run(forks, limits=small) < 20
    with Session("numpy", [("probe", "def probe():\n    print('x' * 10**7)\n    return 1")], PRELUDE, limits=small) as session:
        assert Student(session).probe() == 1
        time.sleep(0.2)
        assert len(session.output) == 1000
    started = time.monotonic()
    with pytest.raises(SandboxLost) as lost:
        run("import signal\ndef probe():\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n    while True:\n        pass",
            seconds=2)
    assert lost.value.type == "TimedOut" and time.monotonic() - started < 10


def test_a_crash_is_reported_not_raised_through():
    with pytest.raises(SandboxLost) as lost:
        run("import os\ndef probe():\n    os._exit(3)")
    assert "exit status 3" in lost.value.message
    with pytest.raises(SandboxLost) as lost:
        run("import ctypes\ndef probe():\n    return ctypes.string_at(0)")
    assert lost.value.type == "Crashed"


def test_a_forged_reply_is_a_protocol_error():
    code = ("import os, sys\ndef probe():\n    out = int(sys.argv[2])\n    os.write(out, (10**9).to_bytes(8, 'big'))\n"
            "    os._exit(0)")
    with pytest.raises(SandboxLost):
        run(code)


KEYRING = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def probe(write):
    if write:
        return libc.syscall(248, b"user", b"ex04-note", b"hello", 5, ctypes.c_int(-4))  # add_key to the user keyring
    return libc.syscall(249, b"user", b"ex04-note", None, ctypes.c_int(0))  # request_key: < 0 when not found
"""


def test_sessions_share_no_kernel_keyring():
    """Every session runs as a user of its own (as root): a key one leaves is not there for the next."""
    with Session("numpy", [("probe", KEYRING)], PRELUDE) as first:
        assert Student(first).probe(True) > 0
        assert Student(first).probe(False) > 0, "the probe must find the key it just wrote"
    with Session("numpy", [("probe", KEYRING)], PRELUDE) as second:
        assert Student(second).probe(False) < 0, "a later session found the key of an earlier one"


# ----------------------------------------------------------------------------- tests in copies of one set-up

FORKED = """
import os
state = {"calls": 0}
def probe(action="count"):
    state["calls"] += 1
    if action == "exit":
        os._exit(3)
    if action == "where":
        import sys
        return sorted(name for name in sys.modules if "reference" in name), os.getpid()
    return state["calls"]
def uses_reference(model, loader):
    return evaluate(model, loader)
"""


def test_each_test_starts_from_the_set_up_and_a_crash_ends_only_its_copy():
    with Session("numpy", [("probe", FORKED)], PRELUDE, ["grading.fixtures_numpy"]) as session:
        for _ in range(2):  # a copy's changes are gone for the next copy
            session.deadline = time.monotonic() + 20
            session.fork()
            assert Student(session).probe() == 1
            assert Student(session).probe() == 2
            session.end_test()
            assert session.usable
        session.fork()
        with pytest.raises(SandboxLost, match="exit status 3"):
            Student(session).probe("exit")
        assert session.usable, "the set-up process outlives a crashed copy"
        session.fork()
        assert Student(session).probe() == 1
        session.end_test()


def test_a_reference_reaches_only_the_copy_of_the_test_that_asked_for_it():
    probe = ("import os\ndef probe():\n    found = []\n    for folder, dirs, files in os.walk('/'):\n"
             "        if folder.startswith(('/proc', '/sys', '/dev')):\n            dirs[:] = []\n            continue\n"
             "        found += [os.path.join(folder, n) for n in files if n.startswith('reference_translate')]\n    return found\n")
    with Session("numpy", [("probe", probe)], PRELUDE, ["grading.fixtures_numpy"]) as session:
        session.deadline = time.monotonic() + 20
        session.fork(["grading.reference_translate"])
        student = Student(session)
        assert student.fixture("nb05_translate", [[1.0, 2.0], [3.0, 4.0]], 1, 0) is not None, "the copy has the reference"
        assert student.probe() == [], "as code sent to the copy, not as a file"
        session.end_test()
        session.fork()
        with pytest.raises(Exception, match="no fixture .nb05_translate."):
            Student(session).fixture("nb05_translate", [[1.0, 2.0], [3.0, 4.0]], 1, 0)
        session.end_test()


def test_tests_share_a_set_up_only_behind_every_reference_seen_before():
    from types import SimpleNamespace as T

    from grading.engine import test_order

    tests = {"a": T(policy="torch", references=["r1", "r2"]), "b": T(policy="torch", references=[]),
             "c": T(policy="numpy", references=[]), "d": T(policy="torch", references=["r1"]),
             "e": T(policy="torch", references=["r3"])}
    order = [(gid, fresh) for gid, _, fresh in test_order(tests)]
    # Fewer references first; "e" lacks r1, which "d" (before it) had: a fresh set-up.
    assert order == [("c", True), ("b", True), ("d", False), ("e", True), ("a", True)]


def test_a_process_that_stops_reading_never_blocks_the_grader():
    import threading

    forge = ("import os, sys, struct, json, time\n_b = json.dumps({'ready': True, 'cell_errors': {}}).encode()\n"
             "os.write(int(sys.argv[2]), struct.pack('>Q', len(_b)) + _b)\nwhile True:\n    time.sleep(3600)\n")
    outcome = []
    with Session("numpy", [("forge", forge)], PRELUDE) as session:
        session.deadline = time.monotonic() + 3

        def ask():  # 4 MB: far more than a pipe holds, so a blocking write would wait forever
            try:
                Student(session).probe("x" * 4_000_000)
            except SandboxLost as error:
                outcome.append(error.type)

        worker = threading.Thread(target=ask, daemon=True)
        worker.start()
        worker.join(15)
        assert not worker.is_alive(), "the write blocked past the deadline"
    assert outcome == ["TimedOut"]
