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
* :mod:`grading.recording` nbgrader's recording of what changed, names, feedback and what waits;
* :mod:`grading.collect`, :mod:`grading.exchange_collect`, :mod:`grading.preflight`,
  :mod:`grading.safe_files`, :mod:`grading.student_ids` what may enter ``submitted/`` (Moodle
  downloads, the nbgrader exchange) and under which student id;
* :mod:`grading.private_paths` no path of the grading machine in results;
* :mod:`grading.dask_security` the course's TLS certificates for Dask;
* :mod:`grading.bundle`, :mod:`grading.student_setup` the student bundle and its set-up script;
* :mod:`grading.offline_html` feedback and Formgrader pages that load nothing and run nothing;
* :mod:`grading.__main__` ``python -m grading autograde ex04`` (what ``make autograde`` runs).
"""
