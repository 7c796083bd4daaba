"""A grading job as Dask ships it (grading/core/jobs.py: dask_task).

The README's cluster, started with its commands, is tests/test_grading_dask.py.
"""

import os
import subprocess
import sys

from grading.core.jobs import dask_task


def _environment():
    """This environment without anything that would put the course on a path or configure Dask."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith(("DASK_", "MAKE"))}


def test_a_job_unpickles_where_the_course_is_not_on_the_path(tmp_path):
    # The scheduler unpickles every task it receives; it has Dask but not this course.
    import cloudpickle

    task = dask_task("ex04", "01_convolutions", "{}", b"{}", True)
    code = "import pickle, sys; pickle.loads(sys.stdin.buffer.read()); print('ok')"
    loaded = subprocess.run([sys.executable, "-I", "-c", code], input=cloudpickle.dumps(task), cwd=tmp_path,
                            capture_output=True, env=_environment())
    assert loaded.stdout.strip() == b"ok", loaded.stderr.decode()[-2000:]
