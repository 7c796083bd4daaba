"""``make autograde``: grade what was handed in, and record it in nbgrader's gradebook.

:func:`autograde` is what ``python -m grading autograde`` and ``make autograde`` run, and what a
script calls (``grading.autograde``):

1. Records the assignment's graded cells in the gradebook if it does not have them yet (a fresh
   clone), without touching release/ or notebooks/ (:mod:`grading.course.recording`).
2. Checks that the sandbox works (or that grading without one was asked for by name).
3. Pre-flight: sets aside unreadable files; names files that are not graded, and why.
4. Grades every test whose cached result does not hold (:mod:`grading.core.jobs`), in sandboxes;
   an interrupted run continues where it stopped. ``student`` and ``tests`` grade those again.
5. Runs ``nbgrader autograde`` for the students whose results changed since it last recorded
   them; it reads those results (it executes nothing) and writes the gradebook and the autograded
   notebooks for Formgrader and feedback. Manual grades of unchanged notebooks stay as they were,
   and the names of Moodle's download reach the gradebook.
"""

import os
import sys
import time
from pathlib import Path


def check_sandbox(unsafe):
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


def venv_on_path():
    """Put this Python's bin folder first on PATH: nbgrader runs alembic from there (to make a
    gradebook), also when this runs as .venv/bin/python -m grading without the Makefile's PATH."""
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")


class Recorder:
    """nbgrader's recording of each student as soon as their grading is done, beside the grading of others.

    One thread runs one ``nbgrader autograde`` at a time, for the students whose jobs ended since
    the last one: the gradebook keeps one writer, this process's, and recording no longer waits
    for the whole class. nbgrader reads the stored results (it executes nothing).

    Parameters
    ----------
    students : list of str
        Every student with a submission (those not recorded are excluded from each nbgrader run).
    every_job : list of (student, notebook)
    chosen : list of str
        Students asked for by name: they are recorded whatever changed.
    """

    def __init__(self, root, assignment, students, every_job, db_url, chosen=()):
        import queue
        import threading

        self.root, self.assignment, self.students, self.every_job = root, assignment, students, every_job
        self.db_url, self.chosen = db_url, list(chosen)
        self.due, self.failed, self.status, self.seconds = [], {}, 0, 0.0
        self.ended = time.monotonic()
        self._seen, self._queue, self._error = set(), queue.Queue(), None
        self._thread = threading.Thread(target=self._serve, name="recorder", daemon=True)
        self._thread.start()

    def done(self, student):
        """The student's jobs have all ended: record them when nbgrader is next free."""
        self._seen.add(student)
        self._queue.put(student)

    def finish(self, students):
        """Record whoever of ``students`` is still due (those without jobs this run too); wait for it."""
        for student in students:
            if student not in self._seen:
                self.done(student)
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _serve(self):
        import queue

        while True:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if self._error is None:
                try:
                    self._record([student for student in batch if student is not None and student in self.students])
                except Exception as error:  # raised again by finish(), in the coordinator's thread
                    self._error = error
            if None in batch:
                return

    def _record(self, batch):
        from grading.core.student_ids import shown
        from grading.course import recording

        if not batch:
            return
        started = time.monotonic()
        if self.chosen:
            due = [student for student in batch if student in self.chosen]
        else:
            due = recording.students_to_record(self.root, self.assignment, batch, self.every_job, self.db_url)
        if due:
            # nbgrader only records here (it executes nothing): its warnings, not every file it writes.
            print(f"  recording grades (nbgrader autograde): {', '.join(shown(s) for s in due)}", flush=True)
            status, failed = recording.record(self.root, self.assignment, due, self.students, self.db_url)
            self.due += due
            self.failed.update(failed)
            self.status = self.status or status
        self.seconds += time.monotonic() - started
        self.ended = time.monotonic()


def autograde(assignment, root=".", students=(), tests=(), unsafe=False, workers=None, scheduler=None):
    """Grade an assignment's submissions and record them in nbgrader's gradebook; returns a summary.

    What ``make autograde`` does, for scripts::

        import grading
        summary = grading.autograde("sheet3", students=["s0001"])         # just this student, again
        summary = grading.autograde("sheet3", tests=["test_conv2d"])      # one changed test, everyone

    Parameters
    ----------
    assignment : str
        The assignment's name (its package: :mod:`grading.core.assignment`).
    root : path
        The course folder (``nbgrader_config.py``, ``source/``, ``submitted/``).
    students : collection of str
        Grade only these students, every test again, and record them (default: everyone, each test
        whose cached result does not hold).
    tests : collection of str
        grade_ids graded again for every student (or for ``students``), cached or not.
    unsafe : bool
        Run student code without a sandbox (only for submissions you trust).
    workers : int, optional
        Jobs graded at once (default: one per core).
    scheduler : str, optional
        A Dask scheduler's address (``tls://HOST:PORT``); default: the course's setting, else local.

    Returns
    -------
    dict
        ``status`` (0 when everything was graded and recorded), ``graded``, ``cached`` and ``failed``
        notebooks, ``tests_graded``, ``recorded`` [students nbgrader recorded], ``failures``.

    Raises
    ------
    SystemExit
        With a message, for an unknown assignment, student or test, or a sandbox that does not work.
    """
    from grading.core import assignment as assignments
    from grading.core import jobs
    from grading.course.config import course_setting

    root = Path(root).resolve()
    try:
        assignments.load(assignment)
    except LookupError as error:
        raise SystemExit(f"make autograde: {error}") from None
    scheduler = scheduler or course_setting(root, "Grading", "scheduler") or None
    count = max(1, int(workers or os.cpu_count() or 1))
    started = jobs.Workers(assignment, count) if count > 1 and not scheduler else None
    try:
        return _autograde(assignment, root, students, tests, unsafe, workers, scheduler, started)
    finally:
        if started is not None:
            started.close()


