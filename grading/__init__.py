"""Instructor-only grading: an engine that knows no assignment, course tooling, and one package per assignment.

Students never receive this package. Three layers, each importing only the ones above it:

``grading.core``: the engine, assignment-free
    :mod:`~grading.core.assignment` loads an assignment's package by name;
    :mod:`~grading.core.testing` is how trusted tests are written (``@test``, ``visible``/``hidden``,
    ``expect_*`` on :mod:`helpers.checking`, the notebooks' own comparisons);
    :mod:`~grading.core.engine` grades one student's notebook; :mod:`~grading.core.jobs` runs many, on
    every core or on Dask (:mod:`~grading.core.dask_security`), and :mod:`~grading.core.cache` keeps a
    result per test; :mod:`~grading.core.sandbox` is bubblewrap, its mounts and limits as data, and a
    session with one sandboxed process; :mod:`~grading.core.runner` is the sandbox's side and the
    data-only codec of the channel; :mod:`~grading.core.policies`, :mod:`~grading.core.results` and
    :mod:`~grading.core.errors` are the types that cross these boundaries;
    :mod:`~grading.core.private_paths` keeps the grading machine's paths out of results, and
    :mod:`~grading.core.student_ids` is the one rule for a student id (a safe folder name, in NFC).

``grading.course``: nbgrader, the LMS and the students' side
    :mod:`~grading.course.autograde` (``make autograde``); :mod:`~grading.course.preprocessors`, one
    nbgrader preprocessor per module; :mod:`~grading.course.recording` (what nbgrader records, and
    feedback); :mod:`~grading.course.collect` and :mod:`~grading.course.exchange_collect` (Moodle
    downloads, the nbgrader exchange), :mod:`~grading.course.preflight`,
    :mod:`~grading.course.safe_files` (what may enter ``submitted/``, under which id) and
    :mod:`~grading.course.submissions` (what of it is graded, and what not, and why); :mod:`~grading.course.report` and
    :mod:`~grading.course.similarity` (what a class tells its instructor);
    :mod:`~grading.course.export`, :mod:`~grading.course.config`, :mod:`~grading.course.text_safety`,
    :mod:`~grading.course.offline_html`, :mod:`~grading.course.bundle` and
    :mod:`~grading.course.student_setup`.

``grading.<assignment>``: one package per assignment (per sheet of the course)
    Its ``ASSIGNMENT`` names the trusted-test module of each notebook, the furniture built inside each
    policy's sandbox and the tests' time budgets; its modules hold one test per ``grade_id``. A
    package may also live outside ``grading/`` (``python -m grading --assignments DIR``).

``python -m grading`` (:mod:`grading.__main__`) is what the Makefile runs; scripts call :func:`autograde`.
"""


def autograde(assignment, root=".", **options):
    """Grade an assignment's submissions and record them in nbgrader's gradebook (``make autograde``).

    See :func:`grading.course.autograde.autograde` for the options (``students``, ``tests``,
    ``workers``, ``scheduler``, ``unsafe``) and the summary it returns.
    """
    from grading.course.autograde import autograde as run

    return run(assignment, root, **options)
