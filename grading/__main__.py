"""``python -m grading COMMAND ASSIGNMENT ...``: the instructor's commands (what the Makefile runs).

``autograde`` (:mod:`grading.course.autograde`), ``feedback`` (``make feedback``), ``feedback-zip``,
``collect``, ``moodle-grades``, ``solutions-html``, ``preflight``, ``report``
(:mod:`grading.course.report`) and ``similarity`` (:mod:`grading.course.similarity`).
``--assignments DIR`` adds a folder of assignment packages (:mod:`grading.core.assignment`).
"""

import argparse
import os
import sys
from pathlib import Path


def main(argv=None):
    from grading.core import assignment as assignments

    parser = argparse.ArgumentParser(prog="python -m grading")
    parser.add_argument("--assignments", action="append", default=[], metavar="DIR",
                        help="a folder holding assignment packages (<DIR>/<assignment>/__init__.py), searched before "
                             f"grading/; may be repeated (also {assignments.PATH_VARIABLE})")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("autograde", help="grade every submission in submitted/")
    grade.add_argument("assignment")
    grade.add_argument("--student", action="append", default=[],
                       help="grade this student's notebooks again, cached or not "
                            "(may be repeated; make autograde STUDENT=id)")
    grade.add_argument("--test", action="append", default=[], dest="tests", metavar="GRADE_ID",
                       help="grade this test again for every student, cached or not "
                            "(may be repeated; make autograde TEST=id)")
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
    feedback = commands.add_parser("feedback",
                                   help="HTML feedback in feedback/ for every student whose feedback changed")
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
        from grading.course.autograde import venv_on_path
        from grading.course.config import course_db_url
        from grading.course.recording import waiting_for_manual_grading, write_feedback

        venv_on_path()
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
        from grading.course.autograde import autograde

        return autograde(args.assignment, args.root, students=args.student, tests=args.tests, unsafe=unsafe,
                         workers=workers, scheduler=scheduler)["status"]
    except KeyboardInterrupt:
        print("\ninterrupted: every job finished so far is kept (.grading/); run make autograde again to finish",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
