"""How fast grading is: one honest full submission, then a synthetic class with 1 and 2 workers.

A benchmark, not a test: it prints figures and asserts nothing. ``make benchmark`` runs it with
the defaults; ``python benchmarks/grading.py --class-size 100`` grades the issue's class of 100.

The class mixes, in a fixed order: honest submissions (the instructor's solutions), partial
ones (a crafted case of each notebook), blank ones (the release as handed out), crashing ones
(os._exit in a solution) and hanging ones (an endless loop that ignores signals).
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import nbformat  # noqa: E402

from nbtools import ASSIGNMENT, cases, make_course, nbgrader, nbgrader_meta, notebook_names, read  # noqa: E402
from test_grading_cases import instructor_answers  # noqa: E402

MIX = ["honest", "partial", "blank", "honest", "crash", "honest", "partial", "hang", "honest", "blank"]


def _answers(kind, name):
    if kind == "honest":
        return instructor_answers(name)
    if kind == "partial":
        found = cases(name)
        partial = sorted(n for n in found if n.startswith("partial")) or sorted(found)
        return found[partial[0]]["cells"]
    first = next(iter(instructor_answers(name)))
    if kind == "crash":
        return {**instructor_answers(name), first: "import os\nos._exit(1)\n"}
    if kind == "hang":
        return {**instructor_answers(name), first: "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                                   "while True:\n    pass\n"}
    return {}


def course_with(students, folder):
    root = make_course(folder)
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=root)
    for student, kind in students.items():
        for name in notebook_names():
            nb = read(root / "release" / ASSIGNMENT / f"{name}.ipynb")
            answers = _answers(kind, name)
            for cell in nb.cells:
                gid = nbgrader_meta(cell).get("grade_id")
                if nbgrader_meta(cell).get("solution") and gid in answers:
                    cell.source = answers[gid]
            target = root / "submitted" / student / ASSIGNMENT / f"{name}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(target))
    return root


def grade(root, workers):
    shutil.rmtree(root / ".grading", ignore_errors=True)
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "grading", "autograde", ASSIGNMENT, "--workers", str(workers)],
                         cwd=root, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode:
        print(run.stdout[-2000:], run.stderr[-2000:])
    summary = next((line for line in run.stdout.splitlines() if line.startswith("summary:")), "")
    stages = re.search(r"graded now in (.*?), .*recorded them in (.*)$", summary)
    if stages:
        print(f"    stages: grading (sandboxes and trusted tests) {stages.group(1)}, nbgrader's recording {stages.group(2)}, "
              f"start-up and pre-flight the rest of {seconds:.0f} s")
    return seconds


def per_notebook(root, student):
    """Seconds per notebook: set-ups (start, imports, the student's cells) and each test."""
    rows = {}
    for path in sorted((root / ".grading" / ASSIGNMENT / student).glob("*.json")):
        result = json.loads(path.read_text())["result"]
        setups = {f"set-up ({s['policy']})": s["seconds"] for s in result.get("setups", [])}
        rows[path.stem] = {**setups, **{gid: t["seconds"] for gid, t in result["tests"].items()}}
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--class-size", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="worker counts to grade the class with (the speed-up needs 1 and 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        one = course_with({"honest": "honest"}, Path(scratch) / "one")
        seconds = grade(one, 1)
        print(f"one honest full submission (6 notebooks), 1 worker: {seconds:.1f} s in all "
              "(nbgrader's recording included)")
        for name, tests in per_notebook(one, "honest").items():
            print(f"  {name:22s} {sum(tests.values()):6.1f} s   " +
                  ", ".join(f"{gid} {t:.1f}" for gid, t in tests.items()))
        students = {f"s{i:03d}-{MIX[i % len(MIX)]}": MIX[i % len(MIX)] for i in range(args.class_size)}
        klass = course_with(students, Path(scratch) / "class")
        jobs = len(students) * len(notebook_names())
        timings = {}
        for workers in args.workers:
            timings[workers] = grade(klass, workers)
            print(f"class of {len(students)} ({jobs} notebooks; mix {'/'.join(MIX)}), {workers} worker(s): "
                  f"{timings[workers]:.0f} s, {jobs / timings[workers] * 60:.0f} notebooks per minute")
        if 1 in timings and 2 in timings:
            print(f"speed-up with 2 workers: {timings[1] / timings[2]:.2f}x")


if __name__ == "__main__":
    main()
