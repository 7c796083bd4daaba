"""What nbgrader records, and when: the gradebook's side of ``make autograde`` and ``make feedback``.

* :func:`register_assignment`: a fresh clone has ``release/`` but no gradebook. The gradebook
  learns the assignment's graded cells from ``nbgrader generate_assignment``; here it runs into
  a scratch folder, so ``release/`` and ``notebooks/`` stay as they are (and nothing executes).
* :func:`names_from_moodle`: the names of Moodle's download (``participants.csv``) for students
  the gradebook knows by id only.
* :func:`students_to_record` and :func:`record`: nbgrader records again only the students whose
  results changed since it last recorded them. A person's grading survives: nbgrader marks every
  answer with a manual grade as "needs manual grading" again whenever it records a notebook, so
  for each notebook that comes out byte for byte as before the earlier marks are put back.
* :func:`write_feedback`: feedback files for the students whose feedback would change (their
  autograded notebooks, their grades and comments in the gradebook, or the code that writes the
  pages), or for everyone with ``force``.
"""

import filecmp
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import namedtuple
from pathlib import Path

from grading.core import cache
from grading.core.jobs import cache_path
from grading.core.student_ids import is_student_id, nbgrader_exclusion


def nbgrader_command(*args):
    """nbgrader of this Python's environment, with ``args``."""
    return [str(Path(sys.executable).parent / "nbgrader"), *args]


# ---------------------------------------------------------------------------------------- assignment

def assignment_known(db_url, assignment):
    """True when the gradebook holds the assignment's notebooks (and so its graded cells)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gradebook:
        try:
            return bool(gradebook.find_assignment(assignment).notebooks)
        except MissingEntry:
            return False


def register_assignment(root, assignment, db_url, out=None):
    """Record the assignment's graded cells in the gradebook, unless it has them already.

    Runs ``nbgrader generate_assignment`` with its output in a scratch folder. Says which
    notebooks of ``release/`` differ from what ``source/`` generates now: grading rebuilds every
    submission from ``release/``, so they should not (``make assignment`` regenerates them).

    Returns
    -------
    bool
        True when the assignment was recorded now.
    """
    out = out or sys.stdout
    root = Path(root)
    if assignment_known(db_url, assignment):
        return False
    with tempfile.TemporaryDirectory(prefix="gradebook-register-") as scratch:
        command = nbgrader_command("generate_assignment", assignment,
                                   f"--CourseDirectory.release_directory={scratch}", "--log-level=WARN")
        done = subprocess.run(command, cwd=root, capture_output=True, text=True)
        if done.returncode != 0 or not assignment_known(db_url, assignment):
            raise SystemExit(f"make autograde: could not record {assignment}'s graded cells in the gradebook "
                             f"(nbgrader generate_assignment):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        generated = sorted(Path(scratch, assignment).glob("*.ipynb"))
        print(f"gradebook: recorded the graded cells of {assignment} "
              f"({len(generated)} notebooks of source/{assignment}/); release/ is unchanged", file=out)
        for path in generated:
            released = root / "release" / assignment / path.name
            if not released.exists() or not filecmp.cmp(path, released, shallow=False):
                print(f"  NOTE: release/{assignment}/{path.name} is not what source/{assignment}/{path.name} generates "
                      "now; grading rebuilds submissions from release/: run make assignment", file=out)
    return True


# ---------------------------------------------------------------------------------------- students

def submitted_students(root, assignment):
    """Student ids with a folder in ``submitted/`` (safe folder names only), sorted."""
    return sorted(p.parent.name for p in Path(root).glob(f"submitted/*/{assignment}")
                  if p.is_dir() and is_student_id(p.parent.name))


def names_from_moodle(root, assignment, db_url, students):
    """Give each of ``students`` who has no name in the gradebook the name of Moodle's download.

    Returns
    -------
    int
        How many names were written.
    """
    from nbgrader.api import Gradebook, MissingEntry

    from grading.course.collect import read_participants, split_full_name

    names = {row["student_id"]: row["full_name"] for row in read_participants(root, assignment) if row["full_name"]}
    written = 0
    with Gradebook(db_url) as gradebook:
        for student in students:
            if student not in names:
                continue
            try:
                known = gradebook.find_student(student)
                if known.first_name or known.last_name:
                    continue  # set in Formgrader, or earlier: kept
            except MissingEntry:
                pass
            first, last = split_full_name(names[student])
            gradebook.update_or_create_student(student, first_name=first, last_name=last)
            written += 1
    return written


def students_to_record(root, assignment, students, jobs, db_url):
    """The students nbgrader has to record (again): their results are newer than its record.

    A student is recorded when the gradebook has no submission of theirs, when their autograded
    folder or one of its notebooks is missing, when a notebook is there that is no longer graded,
    or when a job's verdicts changed after its autograded notebook was written (a new submission,
    a changed test that judges differently, a written answer handed in again, or a run stopped
    before nbgrader recorded: :func:`grading.core.jobs.note_submission`). A test graded again with
    the same verdict and message changes nothing to record.
    """
    from nbgrader.api import Gradebook

    root = Path(root)
    with Gradebook(db_url) as gradebook:
        recorded = {submission.student.id for submission in gradebook.assignment_submissions(assignment)}
    by_student = {}
    for student, notebook in jobs:
        by_student.setdefault(student, set()).add(notebook)
    stale = []
    for student in students:
        folder = root / "autograded" / student / assignment
        notebooks = by_student.get(student, set())
        there = {p.stem: _mtime(p) for p in folder.glob("*.ipynb")}
        # A job without a stored result failed: nbgrader's recording grades it once more.
        newer = any(notebook not in there
                    or _changed(cache_path(root, assignment, student, notebook)) >= there[notebook]
                    for notebook in notebooks)
        if student not in recorded or not folder.is_dir() or newer or set(there) - notebooks:
            stale.append(student)
    return stale


def _changed(path):
    """When a job's verdicts last changed (nanoseconds); a missing or unreadable record counts as just now."""
    record = cache.read(path)
    changed = record.get("changed") if record else None
    return changed if isinstance(changed, int) else float("inf")


