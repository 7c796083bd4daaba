"""``nbgrader collect`` and Formgrader's *Collect* that take only what students handed in themselves.

nbgrader's own collect copies each ``inbound/<student>+<assignment>+<time>+<random>`` folder
with ``shutil.copytree``: it follows a symlink (a "submission" that points at the course's
``source/`` is filed as that student's, solutions and all), waits on a FIFO, and files a
submission under whatever student id its name carries, only warning when another account owns
it ("cheating attempt?"). :class:`SafeExchangeCollect` is nbgrader's collect plugin in this
course (``c.ExchangeFactory.collect`` in ``nbgrader_config.py``), so the README's
``nbgrader collect <assignment>`` and Formgrader's button both go through it. It files a student's
newest submission that passes every check, and sets aside, with a ``NOT GRADED:`` line each:

* an entry whose name is not ``<student>+<assignment>+<time>+<random>`` with a student id
  (:mod:`grading.core.student_ids`);
* one that is not a folder (a symlink, a FIFO, a device);
* one not owned by the account whose id it carries: a classmate cannot hand in under someone
  else's id, and a submission set aside is never filed over anyone's work (the student's own
  newest valid one is collected instead);
* one over the limits of :mod:`grading.course.safe_files` (files, bytes, depth);
* one without the ``submission_secret.txt`` that ``nbgrader submit`` writes (a folder made by
  hand without it would stop ``nbgrader release_feedback`` for everyone), or whose
  ``timestamp.txt`` holds no time.

A submission is checked before any of its contents is read: its ``submission_secret.txt`` and
``timestamp.txt`` first, then the sizes of all its files (``lstat``). A file with more than one
hard link is left out unread (one large file, linked into many folders, costs its owner no disk).
Of each student's submissions, newest first, at most :data:`MAX_TRIES` that pass the first check
are read; the first :data:`MAX_LINES` set aside get a line each and the rest one line together,
so that thousands of folders planted in one's own name cost collect little time, memory or log.

The time in a submission's name is the student's to write: when it is far from the time the
kernel gives its folder, a warning says so (late penalties are the instructor's to decide).
Names are logged escaped when they hold control characters.

Within a submission, a single entry that is not a regular file (a symlink among the notebooks), or
that another account owns, is left out with a line of its own; the rest is collected. Nothing in the
exchange is moved or deleted. Folders are read through descriptors and never through a link, also
when the student swaps one while it is read. ``--update`` and ``--before-duedate`` work as in
nbgrader.

The check of owners needs one Unix account per student (as the exchange itself does); it can be
turned off with nbgrader's own ``ExchangeCollect.check_owner = False``, which nbgrader documents
for set-ups whose students share one account.
"""

import datetime
import os
import shutil
import stat
import tempfile

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.utils import check_mode, parse_utc

from grading.course.safe_files import Refused, kind, lstat, open_folder, read_regular, read_tree, user_name
from grading.core.student_ids import shown, why_not_a_student_id


#: Written by ``nbgrader submit``; ``nbgrader release_feedback`` needs it for every collected submission.
SECRET = "submission_secret.txt"
#: How far the time in a submission's name may be from its folder's change time before a warning.
CLOCK_SLACK = datetime.timedelta(minutes=10)
#: Most submissions of one student that are read whole (each one that has nbgrader submit's files).
MAX_TRIES = 3
#: Most submissions of one student set aside with a line each; the rest share one line.
MAX_LINES = 10
#: Largest ``submission_secret.txt`` or ``timestamp.txt`` (nbgrader writes a few dozen bytes).
MAX_BOOKKEEPING_BYTES = 4096


def parse_entry(name, assignment):
    """(student id, time) of an inbound entry of ``assignment``, None for another assignment's.

    Raises
    ------
    Refused
        When the name has the assignment's form but no student id or no valid time.
    """
    parts = name.rsplit("+", 3)
    if len(parts) not in (3, 4) or parts[1] != assignment:
        return None
    student, stamp = parts[0], parts[2]
    why = why_not_a_student_id(student)
    if why:
        raise Refused(f"its student id {student!r} is refused: {why}")
    try:
        when = parse_utc(stamp)
    except (ValueError, OverflowError):
        raise Refused(f"its time {stamp!r} is not a time") from None
    return student, when


