"""``python -m grading autograde ASSIGNMENT [--student ID] [--unsafe-no-sandbox]``: what ``make autograde`` runs.

1. Records the assignment's graded cells in the gradebook if it does not have them yet (a fresh
   clone), without touching release/ or notebooks/ (:mod:`grading.course.recording`).
2. Checks that the sandbox works (or that grading without one was asked for by name).
3. Pre-flight: sets aside unreadable files; names files that are not graded, and why.
4. Grades every (student, notebook) job with the trusted tests, in sandboxes; results are cached,
   so an interrupted run continues where it stopped.
5. Runs ``nbgrader autograde`` for the students whose results changed since it last recorded
   them; it reads those results (it executes nothing) and writes the gradebook and the autograded
   notebooks for Formgrader and feedback. Manual grades of unchanged notebooks stay as they were,
   and the names of Moodle's download reach the gradebook.

Also here: ``feedback`` (``make feedback``), ``feedback-zip``, ``collect``, ``moodle-grades``,
``solutions-html``, ``preflight``, ``report`` (:mod:`grading.course.report`) and ``similarity``
(:mod:`grading.course.similarity`).
"""

import argparse
import os
import sys
from pathlib import Path


def _check_sandbox(unsafe):
    from grading.core.sandbox import INSTALL_HINT, bwrap_path

    if unsafe:
        print("=" * 78 + "\nWARNING: grading WITHOUT a sandbox (UNSAFE_NO_SANDBOX=1). Student code runs with your\n"
              "rights: it can read and change the course folder and the gradebook. Library rules are not\n"
              "enforced. Use this only for submissions you trust.\n" + "=" * 78, flush=True)
        return
    if bwrap_path() is None:
        raise SystemExit("make autograde: refusing to run student code outside a sandbox.\n" + INSTALL_HINT)
    from grading.core.errors import MachineFailure
    from grading.core.sandbox import Session

    try:
        with Session("numpy", [("probe", "x = 1")], ["import numpy as np"]) as session:
            if session.cell_errors:
                raise SystemExit(f"make autograde: the sandbox does not work here: {session.cell_errors}")
    except MachineFailure as error:
        raise SystemExit(f"make autograde: the sandbox does not work here: {error}. Nothing was graded.") from None


def _venv_on_path():
    """Put this Python's bin folder first on PATH: nbgrader runs alembic from there (to make a
    gradebook), also when this runs as .venv/bin/python -m grading without the Makefile's PATH."""
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")


