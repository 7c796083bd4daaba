"""The sandbox: one student-side process per session, inside bubblewrap, with limits.

What the student's code sees is built from an empty root by the mounts of :func:`sandbox_mounts`,
in this order (later ones cover earlier ones); nothing is writable but two small private folders.
Names in angle brackets stand for this machine's paths (:data:`DOCUMENTED_HOST`); ``/sbx/site``
holds each package the job's policy allows (:mod:`grading.core.policies`); tests/core/test_sandbox_mounts.py
checks that this table is :func:`mount_table` of :func:`documented_mounts`.

==========================================  =================================  ==================================
in the sandbox                              mount                              note
==========================================  =================================  ==================================
/usr                                        ro-bind /usr                       the system, read-only
/bin                                        symlink to usr/bin                 as on the host
/lib                                        symlink to usr/lib                 as on the host
/lib64                                      symlink to usr/lib64               as on the host
/sbin                                       symlink to usr/sbin                as on the host
/etc/ld.so.cache                            ro-bind /etc/ld.so.cache           the linker's cache, the time zone
/etc/ld.so.conf                             ro-bind /etc/ld.so.conf            the linker's cache, the time zone
/etc/localtime                              ro-bind /etc/localtime             the linker's cache, the time zone
<system Python packages>                    tmpfs, read-only                   system Python packages: hidden
/<up>                                       dir, 0755                          traversable
/<up>/<python>                              ro-bind /<up>/<python>             the interpreter, at its own path
/<up>/<python>/lib/pythonX.Y/site-packages  tmpfs, read-only                   the interpreter's packages: hidden
/sbx                                        dir, 0755
/sbx/site                                   dir, 0755
/home                                       dir, 0755
/sbx/site/<package>                         ro-bind <site-packages>/<package>  allowed by the job's policy
/sbx/lib                                    ro-bind <job folder>/lib           the runner, the fixture modules
/dev                                        dev
/proc                                       proc
/proc/keys                                  ro-bind /dev/null                  the account's keys: hidden
/proc/key-users                             ro-bind /dev/null                  the account's keys: hidden
/tmp                                        tmpfs, 1777, 64 MiB                private, gone with the session
/home/student                               tmpfs, 1777, 64 MiB                the same; the working folder
/                                           remount-ro                         nothing else writable
==========================================  =================================  ==================================

No network (a new network namespace with only a loopback that is down), no other processes
(a new PID namespace: when the session ends every process in it is killed), no controlling
terminal (given up before bubblewrap starts; setsid does nothing, so none can be gained), no
course folder, gradebook, ``source/``, other students or hidden tests. As root the student's
code runs as an unprivileged user of its own; otherwise in a user namespace as the instructor's
user, without rights outside the sandbox either way.

Limits (per session, :class:`Limits`): address space, processes, CPU seconds, file size, open
files, wall time per request (enforced from outside by killing the whole sandbox), and output
(the student's prints are read from a pipe and only the first bytes kept).

Nothing of the grader crosses: bubblewrap itself starts with an empty environment (the
sandbox's first process, bubblewrap's own, would show the grader's through ``/proc/1/environ``),
each sandbox gets a session keyring of its own, and a seccomp filter refuses the keyring system
calls (``add_key``, ``request_key``, ``keyctl``), as Docker's default profile does; ``/proc/keys``
(which lists the descriptions of the keys the account may view) is empty.

One sandbox never fails or slows another, whatever else the account runs:

* processes: the limit is set inside the sandbox (``prlimit``), where the kernel counts only its
  processes: in its own user namespace (Linux 5.14 and later) for an ordinary account, as a user
  id of its own for root. Set on bubblewrap, the limit would count every process of the account.
* CPU: a guard thread (:class:`CpuGuard`) gives every thread in the sandbox but the one that
  runs the current request the ``SCHED_IDLE`` policy, so that a student's extra processes only
  use CPU time that nobody else wants, and kills the sandbox when its processes together have
  used more than their CPU seconds.

A failure of the grading machine (no sandbox could be created, no process started, the trusted
imports failed) raises :class:`MachineFailure`: it is never the student's result.
"""

import dataclasses
import importlib.util
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path, PurePosixPath

from grading.core.errors import MachineFailure, SandboxCrashed, SandboxTimedOut, SandboxUnavailable
from grading.core.policies import policy_named
from grading.core.runner import ChannelError, Op, frame, write_message

HERE = Path(__file__).resolve().parent

#: The runner's file name in the sandbox: a name no other program has, so that its processes can be found.
RUNNER_NAME = "sandbox_runner.py"