def owner_problem(student, status):
    """Why an entry (its ``lstat``) is not ``student``'s own, or None."""
    import pwd

    try:
        uid = pwd.getpwnam(student).pw_uid
    except KeyError:
        return f"no account is named {student}, whose id it carries"
    if status.st_uid != uid:
        return f"is owned by {user_name(status.st_uid)}, not by {student}, whose id it carries"
    return None


def check_bookkeeping(fd, owner):
    """Refuse an open submission folder without nbgrader submit's two files; nothing else is read.

    Raises
    ------
    Refused
        When ``submission_secret.txt`` is missing or not a plain file of ``owner`` with one link,
        or ``timestamp.txt`` holds no time.
    """
    needed_by = {SECRET: "without it, nbgrader release_feedback stops for the whole class",
                 "timestamp.txt": "without it, nbgrader would stop at it"}
    for name, why in needed_by.items():
        try:
            os.stat(name, dir_fd=fd, follow_symlinks=False)
        except OSError:
            raise Refused(f"has no {name}, which nbgrader submit writes ({why})") from None
        try:
            data, _ = read_regular(name, MAX_BOOKKEEPING_BYTES, fd, owner, single_link=True)
        except Refused as why:
            raise Refused(f"its {name} {why}") from None
    try:
        parse_utc(data.decode("utf-8").strip())
    except (ValueError, OverflowError, UnicodeDecodeError):
        raise Refused("its timestamp.txt does not hold a time (nbgrader would stop at it)") from None


def write_tree(files, folder):
    """Write {relative path: bytes} into the new folder ``folder``."""
    for relative, data in files.items():
        path = os.path.join(folder, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "xb") as stream:
            stream.write(data)


