"""Pre-flight of ``make autograde``: ``submitted/`` holds nothing but folders and plain files.

nbgrader copies every file of ``submitted/<student>/<assignment>/`` into ``autograded/`` with
``shutil.copy``, which follows links and reads devices; the grader reads each notebook. Whatever
put a symlink, a FIFO or a device there (``nbgrader collect`` of an unpatched course, ``cp -a``
of a student's folder), :func:`set_aside_what_is_not_a_file` moves it out of the way before
either looks: into ``submitted/.set-aside/`` (a folder that every glob of ``submitted/*``
skips), under its relative path with ``/`` written as ``%2F``. So are single files over
:data:`grading.course.safe_files.MAX_NOTEBOOK_BYTES` and whole hand-ins over the limits of a hand-in
(bytes, files, depth). Nothing is deleted, no link is followed, and each move is recorded in
``submitted/.set-aside/reasons.jsonl``, from which :func:`set_aside_notes` tells the student.

Student folders are checked by name too (:mod:`grading.core.student_ids`): a folder whose name is
no student id (a newline in it, say) is set aside the same way, and so are both folders of a
pair that name one student in two Unicode forms (NFC and NFD): nothing is merged. A folder named
in the decomposed form (macOS writes NFD) alone is renamed to the composed one (NFC), under
which the student is filed everywhere.

Then :func:`set_aside_unreadable` renames each notebook that cannot be read as one
(:func:`unreadable_reason`) to ``<name>.ipynb.unreadable``: it scores 0, and the student's other
notebooks are graded.
"""

import json
import os
import stat
import urllib.parse
from pathlib import Path

from grading.course.safe_files import (
    MAX_DEPTH,
    MAX_FILES,
    MAX_NOTEBOOK_BYTES,
    MAX_UPLOAD_BYTES,
    Refused,
    kind,
    megabytes,
    open_regular,
)
from grading.core.student_ids import normal_id, shown, why_not_a_student_id

SET_ASIDE = ".set-aside"
REASONS = "reasons.jsonl"


def problems_in(folder):
    """What in a student's assignment folder is not taken, without following any link.

    Returns
    -------
    (str or None, list)
        Why the whole folder is refused (over a limit), or None; and [(path, why)] of single
        entries: symlinks, FIFOs, devices, sockets, files over the limit of one notebook.
    """
    single, counted = [], {"entries": 0, "bytes": 0}

    def walk(path, depth):
        for entry in sorted(os.scandir(path), key=lambda e: e.name):
            counted["entries"] += 1
            if counted["entries"] > MAX_FILES:
                return f"holds more than {MAX_FILES} files and folders, over the limit"
            status = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(status.st_mode):
                if depth >= MAX_DEPTH:
                    return f"has folders nested more than {MAX_DEPTH} deep, over the limit"
                whole = walk(entry.path, depth + 1)
                if whole:
                    return whole
            elif not stat.S_ISREG(status.st_mode):
                single.append((Path(entry.path), f"is {kind(status.st_mode)}, not a file"))
            elif status.st_size > MAX_NOTEBOOK_BYTES:
                single.append((Path(entry.path), f"has {megabytes(status.st_size)}, over the limit of "
                                                 f"{megabytes(MAX_NOTEBOOK_BYTES)} for one file"))
            else:
                counted["bytes"] += status.st_size
                if counted["bytes"] > MAX_UPLOAD_BYTES:
                    return f"holds more than {megabytes(MAX_UPLOAD_BYTES)} in all, over the limit"
        return None

    whole = walk(folder, 0)
    return whole, ([] if whole else single)


def quarantine(submitted):
    """``submitted/.set-aside/``, made if need be; never through a link."""
    folder = Path(submitted) / SET_ASIDE
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        if folder.is_symlink() or not folder.is_dir():
            raise SystemExit(f"pre-flight: {folder} is not a folder (a symlink?); move it away and run again") from None
    return folder