def autograde(root, assignment, student=None, unsafe=False, workers=None, scheduler=None):
    from grading.core import jobs
    from grading.course import recording
    from grading.course.config import course_db_url, course_setting
    from grading.course.preflight import set_aside_unreadable
    from grading.course.student_ids import normal_id

    from grading.core import assignment as assignments

    root = Path(root).resolve()
    try:
        assignments.load(assignment)
    except LookupError as error:
        raise SystemExit(f"make autograde: {error}") from None
    _venv_on_path()
    db_url = course_db_url(root)
    recording.register_assignment(root, assignment, db_url)
    _check_sandbox(unsafe)
    if unsafe:
        os.environ[jobs.UNSAFE_ENV] = "1"
    set_aside = set_aside_unreadable(root, assignment, sys.stdout, db_url=db_url)
    print(f"pre-flight: {len(set_aside)} unreadable notebook(s) set aside")
    not_graded = {}
    every_job = jobs.discover(root, assignment, sys.stdout, not_graded)
    student = normal_id(student) if student else None  # filed in NFC (grading.course.student_ids), whatever was typed
    todo = [job for job in every_job if student in (None, job[0])]
    scheduler = scheduler or course_setting(root, "Grading", "scheduler") or None
    counts = jobs.run_all(root, assignment, todo, sandboxed=not unsafe, workers=workers, scheduler=scheduler)
    students = recording.submitted_students(root, assignment)
    named = recording.names_from_moodle(root, assignment, db_url, students)
    if named:
        print(f"gradebook: the names of {named} student(s) from downloaded/{assignment}/participants.csv")
    if student:
        to_record = [student] if student in students else []
    else:
        to_record = recording.students_to_record(root, assignment, students, every_job, db_url)
    import time

    recording_started = time.monotonic()
    status, not_recorded = 0, {}
    if to_record:
        # nbgrader only records here (it executes nothing): its warnings, not every file it writes.
        others = len(students) - len(to_record)
        print(f"recording grades (nbgrader autograde): {len(to_record)} student(s)"
              + (f"; {others} other(s) did not change since nbgrader recorded them" if others else ""), flush=True)
        status, not_recorded = recording.record(root, assignment, to_record, students, db_url)
    else:
        print("recording grades: nothing changed since nbgrader last recorded them", flush=True)
    recording_seconds = time.monotonic() - recording_started
    for name in [student] if student else students:  # notes of earlier runs that no longer hold
        if name not in not_graded:
            (root / "autograded" / name / assignment / "NOT_GRADED.txt").unlink(missing_ok=True)
    jobs.write_not_graded_notes(root, assignment, {s: v for s, v in not_graded.items() if student in (None, s)},
                                {job[0] for job in todo})
    set_aside_count = sum(len(lines) for lines in not_graded.values())
    # nbgrader's recording grades a failed job once more: what it stored is no failure any longer.
    failures = [f for f in counts["failures"] if jobs.cached(root, assignment, f[0], f[1], not unsafe) is None]
    machine = [f for f in failures if (f[0], f[1]) in counts["machine_failures"]]
    print(f"summary: {counts['graded'] + len(counts['failures']) - len(failures)} notebooks graded now in "
          f"{jobs._duration(counts['seconds'])}, {counts['cached']} from earlier runs, {len(failures)} failed"
          + (f" ({len(machine)} by the grading machine)" if machine else "")
          + f", {len(counts['faulty_cells'])} faulty solution cell(s) set aside, {set_aside_count} not graded; "
          f"nbgrader recorded them in {jobs._duration(recording_seconds)} ({len(to_record) - len(not_recorded)} of "
          f"{len(students)} student(s)" + (f", {len(not_recorded)} FAILED" if not_recorded else "") + ")")
    for failure in failures:
        advice = ("no score was recorded for it; run make autograde again" if failure in machine
                  else "run make autograde again; tell the course's maintainers")
        print(f"  FAILED {failure[0]}/{failure[1]}: {failure[2]} ({advice})")
    for line in counts["faulty_cells"]:
        print(f"  {line}")
    for name, why in not_recorded.items():
        print(f"  FAILED {name}: nbgrader could not record their results ({why or 'see its messages above'}); their "
              "earlier autograded notebooks are kept, everyone else's record is written; the next make autograde "
              "tries again")
    for lines in not_graded.values():
        for line in lines:
            print(f"  {line}")
    answers, submissions = recording.waiting_for_manual_grading(db_url, assignment)
    if answers:
        print(f"next: {answers} written answer(s) in {submissions} submission(s) wait for manual grading "
              "(make instructor, then Formgrader); then make feedback")
    return status or (1 if failures or not_recorded else 0)