def _mtime(path):
    """A file's modification time in nanoseconds; a missing file counts as written just now."""
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return float("inf")


# ---------------------------------------------------------------------------------------- recording

def manual_grading_marks(root, assignment, students, db_url):
    """Before recording: each notebook's autograded bytes and its answers' "needs manual grading" marks.

    Returns
    -------
    dict
        (student, notebook) -> (bytes, {grade name: needs_manual_grade})
    """
    from nbgrader.api import Gradebook, MissingEntry

    marks = {}
    with Gradebook(db_url) as gradebook:
        for student in students:
            for path in sorted((Path(root) / "autograded" / student / assignment).glob("*.ipynb")):
                try:
                    submitted = gradebook.find_submission_notebook(path.stem, assignment, student)
                except MissingEntry:
                    continue
                waiting = {g.name: g.needs_manual_grade for g in submitted.grades}
                marks[student, path.stem] = (path.read_bytes(), waiting)
    return marks


def restore_manual_grading_marks(root, assignment, marks, db_url):
    """After recording: the earlier marks of every notebook that came out byte for byte the same.

    Returns
    -------
    int
        How many marks were put back (answers a person had graded that nbgrader marked again).
    """
    from nbgrader.api import Gradebook, MissingEntry

    restored = 0
    with Gradebook(db_url) as gradebook:
        for (student, notebook), (before, flags) in marks.items():
            path = Path(root) / "autograded" / student / assignment / f"{notebook}.ipynb"
            if not path.exists() or path.read_bytes() != before:
                continue
            try:
                submitted = gradebook.find_submission_notebook(notebook, assignment, student)
            except MissingEntry:
                continue
            for grade in submitted.grades:
                if grade.name in flags and grade.needs_manual_grade != flags[grade.name]:
                    grade.needs_manual_grade = flags[grade.name]
                    restored += 1
        gradebook.db.commit()
    return restored


_NOT_SUBMITTED = re.compile(r"No submitted file: .*[/\\](?P<student>[^/\\]+)[/\\][^/\\]+"
                            r"[/\\](?P<notebook>[^/\\]+)\.ipynb\s*$")


def _run_quietly(command, root, out):
    """Run nbgrader; its "No submitted file" warnings become one line per student, the rest is passed on.

    Returns
    -------
    (int, list of str)
        nbgrader's exit status and its output, line by line.
    """
    env = dict(os.environ, PYTHONWARNINGS="ignore:Object of type")  # SQLAlchemy, on nbgrader's sessions
    missing, lines = {}, []
    with subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace") as process:
        for line in process.stdout:
            lines.append(line)
            found = _NOT_SUBMITTED.search(line)
            if found:
                missing.setdefault(found["student"], []).append(found["notebook"])
            else:
                print(line, end="", file=out, flush=True)
    for student, notebooks in sorted(missing.items()):
        print(f"  {student} did not hand in {', '.join(sorted(notebooks))} (no points for those)", file=out)
    return process.returncode, lines