def move_aside(submitted, path, why, assignment, student):
    """Move ``path`` (below ``submitted``) into the quarantine; returns where it went."""
    folder = quarantine(submitted)
    relative = path.relative_to(submitted).as_posix()
    name, number = urllib.parse.quote(relative, safe="", errors="surrogateescape"), 1
    while os.path.lexists(folder / name):
        number += 1
        name = urllib.parse.quote(f"{relative}#{number}", safe="", errors="surrogateescape")
    os.rename(path, folder / name)  # the entry itself: a link is moved, never followed
    with open(folder / REASONS, "a", encoding="utf-8") as stream:
        stream.write(json.dumps({"student": student, "assignment": assignment, "path": f"submitted/{shown(relative)}",
                                 "set_aside_as": f"submitted/{SET_ASIDE}/{name}", "why": why}) + "\n")
    return folder / name


def set_aside_what_is_not_a_file(root, assignment):
    """Move what a student cannot have handed in out of ``submitted/``: see the module's text.

    Returns
    -------
    list of dict
        One per entry moved: ``student``, ``path`` (where it was, relative to ``root``),
        ``set_aside_as`` and ``why``.
    """
    submitted = Path(root) / "submitted"
    if not submitted.is_dir():
        return []
    moved = compose_folder_names(submitted)

    def aside(path, why, student):
        target = move_aside(submitted, path, why, assignment, student)
        moved.append({"student": student, "path": f"submitted/{shown(path.relative_to(submitted).as_posix())}",
                      "set_aside_as": f"submitted/{SET_ASIDE}/{target.name}", "why": why})

    entries = sorted(os.scandir(submitted), key=lambda e: e.name)
    composed = {}
    for entry in entries:
        composed.setdefault(normal_id(entry.name), []).append(entry.name)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        status = entry.stat(follow_symlinks=False)
        if not stat.S_ISDIR(status.st_mode):
            if not stat.S_ISREG(status.st_mode):  # a link in place of a student's folder
                aside(Path(entry.path), f"is {kind(status.st_mode)}, not a folder", entry.name)
            continue
        folder = Path(entry.path) / assignment
        try:
            status = folder.lstat()
        except FileNotFoundError:
            continue
        refused = folder_name_problem(entry.name, composed[normal_id(entry.name)])
        if refused:  # nbgrader would take the folder under a name that is no student's: no student is told
            aside(folder, refused, None)
            continue
        if not stat.S_ISDIR(status.st_mode):
            aside(folder, f"is {kind(status.st_mode) or 'a file'}, not a folder", entry.name)
            continue
        whole, single = problems_in(folder)
        if whole:
            aside(folder, whole, entry.name)
        for path, why in single:
            aside(path, why, entry.name)
    return moved


def folder_name_problem(name, same_student):
    """Why the folder ``submitted/<name>`` is no student's, or None.

    ``same_student`` are the names in ``submitted/`` that are ``name`` in Unicode's composed form.
    """
    why = why_not_a_student_id(name)
    if why:
        return f"not a student id: {why}"
    if len(same_student) > 1:
        others = ", ".join(f"submitted/{ascii(other)}" for other in same_student if other != name)
        return (f"{others} names the same student in another Unicode form (NFC/NFD); neither is graded "
                "until one is renamed or the two are merged by hand")
    return None


def compose_folder_names(submitted):
    """Rename each folder of ``submitted`` named in decomposed Unicode (NFD, as macOS writes) to the
    composed form (NFC) in which student ids are filed, unless a folder has that name already.

    Returns
    -------
    list of dict
        One per folder renamed: ``path``, ``renamed_to`` and ``why`` (relative to the course).
    """
    renamed = []
    for entry in sorted(os.scandir(submitted), key=lambda e: e.name):
        composed = normal_id(entry.name)
        if composed == entry.name or why_not_a_student_id(entry.name) or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            os.mkdir(Path(submitted) / composed)  # claims the name: a folder that is there already stays
        except FileExistsError:
            continue
        os.rename(entry.path, Path(submitted) / composed)  # onto the empty folder just made
        renamed.append({"path": f"submitted/{ascii(entry.name)}", "renamed_to": f"submitted/{composed}",
                        "why": "the same name in Unicode's composed form (NFC), in which student ids are filed"})
    return renamed


