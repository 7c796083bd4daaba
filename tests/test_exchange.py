"""The nbgrader exchange on a shared server, with real, separate Unix accounts.

As on a JupyterHub: an instructor and two students, each a throwaway account (``useradd``),
share an exchange folder that does not exist before the instructor's first release.

1. The instructor releases ex04.
2. Each student fetches it, works (the instructor's solutions typed in, for one of them) and submits.
   Two attacks follow: Bob hands in a blank notebook under Alice's id, newer than hers, and Eve's
   "submission" is a symlink to the course's ``source/ex04``.
3. The instructor collects (``nbgrader collect ex04``, as the README says), runs
   ``python -m grading autograde`` (the sandbox as an ordinary user), writes feedback and releases it.
   Both attacks are set aside with a line each; Alice's own work is graded.
4. Each student fetches their feedback.

Checked on the way: the exchange is created with the permissions nbgrader needs; one student
cannot list the submissions (nor so find the other's) and cannot read the other's home or the
instructor's course folder (source/, the gradebook, the autograded notebooks).

The accounts see the machine, but of the instructor only what a shared server would give them:
the interpreter, the course's venv and its ``grading``/``helpers`` packages, read-only at their own
paths; the rest of the checkout and of /root is not there. The cycle runs with the checkout in a
folder only root may enter, as a clone in /root or in a ``mktemp -d`` folder lies: where the
checkout is not (CI's clone), the test runs itself again in a mount namespace in which its parent
folder is root's alone (mode 0700).

Needs root (to create the accounts), which CI has; skipped otherwise.
"""

import datetime
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import nbformat

from nbtools import ASSIGNMENT, BIN, ROOT, SOURCE, make_course, nbgrader_meta, notebook_names
from test_grading_cases import instructor_answers

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("useradd") is None or shutil.which("bwrap") is None,
                       reason="needs root (throwaway accounts) and bubblewrap"),
]

COURSE = "dl-ex04-cnn"
NOTEBOOK = "01_convolutions"  # one notebook keeps the cycle short; every step is the same for six

#: What the accounts see of the instructor's files: the interpreter, the venv and the packages
#: that the course folder links to (grading) or the venv imports from the checkout (helpers).
SHOWN = (Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), ROOT / "grading", ROOT / "helpers")
#: Replaced by empty folders in the accounts' view, but for what SHOWN puts in them.
HIDDEN = (Path("/root"), ROOT)


def private_folder_above(path):
    """The outermost folder above ``path`` that other accounts cannot enter, or None."""
    for folder in reversed(Path(path).parents):
        if not folder.stat().st_mode & stat.S_IXOTH:
            return folder
    return None


def view_showing_only(shown, hidden):
    """bubblewrap arguments that show the machine, but only ``shown`` of the folders ``hidden``.

    Each folder of ``hidden``, and the outermost folder that others cannot enter above each path
    of ``shown``, becomes an empty one in which the paths of ``shown`` appear, read-only, at
    their own paths, with every folder on the way traversable.

    Parameters
    ----------
    shown, hidden : iterable of pathlib.Path
        Absolute paths.

    Returns
    -------
    list of str
        To follow ``bwrap --dev-bind / /``.
    """
    covers = set(hidden) | {folder for folder in map(private_folder_above, shown) if folder is not None}
    covers = sorted(c for c in covers if not any(c != other and c.is_relative_to(other) for other in covers))
    arguments = []
    for cover in covers:
        arguments += ["--tmpfs", str(cover)]
    for path in shown:
        cover = next((c for c in covers if path.is_relative_to(c)), None)
        if cover is not None:
            for folder in reversed(path.parents):
                if folder != cover and folder.is_relative_to(cover):
                    arguments += ["--perms", "0755", "--dir", str(folder)]
        arguments += ["--ro-bind", str(path), str(path)]
    return arguments


