"""The sandbox: one student-side process per session, inside bubblewrap, with limits.

What the student's code sees (built from an empty root, nothing of it writable but two small
private folders):

==========================  =================================================================
``/usr`` (``/bin``, ``/lib``)  the system, read-only; its Python packages hidden
the Python installation      read-only, at its own path; its ``site-packages`` empty
``/sbx/site``                 the packages the job's policy allows (NumPy; PyTorch and its
                              pure-Python needs for the "torch" policy), read-only
``/sbx/lib``                  this package's ``sandbox_runner.py`` and ``fixtures.py``, read-only
``/home/student``, ``/tmp``    empty, private, small (tmpfs), gone when the session ends
==========================  =================================================================

No network (a new network namespace with only a loopback that is down), no other processes
(a new PID namespace: when the session ends every process in it is killed), a new session (no
terminal to type into), no course folder, gradebook, ``source/``, other students or hidden
tests. As root the student's code runs as an unprivileged user of its own; otherwise in a user
namespace as the instructor's user, without rights outside the sandbox either way.

Limits (per session, :class:`Limits`): address space, processes, CPU seconds, file size, open
files, wall time per request (enforced from outside by killing the whole sandbox), and output
(the student's prints are read from a pipe and only the first bytes kept).
"""

import dataclasses
import os
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

from grading import sandbox_runner
from helpers.checking import FORBIDDEN_LIBRARIES
from grading.sandbox_runner import ChannelError, frame, write_message

HERE = Path(__file__).resolve().parent

#: What each policy lets the student's code import, besides the standard library.
ALLOWED_PACKAGES = {
    "numpy": ["numpy", "numpy.libs"],
    "torch": ["numpy", "numpy.libs", "torch", "torch.libs", "torchgen", "typing_extensions.py", "sympy", "mpmath",
              "networkx", "jinja2", "markupsafe", "filelock", "fsspec"],
}

#: Libraries a graded function must not use: the list the students' early warning uses
#: (helpers.checking.FORBIDDEN_LIBRARIES, written once), plus packages that merely could do the
#: work. None exists inside a sandbox (PyTorch only in the "torch" policy's);
#: tests/test_sandbox.py walks the sandbox's whole file system to prove it.
_ALSO = ("torchvision", "PIL", "numba")
FORBIDDEN = {
    "numpy": tuple(FORBIDDEN_LIBRARIES) + _ALSO,
    "torch": tuple(name for name in FORBIDDEN_LIBRARIES if name != "torch") + _ALSO,
}

INSTALL_HINT = (
    "bubblewrap is not installed. On Debian or Ubuntu: sudo apt-get install bubblewrap "
    "(make venv does this when it runs as root). Other systems: see https://github.com/containers/bubblewrap. "
    "To grade WITHOUT a sandbox anyway (student code then runs with your rights): "
    "make autograde UNSAFE_NO_SANDBOX=1"
)


