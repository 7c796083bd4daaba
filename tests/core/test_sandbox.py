"""The sandbox (grading/core/sandbox.py): what student code can reach, and the limits it runs under.

Each defence is checked twice where that is possible: inside the sandbox the probe finds
nothing, and the same probe run *without* the sandbox finds what it looks for, so the test
would fail if the defence were missing.
"""

import errno
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grading.core import sandbox
from grading.core.engine import grade_notebook
from grading.core.errors import MachineFailure, SandboxCrashed, SandboxLost, SandboxTimedOut
from grading.core.policies import POLICIES
from grading.core.testing import Student
from grading.core.sandbox import Limits, Session, bwrap_path, grader_folder_path, seccomp_filter
from nbtools import ROOT

# Every test starts sandboxes (a second or so each): none is in make test-fast.
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bwrap_path() is None,
                                 reason="bubblewrap is not installed (make venv installs it as root)")]

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
    names = list(POLICIES[policy].forbidden) + ["gradebook.db", "nbgrader_config.py", "grading.py", "engine.py"]
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
            "            importlib.import_module(n); ok.append(n)\n        except ImportError:\n            pass\n"
            "    return ok")
    wanted = ["numpy", "torch", "scipy", "sklearn", "skimage", "helpers", "matplotlib", "IPython", "nbgrader",
              "grading.core.engine"]
    with Session(policy, [("probe", code)], PRELUDE) as session:
        importable = Student(session).probe(wanted)
    assert importable == (["numpy", "torch"] if policy == "torch" else ["numpy"])
    assert "torch" in POLICIES["torch"].packages and "torch" not in POLICIES["numpy"].packages