class SafeExchangeCollect(ExchangeCollect):
    """nbgrader's collect, taking only regular files that the student's own account handed in."""

    def not_graded(self, entry, why):
        self.log.error("NOT GRADED: inbound/%s: %s; set aside (left in the exchange), nothing of it collected",
                       shown(entry), why)

    def init_src(self):
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if not check_mode(self.inbound_path, read=True, execute=True):
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
            try:
                self.duedate = gradebook.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                self.duedate = None
        by_student = {}
        for entry in sorted(os.listdir(self.inbound_path)):
            try:
                parsed = parse_entry(entry, self.coursedir.assignment_id)
                if parsed is None or self.coursedir.student_id not in ("", "*", parsed[0]):
                    continue
                status = lstat(os.path.join(self.inbound_path, entry))
                if not stat.S_ISDIR(status.st_mode):
                    raise Refused(f"is {kind(status.st_mode) or 'a file'}, not a folder of files")
                why = self.check_owner and owner_problem(parsed[0], status)
                if why:
                    raise Refused(why)
            except Refused as why:
                self.not_graded(entry, why)
                continue
            by_student.setdefault(parsed[0], []).append({"username": parsed[0], "filename": entry,
                                                         "timestamp": parsed[1]})
        self.choices = {student: self._in_order(records) for student, records in by_student.items()}
        self.src_records = [records[0] for records in self.choices.values()]

    def _in_order(self, records):
        """A student's submissions, the one nbgrader would pick first, then the others newest first."""
        records = sorted(records, key=lambda record: record["timestamp"], reverse=True)
        if self.duedate is not None and self.before_duedate:
            on_time = [r for r in records if r["timestamp"] <= self.duedate]
            records = on_time + [r for r in records if r not in on_time]
        return records

    def copy_files(self):
        if not self.choices:
            self.log.warning("No submissions of '%s' for course '%s' to collect", self.coursedir.assignment_id,
                             self.coursedir.course_id)
        inbound = os.open(self.inbound_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for student, records in sorted(self.choices.items()):
                self._collect_one(student, records, inbound)
        finally:
            os.close(inbound)

    def _collect_one(self, student, records, inbound):
        """File the first of ``records`` that can be read whole; the others are set aside or left."""
        dest = self.coursedir.format_path(self.coursedir.submitted_directory, student, self.coursedir.assignment_id)
        parent = os.path.dirname(dest)
        for folder in (parent, dest):  # made by collect: a link there was put there by someone else
            if os.path.lexists(folder) and not os.path.isdir(folder) or os.path.islink(folder):
                self.log.error("NOT GRADED: %s is not a folder (a symlink?); nothing collected for %s", folder, student)
                return
        existing = self.coursedir.get_existing_timestamp(dest) if os.path.isdir(dest) else None
        tries, set_aside = 0, []
        for index, record in enumerate(records):
            if not self._wanted(dest, existing, record):
                what = "No newer submission to collect" if self.update else \
                    "Submission already exists, use --update to update"
                self.log.info("%s: %s %s", what, student, self.coursedir.assignment_id)
                break
            if tries == MAX_TRIES:
                self._not_tried(student, [r for r in records[index:] if self._wanted(dest, existing, r)])
                break
            try:
                fd = open_folder(record["filename"], inbound, self._uid(student))
                try:
                    check_bookkeeping(fd, self._uid(student))
                    tries += 1
                    files, refused = self._read(record, fd)
                finally:
                    os.close(fd)
            except Refused as why:
                set_aside.append((record["filename"], why))
                if len(set_aside) <= MAX_LINES:
                    self.not_graded(record["filename"], why)
                continue
            for relative, why in refused:
                self.log.error("NOT GRADED: inbound/%s/%s: %s; left out, the rest of %s's submission is collected",
                               shown(record["filename"]), shown(relative), why, student)
            self._replace(dest, files, student, updating=os.path.isdir(dest))
            break
        if len(set_aside) > MAX_LINES:
            more = [name for name, _ in set_aside[MAX_LINES:]]
            self.log.error("NOT GRADED: %d more submissions of %s set aside (left in the exchange), without a line "
                           "each: from inbound/%s to inbound/%s", len(more), student, shown(more[0]), shown(more[-1]))

    def _wanted(self, dest, existing, record):
        """Whether ``record`` would be filed in ``dest`` (collected before at ``existing``), as nbgrader decides."""
        return not os.path.isdir(dest) or (self.update and (existing is None or record["timestamp"] > existing)) \
            or (self.before_duedate and existing != record["timestamp"])

    def _not_tried(self, student, records):
        """Say in one line that older submissions of ``student`` were not tried."""
        if not records:
            return
        self.log.error("NOT GRADED: %d older submissions of %s not tried: only %d that have %s and timestamp.txt "
                       "are read (from inbound/%s to inbound/%s; left in the exchange)", len(records), student,
                       MAX_TRIES, SECRET, shown(records[0]["filename"]), shown(records[-1]["filename"]))

    def _read(self, record, fd):
        """({relative path: bytes}, [(relative path, why)]) of one open submission; :class:`Refused` when not taken."""
        files, refused = read_tree(fd, self._uid(record["username"]), ignore=self.coursedir.ignore)
        made = datetime.datetime.fromtimestamp(os.fstat(fd).st_ctime, datetime.timezone.utc).replace(tzinfo=None)
        if SECRET not in files or "timestamp.txt" not in files:  # changed since check_bookkeeping
            raise Refused(f"its {SECRET} or timestamp.txt was left out or changed while it was read")
        if abs(made - record["timestamp"]) > CLOCK_SLACK:
            # The student writes the time; the kernel writes the folder's change time.
            self.log.warning("inbound/%s: its name says it was handed in at %s UTC, but its folder was last changed "
                             "at %s UTC: check before applying late penalties", shown(record["filename"]),
                             f"{record['timestamp']:%Y-%m-%d %H:%M}", f"{made:%Y-%m-%d %H:%M}")
        return files, refused

    def _uid(self, student):
        if not self.check_owner:
            return None
        import pwd

        return pwd.getpwnam(student).pw_uid

    def _replace(self, dest, files, student, updating):
        """Write a submission into a new folder next to ``dest``, then put it in its place."""
        parent = os.path.dirname(dest)
        os.makedirs(parent, exist_ok=True)
        fresh = tempfile.mkdtemp(prefix=".collecting-", dir=parent)
        try:
            write_tree(files, fresh)
            os.chmod(fresh, 0o755)
            if updating:
                self.log.info("Updating submission: %s %s", student, self.coursedir.assignment_id)
                old = tempfile.mkdtemp(prefix=".replaced-", dir=parent)
                os.replace(dest, os.path.join(old, "submission"))
                os.replace(fresh, dest)
                shutil.rmtree(old)
            else:
                self.log.info("Collecting submission: %s %s", student, self.coursedir.assignment_id)
                os.replace(fresh, dest)
        finally:
            if os.path.isdir(fresh):
                shutil.rmtree(fresh)
