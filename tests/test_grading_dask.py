"""Grading on many machines: a real ``dask scheduler`` and two ``dask worker`` processes on localhost.

A small class is graded through them; the scores are exactly those of the local run. Then one
worker is killed while it grades: its job runs again on the other, and nothing is lost.
"""

import json
import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest
from nbgrader.api import Gradebook

from nbtools import (ASSIGNMENT, BIN, ROOT, SOLUTION_DELIMITERS, cases, free_port, make_course, nbgrader, nbgrader_meta,
                     read, solution_cells)

pytestmark = pytest.mark.slow

NOTEBOOK = "01_convolutions"


def _fill(release, answers):
    nb = nbformat.from_dict(release)
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    log = tmp_path_factory.mktemp("dask")
    scheduler = subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], env=env, stdout=open(log / "scheduler.log", "w"),
                                 stderr=subprocess.STDOUT, start_new_session=True)
    address = f"tcp://127.0.0.1:{port}"
    workers = [subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-nanny",
                                 "--no-dashboard", "--name", f"w{i}"], env=env, cwd=str(ROOT),
                                stdout=open(log / f"worker{i}.log", "w"), stderr=subprocess.STDOUT,
                                start_new_session=True) for i in range(2)]
    from distributed import Client

    with Client(address, timeout="60s") as client:
        client.wait_for_workers(2, timeout=120)
    yield {"address": address, "workers": workers, "log": log}
    for process in workers + [scheduler]:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in workers + [scheduler]:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _course(path, slow=False):
    root = make_course(path)
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=root)
    release = read(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    source = read(root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    answers = {gid: "\n".join(l for l in c.source.splitlines() if l.strip() not in SOLUTION_DELIMITERS)
               for gid, c in solution_cells(source).items()}
    if slow:  # a solution cell that takes a while, so that a worker can be killed in the middle
        answers["output_size"] = "import time\ntime.sleep(6)\n" + answers["output_size"]
    submissions = {"instructor": answers, "partial": cases(NOTEBOOK)["partial_valid_only"]["cells"],
                   "untouched": {}}
    for student, cells in submissions.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(_fill(release, cells), str(folder / f"{NOTEBOOK}.ipynb"))
    return root


def _scores(root):
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {student: {g.name: g.auto_score for g in gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student).grades
                          if g.cell.cell_type == "code"} for student in ("instructor", "partial", "untouched")}


def _grade(root, *extra):
    return subprocess.run([sys.executable, "-m", "grading", "autograde", ASSIGNMENT, *extra], cwd=root,
                          capture_output=True, text=True, timeout=900)


def test_a_class_graded_on_dask_scores_exactly_as_on_this_machine(cluster, tmp_path):
    remote = _course(tmp_path / "remote")
    run = _grade(remote, "--scheduler", cluster["address"])
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"on the Dask cluster at {cluster['address']}" in run.stdout
    local = _course(tmp_path / "local")
    run = _grade(local, "--workers", "1")
    assert run.returncode == 0, run.stdout[-3000:]
    assert _scores(remote) == _scores(local)
    assert _scores(remote)["instructor"] == {"test_output_size": 1.0, "test_corr2d_valid": 3.0,
                                             "test_corr2d_stride_padding": 2.0, "test_conv2d": 2.0}
    assert _scores(remote)["partial"] == {"test_output_size": 0.0, "test_corr2d_valid": 3.0,
                                          "test_corr2d_stride_padding": 0.0, "test_conv2d": 0.0}
    # The cached results are the same data, whichever machine computed them.
    for student in ("instructor", "partial", "untouched"):
        a = json.loads((remote / ".grading" / ASSIGNMENT / student / f"{NOTEBOOK}.json").read_text())["result"]
        b = json.loads((local / ".grading" / ASSIGNMENT / student / f"{NOTEBOOK}.json").read_text())["result"]
        assert {g: t["score"] for g, t in a["tests"].items()} == {g: t["score"] for g, t in b["tests"].items()}


def test_a_worker_that_dies_mid_job_costs_nothing(cluster, tmp_path):
    root = _course(tmp_path / "course", slow=True)
    process = subprocess.Popen([sys.executable, "-m", "grading", "autograde", ASSIGNMENT,
                                "--scheduler", cluster["address"]], cwd=root, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    time.sleep(8)  # both workers are inside a job (each solution cell sleeps 6 s per test)
    victim = cluster["workers"][0]
    os.killpg(victim.pid, signal.SIGKILL)
    out, _ = process.communicate(timeout=900)
    assert process.returncode == 0, out[-3000:]
    assert _scores(root)["instructor"] == {"test_output_size": 1.0, "test_corr2d_valid": 3.0,
                                           "test_corr2d_stride_padding": 2.0, "test_conv2d": 2.0}
    assert "0 failed" in out
