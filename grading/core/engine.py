"""One grading job: (assignment, one student's notebook) -> results, as plain data.

:func:`grade_notebook` is a pure function of the source notebook (trusted), the trusted tests
and the student's file: it reads nothing else, writes nothing but temporary sandbox folders,
and returns JSON-ready data, so that jobs can run in any order, in parallel, or on other
machines, and their results can be cached.

The student's code is taken from the solution cells of their file, matched by ``grade_id`` to
the solution cells of the source notebook (a cell of the wrong type, or one that is missing,
counts as not answered); everything else in their file (test cells, metadata, outputs) is
ignored. The cells run once per policy in a sandbox, one at a time with a time limit each, and each
trusted test runs in a fresh copy (a fork) of that process, so that PyTorch is imported once per
notebook, not once per test.

The cell is the unit of failure: a cell that ends the process or runs out of its time is set
aside, the set-up starts again without it, and only the tests of what it was to define fail
(with a message that names the cell); the other cells are graded as usual.
"""

import ast
import json
import re
import time
import traceback
from pathlib import Path

from grading.core import assignment as assignments
from grading.core.errors import Failed, MachineFailure, SandboxCrashed, SandboxLost, SandboxTimedOut, StudentError
from grading.core.policies import policy_named
from grading.core.results import Kind, Phase, TestResult
from grading.core.runner import ChannelError
from grading.core.sandbox import Limits, Session, killed_by
from grading.core.testing import Student, current_phase

#: Wall time for starting a test's copy of the set-up process.
FORK_SECONDS = 10.0

SOLUTION_DELIMITERS = ("### BEGIN SOLUTION", "### END SOLUTION")

#: Largest submitted notebook that is read at all (a notebook with figures is a few MB).
MAX_NOTEBOOK_BYTES = 25 * 2**20


