"""Grading jobs of a course: which there are, their cached results, and running them.

A job is one (student, notebook) pair and the tests of it to grade: every test whose cached
result does not hold any more (:mod:`grading.core.cache`: a key per test), or those asked for by
name. Results live in ``.grading/<assignment>/<student>/<notebook>.json`` under the course
folder, written atomically. An interrupted run therefore loses at most the jobs that were
running, and a second run computes only what is missing or out of date. The cache is written by
the coordinator only; jobs themselves return data.

A job that the grading machine fails (:class:`grading.core.errors.MachineFailure`: no sandbox could
be created, no process started, its worker died) is graded again, and after
:data:`MACHINE_ATTEMPTS` attempts reported as the machine's failure: it is never stored, so the
next run grades it.
"""

import functools
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from grading.core import cache
from grading.core.student_ids import is_student_id

UNSAFE_ENV = "GRADING_UNSAFE_NO_SANDBOX"


def unsafe_requested():
    """True when the instructor explicitly asked to grade without a sandbox."""
    return os.environ.get(UNSAFE_ENV, "") == "1"


def cache_path(root, assignment, student, notebook):
    if not is_student_id(student) or not is_student_id(notebook):
        raise ValueError(f"not a safe folder name: {student!r}/{notebook!r}")
    return Path(root) / ".grading" / assignment / student / f"{notebook}.json"


def paths(root, assignment, student, notebook):
    root = Path(root)
    return (root / "source" / assignment / f"{notebook}.ipynb",
            root / "submitted" / student / assignment / f"{notebook}.ipynb")