def test_no_network():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    code = (f"import socket\ndef probe():\n    try:\n"
            f"        socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
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
    plant = ("import os\ndef probe():\n"
             "    before = sorted(os.listdir(os.path.expanduser('~'))) + sorted(os.listdir('/tmp'))\n"
             "    os.makedirs(os.path.expanduser('~/.ipython/profile_default/startup'))\n"
             "    open(os.path.expanduser('~/.ipython/profile_default/startup/00.py'), 'w').write('x')\n"
             "    open('/tmp/left-behind', 'w').write('x')\n    return before")
    assert run(plant) == []
    assert run(plant) == [], "a second session starts empty again"


def test_every_process_ends_with_the_session():
    # setsid "succeeds" without a new session (that would be a scheduling group of its own).
    assert run("import os\ndef probe():\n    if os.fork() == 0:\n        before = os.getsid(0)\n        os.setsid()\n"
               "        os._exit(0 if os.getsid(0) == before != os.getpid() else 1)\n"
               "    return os.waitstatus_to_exitcode(os.wait()[1])") == 0
    code = ("import os, time\ndef probe():\n    if os.fork() == 0:\n        os.setsid()\n"
            "        if os.fork() == 0:\n            time.sleep(120)\n        os._exit(0)\n"
            "    time.sleep(0.5)\n    return 'forked'")
    # As root the sandbox runs as a user of its own: every process of that user must be gone.
    uid = 63999
    assert run(code, uid=uid) == "forked"
    time.sleep(0.5)
    which = ["-u", str(uid)] if os.geteuid() == 0 else ["-f", "sandbox_runner.py"]
    left = subprocess.run(["pgrep", *which], capture_output=True, text=True).stdout.split()
    assert not left, f"still running after the session: {left}"


def test_memory_processes_output_and_time_are_limited():
    small = Limits(memory_bytes=1 * 2**30, processes=16, output_bytes=1000)
    allocate = "def probe():\n    try:\n        bytearray(2 * 2**30)\n    except MemoryError:\n        return 'refused'"
    assert run(allocate, limits=small) == "refused"
    forks = ("import os, time\ndef probe():\n    n = 0\n    try:\n        while n < 200:\n"
             "            if os.fork() == 0:\n                time.sleep(5); os._exit(0)\n            n += 1\n"
             "    except OSError:\n        pass\n    return n")
    assert run(forks, limits=small) < 20
    chatty = "def probe():\n    print('x' * 10**7)\n    return 1"
    with Session("numpy", [("probe", chatty)], PRELUDE, limits=small) as session:
        assert Student(session).probe() == 1
        time.sleep(0.2)
        assert len(session.output) == 1000
    started = time.monotonic()
    with pytest.raises(SandboxTimedOut):
        run("import signal\ndef probe():\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "    while True:\n        pass", seconds=2)
    assert time.monotonic() - started < 10


def test_a_crash_is_reported_not_raised_through():
    with pytest.raises(SandboxCrashed) as lost:
        run("import os\ndef probe():\n    os._exit(3)")
    assert "exit status 3" in lost.value.message
    with pytest.raises(SandboxCrashed):
        run("import ctypes\ndef probe():\n    return ctypes.string_at(0)")


def test_a_cell_that_ends_the_set_up_is_named_with_how_it_ended():
    """The trusted side counts the cells itself; bubblewrap passes a signal on as exit status 128 + N."""
    from grading.core.sandbox import killed_by

    cells = [("first", "x = 1"), ("second", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
             ("third", "y = 2")]
    session = Session("numpy", cells, PRELUDE, limits=Limits(cell_seconds=1))
    with pytest.raises(SandboxLost, match="killed by SIGKILL"):
        session.start()
    session.close()
    assert session.current_cell == "second" and killed_by(session.exit_status, wrapped=True) == "SIGKILL"
    assert (killed_by(-11), killed_by(139, wrapped=True), killed_by(3, wrapped=True), killed_by(None)) == \
        ("SIGSEGV", "SIGSEGV", None, None)


def test_a_forged_reply_is_a_protocol_error():
    code = ("import os, sys\ndef probe():\n    out = int(sys.argv[2])\n    os.write(out, (10**9).to_bytes(8, 'big'))\n"
            "    os._exit(0)")
    with pytest.raises(SandboxLost):
        run(code)


#: Looks for the grader's secrets: in every environment it can read, in the kernel's list of
#: keys, and in the keyring by the secret key's description; then leaves a key in the user
#: keyring, where a later student's code could find it.
GRADER_PROBE = """
import ctypes, os
def probe(numbers, description):
    add_key, request_key, keyctl = numbers
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    texts = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                texts.append(open(f"/proc/{name}/environ", "rb").read().decode("utf-8", "replace"))
            except OSError:
                pass
    try:
        texts.append(open("/proc/keys").read())
    except OSError:
        pass
    key = libc.syscall(request_key, b"user", description.encode(), None, ctypes.c_int(0))
    if key > 0:
        payload = ctypes.create_string_buffer(4096)
        size = libc.syscall(keyctl, 11, ctypes.c_int(key), payload, 4096)  # KEYCTL_READ
        texts.append(payload.raw[:max(size, 0)].decode("utf-8", "replace"))
    left = libc.syscall(add_key, b"user", b"ex04-left-behind", b"x", 1, ctypes.c_int(-4))
    return texts, key, left
"""

#: Run as the grader (root here, an ordinary account in test_sandbox_accounts.py) from a folder
#: with the ``grading`` package, with GRADER_PROBE as its argument: it puts a secret into its
#: environment (a hub's API token, say) and one into a session keyring of its own (as a login
#: through PAM or a systemd service has), then runs the probe inside a sandbox and, to show that
#: the probe finds both where they are, in a plain process of its own. Prints JSON.
GRADER_SCRIPT = """
import ctypes, json, os, platform, subprocess, sys, time
sys.path.insert(0, os.getcwd())
from grading.core.testing import Student
from grading.core.sandbox import Session

probe_code = sys.argv[1]
numbers = {"x86_64": [248, 249, 250], "aarch64": [217, 218, 219]}[platform.machine()]  # add_key, request_key, keyctl
token, secret, description = "hub-token-" + os.urandom(6).hex(), "keyring-" + os.urandom(6).hex(), "ex04-grader-secret"
os.environ["JUPYTERHUB_API_TOKEN"] = token
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.syscall(numbers[2], 1, b"ex04-grader-session")  # KEYCTL_JOIN_SESSION_KEYRING
assert libc.syscall(numbers[0], b"user", description.encode(), secret.encode(), len(secret), ctypes.c_int(-3)) > 0
with Session("numpy", [("probe", probe_code)], ["import numpy as np"]) as session:
    session.deadline = time.monotonic() + 60
    inside = Student(session).probe(numbers, description)
code = probe_code + f"import json\\nprint(json.dumps(probe({numbers}, {description!r})))"
outside = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
print(json.dumps({"token": token, "secret": secret, "description": description, "inside": inside, "outside": outside}))
"""


def nothing_of_the_grader_inside(found):
    """Check what GRADER_SCRIPT printed: the secrets outside the sandbox, none of them inside."""
    (inside, key, left), (outside, _, _) = found["inside"], found["outside"]
    assert any(found["token"] in text for text in outside), "the probe must find the token in its own environment"
    assert any(found["secret"] in text for text in outside), "the probe must find the keyring's secret"
    leaked = [name for name in ("token", "secret", "description") if any(found[name] in text for text in inside)]
    assert not leaked, f"the sandbox sees the grader's {leaked}"
    assert key < 0 and left < 0, "the keyring calls are refused inside the sandbox"


@pytest.mark.skipif(platform.machine() not in ("x86_64", "aarch64"),
                    reason="keyring call numbers of x86_64 and aarch64")
def test_nothing_of_the_grader_s_environment_or_keyring_is_inside():
    done = subprocess.run([sys.executable, "-c", GRADER_SCRIPT, GRADER_PROBE], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    nothing_of_the_grader_inside(json.loads(done.stdout.splitlines()[-1]))


def seccomp_verdict(program, arch, number):
    """Run a seccomp program (the classic BPF instructions the filter uses) on one system call."""
    import struct

    data, accumulator, at = struct.pack("=iI", number, arch), 0, 0
    instructions = [struct.unpack("=HBBI", program[i:i + 8]) for i in range(0, len(program), 8)]
    while True:
        code, true, false, value = instructions[at]
        if code == 0x20:  # load a word of struct seccomp_data
            accumulator = struct.unpack_from("=I", data, value)[0]
        elif code in (0x15, 0x35):  # jump if equal, if greater or equal
            at += true if (accumulator == value if code == 0x15 else accumulator >= value) else false
        elif code == 0x06:  # return
            return value
        else:
            raise AssertionError(f"an instruction the filter should not need: {code:#x}")
        at += 1


def test_the_seccomp_filter_refuses_the_keyring_calls_and_pretends_setsid():
    # SECCOMP_RET_ALLOW; SECCOMP_RET_ERRNO with EPERM; with "error" 0, which returns 0 at once.
    allow, refuse, pretend = 0x7FFF0000, 0x00050001, 0x00050000
    x86, arm = seccomp_filter("x86_64"), seccomp_filter("aarch64")
    # x86_64: fork 57, setpgid 109, setsid 112, add_key 248, request_key 249, keyctl 250.
    assert [seccomp_verdict(x86, 0xC000003E, n) for n in (0, 57, 109, 112, 247, 248, 249, 250, 251)] == \
        [allow, allow, allow, pretend, allow, refuse, refuse, refuse, allow]
    assert seccomp_verdict(x86, 0xC000003E, 0x40000000 | 250) == refuse, "x32 numbering"
    assert seccomp_verdict(x86, 0x40000003, 288) == refuse, "32-bit calls of a 64-bit process"
    # aarch64: setpgid 154, setsid 157, add_key 217, request_key 218, keyctl 219.
    assert [seccomp_verdict(arm, 0xC00000B7, n) for n in (154, 157, 216, 217, 218, 219, 220)] == \
        [allow, pretend, allow, refuse, refuse, refuse, allow]
    assert seccomp_filter("riscv64") is None


HONEST = """
import time
def probe(n):
    started = time.perf_counter()
    total = 0
    for i in range(n):
        total += i % 7
    return time.perf_counter() - started
"""

#: A dozen processes that compute for ever, left running by a solution cell. Each leads a session
#: of its own: where the kernel groups processes by session for scheduling (autogroups), a group
#: of its own would compete with the grader's whole group as an equal.
HOG = """
import os
for _ in range(12):
    if os.fork() == 0:
        os.setsid()
        while True:
            pass
"""


def descendants(pid):
    """The processes below ``pid`` (children, theirs, ...), from /proc."""
    parents = {}
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/stat") as stream:
                parents[int(name)] = int(stream.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            pass
    found, todo = [], [pid]
    while todo:
        children = [child for child, parent in parents.items() if parent == todo[-1]]
        todo.pop()
        found += children
        todo += children
    return found


def test_a_classmate_s_busy_processes_do_not_slow_a_sandbox_down():
    import signal

    def signal_all(pid, number):
        for process in [pid, *descendants(pid)]:
            try:
                os.kill(process, number)
            except ProcessLookupError:
                pass

    alone, beside = [], []
    with Session("numpy", [("probe", HONEST)], PRELUDE) as honest, Session("numpy", [("hog", HOG)], PRELUDE) as hog:
        honest.deadline = time.monotonic() + 300
        student = Student(honest)
        # Alone (the classmate's processes stopped) and beside them, in turns: the rest of the
        # machine's load weighs on both alike.
        for _ in range(4):
            signal_all(hog.process.pid, signal.SIGSTOP)
            alone.append(student.probe(2_000_000))
            signal_all(hog.process.pid, signal.SIGCONT)
            time.sleep(0.2)
            beside.append(student.probe(2_000_000))
    assert min(beside) < 1.5 * min(alone), f"{beside} s beside the busy classmate, {alone} s alone"


def test_the_processes_of_a_sandbox_share_one_cpu_time_budget():
    burn = ("import time\ndef probe(seconds):\n    end = time.process_time() + seconds\n"
            "    while time.process_time() < end:\n        pass\n    return 'done'")
    outcomes = []
    # Each test's copy stays under the limit of one process; together they pass it.
    with Session("numpy", [("probe", burn)], PRELUDE, limits=Limits(cpu_seconds=2)) as session:
        for _ in range(5):
            session.deadline = time.monotonic() + 60
            try:
                session.fork()
                outcomes.append(Student(session).probe(0.7))
                session.end_test()
            except SandboxLost as lost:
                outcomes.append(lost.message)
                break
    assert outcomes[0] == "done" and "CPU time together" in outcomes[-1], outcomes


def test_what_the_student_s_processes_cause_is_theirs_what_the_machine_causes_is_not():
    fill = ("import os, time\ndef probe():\n    n = 0\n    while True:\n        try:\n            pid = os.fork()\n"
            "        except OSError:\n            return n\n        if pid == 0:\n            time.sleep(60)\n"
            "            os._exit(0)\n        n += 1")
    with Session("numpy", [("probe", fill)], PRELUDE, limits=Limits(processes=16)) as session:
        session.deadline = time.monotonic() + 30
        assert 0 < Student(session).probe() < 16
        with pytest.raises(SandboxLost, match="your code left 1[456] processes"):
            session.fork()
    # Too little memory to import NumPy: the grader's setting, before any of the student's code ran.
    with pytest.raises(MachineFailure, match="the sandbox did not start: .*(map segment|Memory)"):
        Session("numpy", [("probe", "x = 1")], PRELUDE, limits=Limits(memory_bytes=20 * 2**20)).start()



def test_a_full_disk_on_the_grader_s_side_is_the_machine_s_failure(monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sandbox.shutil, "copy", no_space)  # copying the runner into the sandbox's folder
    source = ROOT / "source" / "ex04" / "01_convolutions.ipynb"
    with pytest.raises(MachineFailure, match="No space left on device"):
        grade_notebook("ex04", source, source)


def test_the_sandbox_s_folder_is_in_a_folder_only_the_grader_can_enter():
    with Session("numpy", [("probe", "x = 1")], PRELUDE) as session:
        folder = Path(session._tmp)
        assert folder.parent == grader_folder_path() and not folder.is_relative_to(tempfile.gettempdir())
        assert (folder.parent.stat().st_mode & 0o777, folder.parent.stat().st_uid) == (0o700, os.geteuid())


def test_job_folders_that_a_killed_grader_left_behind_are_removed(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / sandbox.GRADER_FOLDER_NAME
    left, recent = folder / f"{sandbox.JOB_PREFIX}left", folder / f"{sandbox.JOB_PREFIX}recent"
    for folder in (left, recent):
        (folder / "lib").mkdir(parents=True)
    os.utime(left, (time.time() - 2 * sandbox.STALE_JOB_SECONDS,) * 2)
    sandbox.grader_folder()
    assert not left.exists() and recent.exists()


def policies(bwrap_pid):
    """{number in the sandbox: scheduling policy of its main thread} of a sandbox's processes."""
    found = {}
    for pid in descendants(bwrap_pid):
        number = sandbox.sandbox_pid(pid)
        try:
            found[number] = os.sched_getscheduler(pid)
        except OSError:
            pass
    return found


#: A cell that makes the set-up process answer a request for a test's copy by starting a dozen
#: busy processes and never answering.
STALL = """
import os, sys, time
_runner = sys.modules['__main__']
def _fork_test(dispatcher, request):
    for _ in range(12):
        if os.fork() == 0:
            while True:
                pass
    time.sleep(3600)
_runner.HANDLERS[_runner.Op.FORK] = _fork_test
"""


def test_the_guard_watches_while_a_test_s_copy_starts():
    import threading

    seen = {}
    with Session("numpy", [("stall", STALL)], PRELUDE) as session:
        assert not session.cell_errors, session.cell_errors
        session.deadline = time.monotonic() + 8
        before = session.guard.used
        timer = threading.Timer(1.5, lambda: seen.update(policies(session.process.pid)))
        started = time.monotonic()
        timer.start()
        with pytest.raises(SandboxLost) as lost:
            session.fork()
        elapsed = time.monotonic() - started
        timer.join()
    normal = sorted(number for number, policy in seen.items() if policy != os.SCHED_IDLE and number != 1)
    assert len(seen) >= 12 and len(normal) <= 2, f"main threads at the normal policy: {normal} of {sorted(seen)}"
    assert elapsed < 6, f"the copy's answer was awaited {elapsed:.1f} s"
    assert session.guard.used > before, "the busy processes' CPU time was counted"
    assert "to start the test's copy" in lost.value.message


#: A set-up process that starts a busy process X beside the test's copy and names X as the copy.
FORGE = """
import os, sys
_runner = sys.modules['__main__']
def _fork_test(dispatcher, request):
    x = os.fork()
    if x == 0:
        while True:
            pass
    if os.fork() == 0:
        _runner.write_message(dispatcher.channel_out, {"forked": True, "pid": x})
        dispatcher.is_copy = True
        dispatcher.serve()
        os._exit(0)
    os.wait()
_runner.HANDLERS[_runner.Op.FORK] = _fork_test
"""


def test_during_a_test_only_its_copy_answers_at_the_normal_policy():
    with Session("numpy", [("probe", HONEST)], PRELUDE) as session:
        session.deadline = time.monotonic() + 20
        for _ in range(2):  # the set-up process waits during a test, and starts the next copy as before
            session.fork()
            assert Student(session).probe(10) >= 0
            time.sleep(10 * session.guard.interval)
            found = policies(session.process.pid)
            assert found[session.copy_pid] == os.SCHED_OTHER, found
            if os.geteuid() == 0:  # only root can give a process back the normal policy
                assert found[2] == os.SCHED_IDLE, found
            session.end_test()


def test_a_copy_named_by_the_sandbox_but_not_its_one_new_child_breaks_the_protocol():
    with Session("numpy", [("forge", FORGE)], PRELUDE) as session:
        session.deadline = time.monotonic() + 20
        with pytest.raises(SandboxLost, match="broke the grading protocol"):
            session.fork()


def test_the_cpu_time_of_processes_reaped_unseen_counts():
    spawner = ("import os, signal, time\nif os.fork() == 0:\n"
               "    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children: no one's cutime\n"
               "    while True:\n        if os.fork() == 0:\n            end = time.process_time() + 0.02\n"
               "            while time.process_time() < end:\n                pass\n            os._exit(0)\n"
               "        time.sleep(0.025)\n")
    with Session("numpy", [("spawner", spawner)], PRELUDE, limits=Limits(cpu_seconds=2)) as session:
        for _ in range(200):
            if session.killed_because:
                break
            time.sleep(0.1)
    assert "CPU time together" in str(session.killed_because), session.guard.used


def test_the_oom_killer_picks_a_sandbox_s_processes_first():
    assert run("def probe():\n    return open('/proc/self/oom_score_adj').read().strip()") == "1000"


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
    with Session("numpy", [("probe", FORKED)], PRELUDE, ["grading.ex04.fixtures_numpy"]) as session:
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
             "        if folder.startswith(('/proc', '/sys', '/dev')):\n"
             "            dirs[:] = []\n            continue\n"
             "        found += [os.path.join(folder, n) for n in files if n.startswith('reference_translate')]\n"
             "    return found\n")
    with Session("numpy", [("probe", probe)], PRELUDE, ["grading.ex04.fixtures_numpy"]) as session:
        session.deadline = time.monotonic() + 20
        session.fork(["grading.ex04.reference_translate"])
        student = Student(session)
        translated = student.fixture("nb05_translate", [[1.0, 2.0], [3.0, 4.0]], 1, 0)
        assert translated is not None, "the copy has the reference"
        assert student.probe() == [], "as code sent to the copy, not as a file"
        session.end_test()
        session.fork()
        with pytest.raises(Exception, match="no fixture .nb05_translate."):
            Student(session).fixture("nb05_translate", [[1.0, 2.0], [3.0, 4.0]], 1, 0)
        session.end_test()


def test_a_process_that_stops_reading_never_blocks_the_grader():
    import threading

    forge = ("import os, sys, struct, json, time\n_b = json.dumps({'cell': 0, 'cell_error': None}).encode()\n"
             "os.write(int(sys.argv[2]), struct.pack('>Q', len(_b)) + _b)\nwhile True:\n    time.sleep(3600)\n")
    outcome = []
    with Session("numpy", [("forge", forge)], PRELUDE) as session:
        session.deadline = time.monotonic() + 3

        def ask():  # 4 MB: far more than a pipe holds, so a blocking write would wait forever
            try:
                Student(session).probe("x" * 4_000_000)
            except SandboxLost as error:
                outcome.append(type(error))

        worker = threading.Thread(target=ask, daemon=True)
        worker.start()
        worker.join(15)
        assert not worker.is_alive(), "the write blocked past the deadline"
    assert outcome == [SandboxTimedOut]