_FAILED_STUDENT = re.compile(r"There was an error processing assignment '[^']*' for student '(?P<student>.*)'\s*$")
_FAILED_FOLDER = re.compile(r"There was an error processing assignment: (?P<folder>.*\S)\s*$")


def recording_failures(lines):
    """The students nbgrader could not record, each with the last line of its traceback.

    Parameters
    ----------
    lines : list of str
        nbgrader autograde's output.

    Returns
    -------
    dict
        student id -> why (the exception nbgrader reported, or "" when it reported none).
    """
    failed, reasons, student, last = {}, {}, None, ""
    for line in [*lines, "[end]"]:
        if "Traceback (most recent call last)" in line:
            continue
        if line.startswith("[") and student is not None:  # the next log entry: the traceback ended
            reasons[student], student = last, None
        found = _FAILED_FOLDER.search(line)
        if found:
            student, last = Path(found["folder"]).parent.name, ""
        elif found := _FAILED_STUDENT.search(line):
            failed[found["student"]] = ""
        elif line.strip() and not line.startswith("[") and student is not None:
            last = line.strip()
    return {name: reasons.get(name, "") for name in failed}


def _kept_folder(root, assignment, student):
    """Where a student's earlier autograded folder waits while nbgrader records them again.

    Under ``.grading/<assignment>/.kept-records/``: no student id starts with a dot.
    """
    return Path(root) / ".grading" / assignment / ".kept-records" / student


def _keep_earlier_record(root, assignment, student):
    """Move the student's autograded folder aside (nbgrader records into an empty one)."""
    folder, kept = Path(root) / "autograded" / student / assignment, _kept_folder(root, assignment, student)
    if kept.exists():  # left by an interrupted run: the record it kept is the last complete one
        if folder.exists():
            shutil.rmtree(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(kept), str(folder))
    if folder.exists():
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), str(kept))


def _settle_record(root, assignment, student, failed):
    """After nbgrader: drop the earlier record, or put it back where nbgrader failed."""
    folder, kept = Path(root) / "autograded" / student / assignment, _kept_folder(root, assignment, student)
    if failed and kept.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(kept), str(folder))
    elif kept.exists():
        shutil.rmtree(kept)
    try:
        kept.parent.rmdir()  # once empty
    except OSError:
        pass


Recorded = namedtuple("Recorded", "status failed")
Recorded.__doc__ = """What :func:`record` did: nbgrader's exit status; {student: why} for each student not recorded."""


def record(root, assignment, to_record, students, db_url, out=None):
    """Have nbgrader record ``to_record`` (of all ``students``), keeping a person's grading.

    Their autograded folders are replaced; every other student is left alone. Where nbgrader
    fails for a student (it then deletes what it wrote for them), their earlier autograded folder
    is put back, so Formgrader and feedback keep showing their last record; they stay due for
    recording, so the next run tries again.

    Returns
    -------
    Recorded
    """
    out = out or sys.stdout
    root = Path(root)
    marks = manual_grading_marks(root, assignment, to_record, db_url)
    for student in to_record:
        _keep_earlier_record(root, assignment, student)
    others = sorted(set(students) - set(to_record))
    command = nbgrader_command("autograde", assignment, "--log-level=WARN")
    if others:
        command.append(nbgrader_exclusion(others))
    status, lines = _run_quietly(command, root, out)
    failed = recording_failures(lines)
    for student in to_record:
        handed_in = any((root / "submitted" / student / assignment).glob("*.ipynb"))
        if student not in failed and handed_in and not (root / "autograded" / student / assignment).is_dir():
            failed[student] = "nbgrader wrote no autograded folder"
        _settle_record(root, assignment, student, student in failed)
    kept = restore_manual_grading_marks(root, assignment, marks, db_url)
    if kept:
        print(f"  kept the manual grading of {kept} answer(s) in notebooks that did not change", file=out)
    return Recorded(status, {student: failed[student] for student in sorted(failed) if student in to_record})


# ---------------------------------------------------------------------------------------- feedback

#: The course's files that shape a feedback page (besides nbgrader itself).
FEEDBACK_CODE = ("nbgrader_config.py", "grading/course/preprocessors", "grading/course/text_safety.py",
                 "grading/course/offline_html.py", "grading/course/templates")


