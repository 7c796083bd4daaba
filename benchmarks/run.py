"""Print how long the unit takes: `import helpers`, each notebook run top to bottom, autograding.

A benchmark, not a test: it prints numbers and asserts nothing. Run it with `make benchmark`.
"""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 5


def import_time(module):
    """Median wall time of `import module` in a fresh interpreter, minus the interpreter's start-up."""
    def run(code):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start
    base = statistics.median(run("pass") for _ in range(REPEATS))
    return statistics.median(run(f"import {module}") for _ in range(REPEATS)) - base


def notebook_time(path):
    """Wall time to execute one solution notebook in a fresh kernel, as nbval and nbgrader do."""
    nb = nbformat.read(str(path), as_version=4)
    with tempfile.TemporaryDirectory() as scratch:
        client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": scratch}})
        start = time.perf_counter()
        client.execute()
        return time.perf_counter() - start


def main():
    print(f"python {sys.version.split()[0]}, {REPEATS} repeats for imports")
    for module in ("helpers", "helpers.checking", "numpy", "torch"):
        print(f"import {module:18s} {import_time(module) * 1000:8.0f} ms")
    for path in sorted((ROOT / "notebooks" / "ex04").glob("*.ipynb")):
        print(f"run {path.name:26s} {notebook_time(path):6.1f} s")


if __name__ == "__main__":
    main()