def read_notebook(path):
    """A submitted notebook as nbformat reads it (version 4), refusing files that are too large.

    Raises
    ------
    ValueError
        For a file over :data:`MAX_NOTEBOOK_BYTES`, nested too deeply, or not a notebook.
    """
    import warnings

    import nbformat

    size = Path(path).stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"the file has {size / 2**20:.0f} MB, over the limit of {MAX_NOTEBOOK_BYTES // 2**20} MB "
                         "(clear the outputs and hand it in again)")
    text = Path(path).read_bytes().decode("utf-8")  # UnicodeDecodeError: not text
    try:
        content = json.loads(text)  # json.JSONDecodeError: not JSON
    except RecursionError:
        raise ValueError("the file is nested too deeply to be a notebook") from None
    if not isinstance(content, dict) or not isinstance(content.get("nbformat"), int):
        raise ValueError("the file is JSON but not a notebook (it has no nbformat version)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.from_dict(content)
            if nb.nbformat != 4:
                nb = nbformat.convert(nb, 4)  # as nbgrader does: a version 3 file's worksheets
            nbformat.validate(nb)
    except RecursionError:
        raise ValueError("the file is nested too deeply to be a notebook") from None
    return nb


def cell_source(cell):
    """A cell's source as one text, whatever the file holds there ("" for anything but text)."""
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def nbgrader_metadata(cell):
    """A cell's nbgrader metadata, or {} where the cell has none (or not as a mapping)."""
    if not isinstance(cell, dict):
        return {}
    meta = cell.get("metadata")
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def notebook_plan(source_path):
    """What the source notebook says about grading: solution cells, test cells, points.

    Returns
    -------
    dict
        ``solutions``: [grade_id of code solution cells, in order]; ``tests``: {grade_id: points}
        of autograded code cells, in order; ``written``: {grade_id: points} of written answers;
        ``defines``: {grade_id: [names]} that each code solution cell defines (:func:`defined_names`).
    """
    nb = json.loads(Path(source_path).read_text(encoding="utf-8"))
    plan = {"solutions": [], "tests": {}, "written": {}, "defines": {}}
    for cell in nb["cells"]:
        meta = nbgrader_metadata(cell)
        gid = meta.get("grade_id")
        if cell["cell_type"] == "code" and meta.get("solution"):
            plan["solutions"].append(gid)
            plan["defines"][gid] = defined_names(cell_source(cell))
        elif cell["cell_type"] == "code" and meta.get("grade"):
            plan["tests"][gid] = float(meta.get("points", 0))
        elif cell["cell_type"] == "markdown" and meta.get("grade"):
            plan["written"][gid] = float(meta.get("points", 0))
    return plan


def defined_names(source):
    """The names that a cell's top level defines (functions, classes, assignments), in order.

    Read from the instructor's solution cell: a student's cell that does not compile says nothing.
    """
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found = [node.name]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        else:
            found = []
        names += [name for name in found if name not in names]
    return names


def student_cells(submission_path, solution_ids):
    """The student's code for each solution cell, by grade_id, and what was wrong with the file.

    Parameters
    ----------
    submission_path : path
    solution_ids : list of str
        grade_ids of the code solution cells of the source notebook.

    Returns
    -------
    cells : list of (grade_id, source)
        In the source notebook's order; a cell that is missing or not code gets "".
    problems : list of str
        Human-readable notes (missing cells, duplicated ones, an unreadable file).
    """
    problems = []
    try:
        # Read exactly as nbgrader and Formgrader do (nbformat, converted to version 4), so that the
        # code graded is the code the instructor sees; the pre-flight has set aside what fails here.
        cells = read_notebook(submission_path).cells
    except Exception as error:  # any fault of the file: nothing of it is graded
        problems.append(f"the file could not be read as a notebook ({str(error)[:200]})")
        return [(gid, "") for gid in solution_ids], problems
    found = {}
    for cell in cells:
        gid = nbgrader_metadata(cell).get("grade_id")
        if gid in solution_ids and isinstance(cell, dict) and cell.get("cell_type") == "code":
            if gid in found:
                problems.append(f"the solution cell {gid} appears more than once; the last one is graded")
            found[gid] = cell_source(cell)
    for gid in solution_ids:
        if gid not in found:
            problems.append(f"the solution cell {gid} is missing (or is no longer a code cell)")
    return [(gid, found.get(gid, "")) for gid in solution_ids], problems


def start_session(policy, cells, prelude, fixtures, limits, sandboxed, uid=None, faulty=None):
    """Start a sandbox and run the student's cells in it; returns the session.

    A cell that ends the process or runs out of its time is set aside: it is added to ``faulty``
    (grade_id -> :func:`cell_fault`) and the set-up starts again without it. Cells already in
    ``faulty`` (from an earlier set-up of the same job, under either policy) are not run at all,
    so that each such cell costs its time once per job. Every round sets one more cell aside, so
    there are at most as many rounds as cells.

    Raises
    ------
    MachineFailure
        For any failure before a solution cell ran (a full disk, no process, no sandbox) and for
        any error of the trusted side: only a lost or broken process while a cell runs is the student's.
    """
    faulty = {} if faulty is None else faulty
    while True:
        runnable = [(gid, source) for gid, source in cells if gid not in faulty]
        session = Session(policy, runnable, prelude, fixtures, limits, sandboxed, uid)
        try:
            session.start()
        except MachineFailure:  # not the student's: the job is graded again later
            session.close()
            raise
        except (SandboxLost, ChannelError) as error:
            session.close()
            if session.current_cell is None:
                raise MachineFailure(f"the sandbox failed before any solution cell ran ({error})") from None
            if not isinstance(error, SandboxLost):  # a forged or broken reply is the student's fault too
                error = SandboxCrashed(f"the student's process broke the grading protocol ({error})")
            faulty[session.current_cell] = cell_fault(error, session.exit_status, limits, sandboxed)
            continue
        except Exception as error:
            session.close()
            raise MachineFailure(f"the grader could not start a sandbox ({type(error).__name__}: {error})") from None
        return session


def cell_fault(error, exit_status, limits, sandboxed=True):
    """What a solution cell did that made it be set aside, as data: {kind, what, message}.

    ``what`` completes "Your conv2d cell ..." ("ended the process (exit status 0, as os._exit(0)
    does)"); ``message`` is the sandbox's own account.
    """
    signal_name = killed_by(exit_status, wrapped=sandboxed)
    if isinstance(error, SandboxTimedOut):
        kind = Kind.TIMEOUT
        what = (f"was still running after {limits.cell_seconds:g} s, the time a solution cell gets (an endless "
                "loop, or a long computation left in it?)")
    elif exit_status is None:  # the process broke the protocol (it lives on, killed), or stopped answering
        kind, what = Kind.CRASHED, str(error.message).replace("the student's process ", "", 1)[:300]
    elif signal_name:
        kind, what = Kind.CRASHED, f"got the process killed by {signal_name}"
    else:
        kind, what = Kind.CRASHED, f"ended the process (exit status {exit_status}, as os._exit({exit_status}) does)"
    return {"kind": kind.value, "what": what, "message": str(error.message)[:500]}


def run_test(trusted, session, seconds, defines=None, faulty=None):
    """Run one trusted test in a fresh copy of the session's set-up; never raises for the student's faults.

    Returns a :class:`grading.core.results.TestResult`, not scored yet.

    ``defines`` ({grade_id: names}, see :func:`notebook_plan`) lets a failure lead with its root
    cause: a solution cell that the test depends on and that did not run to its end, or that was
    set aside (``faulty``, see :func:`start_session`).
    """
    # A copy starts in milliseconds: a set-up process that does not answer the request for one
    # was broken by the student's cells (they still run, or forged a reply), for every test alike.
    session.deadline = time.monotonic() + min(seconds, FORK_SECONDS)
    session.limit_text = f"{min(seconds, FORK_SECONDS):.0f} s to start the test after the solution cells ran"
    try:
        session.fork(trusted.references)
    except SandboxLost as error:
        return TestResult.failure(error.kind, error.message, Phase.SETUP)
    session.deadline = time.monotonic() + seconds
    session.limit_text = f"{seconds:.0f} s for this test"
    student = Student(session)
    try:
        trusted.function(student)
    except Failed as error:
        result = TestResult.failure(Kind.FAILED, error, *current_phase_at(error))
    except SandboxLost as error:
        result = TestResult.failure(error.kind, error.message, *current_phase_at(error))
    except MachineFailure:
        raise
    except StudentError as error:
        message = f"your code raised {error.type}" + (f": {error.message}" if error.message else "")
        if error.type == "NotImplementedError":
            message += " (the solution cell still holds the stub: write your code there)"
        result = TestResult.failure(Kind.ERROR, message, *current_phase_at(error))
    except Exception as error:  # the student's values broke a trusted comparison
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        result = TestResult.failure(Kind.ERROR, f"your code returned something the test cannot use ({detail[:300]})",
                                    *current_phase_at(error))
    else:
        return TestResult.success()
    finally:
        session.end_test()
    result.cause = root_cause(result.message, student.names_used(), session.cell_errors, defines or {}, faulty)
    return result


def test_order(tests):
    """The order tests run in, and where a fresh set-up is needed: [(grade_id, trusted, fresh)].

    Tests of one policy share a set-up (the interpreter, the imports, the student's cells) and
    each runs in a copy of it. A copy may leave something behind for later copies (a file in
    /tmp, a process), and a test's references must never reach a test of the function they
    solve. So the tests of a set-up run in order of their references, and a test joins the
    set-up only if it already has every reference that an earlier test of it had; otherwise it
    gets a fresh one.
    """
    order, seen = [], {}
    ranked = sorted(tests.items(), key=lambda item: (item[1].policy, len(item[1].references)))
    for gid, trusted in ranked:
        refs = set(trusted.references)
        fresh = trusted.policy not in seen or not refs >= seen[trusted.policy]
        seen[trusted.policy] = refs if fresh else seen[trusted.policy] | refs
        order.append((gid, trusted, fresh))
    return order


def current_phase_at(error):
    """(phase, check) that was current when ``error`` was raised (:func:`grading.core.testing.current_phase`)."""
    return getattr(error, "phase", None) or current_phase()


_MISSING_NAME = re.compile(r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")


def root_cause(message, names_used, cell_errors, defines, faulty=None):
    """What a failed test's message should lead with: the solution cells it depends on that did not run.

    A cell that raised (a syntax error, or an exception while it ran) leaves the names after the
    failing line undefined, and the test then reports a NameError: true, but not the cause.

    Parameters
    ----------
    message : str
        The failure's message (a "name 'corr2d' is not defined" in it names a missing name).
    names_used : iterable of str
        The student's names that the test called or read.
    cell_errors : dict
        grade_id -> error data of the cells that raised, as the sandbox reported them (not trusted:
        only plain values of the expected types are used).
    defines : dict
        grade_id -> the names the cell defines (from the source notebook).
    faulty : dict, optional
        grade_id -> :func:`cell_fault` of the cells that were set aside (never run in this set-up).

    Returns
    -------
    str
        One sentence per such cell ("Your corr2d cell has a SyntaxError on line 27 (expected ':'),
        so corr2d was never defined."), or "" when no cell the test depends on failed.
    """
    missing = set(_MISSING_NAME.findall(str(message)))
    wanted = missing | set(names_used)
    sentences = []
    for gid, names in defines.items():
        error = cell_errors.get(gid) if isinstance(cell_errors, dict) else None
        if gid in (faulty or {}) and set(names) & wanted:
            sentences.append(faulty_cell_sentence(gid, names, faulty[gid]))
        elif isinstance(error, dict) and set(names) & wanted:
            sentences.append(_cell_failure_sentence(gid, names, error, missing))
    return " ".join(sentences)


def _cell_label(grade_id, names):
    return grade_id if grade_id in names else (names[0] if names else grade_id)


def _listed(names):
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def faulty_cell_sentence(grade_id, names, fault):
    """ "Your conv2d cell ended the process (...), so conv2d was never defined; the other cells were graded." """
    sentence = f"Your {_cell_label(grade_id, names)} cell {fault['what']}"
    if names:
        sentence += f", so {_listed(names)} {'was' if len(names) == 1 else 'were'} never defined"
    return sentence + "; the other cells were graded."


def _cell_failure_sentence(grade_id, names, error, missing):
    kind = str(error.get("type") or "Exception")[:100]
    bases = error.get("bases") if isinstance(error.get("bases"), list) else []
    line = error.get("line")
    detail = " ".join(str(error.get("message") or "").split())[:200]
    label = _cell_label(grade_id, names)
    syntax = kind == "SyntaxError" or "SyntaxError" in bases
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    sentence = f"Your {label} cell {'has' if syntax else 'raised'} {article} {kind}"
    if type(line) is int and line > 0:
        sentence += f" on line {line}"
    if detail:
        sentence += f" ({detail})"
    lost = [name for name in names if name in missing]
    if lost:
        sentence += f", so {_listed(lost)} {'was' if len(lost) == 1 else 'were'} never defined"
    elif not syntax:
        sentence += " when it ran"
    return sentence + "."


def grade_notebook(assignment, source_path, submission_path, notebook=None, sandboxed=True, limits=None, uid=None,
                   only=None, set_aside=None):
    """Grade one student's notebook with the trusted tests.

    Parameters
    ----------
    assignment : str or grading.core.assignment.Assignment
        The assignment, or its name (:func:`grading.core.assignment.load`).
    source_path : path
        The instructor's source notebook.
    submission_path : path
        The student's notebook (any content: it is only read as data).
    notebook : str, optional
        The notebook's name ("01_convolutions"); default: the source file's stem.
    sandboxed : bool
        False only when the instructor asked to grade without a sandbox.
    limits : grading.core.sandbox.Limits, optional
    uid : int, optional
        User id inside the sandbox (when grading as root).
    only : iterable of str, optional
        The grade_ids of the tests to run (default: all); the result holds just these.
    set_aside : dict, optional
        grade_id -> :func:`cell_fault` of cells an earlier grading of these very cells set aside:
        they are not run again (a cell that hangs costs its time once, not once per regrading).

    Returns
    -------
    dict
        ``tests``: {grade_id: {passed, kind, phase, check, message, points, score, seconds}, and
        ``cause`` where a failure comes from a solution cell that did not run to its end},
        ``problems``: notes on the file, ``faulty_cells``: {grade_id: :func:`cell_fault`} of the
        cells set aside (in notebook order), ``setups``: the set-ups, their seconds and the cells
        each set aside (each faulty cell once per job, whatever the number of set-ups).
    """
    assignment = assignments.load(assignment) if isinstance(assignment, str) else assignment
    notebook = notebook or Path(source_path).stem
    plan = notebook_plan(source_path)
    tests = assignment.tests(notebook)
    missing = [gid for gid in plan["tests"] if gid not in tests]
    unknown = [gid for gid in tests if gid not in plan["tests"]]
    if missing or unknown:
        raise RuntimeError(f"{notebook}: graded cells without a trusted test {missing}, "
                           f"trusted tests without a graded cell {unknown}")
    cells, problems = student_cells(submission_path, plan["solutions"])
    limits = limits or Limits()
    results, setups = {}, []
    setup_failed = {}  # policy -> the TestResult of a set-up that broke outside any one cell
    faulty = dict(set_aside or {})  # grade_id -> what the cell did: set aside for every later set-up of this job
    sessions = {}  # policy -> the session its tests are copies of
    try:
        chosen = [gid for gid in plan["tests"] if only is None or gid in set(only)]
        for gid, trusted, fresh in test_order({gid: tests[gid] for gid in chosen}):
            points, policy = plan["tests"][gid], trusted.policy
            started = time.monotonic()
            if policy not in setup_failed and (fresh or not sessions[policy].usable):
                if policy in sessions:
                    sessions.pop(policy).close()
                fixture = assignment.fixture_module(policy)
                known = set(faulty)
                sessions[policy] = start_session(policy, cells, policy_named(policy).prelude,
                                                 [fixture] if fixture else [], limits, sandboxed, uid, faulty)
                setups.append({"policy": policy, "seconds": round(time.monotonic() - started, 3),
                               "cells_set_aside": [gid for gid in faulty if gid not in known]})
            if policy in setup_failed:
                results[gid] = setup_failed[policy].scored(points, 0.0)
                continue
            started = time.monotonic()
            seconds = assignment.test_seconds(notebook, gid)
            result = run_test(trusted, sessions[policy], seconds, plan["defines"], faulty)
            results[gid] = result.scored(points, round(time.monotonic() - started, 3))
            if result.phase is Phase.SETUP:
                setup_failed[policy] = result
    finally:
        for session in sessions.values():
            session.close()
    return {"notebook": notebook, "tests": {gid: results[gid].to_dict() for gid in plan["tests"] if gid in results},
            "problems": problems, "setups": setups,
            "faulty_cells": {gid: faulty[gid] for gid in plan["solutions"] if gid in faulty}}
