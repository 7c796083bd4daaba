"""``make collect``: an LMS download in ``downloaded/<assignment>/archive/`` -> ``submitted/<student>/<assignment>/``.

Two layouts are understood, in any mix:

* **Moodle's "Download all submissions"** (the zip itself, or its folders unpacked): one folder
  per student, ``Full Name_<participant id>_assignsubmission_file_/``, holding the uploaded
  ``.ipynb`` files or a ``.zip`` of them. The submission is filed under the participant id, or
  under the student id that a mapping CSV (``participant_id,student_id``) gives for it.
* **Files named by student id**: ``<student>_<notebook>.ipynb``, or ``<student>_<anything>.zip``
  holding the notebooks.

What is skipped or refused, always with a line that says why: macOS and Jupyter litter
(``__MACOSX/``, ``._*``, ``.ipynb_checkpoints/``, ``.DS_Store``); archive members whose name
points outside the archive (``..``, an absolute path); names that are no student id
(:mod:`grading.core.student_ids`: a path, a leading dot or dash, a control character, ...). Student
ids are filed in Unicode's composed form (NFC). When one student uploaded the same file twice,
the later upload wins and the log says so.

Only regular files are read (:mod:`grading.course.safe_files`): a symlink, FIFO or device in the
download is refused, never followed, waited on or read. Sizes are counted unpacked: a notebook
over :data:`~grading.course.safe_files.MAX_NOTEBOOK_BYTES`, a student's hand-in over
:data:`~grading.course.safe_files.MAX_UPLOAD_BYTES` in all, or a zip of more than
:data:`~grading.course.safe_files.MAX_FILES` members is refused, by the sizes a zip declares and, should
it lie, by the bytes it unpacks to: reading stops at the limit.

Nothing in ``submitted/`` is ever deleted. A file that is already there with other content is
kept and reported as a conflict, unless ``force`` (``make collect FORCE=1``) replaces it. One line
per student says what was filed, and what was unpacked from a zip the student uploaded.

The participant ids and full names seen are written to ``downloaded/<assignment>/participants.csv``.
It is the way back to Moodle: ``make grades`` writes a grading worksheet for Moodle's import
(:func:`write_moodle_grades`), ``make feedback-zip`` the feedback files in the folders of Moodle's
own download (:func:`write_feedback_zip`), and ``make autograde`` gives the gradebook the names.
"""

import csv
import dataclasses
import io
import os
import re
import stat
import zipfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from grading.course.safe_files import (MAX_FILES, MAX_NOTEBOOK_BYTES, MAX_UPLOAD_BYTES, Refused, kind, megabytes,
                                open_regular, read_capped, read_regular)
from grading.core.student_ids import normal_id, shown, why_not_a_student_id

MOODLE_FOLDER = re.compile(r"^(?P<name>.+)_(?P<participant>\d+)_assign(?:submission|feedback)_[a-z]+_?$")
NAMED_FILE = re.compile(r"^(?P<student>[^_]+)_(?P<rest>.+)$", re.S)
JUNK_NAMES = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db"}

#: Largest file of a download that is opened at all: Moodle's whole download, a zip of every hand-in.
MAX_DOWNLOAD_BYTES = 2**40


@dataclasses.dataclass
class Upload:
    """One file a student handed in."""

    student: str
    name: str
    data: bytes
    when: float  # seconds since the epoch: the file's or the archive member's time
    origin: str  # where it came from, for the log
    unpacked_from: str = ""  # the zip the student uploaded that held it, if any


def is_junk(parts):
    """True for macOS resource forks, Finder and Jupyter litter anywhere in a path."""
    return any(part in JUNK_NAMES or part.startswith("._") for part in parts)


def unsafe_member(name):
    """Why an archive member's name is refused, or None: it must stay inside the archive."""
    if "\\" in name:
        name = name.replace("\\", "/")
    path = PurePosixPath(name)
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if ".." in path.parts:
        return "a path with '..' (it points outside the archive)"
    return None