def _autograde(assignment, root, students, tests, unsafe, workers, scheduler, started):
    from grading.core import jobs
    from grading.core.engine import notebook_plan
    from grading.course import recording, submissions
    from grading.course.config import course_db_url
    from grading.course.preflight import set_aside_unreadable
    from grading.core.student_ids import normal_id

    venv_on_path()
    db_url = course_db_url(root)
    recording.register_assignment(root, assignment, db_url)
    check_sandbox(unsafe)
    if unsafe:
        os.environ[jobs.UNSAFE_ENV] = "1"
    set_aside = set_aside_unreadable(root, assignment, sys.stdout, db_url=db_url)
    print(f"pre-flight: {len(set_aside)} unreadable notebook(s) set aside")
    not_graded = {}
    every_job = submissions.discover(root, assignment, sys.stdout, not_graded)
    chosen = [normal_id(s) for s in students]  # filed in NFC (grading.core.student_ids), whatever was typed
    unknown = [s for s in chosen if s not in {job[0] for job in every_job}]
    if unknown:
        raise SystemExit(f"make autograde: nothing of {', '.join(unknown)} to grade in submitted/*/{assignment}/")
    known_tests = {gid for path in sorted((root / "source" / assignment).glob("*.ipynb"))
                   for gid in notebook_plan(path)["tests"]}
    if set(tests) - known_tests:
        raise SystemExit(f"make autograde: {assignment} has no test {', '.join(sorted(set(tests) - known_tests))} "
                         f"(its tests: {', '.join(sorted(known_tests))})")
    todo = [job for job in every_job if not chosen or job[0] in chosen]
    students = recording.submitted_students(root, assignment)
    named = recording.names_from_moodle(root, assignment, db_url, students)
    if named:
        print(f"gradebook: the names of {named} student(s) from downloaded/{assignment}/participants.csv")
    recorder = Recorder(root, assignment, students, every_job, db_url, chosen)
    try:
        counts = jobs.run_all(root, assignment, todo, sandboxed=not unsafe, workers=workers, scheduler=scheduler,
                              students=set(chosen) if chosen and not tests else (), tests=set(tests),
                              student_done=recorder.done, started=started)
        grading_ended = time.monotonic()
    finally:
        recorder.finish(chosen or students)
    to_record, not_recorded, status = recorder.due, recorder.failed, recorder.status
    if not to_record:
        print("recording grades: nothing changed since nbgrader last recorded them", flush=True)
    recording_seconds, after_grading = recorder.seconds, max(0.0, recorder.ended - grading_ended)
    for name in chosen or students:  # notes of earlier runs that no longer hold
        if name not in not_graded:
            (root / "autograded" / name / assignment / "NOT_GRADED.txt").unlink(missing_ok=True)
    submissions.write_not_graded_notes(root, assignment,
                                       {s: v for s, v in not_graded.items() if not chosen or s in chosen},
                                       {job[0] for job in todo})
    set_aside_count = sum(len(lines) for lines in not_graded.values())
    # nbgrader's recording grades a failed job once more: what it stored is no failure any longer.
    failures = [f for f in counts["failures"] if jobs.cached(root, assignment, f[0], f[1], not unsafe) is None]
    machine = [f for f in failures if (f[0], f[1]) in counts["machine_failures"]]
    print(f"summary: {counts['graded'] + len(counts['failures']) - len(failures)} notebooks graded now in "
          f"{jobs.format_duration(counts['seconds'])}, {counts['cached']} from earlier runs, {len(failures)} failed"
          + (f" ({len(machine)} by the grading machine)" if machine else "")
          + f", {len(counts['faulty_cells'])} faulty solution cell(s) set aside, {set_aside_count} not graded; "
          f"nbgrader recorded them in {jobs.format_duration(recording_seconds)}, "
          f"{jobs.format_duration(after_grading)} of it after the grading ({len(to_record) - len(not_recorded)} of "
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
    return {"status": status or (1 if failures or not_recorded else 0), "graded": counts["graded"],
            "cached": counts["cached"], "failed": len(failures), "tests_graded": counts["tests_graded"],
            "recorded": [s for s in to_record if s not in not_recorded], "failures": failures}


