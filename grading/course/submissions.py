"""What ``submitted/`` holds: the jobs to grade, and the files that are not graded, with the reason.

Course tooling between the folders nbgrader and the LMS fill and the engine
(:mod:`grading.core.jobs`): a job is a (student, notebook) pair of a known notebook in a student's
own folder; anything else is named, and the student told in ``NOT_GRADED.txt``.
"""

import sys
from pathlib import Path

from grading.core.student_ids import is_student_id, normal_id, shown, why_not_a_student_id


#: Files that nbgrader itself puts into a submission (collect, the exchange), and macOS litter.
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt", "__MACOSX")


def discover(root, assignment, out=sys.stdout, not_graded=None):
    """Jobs to run, and files that are not graded (with the reason, printed to ``out``).

    Parameters
    ----------
    not_graded : dict, optional
        Filled with student -> [line] for every file of theirs that is not graded.

    Returns
    -------
    list of (student, notebook)
    """
    from grading.course.preflight import set_aside_notes
    from grading.course.safe_files import kind

    root = Path(root)
    notes = not_graded if not_graded is not None else {}

    def not_graded_line(student, text):
        print(text, file=out)
        if student is not None:
            notes.setdefault(student, []).append(text)

    known = {p.stem for p in (root / "source" / assignment).glob("*.ipynb")}
    jobs = []
    for folder in sorted((root / "submitted").glob(f"*/{assignment}")):
        student = folder.parent.name
        if not is_student_id(student):  # the pre-flight moves these away; nbgrader would take them
            not_graded_line(None, f"NOT GRADED: submitted/{shown(student)}: not a student id: "
                                  f"{why_not_a_student_id(student)}")
            continue
        if student != normal_id(student):  # the pre-flight renames these, unless the composed name is taken
            not_graded_line(None, f"NOT GRADED: submitted/{shown(student)}: its name is not in Unicode's composed "
                                  f"form (NFC) and submitted/{normal_id(student)} exists too")
            continue
        if folder.parent.is_symlink() or folder.is_symlink():  # the pre-flight moves these away; never followed
            not_graded_line(student, f"NOT GRADED: {folder.relative_to(root)}: is a symlink, not a folder")
            continue
        for path in sorted(folder.iterdir()):
            relative = path.relative_to(root)
            special = kind(path.lstat().st_mode)
            if special:
                not_graded_line(student, f"NOT GRADED: {relative}: is {special}, not a file")
            elif path.suffix == ".ipynb" and path.stem in known and path.is_file():
                jobs.append((student, path.stem))
            elif path.name.endswith(".unreadable"):
                notes.setdefault(student, []).append(  # named in the log by the pre-flight already
                    f"NOT GRADED: {relative.with_name(path.name[:-len('.unreadable')])}: the file could not be read "
                    f"as a notebook; it was set aside as {path.name}")
            elif path.name.startswith(".") or path.name in NBGRADER_FILES:
                continue
            elif path.suffix == ".ipynb":
                not_graded_line(student, f"NOT GRADED: {relative}: no notebook of {assignment} has this name "
                                         f"(expected one of {', '.join(sorted(known))})")
            elif path.suffix == ".zip":
                not_graded_line(student, f"NOT GRADED: {relative}: a zip archive; unpack it (make collect) so that "
                                         f"the notebooks lie in {folder.relative_to(root)}/")
            else:
                not_graded_line(student, f"NOT GRADED: {relative}: not a notebook of {assignment}")
    for student, lines in set_aside_notes(root, assignment).items():  # named in the log by the pre-flight already
        notes.setdefault(student, []).extend(lines)
    return jobs


def write_not_graded_notes(root, assignment, not_graded, graded_students=()):
    """Put a NOT_GRADED.txt into each such student's autograded folder: feedback copies it.

    A student with nothing gradable gets no feedback from nbgrader at all, so their note goes
    straight into ``feedback/`` as well.
    """
    for student, lines in not_graded.items():
        text = ("These files of your submission were not graded:\n\n" + "\n".join(lines) +
                "\n\nAsk your instructor if this is a mistake.\n")
        steps = ("autograded",) if student in graded_students else ("autograded", "feedback")
        for step in steps:
            folder = Path(root) / step / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "NOT_GRADED.txt").write_text(text, encoding="utf-8")
