"""Instructor-only grading of the course unit: trusted tests, sandbox, job runner, nbgrader glue.

Students never receive this package. Its parts:

* :mod:`grading.core.runner` the student side of a job (runs inside the sandbox) and the
  data-only codec of the channel;
* :mod:`grading.core.testing` how trusted tests are written, and their comparisons;
* :mod:`grading.ex04` the trusted tests, one module per notebook, one test per ``grade_id``;
* :mod:`grading.ex04.fixtures_torch` test furniture built inside a PyTorch sandbox (loaders, small nets);
* :mod:`grading.core.sandbox` bubblewrap, limits, and a session with one sandboxed process;
* :mod:`grading.core.engine` one job: (assignment, one student's notebook) -> results;
* :mod:`grading.course.preprocessors` nbgrader preprocessors that put results into nbgrader's gradebook, one
  module each; :mod:`grading.course.text_safety` written answers safe to store and show;
  :mod:`grading.course.config` the course's settings; :mod:`grading.course.export` the grades' CSV;
* :mod:`grading.course.recording` nbgrader's recording of what changed, names, feedback and what waits;
* :mod:`grading.course.collect`, :mod:`grading.course.exchange_collect`, :mod:`grading.course.preflight`,
  :mod:`grading.course.safe_files`, :mod:`grading.course.student_ids` what may enter ``submitted/`` (Moodle
  downloads, the nbgrader exchange) and under which student id, and which notebooks cannot be graded;
* :mod:`grading.core.private_paths` no path of the grading machine in results;
* :mod:`grading.core.dask_security` the course's TLS certificates for Dask;
* :mod:`grading.course.bundle`, :mod:`grading.course.student_setup` the student bundle and its set-up script;
* :mod:`grading.course.offline_html` feedback and Formgrader pages that load nothing and run nothing;
* :mod:`grading.__main__` ``python -m grading autograde <assignment>`` (what ``make autograde`` runs).
"""