class Account:
    def __init__(self, name, home):
        self.name, self.home = name, home
        subprocess.run(["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/bin/sh", name],
                       check=True)
        home.mkdir(parents=True)
        entry = pwd.getpwnam(name)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        os.chown(home, self.uid, self.gid)
        home.chmod(0o700)

    def run(self, *command, cwd=None, check=True):
        """Run a command as this account, with no rights of root left, in the accounts' view."""
        wrapper = ["bwrap", "--dev-bind", "/", "/", *view_showing_only(SHOWN, HIDDEN), "--chdir", str(cwd or self.home),
                   "--", "setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups",
                   "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        env = {"HOME": str(self.home), "USER": self.name, "LOGNAME": self.name, "LANG": "C.UTF-8",
               "PATH": f"{BIN}:/usr/bin:/bin", "JUPYTER_PLATFORM_DIRS": "1"}
        done = subprocess.run(wrapper + [str(c) for c in command], env=env, capture_output=True, text=True,
                              timeout=1200)
        if check:
            assert done.returncode == 0, \
                f"{self.name}: {' '.join(map(str, command))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    def can_read(self, path):
        probe = ("import os, sys\np = sys.argv[1]\ntry:\n"
                 "    os.listdir(p) if os.path.isdir(p) else open(p, 'rb').read(1)\n"
                 "    print('READ')\nexcept OSError as e:\n    print('DENIED', e.errno)\n")
        return "READ" in self.run(BIN / "python", "-c", probe, path, check=False).stdout

    def listing(self, folder):
        """The names this account sees in ``folder``."""
        return self.run(BIN / "python", "-c", "import os, sys\nprint(*os.listdir(sys.argv[1]), sep='\\n')",
                        folder).stdout.splitlines()