def _code_digest(root):
    digest = hashlib.sha256()
    for name in FEEDBACK_CODE:
        path = Path(root) / name
        for part in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if part.is_file() and "__pycache__" not in part.parts:  # compiled files come and go
                digest.update(part.relative_to(root).as_posix().encode() + b"\0" + part.read_bytes())
    return digest.hexdigest()


def grading_record(gradebook, assignment, student):
    """A student's grades and comments as the gradebook has them now (what feedback shows), or None."""
    from nbgrader.api import MissingEntry

    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return None
    notebooks = {}
    for notebook in submission.notebooks:
        notebooks[notebook.name] = {
            "grades": sorted([g.name, g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade]
                             for g in notebook.grades),
            "comments": sorted([c.name, c.auto_comment or "", c.manual_comment or ""] for c in notebook.comments)}
    return {"penalty": submission.late_submission_penalty, "timestamp": str(submission.timestamp),
            "notebooks": notebooks}


def feedback_digest(root, assignment, student, gradebook, code):
    """What a student's feedback is made of: autograded files, their gradebook record, the code."""
    digest = hashlib.sha256(code.encode())
    folder = Path(root) / "autograded" / student / assignment
    for path in sorted(folder.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(json.dumps(grading_record(gradebook, assignment, student), sort_keys=True, default=str).encode())
    return digest.hexdigest()


def waiting_for_manual_grading(db_url, assignment):
    """How many answers no person has graded yet, and in how many submissions."""
    from nbgrader.api import Gradebook

    answers = submissions = 0
    with Gradebook(db_url) as gradebook:
        for submission in gradebook.assignment_submissions(assignment):
            waiting = sum(1 for notebook in submission.notebooks for grade in notebook.grades
                          if grade.needs_manual_grade)
            answers += waiting
            submissions += bool(waiting)
    return answers, submissions


def write_feedback(root, assignment, db_url, force=False, out=None):
    """``make feedback``: feedback files for every student whose feedback would change.

    The digests of what each student's feedback was made from are kept in
    ``.grading/<assignment>/feedback.json``.

    Returns
    -------
    int
        nbgrader's exit status (0 when nothing needed writing).
    """
    from nbgrader.api import Gradebook

    out = out or sys.stdout
    root = Path(root)
    keys_path = root / ".grading" / assignment / "feedback.json"
    try:
        kept = json.loads(keys_path.read_text())
    except (OSError, ValueError):
        kept = {}
    code = _code_digest(root)
    students = sorted(p.parent.name for p in root.glob(f"autograded/*/{assignment}")
                      if is_student_id(p.parent.name) and any(p.glob("*.ipynb")))
    digests, stale = {}, []
    with Gradebook(db_url) as gradebook:
        for student in students:
            digests[student] = feedback_digest(root, assignment, student, gradebook, code)
            written = root / "feedback" / student / assignment
            notebooks = {p.stem for p in (root / "autograded" / student / assignment).glob("*.ipynb")}
            complete = all((written / f"{name}.html").exists() for name in notebooks)
            if force or not complete or kept.get(student) != digests[student]:
                stale.append(student)
    status = 0
    if stale:
        for student in stale:
            shutil.rmtree(root / "feedback" / student / assignment, ignore_errors=True)
        command = nbgrader_command("generate_feedback", assignment, "--log-level=WARN")
        others = sorted(set(p.parent.name for p in root.glob(f"autograded/*/{assignment}")) - set(stale))
        if others:
            command.append(nbgrader_exclusion(others))
        status, _ = _run_quietly(command, root, out)
    files = 0
    for student in stale:
        written = sorted((root / "feedback" / student / assignment).glob("*.html"))
        files += len(written)
        if written and status == 0:
            kept[student] = digests[student]
    keys_path.parent.mkdir(parents=True, exist_ok=True)
    keys_path.write_text(json.dumps(kept, indent=1, sort_keys=True))
    print(f"feedback: wrote {files} file(s) for {len(stale)} student(s) in feedback/; "
          f"{len(students) - len(stale)} student(s) unchanged" + (" (FORCE=1: all rewritten)" if force else ""),
          file=out)
    answers, submissions = waiting_for_manual_grading(db_url, assignment)
    if answers:
        print(f"  {answers} written answer(s) in {submissions} submission(s) are not graded yet: their feedback says "
              "\"waiting for manual grading\" (grade them in Formgrader, then make feedback again)", file=out)
    return status