def set_aside_notes(root, assignment):
    """{student: [line]} of what the pre-flight set aside and is still set aside."""
    reasons = Path(root) / "submitted" / SET_ASIDE / REASONS
    if reasons.is_symlink() or not reasons.is_file():
        return {}
    notes = {}
    for line in reasons.read_text(encoding="utf-8").splitlines():
        try:
            moved = json.loads(line)
        except ValueError:
            continue
        wanted = moved.get("student") and moved.get("assignment") == assignment
        if wanted and os.path.lexists(Path(root) / moved["set_aside_as"]):
            notes.setdefault(moved["student"], []).append(
                f"NOT GRADED: {moved['path']}: {moved['why']}; set aside as {moved['set_aside_as']}")
    return notes


# ----------------------------------------------------------------------------------------------
# Unreadable notebooks: one of them must not stop a student's other ones.

UNREADABLE_SUFFIX = ".unreadable"


def unreadable_reason(path):
    """Why a submitted notebook cannot be graded, or None when it can.

    Never raises: a file that is too large, nested too deeply or damaged gets a reason, so one bad
    file cannot stop the pre-flight of a whole class. A symlink, FIFO or device is named as such
    ("is a symlink, not a file"), and never followed, waited on or read.
    """
    from grading.core.engine import read_notebook

    try:  # never through a link, never waiting on a FIFO, never reading a device
        handle, _ = open_regular(path, limit=MAX_NOTEBOOK_BYTES)
    except Refused as why:
        return str(why) if str(why).startswith("is ") else f"the file {why}"
    try:
        head = os.read(handle, 4)
    except OSError as error:
        return f"the file cannot be read ({error.strerror})"
    finally:
        os.close(handle)
    if head == b"PK\x03\x04":
        return "the file is a zip archive, not a notebook"
    try:
        read_notebook(path)
    except UnicodeDecodeError:
        return "the file is not text (is it a notebook at all?)"
    except json.JSONDecodeError as error:
        return f"the file is not a notebook (invalid JSON: {error.msg} at line {error.lineno})"
    except (ValueError, MemoryError) as error:
        return str(error) if str(error).startswith("the file") else f"the notebook is damaged: {str(error)[:200]}"
    except Exception as error:  # nbformat raises several types for damaged notebooks
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        return f"the notebook is damaged: {message.strip().splitlines()[0][:200]}"
    return None


def set_aside_unreadable(root, assignment, out, db_url=None):
    """Rename unreadable notebooks in ``submitted/`` to ``<name>.ipynb.unreadable``; nothing is deleted.

    First, what no student can have handed in (symlinks, FIFOs, devices, files and hand-ins over
    the limits) moves to ``submitted/.set-aside/`` (:func:`set_aside_what_is_not_a_file`): nbgrader would
    follow or read it when it copies the hand-in.

    Returns
    -------
    list of (pathlib.Path, str)
        The files set aside (their new paths) and why.
    """
    root = Path(root)
    set_aside, students = [], set()
    for moved in set_aside_what_is_not_a_file(root, assignment):
        if "renamed_to" in moved:
            print(f"pre-flight: {moved['path']} renamed to {moved['renamed_to']}: {moved['why']}", file=out)
            continue
        print(f"NOT GRADED: {moved['path']}: {moved['why']}.\n"
              f"  Set aside as {moved['set_aside_as']}; "
              + ("a student hands in plain files, so nothing of it is graded or copied." if moved["student"] else
                 "nbgrader never sees it. Rename the folder and put it back to grade it."), file=out)
        set_aside.append((root / moved["set_aside_as"], moved["why"]))
        if moved["student"]:
            students.add(moved["student"])
    for path in sorted(root.glob(f"submitted/*/{assignment}/*.ipynb")):
        reason = unreadable_reason(path)
        if reason is None:
            continue
        target = path.with_name(path.name + UNREADABLE_SUFFIX)
        os.replace(path, target)
        student = path.parent.parent.name
        print(f"NOT GRADED: {path.relative_to(root)}: {reason}.\n"
              f"  Set aside as {target.name}; {student}'s other notebooks are graded, this one scores 0.\n"
              f"  To grade a repaired file: put it back as {path.name} and run make autograde again.", file=out)
        set_aside.append((target, reason))
        students.add(student)
    if students and db_url:
        from nbgrader.api import Gradebook

        with Gradebook(db_url) as gradebook:
            for student in sorted(students):
                gradebook.update_or_create_student(student)
    return set_aside