@pytest.fixture(scope="module")
def server():
    # Not under pytest's temporary folder: that is private to root (0700), as a Hub's /home is not.
    base = Path(tempfile.mkdtemp(prefix="ex04-hub-", dir="/tmp"))
    base.chmod(0o755)
    tag = secrets.token_hex(3)
    accounts = {}
    try:
        for role in ("teacher", "alice", "bob", "eve"):
            accounts[role] = Account(f"ex04{role[:3]}{tag}", base / "home" / role)
        (base / "home").chmod(0o755)
        # As the README says for a Hub: the admin gives the instructor a folder; the exchange in
        # it appears with the first release.
        exchange = base / "srv" / "nbgrader" / "exchange"
        exchange.parent.mkdir(parents=True)
        exchange.parent.parent.chmod(0o755)
        exchange.parent.chmod(0o755)
        os.chown(exchange.parent, accounts["teacher"].uid, accounts["teacher"].gid)
        yield {"base": base, "exchange": exchange, **accounts}
    finally:
        for account in accounts.values():
            subprocess.run(["pkill", "-KILL", "-u", account.name], capture_output=True)
            subprocess.run(["userdel", account.name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


#: Run by a student: a submission folder in inbound under any name, holding one of their notebooks.
FORGE = ("import os, shutil, sys\nfolder, notebook, name = sys.argv[1:]\nos.mkdir(folder)\n"
         "shutil.copy(notebook, os.path.join(folder, name))\n"
         "open(os.path.join(folder, 'timestamp.txt'), 'w').write(folder.split('+')[-2])\n")


def _nbgrader(account, *args, cwd=None):
    return account.run(BIN / "nbgrader", *args, cwd=cwd)


def in_a_private_folder(command):
    """``command`` as root, in a mount namespace in which the checkout lies in a folder only root may enter.

    That folder is the checkout's parent (as /root or a ``mktemp -d`` folder is for a clone), or
    the checkout itself where its parent is / or /tmp (the accounts' homes are made in /tmp): an
    empty tmpfs of mode 0700 in which everything it held is bound again, so root misses nothing.
    """
    private = ROOT if ROOT.parent in (Path("/"), Path("/tmp")) else ROOT.parent
    wrapper = ["bwrap", "--dev-bind", "/", "/", "--perms", "0700", "--tmpfs", str(private)]
    for entry in sorted(private.iterdir()):
        if entry.is_symlink():
            wrapper += ["--symlink", os.readlink(entry), str(entry)]
        else:
            wrapper += ["--dev-bind", str(entry), str(entry)]
    return wrapper + ["--chdir", str(ROOT), "--", *command]


def test_the_whole_exchange_cycle_with_separate_accounts(request):
    if private_folder_above(ROOT) is None:
        # CI's clone lies in a folder that everyone may enter: run again where it does not.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        done = subprocess.run(in_a_private_folder([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                                                   request.node.nodeid]),
                              env=env, capture_output=True, text=True, timeout=2400)
        assert done.returncode == 0 and "1 passed" in done.stdout, \
            f"with the checkout in a private folder:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
        return
    server = request.getfixturevalue("server")
    teacher, alice, bob, exchange = server["teacher"], server["alice"], server["bob"], server["exchange"]
    course = teacher.home / "course"
    course.mkdir()
    make_course(course, extra_config=f'c.Exchange.root = "{exchange}"\n')
    for path in [course, *course.rglob("*")]:
        os.lchown(path, teacher.uid, teacher.gid)
    # One notebook of the assignment: the others go through the same steps.
    for other in notebook_names():
        if other != NOTEBOOK:
            (course / "source" / ASSIGNMENT / f"{other}.ipynb").unlink()

    # 1. The instructor releases; the exchange is created on first use.
    _nbgrader(teacher, "generate_assignment", ASSIGNMENT, "--force", cwd=course)
    assert not exchange.exists()
    _nbgrader(teacher, "release_assignment", ASSIGNMENT, cwd=course)
    mode = stat.S_IMODE(exchange.stat().st_mode)
    assert mode == 0o1777 or mode == 0o777, oct(mode)
    inbound = exchange / COURSE / "inbound"
    assert stat.S_IMODE(inbound.stat().st_mode) & 0o007 == 0o003, "others may write into inbound, not list it"

    # 2. Each student fetches, works and submits.
    flags = [f"--course={COURSE}", f"--Exchange.root={exchange}"]
    for student, answers in ((alice, instructor_answers(NOTEBOOK)), (bob, {})):
        _nbgrader(student, "fetch_assignment", ASSIGNMENT, *flags)
        path = student.home / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if nbgrader_meta(cell).get("solution") and gid in answers:
                cell.source = answers[gid]
        worked = student.home / "worked.ipynb"
        nbformat.write(nb, str(worked))
        os.chown(worked, student.uid, student.gid)
        student.run("cp", worked, path)
        _nbgrader(student, "submit", ASSIGNMENT, *flags)

    # Bob hands in under Alice's id, later than she did; Eve's submission is a link to the solutions.
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    forged = f"{alice.name}+{ASSIGNMENT}+{when:%Y-%m-%d %H:%M:%S.%f} UTC+forged"
    bob.run(BIN / "python", "-c", FORGE, inbound / forged, bob.home / "worked.ipynb", f"{NOTEBOOK}.ipynb")
    linked = f"{server['eve'].name}+{ASSIGNMENT}+{when:%Y-%m-%d %H:%M:%S.%f} UTC+link"
    server["eve"].run("ln", "-s", course / "source" / ASSIGNMENT, inbound / linked)

    # Bob cannot list the submissions, so cannot find Alice's; nor read her home or the course.
    assert not bob.can_read(inbound)
    assert not bob.can_read(alice.home / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    assert not bob.can_read(course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    assert alice.can_read(alice.home / ASSIGNMENT / f"{NOTEBOOK}.ipynb"), "the probe can read where it may"
    # Of the instructor's files, only the way to what SHOWN lists: not the checkout's source/ (hidden
    # tests), its .git or anything else of it or of /root.
    assert not bob.can_read(SOURCE / f"{NOTEBOOK}.ipynb")
    for folder in {Path("/root"), ROOT, private_folder_above(ROOT)} - {None}:
        extra = [name for name in bob.listing(folder) if not any(p.is_relative_to(folder / name) for p in SHOWN)]
        assert not extra, f"{bob.name} sees {extra} in {folder}"

    # 3. The instructor collects, autogrades (sandboxed, as an ordinary user), releases feedback.
    collected = _nbgrader(teacher, "collect", ASSIGNMENT, cwd=course).stderr
    assert sorted(p.name for p in (course / "submitted").iterdir()) == sorted([alice.name, bob.name])
    assert (f"NOT GRADED: inbound/{forged}: is owned by {bob.name}, not by {alice.name}, whose id it carries"
            in collected), collected
    assert f"NOT GRADED: inbound/{linked}: is a symlink, not a folder of files" in collected, collected
    graded = teacher.run(BIN / "python", "-m", "grading", "autograde", ASSIGNMENT, cwd=course)
    assert "0 failed" in graded.stdout, graded.stdout[-3000:]
    _nbgrader(teacher, "generate_feedback", ASSIGNMENT, cwd=course)
    _nbgrader(teacher, "release_feedback", ASSIGNMENT, cwd=course)
    for private in ("gradebook.db", f"autograded/{alice.name}/{ASSIGNMENT}/{NOTEBOOK}.ipynb",
                    f"feedback/{alice.name}/{ASSIGNMENT}/{NOTEBOOK}.html"):
        assert not bob.can_read(course / private), private

    # 4. Each student fetches their own feedback, and it shows their own score.
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {s: gb.find_submission(ASSIGNMENT, s).code_score for s in (alice.name, bob.name)}
    assert scores[alice.name] == 8.0 and scores[bob.name] == 0.0, scores
    for student in (alice, bob):
        _nbgrader(student, "fetch_feedback", ASSIGNMENT, *flags)
        found = list((student.home / ASSIGNMENT / "feedback").rglob(f"{NOTEBOOK}.html"))
        assert len(found) == 1, found
        html = found[0].read_text()
        assert f"{scores[student.name]:g}" in html