def module_source(name):
    """The source text of a trusted module (a fixture or a reference), found by its dotted name."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise MachineFailure(f"the trusted module {name} was not found")
    return Path(spec.origin).read_text(encoding="utf-8")

INSTALL_HINT = (
    "bubblewrap is not installed. On Debian or Ubuntu: sudo apt-get install bubblewrap "
    "(make venv does this when it runs as root). Other systems: see https://github.com/containers/bubblewrap. "
    "To grade WITHOUT a sandbox anyway (student code then runs with your rights): "
    "make autograde UNSAFE_NO_SANDBOX=1"
)


#: Wall time for a test's copy of the set-up process to answer: a fork and the test's references,
#: no imports. While it starts, two processes of the sandbox keep the normal policy (:class:`CpuGuard`).
FORK_ANSWER_SECONDS = 3.0

#: Largest reply the trusted side reads (bytes), and most lists and objects in one.
MAX_REPLY = 64 * 2**20
MAX_CONTAINERS = 100_000


#: The grader's folder in the grading account's cache folder: it holds nothing but jobs' folders.
GRADER_FOLDER_NAME = "course-grading"
#: How a job's folder is named: this and a random part.
JOB_PREFIX = "grading-job-"


def grader_folder_path():
    """Where the sessions' folders are made: :data:`GRADER_FOLDER_NAME` in the grading account's cache folder.

    Not the shared temporary folder, where any account can fill the disk or plant a folder. (The
    sandbox's own ``/tmp`` is a small tmpfs of its own either way.)
    """
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / GRADER_FOLDER_NAME


def grader_folder():
    """:func:`grader_folder_path`, made if need be: a folder of this account that only it can enter.

    Raises
    ------
    MachineFailure
        When it cannot be made, or is not a folder of this account (a link, another's).
    """
    path = grader_folder_path()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            raise MachineFailure(f"{path} is not a folder of the grading account (set XDG_CACHE_HOME to one that is)")
        if info.st_mode & 0o077:
            path.chmod(0o700)
    except OSError as error:
        raise MachineFailure(f"the grader's folder {path} could not be made ({error})") from None
    remove_stale_job_folders(path)
    return path


#: Age after which a job's folder is left over from a killed process (a job takes minutes).
STALE_JOB_SECONDS = 24 * 3600


def remove_stale_job_folders(folder, older_than=STALE_JOB_SECONDS):
    """Remove the job folders (:data:`JOB_PREFIX`) in ``folder`` that a killed grading process left behind."""
    now = time.time()
    try:
        entries = [entry for entry in os.scandir(folder) if entry.name.startswith(JOB_PREFIX)]
    except OSError:
        return
    for entry in entries:
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
            stale = entry.is_dir(follow_symlinks=False) and age > older_than
        except OSError:
            continue
        if stale:
            shutil.rmtree(entry.path, ignore_errors=True)


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits of one session.

    Attributes
    ----------
    memory_bytes : int
        Address space of each process (RLIMIT_AS).
    processes : int
        Processes and threads in the sandbox (RLIMIT_NPROC, set inside it, where only its own
        processes count).
    cpu_seconds : int
        CPU time of all the sandbox's processes together (:class:`CpuGuard`), and of each
        (RLIMIT_CPU).
    file_bytes : int
        Largest file a process may write (RLIMIT_FSIZE), also in its private folders.
    tmp_bytes : int
        Size of each private folder (``/tmp`` and the home).
    output_bytes : int
        How much of the student's printed output is kept (the rest is read and dropped).
    start_seconds : float
        Wall time for starting the interpreter and the trusted imports (NumPy, PyTorch).
    cell_seconds : float
        Wall time for running one of the student's solution cells, which only define functions
        and classes: a cell that computes for longer (an endless loop, a training run left in it)
        is set aside (:func:`grading.core.engine.start_session`), with this limit named in the message.
    """

    memory_bytes: int = 4 * 2**30
    processes: int = 64
    cpu_seconds: int = 600  # above the time limits of a notebook together (06: 340 s)
    file_bytes: int = 16 * 2**20
    tmp_bytes: int = 64 * 2**20
    output_bytes: int = 64 * 2**10
    start_seconds: float = 60.0
    cell_seconds: float = 5.0


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


#: The keyring's system calls (add_key, request_key, keyctl), refused inside the sandbox with
#: EPERM, by the architecture's audit number.
KEYRING_SYSCALLS = {
    0xC000003E: (248, 249, 250),  # x86_64
    0xC00000B7: (217, 218, 219),  # aarch64
}
#: setsid, which "succeeds" inside the sandbox without doing anything: a session of its own would
#: be a scheduling group of its own (an autogroup), out of reach of :class:`CpuGuard`'s
#: SCHED_IDLE, while code that merely detaches a process (a daemon) should work as anywhere.
SETSID_SYSCALL = {0xC000003E: 112, 0xC00000B7: 157}
_ARCH_OF_MACHINE = {"x86_64": 0xC000003E, "amd64": 0xC000003E, "aarch64": 0xC00000B7, "arm64": 0xC00000B7}
_X32_BIT = 0x40000000  # x86_64's x32 calls: the same numbers with this bit set


def seccomp_filter(machine=None):
    """A classic BPF program for seccomp: the keyring calls refused, setsid pretended.

    System calls of another architecture than the machine's (a 64-bit process can make 32-bit
    ones) are refused altogether, so that no other numbering reaches the same calls.

    Parameters
    ----------
    machine : str, optional
        ``platform.machine()``; default: this machine's.

    Returns
    -------
    bytes or None
        ``struct sock_filter`` entries as bubblewrap's ``--seccomp`` reads them; None on an
        architecture whose numbers this module does not know.
    """
    import errno
    import platform
    import struct

    arch = _ARCH_OF_MACHINE.get((machine or platform.machine()).lower())
    if arch is None:
        return None
    load_word, jump_equal, jump_at_least, give = 0x20, 0x15, 0x35, 0x06
    allow, pretend, refuse = 0x7FFF0000, 0x00050000, 0x00050000 | errno.EPERM  # an "error" of 0 returns 0
    offset_nr, offset_arch = 0, 4  # struct seccomp_data
    checks = [(jump_equal, number, refuse) for number in KEYRING_SYSCALLS[arch]]
    checks.append((jump_equal, SETSID_SYSCALL[arch], pretend))
    if arch == 0xC000003E:
        checks.insert(0, (jump_at_least, _X32_BIT, refuse))
    endings = [allow, pretend, refuse]
    program = [(load_word, 0, 0, offset_arch), (jump_equal, 1, 0, arch), (give, 0, 0, refuse),
               (load_word, 0, 0, offset_nr)]
    for index, (code, value, verdict) in enumerate(checks):
        # When the check holds, jump over the checks after it to the verdict among the endings.
        program.append((code, len(checks) - index - 1 + endings.index(verdict), 0, value))
    program += [(give, 0, 0, verdict) for verdict in endings]
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)


def _keyring_call():
    """A function that makes the calling process join a new, empty session keyring (or does nothing).

    Made before the fork: the function then only calls into the C library."""
    import ctypes
    import platform

    arch = _ARCH_OF_MACHINE.get(platform.machine().lower())
    try:
        syscall = ctypes.CDLL(None, use_errno=True).syscall
    except (OSError, AttributeError):
        return lambda: None
    if arch is None:
        return lambda: None
    keyctl, join_session_keyring = KEYRING_SYSCALLS[arch][2], 1

    def join_new_session_keyring():
        syscall(keyctl, join_session_keyring, None)  # an anonymous keyring; no keyring support: no harm

    return join_new_session_keyring


#: What a :class:`Mount` can be: bubblewrap's option of the same name.
MOUNT_KINDS = ("ro-bind", "bind", "tmpfs", "proc", "dev", "dir", "symlink", "remount-ro")


@dataclasses.dataclass(frozen=True)
class Mount:
    """One entry of a sandbox's file system, as bubblewrap makes it (:func:`bwrap_arguments`).

    Attributes
    ----------
    kind : str
        One of :data:`MOUNT_KINDS`.
    target : str
        The path inside the sandbox.
    source : str
        The host path bound (``ro-bind``, ``bind``), or what a ``symlink`` points to.
    perms : str
        Octal mode of a ``tmpfs`` or ``dir`` ("0755"); "" for bubblewrap's default.
    size : int or None
        Bytes a ``tmpfs`` holds.
    read_only : bool
        A ``tmpfs`` that is made read-only once made (empty for good: it hides what is below it).
    note : str
        What it is for (the module's table shows it).
    """

    kind: str
    target: str
    source: str = ""
    perms: str = ""
    size: int = None
    read_only: bool = False
    note: str = ""

    def __post_init__(self):
        if self.kind not in MOUNT_KINDS:
            raise ValueError(f"unknown mount kind {self.kind!r}; one of {', '.join(MOUNT_KINDS)}")
        if self.kind in ("ro-bind", "bind", "symlink") and not self.source:
            raise ValueError(f"a {self.kind} mount of {self.target} needs a source")
        if (self.perms or self.size is not None or self.read_only) and self.kind not in ("tmpfs", "dir"):
            raise ValueError(f"perms, size and read_only are for tmpfs and dir mounts, not {self.kind}")


@dataclasses.dataclass(frozen=True)
class Host:
    """What the mounts depend on about the grading machine (:func:`this_host`).

    Attributes
    ----------
    prefix : str
        The Python installation (``sys.base_prefix``).
    site : str
        The site-packages folder that holds the grader's NumPy (the venv's).
    version : str
        "python3.11", say: the folder of the standard library under ``prefix/lib``.
    system_links : tuple of (str, str or None)
        ``/bin``, ``/lib``, ``/lib64``, ``/sbin`` where they exist: what each links to, or None for a folder.
    etc_files : tuple of str
        The files of ``/etc`` that the dynamic linker and the time zone need, where they exist.
    hidden : tuple of str
        Folders with the system's Python packages, hidden inside the sandbox.
    site_entries : frozenset of str
        The entries of ``site`` that some policy allows and that exist.
    """

    prefix: str
    site: str
    version: str
    system_links: tuple
    etc_files: tuple
    hidden: tuple
    site_entries: frozenset


def this_host():
    """The :class:`Host` of this machine and interpreter."""
    from grading.core.policies import POLICIES

    site = _site_packages()
    links = []
    for name in ("bin", "lib", "lib64", "sbin"):
        path = os.path.join("/", name)
        if os.path.islink(path):
            links.append((path, os.readlink(path)))
        elif os.path.isdir(path):
            links.append((path, None))
    allowed = {name for policy in POLICIES.values() for name in policy.packages}
    etc_files = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime")
    return Host(prefix=str(_python_prefix()), site=str(site),
                version=f"python{sys.version_info.major}.{sys.version_info.minor}", system_links=tuple(links),
                etc_files=tuple(path for path in etc_files if os.path.exists(path)),
                hidden=tuple(_hidden_python_dirs()),
                site_entries=frozenset(name for name in allowed if (site / name).exists()))


def sandbox_mounts(policy, lib_dir, limits=Limits(), host=None):
    """The sandbox's file system, in the order bubblewrap makes it (later entries cover earlier ones).

    Parameters
    ----------
    policy : str or grading.core.policies.Policy
    lib_dir : path
        Host folder with the runner and the fixture modules, bound read-only at ``/sbx/lib``.
    limits : Limits
        ``tmp_bytes`` sizes the private folders.
    host : Host, optional
        Default: :func:`this_host`.

    Returns
    -------
    list of Mount
    """
    policy = policy_named(policy)
    host = host or this_host()
    prefix = host.prefix.rstrip("/")
    mounts = [Mount("ro-bind", "/usr", "/usr", note="the system, read-only")]
    for path, link in host.system_links:
        if link is None:
            mounts.append(Mount("ro-bind", path, path, note="the system, read-only"))
        else:
            mounts.append(Mount("symlink", path, link, note="as on the host"))
    mounts += [Mount("ro-bind", path, path, note="the linker's cache, the time zone")
               for path in host.etc_files]
    mounts += [Mount("tmpfs", path, read_only=True, note="system Python packages: hidden")
               for path in host.hidden]
    # The interpreter finds its standard library (and libpython) from its own path; the folders
    # above it are made traversable (bubblewrap would copy /root's 0700).
    mounts += [Mount("dir", str(parent), perms="0755", note="traversable")
               for parent in reversed(PurePosixPath(prefix).parents[:-1])]
    mounts.append(Mount("ro-bind", prefix, prefix, note="the interpreter, at its own path"))
    site_packages = f"{prefix}/lib/{host.version}/site-packages"
    mounts.append(Mount("tmpfs", site_packages, read_only=True, note="the interpreter's packages: hidden"))
    mounts += [Mount("dir", path, perms="0755") for path in ("/sbx", "/sbx/site", "/home")]
    mounts += [Mount("ro-bind", f"/sbx/site/{name}", f"{host.site}/{name}", note=f"allowed by the {policy.name} policy")
               for name in policy.packages if name in host.site_entries]
    mounts += [Mount("ro-bind", "/sbx/lib", str(lib_dir), note="the runner, the fixture modules"),
               Mount("dev", "/dev"), Mount("proc", "/proc"),
               # The kernel lists the keys that the account may view (their descriptions), whoever
               # possesses them: hidden, as Docker hides them.
               Mount("ro-bind", "/proc/keys", "/dev/null", note="the account's keys: hidden"),
               Mount("ro-bind", "/proc/key-users", "/dev/null", note="the account's keys: hidden"),
               Mount("tmpfs", "/tmp", perms="1777", size=limits.tmp_bytes, note="private, gone with the session"),
               Mount("tmpfs", "/home/student", perms="1777", size=limits.tmp_bytes,
                     note="the same; the working folder"),
               Mount("remount-ro", "/", note="nothing else writable")]
    return mounts


def mount_arguments(mount):
    """One :class:`Mount` as bubblewrap's arguments."""
    if mount.kind in ("ro-bind", "bind", "symlink"):
        return [f"--{mount.kind}", mount.source, mount.target]
    arguments = ["--perms", mount.perms] if mount.perms else []
    if mount.size is not None:
        arguments += ["--size", str(int(mount.size))]
    arguments += [f"--{mount.kind}", mount.target]
    if mount.read_only:
        arguments += ["--remount-ro", mount.target]
    return arguments


def bwrap_arguments(mounts):
    """The mounts as bubblewrap's arguments, in their order."""
    return [argument for mount in mounts for argument in mount_arguments(mount)]


def mount_table(mounts):
    """The mounts as a reStructuredText table (target, mount, note): the module's docstring shows one."""
    rows = []
    for mount in mounts:
        how = [f"{mount.kind} {'to ' if mount.kind == 'symlink' else ''}{mount.source}".strip(),
               *([mount.perms] if mount.perms else []),
               *([f"{mount.size // 2**20} MiB"] if mount.size is not None else []),
               *(["read-only"] if mount.read_only else [])]
        rows.append((mount.target, ", ".join(how), mount.note))
    header = ("in the sandbox", "mount", "note")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    rule = "  ".join("=" * width for width in widths)

    def line(row):
        return "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()

    return "\n".join([rule, line(header), rule, *map(line, rows), rule])


#: The host the module's table is drawn for: names in angle brackets stand for this machine's paths.
DOCUMENTED_HOST = Host(prefix="/<up>/<python>", site="<site-packages>", version="pythonX.Y",
                       system_links=(("/bin", "usr/bin"), ("/lib", "usr/lib"), ("/lib64", "usr/lib64"),
                                     ("/sbin", "usr/sbin")),
                       etc_files=("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime"),
                       hidden=("<system Python packages>",), site_entries=frozenset({"<package>"}))


def documented_mounts():
    """The mounts the module's table shows: every policy's, a package standing for the policy's packages."""
    from grading.core.policies import Policy

    policy = Policy(name="job's", prelude=(), packages=("<package>",), forbidden=())
    return sandbox_mounts(policy, "<job folder>/lib", Limits(), DOCUMENTED_HOST)


#: The environment inside the sandbox (bubblewrap itself starts with an empty one).
SANDBOX_ENVIRONMENT = (("HOME", "/home/student"), ("TMPDIR", "/tmp"), ("PATH", "/usr/bin:/bin"),
                       ("PYTHONDONTWRITEBYTECODE", "1"), ("PYTHONHASHSEED", "0"), ("OMP_NUM_THREADS", "1"),
                       ("MKL_NUM_THREADS", "1"), ("OPENBLAS_NUM_THREADS", "1"), ("LANG", "C.UTF-8"))


def sandbox_command(policy, lib_dir, uid=None, seccomp_fd=None, limits=Limits()):
    """The bubblewrap command line that starts the student side of a job.

    Parameters
    ----------
    policy : str or grading.core.policies.Policy
    lib_dir : pathlib.Path
        Host folder with ``runner.py`` (and the assignment's fixture modules), bound read-only.
    uid : int, optional
        User id to run as when started as root.
    seccomp_fd : int, optional
        A descriptor from which bubblewrap reads the program of :func:`seccomp_filter`.
    limits : Limits
        ``processes``: most processes and threads in the sandbox; ``tmp_bytes``: size of its private folders.

    Returns
    -------
    list of str
    """
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable(INSTALL_HINT)
    prlimit = shutil.which("prlimit", path="/usr/bin:/bin")
    if prlimit is None:
        raise SandboxUnavailable("prlimit is not installed (it comes with util-linux: sudo apt-get install util-linux)")
    command = [bwrap, "--die-with-parent",
               "--unshare-net", "--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"]
    if seccomp_fd is not None:
        command += ["--seccomp", str(seccomp_fd)]
    as_root = os.geteuid() == 0
    if not as_root:
        command += ["--unshare-user"]
    command += bwrap_arguments(sandbox_mounts(policy, lib_dir, limits))
    command += ["--chdir", "/home/student", "--clearenv"]
    for name, value in SANDBOX_ENVIRONMENT:
        command += ["--setenv", name, value]
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:  # older OpenBLAS builds need these on some processors
            command += ["--setenv", name, os.environ[name]]
    if as_root:
        # A user of its own for every session: nothing kept per user (kernel keyrings, process
        # counts) is shared with another session, another student or another worker.
        uid = _fresh_uid() if uid is None else int(uid)
        command += ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    # Inside the sandbox only its own processes count: in its user namespace, or as its own user.
    command += [prlimit, f"--nproc={limits.processes}:{limits.processes}", "--"]
    command += [str(_python_prefix() / _python_binary()), "-I", "-S", "-B"]
    return command


def unsandboxed_command():
    """The student side as a plain subprocess: for an instructor who explicitly asked for it."""
    return [sys.executable, "-I", "-B"]


def _give_up_terminal():
    """Detach the calling process from its controlling terminal, if it has one.

    Only this process loses it (it leads no session): the sandbox cannot type into the terminal
    that ``make autograde`` runs in, and stays in the grader's session and so its scheduling group.
    """
    import fcntl
    import termios

    try:
        terminal = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:  # none
        return
    try:
        fcntl.ioctl(terminal, termios.TIOCNOTTY)
    finally:
        os.close(terminal)


def _set_limits(limits, sandboxed=True):
    """What the sandbox's first process does before bubblewrap starts: limits, its own keyring.

    The process limit is not set here when sandboxed: bubblewrap would count every process of the
    account against it (and fail to create the sandbox); :func:`sandbox_command` sets it inside.
    RLIMIT_NICE 0 keeps the student's processes from leaving the SCHED_IDLE policy (:class:`CpuGuard`).
    """
    import resource

    join_new_session_keyring = _keyring_call()
    values = [("RLIMIT_AS", limits.memory_bytes), ("RLIMIT_CPU", limits.cpu_seconds),
              ("RLIMIT_FSIZE", limits.file_bytes), ("RLIMIT_NOFILE", 256), ("RLIMIT_CORE", 0), ("RLIMIT_NICE", 0)]
    if not sandboxed:
        values.append(("RLIMIT_NPROC", limits.processes))

    def apply():
        join_new_session_keyring()
        try:  # memory is limited per process: when the machine runs out, a sandbox's go first
            with open("/proc/self/oom_score_adj", "w") as stream:
                stream.write(str(OOM_SCORE_ADJ))
        except OSError:
            pass
        if sandboxed:
            os.setpgid(0, 0)  # a process group of its own: killed as one, and no terminal's Ctrl-C reaches it
            _give_up_terminal()
        for name, value in values:
            try:
                resource.setrlimit(getattr(resource, name), (value, value))
            except (ValueError, OSError):
                pass

    return apply


#: The sandbox's processes are the first the kernel's OOM killer picks (proc(5): -1000 to 1000).
OOM_SCORE_ADJ = 1000

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _threads(pid):
    try:
        return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except (OSError, ValueError):
        return []


def _children_by_parent():
    """{parent pid: [child pid]} of every process: where /proc/PID/task/TID/children is missing."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as stream:
                    parent = int(stream.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(name))
    return children


_CHILDREN_LISTED = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")  # CONFIG_PROC_CHILDREN


def process_tree(root):
    """The processes of ``root`` and its descendants, with their threads: {pid: [tid]}."""
    by_parent = None if _CHILDREN_LISTED else _children_by_parent()
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        threads = _threads(pid)
        if pid in tree or not threads:
            continue
        tree[pid] = threads
        if by_parent is not None:
            todo += by_parent.get(pid, [])
            continue
        for tid in threads:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as stream:
                    todo += [int(child) for child in stream.read().split()]
            except (OSError, ValueError):
                pass
    return tree


def process_stat(pid):
    """(parent pid, own CPU seconds, start time in clock ticks since boot, state letter) of a process, or None.

    The state letter is proc(5)'s ("R" running, "T" stopped, "Z" zombie...)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            fields = stream.read().rsplit(b")", 1)[1].split()
        # Fields 4, 14, 15 and 22 of proc(5) (the 3rd, the state, comes first here).
        return (int(fields[1]), (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS, int(fields[19]),
                fields[0].decode("ascii", "replace"))
    except (OSError, IndexError, ValueError):
        return None


def sandbox_pid(pid):
    """A process's number inside its innermost PID namespace (1: the sandbox's init), or None."""
    try:
        with open(f"/proc/{pid}/status") as stream:
            for line in stream:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def killed_by(status, wrapped=False):
    """The signal that ended a process, from its exit status as :class:`subprocess.Popen` gives it, or None.

    ``wrapped``: the status is bubblewrap's, which passes on its child's signal N as exit status 128 + N.
    """
    if status is None:
        return None
    number = -status if status < 0 else status - 128 if wrapped and status > 128 else None
    if number is None:
        return None
    return signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)


def process_ending(status, wrapped=False):
    """How a process ended, in words: "was killed by SIGSEGV (a segmentation fault)", "ended by itself (exit status 3)".

    ``wrapped``: as for :func:`killed_by`.
    """
    name = killed_by(status, wrapped)
    if name is None:
        return f"ended by itself (exit status {status})"
    why = {"SIGKILL": " (out of memory, or too many processes?)", "SIGXCPU": " (CPU time limit)",
           "SIGXFSZ": " (wrote a file over the size limit)", "SIGSEGV": " (a segmentation fault)"}.get(name, "")
    return f"was killed by {name}{why}"


class CpuGuard:
    """Keeps one sandbox's processes from taking CPU time from others, and counts their CPU time.

    Every few hundredths of a second it looks at the processes in the sandbox. Each thread but
    the one that answers the grader gets the ``SCHED_IDLE`` policy: the student's extra processes
    and threads run only when a CPU would otherwise be idle, so a dozen busy ones take from other
    sandboxes what one would, not twelve times as much. The one that answers is the set-up
    process (pid 2) between tests; while a test's copy starts, pid 2 and the first new child of it
    (the copy, checked when it replies: :meth:`Session.fork`); during a test, the copy alone. Pid 2
    only waits for the copy then: as root it waits as ``SCHED_IDLE``; as an ordinary account,
    which could not give it the normal policy back, it keeps its policy and is stopped (SIGSTOP,
    sent again at each look while the copy lives, since the copy could send SIGCONT) and
    continued when the copy ends or the test does, so that it reports how the copy ended.
    RLIMIT_NICE 0 keeps them from leaving that policy, and setsid does nothing inside
    (:func:`seccomp_filter`): with it, a process would get a scheduling group of its own (an
    autogroup) that competes with the grader's whole group as an equal.

    The CPU time is a running total that never goes down: each process's own time as last seen,
    plus for one that has ended the time between its last look and the next, and for every
    number the sandbox's PID namespace handed out that the guard never saw alive (a process that
    lived between two looks, or a thread) the time between those two looks: no such process can
    have used more. The total is an upper bound, exact up to a look's interval per process.
    When the total passes ``cpu_seconds`` the guard kills the sandbox.

    Parameters
    ----------
    session : Session
        Its ``process`` is bubblewrap; ``forking``, ``copy_pid`` (the test's copy's number in
        the sandbox) and ``setup_host_pid`` say who answers.
    cpu_seconds : float
    interval : float
    """

    def __init__(self, session, cpu_seconds, interval=None):
        self.session, self.cpu_seconds = session, cpu_seconds
        # Without the kernel's lists of children every look reads all of /proc: less often then.
        self.interval = interval or (0.05 if _CHILDREN_LISTED else 0.5)
        self.used = 0.0
        self.lock = threading.Lock()  # a look and a change of who answers never overlap
        self.may_restore = os.geteuid() == 0  # leaving SCHED_IDLE needs CAP_SYS_NICE
        self.fork_child = None  # (host pid, start) of the new child of pid 2 exempt while a copy starts
        self._seen = {}  # (host pid, start) -> own CPU seconds at the last look, of live processes
        self._ended = 0.0  # CPU seconds of processes seen before and gone since
        self._unseen = 0.0  # charged for numbers never seen alive
        self._numbers = set()  # numbers in the sandbox seen alive at the last look
        self._highest = 0  # highest number handed out in the sandbox, as far as known
        self._last_look = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    def _watch(self):
        while not self._stop.wait(self.interval):
            process = self.session.process
            if process is None or process.poll() is not None:
                return
            with self.lock:
                self.used = self.look(process.pid)
            if self.used > self.cpu_seconds:
                self.session.kill_because(
                    f"the student's processes used more than {self.cpu_seconds:g} s of CPU time together")
                return

    def give_back_normal(self, host_pid):
        """Put a process's main thread back on the normal policy (root only); call under ``lock``."""
        if self.may_restore and host_pid is not None:
            try:
                os.sched_setscheduler(host_pid, os.SCHED_OTHER, os.sched_param(0))
            except OSError:
                pass

    def hold_setup(self, copy_alive):
        """As an ordinary account, stop pid 2 while the test's copy lives, else let it run; call under ``lock``."""
        setup = self.session.setup_host_pid
        if self.may_restore or setup is None:
            return
        try:
            os.kill(setup, signal.SIGSTOP if copy_alive else signal.SIGCONT)
        except OSError:  # gone already
            pass

    def _answering(self, processes):
        """Host pids whose main thread keeps the normal policy now; ``processes``: {host pid: (number, stat)}."""
        session = self.session
        setup = session.setup_host_pid
        if session.forking:
            if self.fork_child is None or self.fork_child[0] not in processes:
                born = sorted(pid for pid, (_, stat) in processes.items()
                              if stat[0] == setup and (pid, stat[2]) not in session.before_fork)
                self.fork_child = (born[0], processes[born[0]][1][2]) if born else None
            return {setup, self.fork_child[0] if self.fork_child else None}
        copy = {pid for pid, (number, _) in processes.items() if number == session.copy_pid and number is not None}
        if copy:
            return copy if self.may_restore else copy | {setup}
        return {setup}

    def look(self, bwrap_pid):
        """Give the sandbox's threads their policy; returns the CPU seconds its processes used so far."""
        now = time.monotonic()
        tree = process_tree(bwrap_pid)
        processes = {}
        for pid in tree:
            stat = process_stat(pid) if pid != bwrap_pid else None
            if stat is not None:
                processes[pid] = (sandbox_pid(pid), stat)
        if self.session.setup_host_pid is None:
            self.session.setup_host_pid = next((pid for pid, (n, _) in processes.items() if n == 2), None)
        self._count(processes, now)
        if self.session.copy_pid is not None and not self.session.forking:
            # A copy that ended is a zombie until pid 2, continued, reaps it.
            self.hold_setup(any(number == self.session.copy_pid and stat[3] not in ("Z", "X")
                                for pid, (number, stat) in processes.items()))
        answering = self._answering(processes)
        for pid, (number, _) in processes.items():
            if number == 1:  # bubblewrap's init: it only waits for orphaned processes
                continue
            for tid in tree[pid]:
                if tid == pid and pid in answering:
                    continue
                try:
                    if os.sched_getscheduler(tid) != os.SCHED_IDLE:
                        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
                except OSError:  # gone already
                    pass
        return self._ended + self._unseen + sum(self._seen.values())

    def _count(self, processes, now):
        """Add what the processes used since the last look to the running total."""
        seen = {(pid, stat[2]): stat[1] for pid, (_, stat) in processes.items()}
        since = now - self._last_look if self._last_look is not None else self.interval
        # An ended process may have computed since it was last seen: at most until now.
        self._ended += sum(cpu + since for key, cpu in self._seen.items() if key not in seen)
        self._seen = seen
        numbers = {number for number, _ in processes.values() if number is not None}
        highest = max(numbers, default=self._highest)
        if highest > self._highest:
            # Numbers are handed out in order: those between the last known and this look's
            # highest that were never alive at a look lived between two looks.
            known = {n for n in numbers | self._numbers if self._highest < n <= highest}
            never_seen = highest - self._highest - len(known)
            self._unseen += never_seen * since
            self._highest = highest
        self._numbers = numbers
        self._last_look = now


class Session:
    """One student-side process: start it, run the solution cells, answer requests, end it.

    Parameters
    ----------
    policy : str or grading.core.policies.Policy
        The library policy (by name, or itself); ``session.policy`` is the :class:`~grading.core.policies.Policy`.
    cells : list of (grade_id, source)
        The student's solution cells, in notebook order.
    prelude : list of str
        Trusted lines run first (imports).
    fixtures : list of str
        Modules the trusted side may ask for test furniture from (an assignment's
        ``fixtures_torch``, by module path); only these are copied into the sandbox.
    limits : Limits
    sandboxed : bool
        False only when the instructor asked for grading without a sandbox.
    uid : int, optional
        User id inside the sandbox when grading as root (one per parallel worker).
    """

    def __init__(self, policy, cells, prelude=(), fixtures=(), limits=Limits(), sandboxed=True, uid=None):
        self.policy, self.limits, self.sandboxed = policy_named(policy), limits, sandboxed
        fixtures = [fixtures] if isinstance(fixtures, str) else list(fixtures or ())
        self.cells, self.prelude, self.fixtures, self.uid = list(cells), list(prelude), fixtures, uid
        self.cell_errors = {}
        self.current_cell = None  # the solution cell running now, during the set-up
        self.exit_status = None  # how the process ended, once it has (its exit status, as Popen gives it)
        self.deadline = None
        self.process = None
        self.output = bytearray()
        self.lost = None  # why the process is gone, once it is
        self.in_test = False  # a test's copy of the process is answering
        self.copy_pid = None  # the test's copy's number in the sandbox
        self.forking = False  # a test's copy is starting: it is not known yet
        self.before_fork = set()  # (host pid, start) of the sandbox's processes when the copy was asked for
        self.setup_host_pid = None  # the set-up process's (pid 2's) number outside the sandbox
        self.guard = None
        self.killed_because = None  # why the guard killed the sandbox
        self._tmp = None
        self._drain_thread = None

    # -- lifecycle

    def start(self):
        """Start the process and run the cells; returns {grade_id: error data} of failed cells.

        Raises
        ------
        MachineFailure
            When the sandbox did not start (the session is closed then).
        grading.core.errors.SandboxLost
            When the student's cells broke it (it crashed or ran out of time); ``current_cell``
            then names the cell that was running.
        """
        try:
            self._tmp = tempfile.mkdtemp(prefix=JOB_PREFIX, dir=grader_folder())
            lib = Path(self._tmp) / "lib"
            lib.mkdir()
            shutil.copy(HERE / "runner.py", lib / RUNNER_NAME)
            for module in self.fixtures:  # as namespace packages: no __init__ of ours runs in there
                target = lib.joinpath(*module.split(".")).with_suffix(".py")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(module_source(module))
            for path in [lib, *lib.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
            os.chmod(self._tmp, 0o755)
        except OSError as error:  # a full disk, say: the machine's failure, never the student's
            self.close()
            raise MachineFailure(f"the sandbox's folder could not be made in {grader_folder_path()} "
                                 f"({error})") from None
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        passed = [request_read, reply_write]
        if self.sandboxed:
            program = seccomp_filter()
            if program is not None:
                seccomp_read, seccomp_write = os.pipe()  # a few hundred bytes: the pipe holds them
                os.write(seccomp_write, program)
                os.close(seccomp_write)
                passed.append(seccomp_read)
            command = sandbox_command(self.policy, lib, self.uid, passed[2] if program else None,
                                      self.limits) + ["/sbx/lib/" + RUNNER_NAME]
            env = {}  # bubblewrap's own environment: readable inside, as /proc/1/environ
        else:
            command = unsandboxed_command() + [str(lib / RUNNER_NAME)]
            env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(lib), "HOME": self._tmp, "OMP_NUM_THREADS": "1"}
        command += [str(request_read), str(reply_write),
                    "/sbx/site:/sbx/lib" if self.sandboxed else str(lib)]
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                pass_fds=passed, start_new_session=not self.sandboxed, env=env,
                preexec_fn=_set_limits(self.limits, self.sandboxed), cwd=self._tmp)
        except OSError as error:
            os.close(request_write)
            os.close(reply_read)
            self.close()
            hint = "; the account is out of processes" if isinstance(error, BlockingIOError) else ""
            raise MachineFailure(f"the sandbox's process could not be started ({error}{hint})") from None
        finally:
            for fd in passed:
                os.close(fd)
        self._to = os.fdopen(request_write, "wb", buffering=0)
        self._from_fd = reply_read
        self._buffer = bytearray()
        try:
            self._drain_thread = threading.Thread(target=self._drain, daemon=True)
            self._drain_thread.start()
            if self.sandboxed:
                self.guard = CpuGuard(self, self.limits.cpu_seconds)
                self.guard.start()
        except RuntimeError as error:  # the account is out of processes
            self.close()
            raise MachineFailure(f"the grader could not start a thread for the sandbox ({error}; "
                                 "out of processes?)") from None
        self.deadline = time.monotonic() + self.limits.start_seconds
        setup = {"prelude": self.prelude, "cells": [list(c) for c in self.cells],
                 "fixtures": self.fixtures, "torch_threads": self.policy.threads}
        self.limit_text = f"{self.limits.start_seconds:.0f} s to start Python and import the libraries"
        try:
            self.request(setup)  # {"imported": True}
        except (SandboxCrashed, SandboxTimedOut) as error:
            # None of the student's code has run yet: bubblewrap, Python or the trusted imports failed.
            why = self._last_words() or error.message
            self.close()
            raise MachineFailure(f"the sandbox did not start: {why}") from None
        self._run_cells()
        self.deadline = None  # each test sets its own
        return self.cell_errors

    def _run_cells(self):
        """Ask for the solution cells one at a time, each with its own time; ``current_cell`` names the one running.

        When the process is lost, ``current_cell`` stays the cell that was running (the trusted
        side's own count, not the student's word) and ``exit_status`` says how it ended.
        """
        self.cell_errors = {}
        for index, (grade_id, _) in enumerate(self.cells):
            self.current_cell = grade_id
            self.deadline = time.monotonic() + self.limits.cell_seconds
            self.limit_text = (f"{self.limits.cell_seconds:g} s for the {grade_id} cell, which should only define "
                               "functions and classes")
            reply = self.request({"op": Op.CELL, "index": index})
            if reply.get("cell") != index:
                self._kill()
                self.lost = "the student's process broke the grading protocol (a solution cell's reply was forged)"
                raise SandboxCrashed(self.lost)
            if isinstance(reply.get("cell_error"), dict):
                self.cell_errors[grade_id] = reply["cell_error"]
        self.current_cell = None

    # -- one test in a copy of the set-up process

    def _last_words(self):
        """The last line the sandbox printed (bubblewrap's or Python's complaint), once it has ended."""
        if self._drain_thread is not None:
            self._drain_thread.join(timeout=2)
        lines = [line.strip() for line in bytes(self.output).decode("utf-8", "replace").splitlines() if line.strip()]
        return lines[-1][:300] if lines else ""

    def kill_because(self, reason):
        """Kill the whole sandbox (from the guard's thread); the pending request reports ``reason``."""
        self.killed_because = reason
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def fork(self, modules=()):
        """Start a test in a copy of the process as the set-up left it (call :meth:`end_test` after).

        The copy must answer within :data:`FORK_ANSWER_SECONDS` (or ``deadline``, if sooner), and
        be what it claims: a new child of the set-up process. Anything else breaks the protocol.

        Parameters
        ----------
        modules : list of str
            Modules of this package that the test needs beside the policy's fixtures (its
            references). Their source goes over the channel to the copy, and no file of them is
            in the sandbox. Code that the student's cells left running (a thread, a process)
            could read it off the channel and keep it for later tests: the order of
            :func:`grading.core.engine.test_order` makes sure any later test holds it anyway.
        """
        sources = [[name, module_source(name)] for name in modules]
        deadline, limit_text = self.deadline, getattr(self, "limit_text", None)
        if self.deadline is None or self.deadline - time.monotonic() > FORK_ANSWER_SECONDS:
            self.deadline = time.monotonic() + FORK_ANSWER_SECONDS
            self.limit_text = f"{FORK_ANSWER_SECONDS:g} s to start the test's copy of the set-up"
        self._begin_fork()
        try:
            reply = self.request({"op": Op.FORK, "modules": sources})
            if reply.get("forked") is False and isinstance(reply.get("error"), str):
                self._copy_not_started(reply["error"])
            copy = reply.get("pid") if type(reply.get("pid")) is int else None
            if reply.get("forked") is not True or not self._is_new_copy(copy):
                self._kill()
                self.lost = "the student's process broke the grading protocol (a copy for the test did not start)"
                raise SandboxCrashed(self.lost)
        finally:
            self.forking = False
            self.deadline, self.limit_text = deadline, limit_text
        self.in_test = True

    def _begin_fork(self):
        """Note the sandbox's processes before the copy is asked for; pid 2 answers at the normal policy."""
        if not self.guard:
            return
        with self.guard.lock:
            processes = {pid: process_stat(pid) for pid in process_tree(self.process.pid)}
            self.before_fork = {(pid, stat[2]) for pid, stat in processes.items() if stat}
            if self.setup_host_pid is None:
                self.setup_host_pid = next((pid for pid in processes if sandbox_pid(pid) == 2), None)
            self.guard.fork_child = None
            self.guard.give_back_normal(self.setup_host_pid)
            self.forking = True

    def _is_new_copy(self, number):
        """Whether ``number`` (in the sandbox) is the one child that the set-up process made since :meth:`_begin_fork`.

        Read from outside the sandbox (parents, start times), not from the student's reply."""
        if not self.guard:
            self.copy_pid = number
            return True
        with self.guard.lock:
            born = []
            for pid in process_tree(self.process.pid):
                stat = process_stat(pid)
                if stat and stat[0] == self.setup_host_pid and (pid, stat[2]) not in self.before_fork:
                    born.append(pid)
            if len(born) != 1 or sandbox_pid(born[0]) != number:
                return False
            self.copy_pid = number
            self.guard.give_back_normal(born[0])
            self.guard.hold_setup(copy_alive=True)
            return True

    def _copy_not_started(self, error):
        """No process for the test: the student's processes fill the sandbox, or the machine is out of them."""
        running = sum(len(threads) for pid, threads in process_tree(self.process.pid).items()
                      if pid != self.process.pid and sandbox_pid(pid) != 1)
        if running >= self.limits.processes - 2:
            raise SandboxCrashed(f"no process for the test could start: your code left {running} processes "
                                         f"and threads running, at the limit of {self.limits.processes}")
        self._kill()
        self.lost = (f"no process for the test could start ({error[:200]}) with {running} of "
                     f"{self.limits.processes} in the sandbox")
        raise MachineFailure(self.lost)

    def end_test(self):
        """End the test's copy; the session is then ready for the next :meth:`fork`."""
        if self.guard:
            with self.guard.lock:  # pid 2 answers from now
                self.copy_pid = None
                self.guard.hold_setup(copy_alive=False)
                self.guard.give_back_normal(self.setup_host_pid)
        self.copy_pid = None
        if not self.in_test or self.lost:
            return
        try:
            reply = self.request({"op": Op.STOP})
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
                write_message(self._to, {"op": Op.STOP})
                self.process.wait(timeout=2)
            except Exception:
                pass
        self._kill()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _kill(self):
        if self.guard is not None:
            self.guard.stop()
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
        grading.core.errors.SandboxLost
            When the process died, broke the protocol, or the deadline passed (then it is killed).
        """
        if self.lost or self._to is None:
            raise SandboxCrashed(self.lost or "the student's process is gone")
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
            self.exit_status = code
            if isinstance(error, TimeoutError):
                self.lost = str(error)
                raise SandboxTimedOut(self.lost) from None
            self.lost = self.killed_because or self._describe_exit(code, error, wrapped=self.sandboxed)
            raise SandboxCrashed(self.lost) from None
        if self.in_test and "child_ended" in reply:
            # The test's copy ended (crashed, or exited): the set-up process lives on for the next test.
            self.in_test = False
            code = reply.get("child_ended")
            if document is not None and document.get("op") == Op.STOP:
                return reply
            raise SandboxCrashed(self._describe_exit(code if isinstance(code, int) else None, None))
        return reply

    def _describe_exit(self, code, error, wrapped=False):
        if isinstance(error, ChannelError):
            return f"the student's process broke the grading protocol ({error})"
        if code is None:
            return "the student's process stopped answering"
        return f"the student's process {process_ending(code, wrapped)}"

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