def read_mapping(path):
    """participant id -> student id, from a CSV with columns ``participant_id`` and ``student_id``."""
    mapping = {}
    with open(path, newline="", encoding="utf-8-sig") as stream:
        rows = csv.DictReader(stream)
        if not rows.fieldnames or not {"participant_id", "student_id"} <= {f.strip() for f in rows.fieldnames}:
            raise SystemExit(f"{path}: the mapping needs the columns participant_id,student_id "
                             f"(found {rows.fieldnames})")
        for row in rows:
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            participant = row["participant_id"].removeprefix("Participant ").strip()
            if participant:
                mapping[participant] = row["student_id"]
    return mapping


class Collector:
    """Gathers uploads from an archive folder; :meth:`file` writes them into ``submitted/``."""

    def __init__(self, mapping=None, log=print):
        self.mapping = mapping or {}
        self.log = log
        self.uploads = []
        self.participants = {}  # participant id -> (student id, full name)
        self.problems = 0
        self.unpacked = {}  # student id -> bytes of notebooks read so far

    def refuse(self, text):
        self.problems += 1
        self.log(f"REFUSED {text}")

    def student_for(self, participant, full_name, where):
        """The student id a Moodle folder is filed under, or None (refused)."""
        student = self._student_id(self.mapping.get(participant, participant), where)
        if student is not None:
            self.participants[participant] = (student, normal_id(full_name))
        return student

    def _student_id(self, name, where):
        """``name`` as the student id it is filed under (NFC), or None (refused, with the reason)."""
        why = why_not_a_student_id(name)
        if why:
            self.refuse(f"{shown(where)}: the student id {name!r} is refused: {why}")
            return None
        return normal_id(name)

    # -- the layouts

    def gather(self, archive):
        archive = Path(archive)
        for entry in sorted(archive.iterdir()):
            mode = entry.lstat().st_mode
            if is_junk([entry.name]):
                self.log(f"skipped {entry.name} (not a submission)")
            elif kind(mode):
                self.refuse(f"{entry.name}: is {kind(mode)}, not a file")
            elif stat.S_ISDIR(mode) and MOODLE_FOLDER.match(entry.name):
                self._moodle_folder(entry)
            elif stat.S_ISDIR(mode):
                self.log(f"skipped folder {entry.name}: not a Moodle submission folder "
                         "(Full Name_<participant id>_assignsubmission_file_)")
            elif entry.suffix.lower() == ".zip":
                self._zip_file(entry)
            elif entry.suffix.lower() == ".ipynb":
                named = NAMED_FILE.match(entry.name)
                student = named and self._student_id(named["student"], entry.name)
                if student:
                    self._read_file(student, named["rest"], entry, entry.name)
                elif not named:
                    self.log(f"skipped {entry.name}: not named <student>_<notebook>.ipynb")
            else:
                self.log(f"skipped {entry.name}: neither a notebook nor a zip")

    def _read_file(self, student, name, path, where, zipped=False):
        """Read one uploaded file (a notebook, or a zip of them when ``zipped``) and take it."""
        limit, over = self._limit(student, zipped)
        try:
            data, status = read_regular(path, limit)
        except Refused as why:
            self.refuse(f"{where}: {str(why).replace(f'over the limit of {megabytes(limit)}', f'over {over}')}")
            return
        if zipped:
            self._notebooks_in_zip(student, data, where)
        else:
            self._add(student, name, data, status.st_mtime, where)

    def _limit(self, student, zipped=False):
        """(bytes, in words) that one more file of ``student`` may have.

        A notebook may have :data:`MAX_NOTEBOOK_BYTES`, or less when the student's hand-in is nearly
        :data:`MAX_UPLOAD_BYTES` already; a zip the student uploaded does not count towards it (its
        notebooks do, as they are read).
        """
        if zipped:
            return MAX_UPLOAD_BYTES, f"the limit of {megabytes(MAX_UPLOAD_BYTES)} for one hand-in"
        room = MAX_UPLOAD_BYTES - self.unpacked.get(student, 0)
        if room < MAX_NOTEBOOK_BYTES:
            return max(0, room), f"the limit of {megabytes(MAX_UPLOAD_BYTES)} for {student}'s hand-in in all"
        return MAX_NOTEBOOK_BYTES, f"the limit of {megabytes(MAX_NOTEBOOK_BYTES)} for one notebook"

    def _moodle_folder(self, folder):
        match = MOODLE_FOLDER.match(folder.name)
        student = self.student_for(match["participant"], match["name"], folder.name)
        if student is None:
            return
        for path, why in files_below(folder):
            relative = path.relative_to(folder)
            where = f"{folder.name}/{relative}"
            if is_junk(relative.parts):
                continue
            if why:
                self.refuse(f"{where}: {why}")
            elif path.suffix.lower() == ".ipynb":
                self._read_file(student, path.name, path, where)
            elif path.suffix.lower() == ".zip":
                self._read_file(student, path.name, path, where, zipped=True)
            else:
                self.log(f"skipped {where}: neither a notebook nor a zip")

    def _zip_file(self, path):
        try:
            handle, _ = open_regular(path, limit=MAX_DOWNLOAD_BYTES)
        except Refused as why:
            self.refuse(f"{path.name}: {why}")
            return
        with os.fdopen(handle, "rb") as stream:
            try:
                archive = zipfile.ZipFile(stream)
            except zipfile.BadZipFile:
                self.refuse(f"{path.name}: not a readable zip file")
                return
            with archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
                tops = {PurePosixPath(m.filename.replace("\\", "/")).parts[0] for m in members if m.filename}
                if tops and any(MOODLE_FOLDER.match(top) for top in tops):
                    self._moodle_zip(path.name, archive, members)
                    return
        named = NAMED_FILE.match(path.name)
        if not named:
            self.log(f"skipped {path.name}: not Moodle's download, nor named <student>_<anything>.zip")
        else:
            student = self._student_id(named["student"], path.name)
            if student:
                self._read_file(student, path.name, path, path.name, zipped=True)

    def _moodle_zip(self, zip_name, archive, members):
        """Moodle's whole download as one zip: its first folder level are the students."""
        for member in members:
            where = f"{zip_name}:{member.filename}"
            parts = self._member_parts(member, where)
            if parts is None:
                continue
            match = MOODLE_FOLDER.match(parts[0]) if len(parts) > 1 else None
            if not match:
                self.log(f"skipped {where}: not in a Moodle submission folder")
                continue
            student = self.student_for(match["participant"], match["name"], parts[0])
            if student is None:
                continue
            if not parts[-1].lower().endswith((".ipynb", ".zip")):
                self.log(f"skipped {where}: neither a notebook nor a zip")
                continue
            zipped = parts[-1].lower().endswith(".zip")
            data = self._member_bytes(archive, member, where, student, zipped)
            if data is None:
                continue
            if zipped:
                self._notebooks_in_zip(student, data, where)
            else:
                self._add(student, parts[-1], data, _member_time(member), where)

    def _notebooks_in_zip(self, student, data, where):
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            self.refuse(f"{where}: not a readable zip file")
            return
        with archive:
            members = archive.infolist()
            if len(members) > MAX_FILES:
                self.refuse(f"{where}: {len(members)} files in the zip, over the limit of {MAX_FILES}")
                return
            declared = sum(m.file_size for m in members if m.filename.lower().endswith(".ipynb"))
            if declared > MAX_UPLOAD_BYTES:
                self.refuse(f"{where}: its notebooks unpack to {megabytes(declared)}, over the limit of "
                            f"{megabytes(MAX_UPLOAD_BYTES)} for one hand-in")
                return
            for member in members:
                inner = f"{where}:{member.filename}"
                parts = self._member_parts(member, inner)
                if parts is None:
                    continue
                if not parts[-1].lower().endswith(".ipynb"):
                    self.log(f"skipped {inner}: not a notebook")
                    continue
                content = self._member_bytes(archive, member, inner, student)
                if content is not None:
                    self._add(student, parts[-1], content, _member_time(member), inner,
                              unpacked_from=PurePosixPath(where.rsplit(":", 1)[-1]).name)

    def _member_parts(self, member, where):
        """The path parts of an archive member worth reading, or None (refused, litter or a folder)."""
        why = unsafe_member(member.filename)
        if why:
            self.refuse(f"{where}: {why}")
            return None
        parts = PurePosixPath(member.filename.replace("\\", "/")).parts
        if member.is_dir() or not parts or is_junk(parts):
            return None
        return parts

    def _member_bytes(self, archive, member, where, student, zipped=False):
        """A member's bytes, read only up to the limit (:meth:`_limit`) whatever size it declares;
        None when refused."""
        limit, over = self._limit(student, zipped)
        if member.file_size > limit:
            self.refuse(f"{where}: unpacks to {megabytes(member.file_size)}, over {over}")
            return None
        try:
            with archive.open(member) as stream:
                return read_capped(stream, limit)
        except Refused:
            self.refuse(f"{where}: unpacks to more than it declares, over {over}; reading stopped there")
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, EOFError) as error:
            self.refuse(f"{where}: could not be unpacked ({error})")
        return None

    def _add(self, student, name, data, when, origin, unpacked_from=""):
        limit, over = self._limit(student)
        if len(data) > limit:
            self.refuse(f"{origin}: has {megabytes(len(data))}, over {over}")
            return
        self.unpacked[student] = self.unpacked.get(student, 0) + len(data)
        self.uploads.append(Upload(student, name, data, when, origin, unpacked_from))

    # -- filing

    def latest(self):
        """One upload per (student, file name): the later one, with a line for each replaced one."""
        chosen = {}
        for upload in sorted(self.uploads, key=lambda u: (u.when, u.origin)):
            key = (upload.student, upload.name)
            if key in chosen:
                earlier = chosen[key]
                self.log(f"two uploads of {upload.name} by {upload.student}: the later one "
                         f"({_stamp(upload.when)}, {upload.origin}) wins over "
                         f"{_stamp(earlier.when)} ({earlier.origin})")
            chosen[key] = upload
        return [chosen[key] for key in sorted(chosen)]

    def file(self, submitted, assignment, force=False):
        """Write the chosen uploads; returns counts of added, unchanged, replaced and conflicting files.

        Logs one line per student: where their files went, each with what happened to it.
        """
        counts = {"added": 0, "unchanged": 0, "replaced": 0, "conflicts": 0}
        filed = {}  # student -> ["name (what happened)"]
        for upload in self.latest():
            folder = Path(submitted) / upload.student / assignment
            target = folder / upload.name
            outcome = self._file_one(upload, folder, target, force)
            counts[outcome] += 1
            what = {"added": "added", "unchanged": "unchanged", "replaced": "replaced",
                    "conflicts": "CONFLICT, kept the one there"}[outcome]
            if upload.unpacked_from:
                what += f", unpacked from {upload.unpacked_from}"
            filed.setdefault(upload.student, []).append(f"{upload.name} ({what})")
        names = {student: name for student, name in self.participants.values()}
        for student, files in filed.items():
            who = f"{student} ({names[student]})" if names.get(student) else student
            self.log(f"{who} -> {Path(submitted).name}/{student}/{assignment}/: {', '.join(files)}")
        return counts

    def _file_one(self, upload, folder, target, force):
        """Write one upload unless it is there already; returns what happened (a key of the counts)."""
        if target.exists():
            if target.read_bytes() == upload.data:
                return "unchanged"
            if not force:
                self.log(f"CONFLICT {target}: already there with other content; kept it "
                         "(make collect FORCE=1 replaces it)")
                return "conflicts"
            self.log(f"replaced {target} (FORCE=1)")
            outcome = "replaced"
        else:
            outcome = "added"
        folder.mkdir(parents=True, exist_ok=True)
        target.write_bytes(upload.data)
        stamp = folder / "timestamp.txt"
        if force or not stamp.exists():
            # nbgrader reads the submission time from here (late penalties, Formgrader).
            stamp.write_text(datetime.fromtimestamp(upload.when, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
        return outcome


def files_below(folder):
    """(path, why) of every file below ``folder``, never following a link: ``why`` is None for a
    regular file, else what it is ("is a symlink, not a file")."""
    for directory, folders, files in os.walk(folder, followlinks=False):
        for name in sorted(folders + files):
            path = Path(directory) / name
            mode = path.lstat().st_mode
            if stat.S_ISDIR(mode):
                continue  # os.walk goes into it (a link to a folder is listed here, not entered)
            yield path, (None if stat.S_ISREG(mode) else f"is {kind(mode)}, not a file")
        folders.sort()


def _member_time(member):
    try:
        return datetime(*member.date_time).timestamp()
    except (ValueError, OverflowError):
        return 0.0


def _stamp(when):
    return datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M:%S")


def write_participants(root, assignment, participants):
    """Remember which participant id each student id came from (for the grade file for Moodle)."""
    known = {r["participant_id"]: (r["student_id"], r["full_name"]) for r in read_participants(root, assignment)}
    known.update(participants)
    path = Path(root) / "downloaded" / assignment / "participants.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["participant_id", "student_id", "full_name"])
        for participant in sorted(known, key=lambda p: (len(p), p)):
            writer.writerow([participant, *known[participant]])


def collect(root, assignment, force=False, mapping_path=None, log=print):
    """Collect ``downloaded/<assignment>/archive/`` into ``submitted/``; returns the counts."""
    root = Path(root)
    archive = root / "downloaded" / assignment / "archive"
    if not archive.is_dir():
        raise SystemExit(f"make collect: put the LMS download (Moodle's zip, or its folders) into {archive}/ first")
    collector = Collector(read_mapping(mapping_path) if mapping_path else None, log)
    collector.gather(archive)
    counts = collector.file(root / "submitted", assignment, force)
    if collector.participants:
        write_participants(root, assignment, collector.participants)
    counts["refused"] = collector.problems
    log(f"collected: {counts['added']} added, {counts['unchanged']} unchanged, {counts['replaced']} replaced, "
        f"{counts['conflicts']} conflicts, {counts['refused']} refused")
    return counts


def read_participants(root, assignment):
    """The rows of ``downloaded/<assignment>/participants.csv``: participant_id, student_id, full_name.

    Empty when nothing was collected from Moodle yet.
    """
    path = Path(root) / "downloaded" / assignment / "participants.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as stream:
        return [{"participant_id": row["participant_id"], "student_id": row["student_id"],
                 "full_name": row.get("full_name") or ""} for row in csv.DictReader(stream)]


def split_full_name(full_name):
    """(first name, last name) of a Moodle full name, split at its last space.

    Moodle shows "First Last" unless the site orders names otherwise; nbgrader keeps the two
    apart. A name of one word is a last name.
    """
    first, _, last = full_name.strip().rpartition(" ")
    return (first.strip() or None, last or None)


#: Characters Moodle keeps out of file names (clean_filename), and "_", which separates the parts
#: of a folder name: Moodle's download writes the full name with spaces instead.
_NOT_IN_MOODLE_NAMES = re.compile(r'[_/\\:*?"<>|\x00-\x1f]')


def moodle_folder(full_name, participant):
    """The folder of one participant in Moodle's "Download all submissions":
    ``Full Name_<participant id>_assignsubmission_file_``.

    Moodle's "Upload multiple feedback files in a zip" reads the participant id from the second
    ``_``-separated part of such a folder name, so the name itself holds no ``_``.
    """
    name = " ".join(_NOT_IN_MOODLE_NAMES.sub(" ", full_name).split()) or "Participant"
    return f"{name}_{participant}_assignsubmission_file_"


#: Files nbgrader copies into feedback/ that are its own bookkeeping, not feedback.
NOT_FEEDBACK = {"timestamp.txt"}


def write_feedback_zip(root, assignment, out_path, log=print):
    """A zip for Moodle's "Upload multiple feedback files in a zip": each student's feedback files
    in the folder Moodle's own download gave their submission.

    Students come from ``participants.csv``; a student with feedback but no known participant id
    is named, not guessed, and so is a participant without feedback.

    Returns
    -------
    dict
        ``students`` (folders written), ``files``, ``no_participant`` and ``no_feedback`` (student ids).
    """
    root = Path(root)
    feedback = root / "feedback"
    rows = read_participants(root, assignment)
    if not rows:
        raise SystemExit(f"make feedback-zip: no participants in downloaded/{assignment}/participants.csv; its folders "
                         "are those of Moodle's download, which make collect records there")
    by_student = {}
    for row in rows:
        by_student.setdefault(row["student_id"], []).append(row)
    done = {"students": 0, "files": 0, "no_participant": [], "no_feedback": []}
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for student in sorted(by_student):
            files = sorted(p for p in (feedback / student / assignment).glob("*")
                           if p.is_file() and not p.name.startswith(".") and p.name not in NOT_FEEDBACK)
            if not files:
                done["no_feedback"].append(student)
                continue
            for row in by_student[student]:
                folder = moodle_folder(row["full_name"], row["participant_id"])
                for path in files:
                    archive.write(path, f"{folder}/{path.name}")
                done["students"] += 1
                done["files"] += len(files)
    for folder in sorted(feedback.glob(f"*/{assignment}")):
        if folder.parent.name not in by_student and any(folder.iterdir()):
            done["no_participant"].append(folder.parent.name)
    log(f"wrote {out_path} for Moodle's \"Upload multiple feedback files in a zip\": "
        f"{done['files']} files for {done['students']} students")
    for student in done["no_feedback"]:
        log(f"  no feedback for {student} yet (nothing in feedback/{student}/{assignment}/): make feedback first")
    for student in done["no_participant"]:
        log(f"  not in {out_path}: {student} (no Moodle participant id known; collect from Moodle, or add a mapping)")
    return done


#: The columns Moodle's "Upload grading worksheet" needs (its English names): without
#: "Last modified (grade)" it refuses the whole file. Columns it does not know, such as the
#: grading status, it ignores.
MOODLE_WORKSHEET_COLUMNS = ["Identifier", "Grade", "Last modified (grade)", "Grading status"]


def ungraded_answers(grades_csv, assignment):
    """How many written answers still wait for a person, and in how many submissions.

    Read from the ``waiting_for_manual_grading`` column that ``make grades`` writes into grades.csv.
    """
    answers = submissions = 0
    with open(grades_csv, newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            waiting = int(float(row.get("waiting_for_manual_grading") or 0))
            if row.get("assignment") == assignment and waiting:
                answers += waiting
                submissions += 1
    return answers, submissions


def grading_status(waiting):
    """The grading status column of one student: final, or provisional and why."""
    if not waiting:
        return "final"
    return f"PROVISIONAL: {waiting} written answer{'s' if waiting != 1 else ''} not graded yet"


def write_moodle_grades(root, assignment, grades_csv, out_path, log=print, modified=None):
    """A grading worksheet for Moodle's import: ``Identifier`` ("Participant <id>"), ``Grade``,
    ``Last modified (grade)`` and ``Grading status`` (final, or provisional while written answers
    wait for a person).

    The participant id of a student comes from ``downloaded/<assignment>/participants.csv``
    (written by :func:`collect`), else the student id itself when it is a number.

    Parameters
    ----------
    modified : datetime.datetime, optional
        The time the grades are as of (default: now). Moodle leaves a grade alone that was changed
        in Moodle after it, unless its import is told to allow that.

    Returns
    -------
    list of tuple
        The rows written, one per column.
    """
    modified = (modified or datetime.now()).astimezone().isoformat(timespec="seconds")
    participants = {row["student_id"]: row["participant_id"] for row in read_participants(root, assignment)}
    rows, missing = [], []
    with open(grades_csv, newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            if row.get("assignment") != assignment:
                continue
            student = row["student_id"]
            participant = participants.get(student, student if student.isdigit() else None)
            if participant is None:
                missing.append(student)
                continue
            waiting = int(float(row.get("waiting_for_manual_grading") or 0))
            rows.append((f"Participant {participant}", f"{float(row['score'] or 0):.2f}", modified,
                         grading_status(waiting)))
    with open(out_path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(MOODLE_WORKSHEET_COLUMNS)
        writer.writerows(sorted(rows, key=lambda r: (len(r[0]), r[0])))
    log(f"wrote {out_path} for Moodle's grade import ({len(rows)} students)")
    for student in missing:
        log(f"  not in {out_path}: {student} (no Moodle participant id known; collect from Moodle, or add a mapping)")
    return sorted(rows, key=lambda r: (len(r[0]), r[0]))
