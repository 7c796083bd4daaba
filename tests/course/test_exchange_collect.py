"""``nbgrader collect`` in this course (grading/course/exchange_collect.py): only what a student handed in.

One account is enough here: a submission under another account's id is one that this account
owns. tests/test_exchange.py runs the same attacks with real, separate accounts.
"""

import os
import pwd
import time
import tracemalloc

import pytest

from nbtools import ASSIGNMENT, BIN, make_course, nbgrader

COURSE = "dl-ex04-cnn"
NB = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def stamp(day):
    return f"2026-01-{day:02d} 10:00:00.000000 UTC"


def another_account():
    me = os.getuid()
    return next((entry.pw_name for entry in pwd.getpwall() if entry.pw_uid != me and entry.pw_name.isalnum()), None)


def record(inbound, student, day, files, tag="r"):
    folder = inbound / f"{student}+{ASSIGNMENT}+{stamp(day)}+{tag}"
    folder.mkdir()
    for name, data in {**files, "timestamp.txt": stamp(day).encode(), "submission_secret.txt": b"0" * 128}.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.mark.slow
def test_collect_takes_only_regular_files_of_the_student_s_own_account(tmp_path):
    other = another_account()
    if other is None:
        pytest.skip("needs a second account in /etc/passwd")
    me = pwd.getpwuid(os.getuid()).pw_name
    course = make_course(tmp_path / "course", extra_config=f'c.Exchange.root = "{tmp_path / "exchange"}"\n')
    inbound = tmp_path / "exchange" / COURSE / "inbound"
    inbound.mkdir(parents=True)
    honest = NB.replace(b"{}", b'{"honest": 1}', 1)
    mine = record(inbound, me, 10, {"01_convolutions.ipynb": honest})
    (mine / "02_sobel_laplace.ipynb").symlink_to(course / "source" / ASSIGNMENT / "02_sobel_laplace.ipynb")
    os.mkfifo(mine / "03_pooling.ipynb")
    (mine / "notes\n[CollectApp | INFO] Collecting submission: x").write_bytes(b"")
    with open(mine / "04_big.ipynb", "wb") as handle:
        handle.truncate(26 * 2**20)
    (tmp_path / "elsewhere.ipynb").write_bytes(NB)
    os.link(tmp_path / "elsewhere.ipynb", mine / "06_linked.ipynb")
    if os.geteuid() == 0:  # a classmate's file in this account's submission
        (mine / "05_equivariance.ipynb").write_bytes(NB)
        os.chown(mine / "05_equivariance.ipynb", pwd.getpwnam(other).pw_uid, -1)
    # Newer, but set aside: a symlink to the course's solutions, a FIFO, a name that is no time,
    # and one under another account's id (a classmate's name on this account's files).
    (inbound / f"{me}+{ASSIGNMENT}+{stamp(12)}+link").symlink_to(course / "source" / ASSIGNMENT)
    os.mkfifo(inbound / f"{me}+{ASSIGNMENT}+{stamp(13)}+fifo")
    (inbound / f"{me}+{ASSIGNMENT}+yesterday+late").mkdir()
    (record(inbound, me, 14, {"01_convolutions.ipynb": NB}, tag="by-hand") / "submission_secret.txt").unlink()
    record(inbound, other, 11, {"01_convolutions.ipynb": NB}, tag="forged")

    started = time.monotonic()
    done = nbgrader("collect", ASSIGNMENT, cwd=course, timeout=120)
    assert time.monotonic() - started < 60
    log = done.stdout + done.stderr
    folder = course / "submitted" / me / ASSIGNMENT
    assert sorted(p.name for p in folder.iterdir()) == ["01_convolutions.ipynb", "submission_secret.txt",
                                                        "timestamp.txt"]
    assert (folder / "01_convolutions.ipynb").read_bytes() == honest
    assert (folder / "timestamp.txt").read_text() == stamp(10)
    assert not (course / "submitted" / other).exists()
    for line in (f"NOT GRADED: inbound/{me}+{ASSIGNMENT}+{stamp(12)}+link: is a symlink, not a folder of files",
                 f"NOT GRADED: inbound/{me}+{ASSIGNMENT}+{stamp(13)}+fifo: is a FIFO (named pipe), not a folder",
                 f"NOT GRADED: inbound/{me}+{ASSIGNMENT}+yesterday+late: its time 'yesterday' is not a time",
                 f"NOT GRADED: inbound/{me}+{ASSIGNMENT}+{stamp(14)}+by-hand: has no submission_secret.txt, which "
                 "nbgrader submit writes",
                 f"NOT GRADED: inbound/{other}+{ASSIGNMENT}+{stamp(11)}+forged: is owned by {me}, not by {other}, "
                 "whose id it carries",
                 f"NOT GRADED: inbound/{mine.name}/02_sobel_laplace.ipynb: is a symlink, not a file",
                 f"NOT GRADED: inbound/{mine.name}/03_pooling.ipynb: is a FIFO (named pipe), not a file",
                 f"NOT GRADED: inbound/{mine.name}/04_big.ipynb: has 26 MB, over the limit of 25 MB",
                 f"NOT GRADED: inbound/{mine.name}/06_linked.ipynb: has 2 hard links (the same file under other "
                 "names too); only a file with a single name is taken; left out",
                 f"NOT GRADED: inbound/{mine.name}/'notes\\n[CollectApp | INFO] Collecting submission: x': its name "
                 "holds control characters"):
        assert line in log, f"{line}\n---\n{log}"
    if os.geteuid() == 0:
        assert (f"NOT GRADED: inbound/{mine.name}/05_equivariance.ipynb: is owned by {other}, not by {me}; left out"
                in log), log
    assert sorted(p.name for p in inbound.iterdir()) == sorted(
        [mine.name, f"{me}+{ASSIGNMENT}+{stamp(12)}+link", f"{me}+{ASSIGNMENT}+{stamp(13)}+fifo",
         f"{me}+{ASSIGNMENT}+yesterday+late", f"{other}+{ASSIGNMENT}+{stamp(11)}+forged",
         f"{me}+{ASSIGNMENT}+{stamp(14)}+by-hand"]), "nothing is moved"

    # Formgrader's Collect button (nbgrader's API, which updates to newer submissions) takes the same way.
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    (inbound / f"{me}+{ASSIGNMENT}+{stamp(16)}+link").symlink_to(course / "source" / ASSIGNMENT)
    second = NB.replace(b"{}", b'{"second": 1}', 1)
    record(inbound, me, 15, {"01_convolutions.ipynb": second})
    (record(inbound, me, 17, {"01_convolutions.ipynb": NB}) / "timestamp.txt").write_text("soon")
    forged_line = f"\n[CollectApp | INFO] Collecting submission: {other} {ASSIGNMENT}"
    (inbound / f"{me}+{ASSIGNMENT}+{stamp(18)}+x{forged_line}").symlink_to(course)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    result = NbGraderAPI(CourseDirectory(config=config), config=config).collect(ASSIGNMENT)
    assert result["success"], result
    assert f"NOT GRADED: inbound/{me}+{ASSIGNMENT}+{stamp(16)}+link: is a symlink" in result["log"], result["log"]
    no_time = f"NOT GRADED: inbound/{me}+{ASSIGNMENT}+{stamp(17)}+r: its timestamp.txt does not hold a time"
    assert no_time in result["log"]
    assert forged_line not in result["log"] and "is a symlink" in result["log"].split(repr(forged_line)[1:-1])[1]
    assert (folder / "01_convolutions.ipynb").read_bytes() == second


