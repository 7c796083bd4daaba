"""``python -m grading autograde ASSIGNMENT [--student ID] [--unsafe-no-sandbox]``: what ``make autograde`` runs.

1. Checks that the sandbox works (or that grading without one was asked for by name).
2. Pre-flight: sets aside unreadable files; names files that are not graded, and why.
3. Grades every (student, notebook) job with the trusted tests, in sandboxes; results are cached,
   so an interrupted run continues where it stopped.
4. Runs ``nbgrader autograde``, which reads those results (it executes nothing) and writes the
   gradebook and the autograded notebooks for Formgrader and feedback.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path


def _check_sandbox(unsafe):
    from grading.sandbox import INSTALL_HINT, bwrap_path

    if unsafe:
        print("=" * 78 + "\nWARNING: grading WITHOUT a sandbox (UNSAFE_NO_SANDBOX=1). Student code runs with your\n"
              "rights: it can read and change the course folder and the gradebook. Library rules are not\n"
              "enforced. Use this only for submissions you trust.\n" + "=" * 78, flush=True)
        return
    if bwrap_path() is None:
        raise SystemExit("make autograde: refusing to run student code outside a sandbox.\n" + INSTALL_HINT)
    from grading.sandbox import Session

    with Session("numpy", [("probe", "x = 1")], ["import numpy as np"]) as session:
        if session.cell_errors:
            raise SystemExit(f"make autograde: the sandbox does not work here: {session.cell_errors}")


def _check_gradebook(db_url, assignment):
    """Stop before grading when nbgrader could not record the grades afterwards.

    The gradebook learns an assignment's graded cells from ``nbgrader generate_assignment``
    (``make assignment``). A fresh clone has release/ committed but no gradebook, and without
    this check nbgrader would refuse only after every submission had been graded.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gradebook:
        try:
            known = gradebook.find_assignment(assignment)
        except MissingEntry:
            known = None
        if known is None or not known.notebooks:
            raise SystemExit(f"make autograde: the gradebook has no assignment {assignment!r} yet. Run `make assignment` "
                             "once (it records the graded cells; release/ and notebooks/ come out unchanged), then "
                             "make autograde again.")


def _venv_on_path():
    """Put this Python's bin folder first on PATH: nbgrader runs alembic from there (to make a
    gradebook), also when this runs as .venv/bin/python -m grading without the Makefile's PATH."""
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")


def autograde(root, assignment, student=None, unsafe=False, workers=None, scheduler=None):
    from grading import jobs
    from grading.nbgrader_glue import course_db_url, course_setting, set_aside_unreadable

    root = Path(root).resolve()
    _venv_on_path()
    _check_gradebook(course_db_url(root), assignment)
    _check_sandbox(unsafe)
    if unsafe:
        os.environ[jobs.UNSAFE_ENV] = "1"
    set_aside = set_aside_unreadable(root, assignment, sys.stdout, db_url=course_db_url(root))
    print(f"pre-flight: {len(set_aside)} unreadable notebook(s) set aside")
    not_graded = {}
    todo = [job for job in jobs.discover(root, assignment, sys.stdout, not_graded) if student in (None, job[0])]
    scheduler = scheduler or course_setting(root, "Grading", "scheduler") or None
    counts = jobs.run_all(root, assignment, todo, sandboxed=not unsafe, workers=workers, scheduler=scheduler)
    # nbgrader only records here (it executes nothing): its warnings, not every file it writes.
    command = [str(Path(sys.executable).parent / "nbgrader"), "autograde", assignment, "--force", "--log-level=WARN"]
    if student:
        command += ["--student", student]
    print(f"recording grades: {' '.join(command[1:])}", flush=True)
    # SQLAlchemy warns about nbgrader's own session handling for a student without notebooks.
    env = dict(os.environ, PYTHONWARNINGS="ignore:Object of type")
    import time

    recording_started = time.monotonic()
    done = subprocess.run(command, cwd=root, env=env)
    recording_seconds = time.monotonic() - recording_started
    jobs.write_not_graded_notes(root, assignment, {s: v for s, v in not_graded.items() if student in (None, s)},
                                {job[0] for job in todo})
    set_aside_count = sum(len(lines) for lines in not_graded.values())
    print(f"summary: {counts['graded']} notebooks graded now in {jobs._duration(counts['seconds'])}, "
          f"{counts['cached']} from earlier runs, {counts['failed']} failed, {set_aside_count} not graded; "
          f"nbgrader recorded them in {jobs._duration(recording_seconds)}")
    for failed_student, notebook, reason in counts["failures"]:
        print(f"  FAILED {failed_student}/{notebook}: {reason} (run make autograde again; tell the course's maintainers)")
    for lines in not_graded.values():
        for line in lines:
            print(f"  {line}")
    return done.returncode or (1 if counts["failed"] else 0)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grading")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("autograde", help="grade every submission in submitted/")
    grade.add_argument("assignment")
    grade.add_argument("--student")
    grade.add_argument("--root", default=".")
    grade.add_argument("--workers", type=int, default=None,
                       help="jobs graded at once (default: one per core; also WORKERS=N)")
    grade.add_argument("--scheduler", default=None,
                       help="a Dask scheduler, tcp://HOST:PORT: grade on its workers (also SCHEDULER=...)")
    grade.add_argument("--unsafe-no-sandbox", action="store_true",
                       help="run student code WITHOUT a sandbox (only for submissions you trust)")
    collect = commands.add_parser("collect", help="file an LMS download (Moodle's, say) into submitted/")
    collect.add_argument("assignment")
    collect.add_argument("--root", default=".")
    collect.add_argument("--force", action="store_true", help="replace files in submitted/ that differ")
    collect.add_argument("--mapping", default=None, help="CSV participant_id,student_id")
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
    args = parser.parse_args(argv)
    if args.command == "preflight":
        from grading.nbgrader_glue import course_db_url, set_aside_unreadable

        found = set_aside_unreadable(args.root, args.assignment, sys.stdout, db_url=course_db_url(args.root))
        print(f"pre-flight: {len(found)} unreadable notebook(s) set aside")
        return 0
    if args.command == "solutions-html":
        from grading.offline_html import export_solutions

        for path in export_solutions(args.root, args.assignment):
            print(f"wrote {path}")
        return 0
    if args.command == "collect":
        from grading.collect import collect as collect_downloads

        counts = collect_downloads(args.root, args.assignment, args.force, args.mapping or None)
        return 1 if counts["conflicts"] or counts["refused"] else 0
    if args.command == "moodle-grades":
        from grading.collect import write_moodle_grades

        write_moodle_grades(args.root, args.assignment, Path(args.root) / args.grades, Path(args.root) / args.out)
        return 0
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
