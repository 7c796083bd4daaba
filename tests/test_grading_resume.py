"""Interrupting ``make autograde`` (Ctrl-C, then kill -9) and running it again loses nothing.

A small class (four students, notebook 01 only) in a scratch course: the first run is stopped
with SIGINT as soon as one job is done, the second with SIGKILL after the next one, the third
finishes. Every job is graded once, every score is exact, and no sandbox process is left.
"""

import signal
import subprocess
import sys
import time

import nbformat
import pytest
from nbgrader.api import Gradebook

from nbtools import ASSIGNMENT, SOLUTION_DELIMITERS, make_course, nbgrader, nbgrader_meta, read, solution_cells

pytestmark = pytest.mark.slow

STUDENTS = ["ada", "ben", "cy", "dee"]


def _answers(root):
    source = read(root / "source" / ASSIGNMENT / "01_convolutions.ipynb")
    return {gid: "\n".join(line for line in c.source.splitlines() if line.strip() not in SOLUTION_DELIMITERS)
            for gid, c in solution_cells(source).items()}


def _run_until(root, done_jobs, sig):
    """Start grading; send ``sig`` once ``done_jobs`` results are cached; return the output."""
    # A shell's background job ignores SIGINT, and Python then keeps ignoring it: give the grader
    # the default disposition, as in a terminal where Ctrl-C is pressed.
    process = subprocess.Popen([sys.executable, "-m", "grading", "autograde", ASSIGNMENT], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if len(list((root / ".grading" / ASSIGNMENT).glob("*/01_convolutions.json"))) >= done_jobs:
            process.send_signal(sig)
            break
        time.sleep(0.05)
    out, _ = process.communicate(timeout=120)
    return process.returncode, out


def test_interrupted_runs_resume_without_loss_or_double_counting(tmp_path):
    root = make_course(tmp_path / "course")
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=root)
    release = read(root / "release" / ASSIGNMENT / "01_convolutions.ipynb")
    answers = _answers(root)
    for student in STUDENTS:
        nb = nbformat.from_dict(release)
        for cell in nb.cells:
            if nbgrader_meta(cell).get("solution") and nbgrader_meta(cell)["grade_id"] in answers:
                cell.source = answers[nbgrader_meta(cell)["grade_id"]]
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / "01_convolutions.ipynb"))

    code, out = _run_until(root, 1, signal.SIGINT)
    assert code == 130 and "interrupted: every job finished so far is kept" in out, out
    code, out = _run_until(root, 2, signal.SIGKILL)
    assert code == -signal.SIGKILL
    for _ in range(50):  # the kernel ends them as soon as it notices their parent is gone
        left = subprocess.run(["pgrep", "-f", "sandbox_runner.py"], capture_output=True, text=True).stdout.split()
        if not left:
            break
        time.sleep(0.1)
    assert not left, f"sandbox processes outlived the coordinator: {left}"
    code, out = _run_until(root, 99, signal.SIGINT)  # never reached: runs to the end
    assert code == 0, out
    cached = int(out.split(" already graded")[0].rsplit(", ", 1)[1])
    assert cached >= 2 and f"{len(STUDENTS) - cached} to grade" in out
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in STUDENTS:
            sub = gb.find_submission_notebook("01_convolutions", ASSIGNMENT, student)
            assert {g.name: g.auto_score for g in sub.grades if g.cell.cell_type == "code"} == {
                "test_output_size": 1.0, "test_corr2d_valid": 3.0, "test_corr2d_stride_padding": 2.0,
                "test_conv2d": 2.0}
        assert len(gb.find_assignment(ASSIGNMENT).submissions) == len(STUDENTS)