#: Largest reply the trusted side reads (bytes), and most lists and objects in one.
MAX_REPLY = 64 * 2**20
MAX_CONTAINERS = 100_000


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create a sandbox here."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits of one session.

    Attributes
    ----------
    memory_bytes : int
        Address space of each process (RLIMIT_AS).
    processes : int
        Processes and threads of the sandbox's user (RLIMIT_NPROC).
    cpu_seconds : int
        CPU time of each process (RLIMIT_CPU).
    file_bytes : int
        Largest file a process may write (RLIMIT_FSIZE), also in its private folders.
    tmp_bytes : int
        Size of each private folder (``/tmp`` and the home).
    output_bytes : int
        How much of the student's printed output is kept (the rest is read and dropped).
    start_seconds : float
        Wall time for starting the interpreter and the trusted imports (NumPy, PyTorch).
    cells_seconds : float
        Wall time for running the student's solution cells, which only define functions and
        classes: a cell that computes for longer (an endless loop, a training run left in it)
        fails the set-up of the whole notebook, with this limit named in the message.
    """

    memory_bytes: int = 4 * 2**30
    processes: int = 64
    cpu_seconds: int = 300
    file_bytes: int = 16 * 2**20
    tmp_bytes: int = 64 * 2**20
    output_bytes: int = 64 * 2**10
    start_seconds: float = 60.0
    cells_seconds: float = 10.0


def bwrap_path():
    """The bubblewrap binary, or None."""
    return shutil.which("bwrap")


def _site_packages():
    """The site-packages folder that holds this interpreter's NumPy (the venv's)."""
    import numpy

    return Path(numpy.__file__).resolve().parent.parent


def _python_prefix():
    return Path(sys.base_prefix).resolve()


def _python_binary():
    """The real interpreter (not the venv's symlink), as a path relative to its prefix."""
    real = Path(os.path.realpath(sys.executable))
    prefix = _python_prefix()
    try:
        return real.relative_to(prefix)
    except ValueError:
        return Path("bin") / f"python{sys.version_info.major}.{sys.version_info.minor}"


def _hidden_python_dirs():
    """Folders with Python packages that the system shows but a sandbox must not."""
    found = set()
    for path in ("/usr/lib/python3", "/usr/local/lib", "/usr/lib/python3.11", "/usr/share/python3",
                 f"/usr/lib/python{sys.version_info.major}.{sys.version_info.minor}"):
        if os.path.isdir(path):
            found.add(path)
    return sorted(found)


_UID_RANGE = (200_000, 2_000_000)


def _fresh_uid():
    """An unused user id for one session (no account needs to exist for it)."""
    import secrets

    low, high = _UID_RANGE
    return low + secrets.randbelow(high - low)


def sandbox_command(policy, lib_dir, uid=None):
    """The bubblewrap command line that starts the student side of a job.

    Parameters
    ----------
    policy : {"numpy", "torch"}
    lib_dir : pathlib.Path
        Host folder with ``sandbox_runner.py`` (and ``grading/fixtures.py``), bound read-only.
    uid : int, optional
        User id to run as when started as root.

    Returns
    -------
    list of str
    """
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable(INSTALL_HINT)
    prefix, site = _python_prefix(), _site_packages()
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    command = [bwrap, "--die-with-parent", "--new-session",
               "--unshare-net", "--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"]
    as_root = os.geteuid() == 0
    if not as_root:
        command += ["--unshare-user"]
    for path in ("/usr",):
        command += ["--ro-bind", path, path]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = os.path.join("/", link)
        if os.path.islink(target):
            command += ["--symlink", os.readlink(target), target]
        elif os.path.isdir(target):
            command += ["--ro-bind", target, target]
    for path in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime"):
        if os.path.exists(path):
            command += ["--ro-bind", path, path]
    for path in _hidden_python_dirs():
        command += ["--tmpfs", path, "--remount-ro", path]
    # At its own path: the interpreter finds its standard library (and libpython) from there.
    # Folders above it are made traversable (bwrap would copy /root's 0700).
    for parent in reversed(prefix.parents[:-1]):
        command += ["--perms", "0755", "--dir", str(parent)]
    command += ["--ro-bind", str(prefix), str(prefix)]
    command += ["--tmpfs", f"{prefix}/lib/{version}/site-packages",
                "--remount-ro", f"{prefix}/lib/{version}/site-packages"]
    command += ["--perms", "0755", "--dir", "/sbx", "--perms", "0755", "--dir", "/sbx/site",
                "--perms", "0755", "--dir", "/home"]
    for name in ALLOWED_PACKAGES[policy]:
        path = site / name
        if path.exists():
            command += ["--ro-bind", str(path), f"/sbx/site/{name}"]
    command += ["--ro-bind", str(lib_dir), "/sbx/lib",
                "--dev", "/dev", "--proc", "/proc",
                "--perms", "1777", "--size", str(Limits.tmp_bytes), "--tmpfs", "/tmp",
                "--perms", "1777", "--size", str(Limits.tmp_bytes), "--tmpfs", "/home/student",
                "--remount-ro", "/",
                "--chdir", "/home/student", "--clearenv",
                "--setenv", "HOME", "/home/student", "--setenv", "TMPDIR", "/tmp",
                "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "PYTHONHASHSEED", "0",
                "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "MKL_NUM_THREADS", "1",
                "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "LANG", "C.UTF-8"]
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:  # older OpenBLAS builds need these on some processors
            command += ["--setenv", name, os.environ[name]]
    if as_root:
        # A user of its own for every session: nothing kept per user (kernel keyrings, process
        # counts) is shared with another session, another student or another worker.
        uid = _fresh_uid() if uid is None else int(uid)
        command += ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    command += [str(prefix / _python_binary()), "-I", "-S", "-B"]
    return command


def unsandboxed_command():
    """The student side as a plain subprocess: for an instructor who explicitly asked for it."""
    return [sys.executable, "-I", "-B"]


def _set_limits(limits):
    import resource

    def apply():
        for name, value in (("RLIMIT_AS", limits.memory_bytes), ("RLIMIT_NPROC", limits.processes),
                            ("RLIMIT_CPU", limits.cpu_seconds), ("RLIMIT_FSIZE", limits.file_bytes),
                            ("RLIMIT_NOFILE", 256), ("RLIMIT_CORE", 0)):
            try:
                resource.setrlimit(getattr(resource, name), (value, value))
            except (ValueError, OSError):
                pass

    return apply


class Session:
    """One student-side process: start it, run the solution cells, answer requests, end it.

    Parameters
    ----------
    policy : {"numpy", "torch"}
    cells : list of (grade_id, source)
        The student's solution cells, in notebook order.
    prelude : list of str
        Trusted lines run first (imports).
    fixtures : list of str
        Modules of this package the trusted side may ask for test furniture from
        ("grading.fixtures"); only these are copied into the sandbox.
    limits : Limits
    sandboxed : bool
        False only when the instructor asked for grading without a sandbox.
    uid : int, optional
        User id inside the sandbox when grading as root (one per parallel worker).
    """

    def __init__(self, policy, cells, prelude=(), fixtures=(), limits=Limits(), sandboxed=True, uid=None):
        self.policy, self.limits, self.sandboxed = policy, limits, sandboxed
        fixtures = [fixtures] if isinstance(fixtures, str) else list(fixtures or ())
        self.cells, self.prelude, self.fixtures, self.uid = list(cells), list(prelude), fixtures, uid
        self.cell_errors = {}
        self.deadline = None
        self.process = None
        self.output = bytearray()
        self.lost = None  # why the process is gone, once it is
        self.in_test = False  # a test's copy of the process is answering
        self._tmp = None

    # -- lifecycle

    def start(self):
        """Start the process and run the cells; returns {grade_id: error data} of failed cells."""
        self._tmp = tempfile.mkdtemp(prefix="ex04-job-")
        lib = Path(self._tmp) / "lib"
        (lib / "grading").mkdir(parents=True)
        shutil.copy(HERE / "sandbox_runner.py", lib / "sandbox_runner.py")
        (lib / "grading" / "__init__.py").write_text("")
        for module in self.fixtures:
            name = module.rsplit(".", 1)[-1]
            shutil.copy(HERE / f"{name}.py", lib / "grading" / f"{name}.py")
        for path in [lib, *lib.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        os.chmod(self._tmp, 0o755)
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        if self.sandboxed:
            command = sandbox_command(self.policy, lib, self.uid) + ["/sbx/lib/sandbox_runner.py"]
        else:
            command = unsandboxed_command() + [str(lib / "sandbox_runner.py")]
        command += [str(request_read), str(reply_write),
                    "/sbx/site:/sbx/lib" if self.sandboxed else str(lib)]
        env = None if self.sandboxed else {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(lib),
                                            "HOME": self._tmp, "OMP_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(request_read, reply_write), start_new_session=True, env=env,
            preexec_fn=_set_limits(self.limits), cwd=self._tmp)
        os.close(request_read)
        os.close(reply_write)
        self._to = os.fdopen(request_write, "wb", buffering=0)
        self._from_fd = reply_read
        self._buffer = bytearray()
        threading.Thread(target=self._drain, daemon=True).start()
        self.deadline = time.monotonic() + self.limits.start_seconds
        setup = {"prelude": self.prelude, "cells": [list(c) for c in self.cells],
                 "fixtures": self.fixtures, "torch_threads": 1 if self.policy == "torch" else 0}
        self.limit_text = f"{self.limits.start_seconds:.0f} s to start Python and import the libraries"
        self.request(setup)  # {"imported": True}
        self.deadline = time.monotonic() + self.limits.cells_seconds
        self.limit_text = (f"{self.limits.cells_seconds:.0f} s for running the solution cells, which should only "
                           "define functions and classes")
        reply = self.request(None)
        self.cell_errors = reply.get("cell_errors", {}) if isinstance(reply.get("cell_errors"), dict) else {}
        self.deadline = None  # each test sets its own
        return self.cell_errors

    # -- one test in a copy of the set-up process

    def fork(self, modules=()):
        """Start a test in a copy of the process as the set-up left it (call :meth:`end_test` after).

        Parameters
        ----------
        modules : list of str
            Modules of this package that the test needs beside the policy's fixtures (its
            references). Their source goes over the channel to the copy, and no file of them is
            in the sandbox. Code that the student's cells left running (a thread, a process)
            could read it off the channel and keep it for later tests: the order of
            :func:`grading.engine.test_order` makes sure any later test holds it anyway.
        """
        from grading.framework import SandboxLost

        sources = [[name, (HERE / f"{name.rsplit('.', 1)[-1]}.py").read_text()] for name in modules]
        reply = self.request({"op": "fork", "modules": sources})
        if reply.get("forked") is not True:
            self._kill()
            self.lost = "the student's process broke the grading protocol (a copy for the test did not start)"
            raise SandboxLost("Crashed", self.lost)
        self.in_test = True

    def end_test(self):
        """End the test's copy; the session is then ready for the next :meth:`fork`."""
        if not self.in_test or self.lost:
            return
        try:
            reply = self.request({"op": "stop"})
        except Exception:
            return
        if "child_ended" not in reply:
            self._kill()
            self.lost = "the student's process broke the grading protocol (a test's copy did not stop)"

    @property
    def usable(self):
        """True while the set-up process runs and no test's copy is pending."""
        return self.process is not None and not self.lost and not self.in_test

    def _drain(self):
        # Read everything the student prints; keep the first bytes, drop the rest.
        stream = self.process.stdout
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                return
            room = self.limits.output_bytes - len(self.output)
            if room > 0:
                self.output += chunk[:room]

    def close(self):
        """End the session: every process in the sandbox is killed, its folders are gone."""
        if self.process is not None and self.process.poll() is None and not self.in_test:
            try:
                write_message(self._to, {"op": "stop"})
                self.process.wait(timeout=2)
            except Exception:
                pass
        self._kill()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _kill(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        stream, self._to = getattr(self, "_to", None), None
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass
        if getattr(self, "_from_fd", None) is not None:
            try:
                os.close(self._from_fd)
            except OSError:
                pass
        self._from_fd = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- requests

    def request(self, document):
        """Send one request and wait for its reply until ``self.deadline``.

        Raises
        ------
        grading.framework.SandboxLost
            When the process died, broke the protocol, or the deadline passed (then it is killed).
        """
        from grading.framework import SandboxLost

        if self.lost or self._to is None:
            raise SandboxLost("Crashed", self.lost or "the student's process is gone")
        try:
            if document is not None:
                self._write(document)
            reply = self._read_reply()
        except (BrokenPipeError, EOFError, ChannelError, OSError) as error:
            code = None
            if not isinstance(error, TimeoutError):
                try:  # a process that closed the channel is usually about to exit: get its status
                    code = self.process.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass
            self._kill()
            if isinstance(error, TimeoutError):
                self.lost = str(error)
                raise SandboxLost("TimedOut", self.lost) from None
            self.lost = self._describe_exit(code, error)
            raise SandboxLost("Crashed", self.lost) from None
        if self.in_test and "child_ended" in reply:
            # The test's copy ended (crashed, or exited): the set-up process lives on for the next test.
            self.in_test = False
            code = reply.get("child_ended")
            if document is not None and document.get("op") == "stop":
                return reply
            raise SandboxLost("Crashed", self._describe_exit(code if isinstance(code, int) else None, None))
        return reply

    def _describe_exit(self, code, error):
        if isinstance(error, ChannelError):
            return f"the student's process broke the grading protocol ({error})"
        if code is None:
            return "the student's process stopped answering"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            why = {"SIGKILL": " (out of memory, or too many processes?)", "SIGXCPU": " (CPU time limit)",
                   "SIGXFSZ": " (wrote a file over the size limit)", "SIGSEGV": " (a segmentation fault)"}.get(name, "")
            return f"the student's process was killed by {name}{why}"
        return f"the student's process ended by itself (exit status {code})"

    def _write(self, document):
        """Send a request without ever blocking past the deadline (the sandbox may stop reading)."""
        data = memoryview(frame(document))
        fd = self._to.fileno()
        os.set_blocking(fd, False)
        while data:
            left = self.deadline - time.monotonic() if self.deadline else 3600
            if left <= 0:
                raise TimeoutError(f"no answer within the time limit ({self._limit_text()})")
            _, ready, _ = select.select([], [fd], [], left)
            if not ready:
                raise TimeoutError(f"no answer within the time limit ({self._limit_text()})")
            try:
                data = data[os.write(fd, data):]
            except BlockingIOError:
                continue

    def _read_reply(self):
        fd = self._from_fd
        header = self._read_exactly(fd, 8)
        size = int.from_bytes(header, "big")
        if size > MAX_REPLY:
            raise ChannelError(f"a reply of {size} bytes is over the limit")
        import json

        body = self._read_exactly(fd, size)
        # JSON of many tiny containers costs the parser far more memory than its size: a reply
        # carries data in strings (arrays as .npy text), so brackets are few in any real one.
        if body.count(b"[") + body.count(b"{") > MAX_CONTAINERS:
            raise ChannelError("a reply with too many lists or objects")
        try:
            reply = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError) as error:
            raise ChannelError(f"a reply that is not JSON ({str(error)[:100]})") from None
        if not isinstance(reply, dict):
            raise ChannelError("a reply that is not a JSON object")
        return reply

    def _read_exactly(self, fd, size):
        while len(self._buffer) < size:
            left = self.deadline - time.monotonic() if self.deadline else 3600
            if left <= 0:
                raise TimeoutError(f"no answer within the time limit ({self._limit_text()})")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise TimeoutError(f"no answer within the time limit ({self._limit_text()})")
            chunk = os.read(fd, max(65536, size - len(self._buffer)))
            if not chunk:
                raise EOFError("the student's process closed the channel")
            self._buffer += chunk
        data, self._buffer = bytes(self._buffer[:size]), self._buffer[size:]
        return data

    def _limit_text(self):
        return getattr(self, "limit_text", "time limit")
