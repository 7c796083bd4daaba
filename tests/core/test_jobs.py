"""Many jobs: which submissions are graded, and their cached results (grading/core/jobs.py): unit tests, seconds."""

import json

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from grading.core import jobs


def _write_notebook(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell("1 + 1")]), str(path))


def test_results_are_cached_atomically_and_keyed_by_content(tmp_path):
    """A stored result holds while the student's solution cells and the mode stay as they were."""
    import shutil

    from nbtools import RELEASE, SOURCE

    (tmp_path / "source" / "ex04").mkdir(parents=True)
    shutil.copy(SOURCE / "01_convolutions.ipynb", tmp_path / "source" / "ex04")
    submission = tmp_path / "submitted" / "ann" / "ex04" / "01_convolutions.ipynb"
    submission.parent.mkdir(parents=True)
    shutil.copy(RELEASE / "01_convolutions.ipynb", submission)
    assert jobs.cached(tmp_path, "ex04", "ann", "01_convolutions") is None
    keys = jobs.test_keys(tmp_path, "ex04", "ann", "01_convolutions")
    result = {"tests": {gid: {"passed": False, "score": 0.0, "points": 1.0} for gid in keys}, "problems": []}
    jobs.store(tmp_path, "ex04", "ann", "01_convolutions", keys, result)
    assert jobs.cached(tmp_path, "ex04", "ann", "01_convolutions") == result
    assert jobs.cached(tmp_path, "ex04", "ann", "01_convolutions", sandboxed=False) is None  # another mode
    nb = nbformat.read(str(submission), as_version=4)
    nb.cells[0].source += "\n# a markdown cell or an output changes nothing"
    nbformat.write(nb, str(submission))
    assert jobs.cached(tmp_path, "ex04", "ann", "01_convolutions") == result
    solution = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    solution.source += "\nx = 1\n"
    nbformat.write(nb, str(submission))
    assert jobs.cached(tmp_path, "ex04", "ann", "01_convolutions") is None  # a changed solution is graded again
    assert not list((tmp_path / ".grading").rglob(".tmp-*"))
    json.loads((tmp_path / ".grading" / "ex04" / "ann" / "01_convolutions.json").read_text())
