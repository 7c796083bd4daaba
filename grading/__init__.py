"""Instructor-only grading of the ex04 unit: trusted tests, sandbox, job runner, nbgrader glue.

Students never receive this package. Its parts:

* :mod:`grading.sandbox_runner` the student side of a job (runs inside the sandbox) and the
  data-only codec of the channel;
* :mod:`grading.framework` how trusted tests are written, and their comparisons;
* :mod:`grading.ex04` the trusted tests, one module per notebook, one test per ``grade_id``;
* :mod:`grading.fixtures` test furniture built inside a PyTorch sandbox (loaders, small nets);
* :mod:`grading.sandbox` bubblewrap, limits, and a session with one sandboxed process;
* :mod:`grading.engine` one job: (assignment, one student's notebook) -> results;
* :mod:`grading.nbgrader_glue` preprocessors that put results into nbgrader's gradebook;
* :mod:`grading.__main__` ``python -m grading autograde ex04`` (what ``make autograde`` runs).
"""