def _plan(source_path):
    """The source notebook's grading plan, read once while the file is unchanged."""
    stat = os.stat(source_path)
    return _plan_of(str(source_path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _plan_of(source_path, mtime_ns, size):
    from grading.core.engine import notebook_plan

    return notebook_plan(source_path)


def solution_sources(submission_path, solution_ids):
    """The student's solution cells as the cache keys see them: [(grade_id, source)], read as plain JSON.

    The same cells :func:`grading.core.engine.student_cells` grades, for a version 4 notebook; any
    other file (unreadable, another version) counts by its bytes, so that a change of it still
    regrades it.
    """
    from grading.core.engine import cell_source, nbgrader_metadata

    try:
        data = Path(submission_path).read_bytes()
    except OSError:
        return [("<missing>", "")]
    try:
        content = json.loads(data)
        cells = content["cells"] if content.get("nbformat") == 4 else None
    except (ValueError, AttributeError, KeyError, TypeError, RecursionError):
        cells = None
    if not isinstance(cells, list):
        return [("<file>", hashlib.sha256(data).hexdigest())]
    found = {}
    for cell in cells:
        gid = nbgrader_metadata(cell).get("grade_id")
        if gid in solution_ids and isinstance(cell, dict) and cell.get("cell_type") == "code":
            found[gid] = cell_source(cell)
    return [(gid, found.get(gid, "")) for gid in solution_ids]


def test_keys(root, assignment, student, notebook, sandboxed=True):
    """{grade_id: key} of one job's tests (:func:`grading.core.cache.test_keys`)."""
    return job_keys(root, assignment, student, notebook, sandboxed)[0]


def job_keys(root, assignment, student, notebook, sandboxed=True):
    """({grade_id: key}, :func:`grading.core.cache.grading_context` of the student's cells) of one job."""
    from grading.core import assignment as assignments

    source, submission = paths(root, assignment, student, notebook)
    plan = _plan(source)
    cells = solution_sources(submission, plan["solutions"])
    keys = cache.test_keys(assignments.load(assignment), notebook, plan, cells, sandboxed)
    return keys, cache.grading_context(plan, cells, sandboxed)


def stale_tests(root, assignment, student, notebook, sandboxed=True, force=()):
    """The grade_ids of one job to grade now: those without a result that holds, and those in ``force``
    (grade_ids, or True for all)."""
    keys = test_keys(root, assignment, student, notebook, sandboxed)
    stale = cache.stale_tests(cache.read(cache_path(root, assignment, student, notebook)), keys)
    return [gid for gid in keys if gid in stale or force is True or gid in force]


def cached(root, assignment, student, notebook, sandboxed=True):
    """The stored result of a job if every test's result holds, else None."""
    record = cache.read(cache_path(root, assignment, student, notebook))
    if record is None or stale_tests(root, assignment, student, notebook, sandboxed):
        return None
    return record["result"]


def store(root, assignment, student, notebook, keys, fresh, cells=None):
    """Merge freshly graded tests into the job's record and write it (atomically); ``cells``: the
    digest of the solution cells they were graded on."""
    path = cache_path(root, assignment, student, notebook)
    record = cache.merge(cache.read(path), keys, fresh, cells)
    cache.write(path, record)
    note_submission(root, assignment, student, notebook)
    return record["result"]


def note_submission(root, assignment, student, notebook):
    """Note the submitted file's digest in the job's record; a new file (a changed written answer, say) counts as
    a change to record even where no test's result changes."""
    path = cache_path(root, assignment, student, notebook)
    record = cache.read(path)
    if record is None:
        return
    try:
        digest = hashlib.sha256(paths(root, assignment, student, notebook)[1].read_bytes()).hexdigest()
    except OSError:
        return
    if record.get("submission") != digest:
        cache.write(path, {**record, "submission": digest, "changed": time.time_ns()})


def run_job(root, assignment, student, notebook, sandboxed=True, uid=None, only=None, reuse_set_aside=True):
    """Grade one job's tests now (no cache): ``only`` those grade_ids, or all. A pure function of its files.

    Returns (keys, cells, result): the keys of the job's tests as they are now, the grading context
    of the student's cells (:func:`grading.core.cache.grading_context`), and the result of the tests
    graded, which names no path of this machine (:func:`grading.core.private_paths.scrub_result`).
    Cells that the stored record set aside in the same context are not run again, unless
    ``reuse_set_aside`` is False (the student was asked for by name: everything runs again).
    """
    from grading.core.engine import grade_notebook
    from grading.core.private_paths import scrub_result

    source, submission = paths(root, assignment, student, notebook)
    keys, cells = job_keys(root, assignment, student, notebook, sandboxed)
    known = cache.set_aside(cache.read(cache_path(root, assignment, student, notebook)), cells) if reuse_set_aside \
        else {}
    result = grade_notebook(assignment, source, submission, notebook, sandboxed=sandboxed, uid=uid, only=only,
                            set_aside=known)
    return keys, cells, scrub_result(result, root)


def result_for(root, assignment, student, notebook, sandboxed=True, log=None):
    """The job's result: from the cache, with whatever does not hold there graded now and stored."""
    stale = stale_tests(root, assignment, student, notebook, sandboxed)
    record = cache.read(cache_path(root, assignment, student, notebook))
    if record is not None and not stale:
        return record["result"]
    if log:
        log.info("Grading %s/%s with the trusted tests", student, notebook)
    keys, cells, fresh = run_job(root, assignment, student, notebook, sandboxed, only=stale)
    result = store(root, assignment, student, notebook, keys, fresh, cells)
    if log:
        for line in faulty_cell_lines(student, notebook, fresh):
            log.warning("%s", line)
    return result


def faulty_cell_lines(student, notebook, result):
    """One line per solution cell that a job set aside (it ended the process or ran out of its time)."""
    return [f"FAULTY CELL {student}/{notebook}: the {gid} cell {fault.get('what', '')}; its tasks scored 0, the other "
            "cells were graded" for gid, fault in (result.get("faulty_cells") or {}).items()]


#: Attempts a job gets when the grading machine fails it (no sandbox, no process, a worker lost).
MACHINE_ATTEMPTS = 3
#: Seconds between rounds of attempts: a passing shortage (of processes, say) may be over by then.
RETRY_SECONDS = 5.0


def machine_failure(outcome):
    """True when a job's outcome is a failure of the grading machine, not of the student's work."""
    from grading.core.errors import MachineFailure

    # Dask's KilledWorker: the job's worker died again and again.
    return isinstance(outcome, MachineFailure) or type(outcome).__name__ == "KilledWorker"


def _worker_lost():
    from grading.core.errors import MachineFailure

    return MachineFailure("the grading worker's process died (killed, or out of memory?)")


def _in_rounds(run_round, todo, finished, out):
    """Run the jobs; those the machine failed run again in later rounds, up to :data:`MACHINE_ATTEMPTS` in all.

    Parameters
    ----------
    run_round : callable
        Takes a list of jobs, yields (job, outcome) as each ends: (key, result), or an exception.
    finished : callable
        Called once per job with its last outcome.
    """
    attempts, pending = {}, list(todo)
    while pending:
        again = []
        for job, outcome in run_round(pending):
            attempts[job] = attempts.get(job, 0) + 1
            if machine_failure(outcome) and attempts[job] < MACHINE_ATTEMPTS:
                again.append(job)
                cause = outcome
            else:
                finished(job, outcome)
        if again:
            print(f"  the grading machine failed {len(again)} job(s) ({cause}): graded again in {RETRY_SECONDS:g} s",
                  file=out, flush=True)
            time.sleep(RETRY_SECONDS)
        pending = again


def _worker_start(assignment=None):
    """In each worker: die with the coordinator (kill -9 included), leave Ctrl-C to it, and import
    the assignment's trusted tests (PyTorch, SciPy) before the first job asks for them."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: its sandboxes die with it too
    except (OSError, AttributeError):
        pass
    if assignment:
        from grading.core import assignment as assignments

        declared = assignments.load(assignment)
        for notebook in declared.notebooks:
            declared.test_module(notebook)


def _started():
    """A job that does nothing: submitting one per worker starts them all."""


class Workers:
    """Worker processes started ahead of the jobs: they import the trusted tests while the
    coordinator prepares (pre-flight, the gradebook), and :func:`run_all` grades with them.

    Fresh interpreters (not forks of the coordinator), so no lock or thread of it is copied.
    """

    def __init__(self, assignment, count=None):
        import concurrent.futures
        import multiprocessing

        self.count = max(1, int(count or os.cpu_count() or 1))
        self._pool = concurrent.futures.ProcessPoolExecutor(
            self.count, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_start,
            initargs=(assignment,))
        for _ in range(self.count):
            self._pool.submit(_started)

    def take(self):
        """The pool, once (later rounds start their own); None after."""
        pool, self._pool = self._pool, None
        return pool

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def grade_files(assignment, notebook, source_text, submission_bytes, sandboxed=True, only=None, set_aside=None):
    """A job as a pure function of file contents: what a Dask worker on another machine runs.

    The worker needs this course's ``grading`` package with the assignment's trusted tests (and
    bubblewrap), nothing of the course folder: the source notebook and the student's file arrive as
    text and bytes. Returns the result of the tests ``only`` names (default: all); ``set_aside``:
    cells not to run again (:func:`grading.core.engine.grade_notebook`).
    """
    from grading.core.engine import grade_notebook
    from grading.core.private_paths import scrub_result
    from grading.core.errors import MachineFailure
    from grading.core.sandbox import grader_folder

    with tempfile.TemporaryDirectory(prefix="grading-job-files-", dir=grader_folder()) as folder:
        source = Path(folder) / "source.ipynb"
        submission = Path(folder) / "submission.ipynb"
        try:
            source.write_text(source_text, encoding="utf-8")
            submission.write_bytes(submission_bytes)
        except OSError as error:  # a full disk: the worker's failure, not the student's
            raise MachineFailure(f"the job's files could not be written ({error})") from None
        return scrub_result(grade_notebook(assignment, source, submission, notebook, sandboxed=sandboxed, only=only,
                                           set_aside=set_aside))


def _job(args):
    """One job in a worker process (a module-level function, so that it can be sent there)."""
    root, assignment, (student, notebook, only), sandboxed, reuse_set_aside = args
    return run_job(root, assignment, student, notebook, sandboxed, only=only, reuse_set_aside=reuse_set_aside)


def format_duration(seconds):
    """'7 s', or '2 min 05 s'."""
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class Progress:
    """One line per finished job: done and total, failures so far, and the time left."""

    def __init__(self, total, out):
        self.total, self.out, self.done, self.failed = total, out, 0, 0
        self.started = time.monotonic()

    def step(self, student, notebook, text, failed=False):
        self.done += 1
        self.failed += int(failed)
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done)
        width = 20
        bar = "#" * round(width * self.done / self.total) + "." * (width - round(width * self.done / self.total))
        print(f"  [{bar}] {self.done}/{self.total}  {student}/{notebook}: {text}  "
              f"({self.failed} failed, {format_duration(elapsed)} so far, about {format_duration(left)} left)",
              file=self.out, flush=True)


def dask_task(assignment, notebook, source_text, submission_bytes, sandboxed=True, only=None, set_aside=None):
    """A job as a Dask task made of the standard library and plain data.

    The scheduler unpickles every task it receives; a task that named :func:`grade_files` itself
    would need this course's ``grading`` package on the scheduler's path. This one names it as text,
    and only the worker, which has the course, resolves it.
    """
    import operator
    import pkgutil

    return (operator.call, (pkgutil.resolve_name, "grading.core.jobs:grade_files"),
            assignment, notebook, source_text, submission_bytes, sandboxed, only, set_aside)


def _run_on_dask(root, assignment, todo, sandboxed, scheduler, finished, out, students=()):
    """Send the jobs to a running Dask scheduler; results come back here, where they are stored.

    Connections use TLS with the course's certificates (``dask-certs/``, ``make dask-certs``). A
    worker that dies mid-job costs nothing: the scheduler runs its job again elsewhere.
    """
    from distributed import Client, as_completed

    from grading.core.dask_security import FOLDER, client_security, tls_address

    address = tls_address(scheduler)
    security = client_security(Path(root) / FOLDER)
    try:
        client = Client(address, security=security, timeout="30s")
    except OSError as error:
        raise SystemExit(f"make autograde: no Dask scheduler answered at {address} ({error}). Is it running, and "
                         f"does it have this course's certificates ({FOLDER}/ of this folder)?") from None
    with client:
        workers = len(client.scheduler_info().get("workers", {}))
        print(f"  Dask scheduler {address}: {workers} worker(s)", file=out, flush=True)
        graph, job_of, keys_of = {}, {}, {}
        for job in todo:
            student, notebook, only = job
            source, submission = paths(root, assignment, student, notebook)
            key = f"{assignment}-{student}-{notebook}-{os.urandom(4).hex()}"
            # Keys before the bytes: a file replaced in between is graded as the new one under the old
            # keys, so the next run grades it again (never the old file's result under the new keys).
            keys_of[key] = job_keys(root, assignment, student, notebook, sandboxed)
            stored = cache.read(cache_path(root, assignment, student, notebook))
            known = cache.set_aside(stored, keys_of[key][1]) if student not in students else {}
            graph[key] = dask_task(assignment, notebook, source.read_text(encoding="utf-8"), submission.read_bytes(),
                                   sandboxed, only, known)
            job_of[key] = job
        futures = client.get(graph, list(graph), sync=False, retries=3)
        try:
            for future in as_completed(futures):
                try:
                    outcome = (*keys_of[future.key], future.result())
                except Exception as error:
                    outcome = error
                finished(job_of[future.key], outcome)
        except KeyboardInterrupt:
            client.cancel(futures)
            raise


def plan_jobs(root, assignment, jobs, sandboxed=True, students=(), tests=()):
    """The jobs to run: [(student, notebook, grade_ids)], one per notebook with tests to grade.

    Parameters
    ----------
    jobs : list of (student, notebook)
    students : collection of str
        Students whose every test is graded again, cached or not.
    tests : collection of str
        grade_ids graded again for every student, cached or not.
    """
    todo = []
    for student, notebook in jobs:
        note_submission(root, assignment, student, notebook)
        force = True if student in students else tests
        stale = stale_tests(root, assignment, student, notebook, sandboxed, force)
        if stale:
            todo.append((student, notebook, tuple(stale)))
    return todo


def split_for_workers(assignment, todo, workers):
    """Spread few students' jobs over the workers: a notebook's longest test in a job of its own.

    A class has jobs enough for every worker; one late submission has one notebook whose training
    takes most of its time, and the other workers would wait for it. Each split costs one more
    set-up, so jobs are split only while there are no more students than workers, and only at the
    test with the largest time budget of its notebook, where that budget is above the default.
    """
    from grading.core import assignment as assignments

    declared = assignments.load(assignment)
    if workers < 2 or len({job[0] for job in todo}) > workers:
        return list(todo)
    split = []
    for student, notebook, only in todo:
        budgets = {gid: declared.test_seconds(notebook, gid) for gid in only}
        longest = max(budgets, key=budgets.get)
        long = [longest] if len(only) > 1 and budgets[longest] > assignments.DEFAULT_TEST_SECONDS else []
        rest = tuple(gid for gid in only if gid not in long)
        split += [(student, notebook, (gid,)) for gid in long] + ([(student, notebook, rest)] if rest else [])
    return split


def _job_budget(assignment, job):
    """(the longest test's budget, the job's whole budget): a job with a training goes first."""
    from grading.core import assignment as assignments

    declared = assignments.load(assignment)
    budgets = [declared.test_seconds(job[1], gid) for gid in job[2]]
    return max(budgets), sum(budgets)


def run_all(root, assignment, jobs, sandboxed=True, out=sys.stdout, workers=None, scheduler=None, students=(),
            tests=(), student_done=None, started=None):
    """Grade every test whose result is not cached yet, ``workers`` jobs at a time; returns a summary.

    Parameters
    ----------
    jobs : list of (student, notebook)
    workers : int, optional
        Jobs graded at once, each in a process of its own; default: one per core.
    scheduler : str, optional
        Address of a Dask scheduler (``tls://HOST:PORT``): the jobs run on its workers instead.
    students, tests : collection of str
        Graded again even where cached (:func:`plan_jobs`).
    student_done : callable, optional
        Called with a student's id as soon as the last of their jobs ended (in this thread).
    started : Workers, optional
        Worker processes started ahead (their count is then the number of workers).

    Returns
    -------
    dict
        ``graded``, ``cached`` and ``failed`` counts of notebooks, ``tests_graded`` (tests run),
        ``failures`` [(student, notebook, reason)], ``machine_failures`` [(student, notebook)] of
        those that the grading machine failed (:data:`MACHINE_ATTEMPTS` times; nothing of them is
        stored), ``faulty_cells`` [line] naming student, notebook and cell for each solution cell
        set aside (:func:`faulty_cell_lines`), and ``seconds``.
    """
    import concurrent.futures
    import multiprocessing

    todo = plan_jobs(root, assignment, jobs, sandboxed, students, tests)
    notebooks = {job[:2] for job in todo}
    workers = started.count if started else max(1, int(workers or os.cpu_count() or 1))
    if not scheduler:
        todo = split_for_workers(assignment, todo, workers)
    # The longest jobs first, so that no worker is left with a long one while the others are idle.
    todo.sort(key=lambda job: _job_budget(assignment, job), reverse=True)
    workers = min(workers, len(todo) or 1)
    tests_graded = sum(len(job[2]) for job in todo)
    print(f"grading: {len(jobs)} notebooks, {len(jobs) - len(notebooks)} already graded, {len(notebooks)} to grade "
          f"({tests_graded} test(s)), "
          + (f"on the Dask cluster at {scheduler}" if scheduler else f"{workers} at a time"), file=out, flush=True)
    progress, failures, machine, faulty = Progress(len(todo), out), [], [], []
    jobs_left = {}
    for job in todo:
        jobs_left[job[0]] = jobs_left.get(job[0], 0) + 1

    def finished(job, outcome):
        try:
            record(job, outcome)
        finally:
            jobs_left[job[0]] -= 1
            if student_done and not jobs_left[job[0]]:
                student_done(job[0])

    def record(job, outcome):
        student, notebook, only = job
        label = notebook if len(only) > 1 or len(todo) == len(notebooks) else f"{notebook} {only[0]}"
        if machine_failure(outcome):  # never the student's result: nothing is stored
            reason = f"the grading machine failed, not the student's work: {outcome}"
            if (student, notebook) not in machine:
                failures.append((student, notebook, reason))
                machine.append((student, notebook))
            progress.step(student, label, f"MACHINE FAILURE {outcome}", failed=True)
            return
        if isinstance(outcome, BaseException):  # a fault of the grader itself: say so, go on with the others
            reason = f"{type(outcome).__name__}: {outcome}"
            failures.append((student, notebook, reason))
            progress.step(student, label, f"GRADER ERROR {reason}", failed=True)
            return
        keys, cells, fresh = outcome
        result = store(root, assignment, student, notebook, keys, fresh, cells)
        score = sum(t["score"] for t in result["tests"].values())
        total = sum(t["points"] for t in result["tests"].values())
        cells = list(fresh.get("faulty_cells") or {})
        faulty.extend(faulty_cell_lines(student, notebook, fresh))
        progress.step(student, label, f"{score:g}/{total:g} points"
                      + (f", faulty cell{'s' if len(cells) > 1 else ''} {', '.join(cells)} set aside" if cells else ""))

    if scheduler and todo:
        _run_on_dask(root, assignment, todo, sandboxed, scheduler, finished, out, students)
    elif workers == 1 and started is None:
        def one_at_a_time(pending):
            for student, notebook, only in pending:
                try:
                    yield (student, notebook, only), run_job(root, assignment, student, notebook, sandboxed, only=only,
                                                             reuse_set_aside=student not in students)
                except Exception as error:
                    yield (student, notebook, only), error

        _in_rounds(one_at_a_time, todo, finished, out)
    else:
        # Fresh interpreters (not forks of this one), so no lock or thread of the coordinator is copied.
        context = multiprocessing.get_context("spawn")

        def in_workers(pending):
            pool = (started and started.take()) or concurrent.futures.ProcessPoolExecutor(
                workers, mp_context=context, initializer=_worker_start)
            with pool:
                futures = {pool.submit(_job, (str(root), assignment, job, sandboxed, job[0] not in students)): job
                           for job in pending}
                try:
                    for future in concurrent.futures.as_completed(futures):
                        try:
                            outcome = future.result()
                        except concurrent.futures.process.BrokenProcessPool:
                            outcome = _worker_lost()  # a worker died: every job it had runs again
                        except Exception as error:
                            outcome = error
                        yield futures[future], outcome
                except KeyboardInterrupt:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise

        _in_rounds(in_workers, todo, finished, out)
    failed_notebooks = {f[:2] for f in failures}
    return {"graded": len(notebooks - failed_notebooks), "cached": len(jobs) - len(notebooks),
            "failed": len(failed_notebooks), "tests_graded": tests_graded, "failures": failures,
            "machine_failures": machine, "faulty_cells": faulty, "seconds": time.monotonic() - progress.started}