def main(argv=None):
    from grading.core import assignment as assignments

    parser = argparse.ArgumentParser(prog="python -m grading")
    parser.add_argument("--assignments", action="append", default=[], metavar="DIR",
                        help="a folder holding assignment packages (<DIR>/<assignment>/__init__.py), searched before "
                             f"grading/; may be repeated (also {assignments.PATH_VARIABLE})")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("autograde", help="grade every submission in submitted/")
    grade.add_argument("assignment")
    grade.add_argument("--student")
    grade.add_argument("--root", default=".")
    grade.add_argument("--workers", type=int, default=None,
                       help="jobs graded at once (default: one per core; also WORKERS=N)")
    grade.add_argument("--scheduler", default=None,
                       help="a Dask scheduler, tls://HOST:PORT: grade on its workers (also SCHEDULER=...)")
    grade.add_argument("--unsafe-no-sandbox", action="store_true",
                       help="run student code WITHOUT a sandbox (only for submissions you trust)")
    collect = commands.add_parser("collect", help="file an LMS download (Moodle's, say) into submitted/")
    collect.add_argument("assignment")
    collect.add_argument("--root", default=".")
    collect.add_argument("--force", action="store_true", help="replace files in submitted/ that differ")
    collect.add_argument("--mapping", default=None, help="CSV participant_id,student_id")
    feedback = commands.add_parser("feedback", help="HTML feedback in feedback/ for every student whose feedback changed")
    feedback.add_argument("assignment")
    feedback.add_argument("--root", default=".")
    feedback.add_argument("--force", action="store_true", help="rewrite every student's feedback")
    feedback_zip = commands.add_parser("feedback-zip", help="the feedback as a zip for Moodle's feedback upload")
    feedback_zip.add_argument("assignment")
    feedback_zip.add_argument("--root", default=".")
    feedback_zip.add_argument("--out", default="feedback-moodle.zip")
    moodle = commands.add_parser("moodle-grades", help="a grade file for Moodle's import, from grades.csv")
    moodle.add_argument("assignment")
    moodle.add_argument("--root", default=".")
    moodle.add_argument("--grades", default="grades.csv")
    moodle.add_argument("--out", default="grades-moodle.csv")
    solutions = commands.add_parser("solutions-html", help="the executed solutions as HTML that needs no internet")
    solutions.add_argument("assignment")
    solutions.add_argument("--root", default=".")
    preflight = commands.add_parser("preflight", help="only set aside unreadable submissions")
    preflight.add_argument("assignment")
    preflight.add_argument("--root", default=".")
    for name, about in (("report", "reports/ASSIGNMENT/class.html and items.csv: what the class did, per test"),
                        ("similarity", "reports/ASSIGNMENT/similarity.html and .csv: similar solution code")):
        command = commands.add_parser(name, help=about)
        command.add_argument("assignment")
        command.add_argument("--root", default=".")
    args = parser.parse_args(argv)
    if args.assignments:  # in the environment, so that worker processes and nbgrader find the packages too
        listed = [str(Path(folder).resolve()) for folder in args.assignments]
        os.environ[assignments.PATH_VARIABLE] = os.pathsep.join(
            [*listed, *filter(None, os.environ.get(assignments.PATH_VARIABLE, "").split(os.pathsep))])
    if args.command == "preflight":
        from grading.course.config import course_db_url
        from grading.course.preflight import set_aside_unreadable

        found = set_aside_unreadable(args.root, args.assignment, sys.stdout, db_url=course_db_url(args.root))
        print(f"pre-flight: {len(found)} unreadable notebook(s) set aside")
        return 0
    if args.command in ("report", "similarity"):
        if args.command == "report":
            from grading.course.report import write_report as write
        else:
            from grading.course.similarity import write_similarity as write
        for path in write(args.root, args.assignment):
            print(f"wrote {path}")
        return 0
    if args.command == "solutions-html":
        from grading.course.offline_html import export_solutions

        for path in export_solutions(args.root, args.assignment):
            print(f"wrote {path}")
        return 0
    if args.command == "collect":
        from grading.course.collect import collect as collect_downloads

        counts = collect_downloads(args.root, args.assignment, args.force, args.mapping or None)
        return 1 if counts["conflicts"] or counts["refused"] else 0
    if args.command == "moodle-grades":
        from grading.course.collect import ungraded_answers, write_moodle_grades

        grades, out = Path(args.root) / args.grades, Path(args.root) / args.out
        write_moodle_grades(args.root, args.assignment, grades, out)
        answers, submissions = ungraded_answers(grades, args.assignment)
        if answers:
            print(f"PROVISIONAL: {answers} written answer(s) in {submissions} submission(s) are not graded yet, so "
                  f"their points are missing from the totals ({args.grades}: waiting_for_manual_grading; "
                  f"{args.out}: Grading status). Grade them in Formgrader, then make grades again.")
        else:
            print("every written answer is graded: the totals are final")
        return 0
    if args.command in ("feedback", "feedback-zip"):
        from grading.course.config import course_db_url
        from grading.course.recording import waiting_for_manual_grading, write_feedback

        _venv_on_path()
        if args.command == "feedback":
            return write_feedback(Path(args.root).resolve(), args.assignment, course_db_url(args.root), args.force)
        from grading.course.collect import write_feedback_zip

        done = write_feedback_zip(args.root, args.assignment, Path(args.root) / args.out)
        answers, submissions = waiting_for_manual_grading(course_db_url(args.root), args.assignment)
        if answers:
            print(f"  PROVISIONAL: {answers} written answer(s) in {submissions} submission(s) are not graded yet; "
                  "their feedback says so")
        return 0 if done["students"] else 1
    unsafe = args.unsafe_no_sandbox or os.environ.get("UNSAFE_NO_SANDBOX") == "1"
    try:
        workers = args.workers or (int(os.environ["WORKERS"]) if os.environ.get("WORKERS", "").isdigit() else None)
        scheduler = args.scheduler or os.environ.get("SCHEDULER") or None
        return autograde(args.root, args.assignment, args.student, unsafe, workers, scheduler)
    except KeyboardInterrupt:
        print("\ninterrupted: every job finished so far is kept (.grading/); run make autograde again to finish",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
