"""Print how long the unit takes: `import helpers`, each notebook run top to bottom, and the
speed-ups the notebooks talk about (separable filtering, notebook 02).

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


def separable_speedup(sizes=(3, 7, 15, 31)):
    """Filtering the cat with a k x k Gaussian: one 2-D pass against two 1-D passes (SciPy)."""
    import numpy as np
    import scipy.ndimage

    from helpers.data import photo

    cat = photo("chelsea")
    rows = []
    for k in sizes:
        taps = np.exp(-0.5 * ((np.arange(k) - k // 2) / (k / 6)) ** 2)
        taps /= taps.sum()
        kernel = np.outer(taps, taps)

        def one_pass():
            return scipy.ndimage.correlate(cat, kernel, mode="nearest")

        def two_passes():
            vertical = scipy.ndimage.correlate1d(cat, taps, axis=0, mode="nearest")
            return scipy.ndimage.correlate1d(vertical, taps, axis=1, mode="nearest")

        assert np.allclose(one_pass(), two_passes())
        times = []
        for function in (one_pass, two_passes):
            runs = []
            for _ in range(REPEATS):
                start = time.perf_counter()
                function()
                runs.append(time.perf_counter() - start)
            times.append(statistics.median(runs))
        rows.append((k, *times))
    return rows


def main():
    print(f"python {sys.version.split()[0]}, {REPEATS} repeats for imports")
    for module in ("helpers", "helpers.checking", "numpy", "torch"):
        print(f"import {module:18s} {import_time(module) * 1000:8.0f} ms")
    print("separable filtering of the cat (300x451), median of", REPEATS, "runs:")
    for k, one, two in separable_speedup():
        print(f"  {k:2d}x{k:<2d} Gaussian: one 2-D pass {one * 1000:7.1f} ms, two 1-D passes {two * 1000:6.1f} ms,"
              f" {one / two:5.1f}x faster ({k * k} vs {2 * k} multiplications per pixel)")
    for path in sorted((ROOT / "notebooks" / "ex04").glob("*.ipynb")):
        print(f"run {path.name:26s} {notebook_time(path):6.1f} s")


if __name__ == "__main__":
    main()