def collect_in_process(course):
    """Formgrader's Collect (nbgrader's API, which updates to newer submissions): its result."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    result = NbGraderAPI(CourseDirectory(config=config), config=config).collect(ASSIGNMENT)
    assert result["success"], result
    return result["log"]


@pytest.mark.slow
def test_many_planted_submissions_are_set_aside_without_reading_them(tmp_path, monkeypatch):
    """One large file hard-linked into many newer folders in one's own name: none of it is read."""
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # the gradebook's alembic
    me = pwd.getpwuid(os.getuid()).pw_name
    course = make_course(tmp_path / "course", extra_config=f'c.Exchange.root = "{tmp_path / "exchange"}"\n')
    inbound = tmp_path / "exchange" / COURSE / "inbound"
    inbound.mkdir(parents=True)
    honest = NB.replace(b"{}", b'{"honest": 1}', 1)
    record(inbound, me, 10, {"01_convolutions.ipynb": honest})
    big = tmp_path / "big"
    with open(big, "wb") as handle:  # sparse: no disk, but 24 MB for whoever reads it
        handle.truncate(24 * 2**20)
    planted = [inbound / f"{me}+{ASSIGNMENT}+2026-01-11 10:00:00.{i:06d} UTC+{i}" for i in range(200)]
    for folder in planted:  # no submission_secret.txt
        folder.mkdir()
        os.link(big, folder / "01_convolutions.ipynb")
        os.link(big, folder / "02_sobel_laplace.ipynb")

    tracemalloc.start()
    try:
        log = collect_in_process(course)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f"{peak / 2**20:.0f} MB held: a planted file was read"
    folder = course / "submitted" / me / ASSIGNMENT
    assert (folder / "01_convolutions.ipynb").read_bytes() == honest, "the honest older one is collected"
    lines = [line for line in log.splitlines() if "NOT GRADED" in line]
    assert len(lines) == 11, log
    assert f"NOT GRADED: inbound/{planted[-1].name}: has no submission_secret.txt" in lines[0], log
    assert lines[-1].endswith(f"NOT GRADED: 190 more submissions of {me} set aside (left in the "
                         f"exchange), without a line each: from inbound/{planted[189].name} to "
                         f"inbound/{planted[0].name}"), log

    # Newer ones with nbgrader's files but over the size limit: only the newest MAX_TRIES are read.
    for day in (12, 13, 14):
        folder_over = record(inbound, me, day, {}, tag="over")
        for name in ("01_convolutions.ipynb", "02_sobel_laplace.ipynb", "03_pooling.ipynb"):
            with open(folder_over / name, "wb") as handle:
                handle.truncate(24 * 2**20)
    log = collect_in_process(course)
    for day in (14, 13, 12):
        assert (f"NOT GRADED: inbound/{me}+{ASSIGNMENT}+{stamp(day)}+over: holds 72.0 MB in all, over the limit "
                "of 64 MB; set aside") in log, log
    assert (f"NOT GRADED: 200 older submissions of {me} not tried: only 3 that have submission_secret.txt and "
            f"timestamp.txt are read (from inbound/{planted[-1].name} to inbound/{planted[0].name}; left in the "
            "exchange)") in log, log
    assert (folder / "01_convolutions.ipynb").read_bytes() == honest
