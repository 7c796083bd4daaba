"""Many jobs: which submissions are graded, and their cached results (grading/core/jobs.py): unit tests, seconds."""

import io
import json

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from grading.core import jobs


def _write_notebook(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell("1 + 1")]), str(path))


def test_discover_names_files_that_are_not_graded(tmp_path):
    (tmp_path / "source" / "ex04").mkdir(parents=True)
    _write_notebook(tmp_path / "source" / "ex04" / "01_convolutions.ipynb")
    folder = tmp_path / "submitted" / "ann" / "ex04"
    _write_notebook(folder / "01_convolutions.ipynb")
    _write_notebook(folder / "01_convolutions (1).ipynb")
    (folder / "02_sobel_laplace.zip").write_bytes(b"PK")
    (folder / "notes.txt").write_text("hi")
    (tmp_path / "submitted" / "..evil" / "ex04").mkdir(parents=True)
    out = io.StringIO()
    assert jobs.discover(tmp_path, "ex04", out) == [("ann", "01_convolutions")]
    log = out.getvalue()
    assert "01_convolutions (1).ipynb: no notebook of ex04 has this name" in log
    assert "02_sobel_laplace.zip: a zip archive" in log and "notes.txt: not a notebook" in log
    assert "submitted/..evil: not a student id: it starts with a dot" in log


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


def test_discover_never_follows_a_symlink(tmp_path):
    _write_notebook(tmp_path / "source" / "ex04" / "01_convolutions.ipynb")
    folder = tmp_path / "submitted" / "eve" / "ex04"
    folder.mkdir(parents=True)
    (folder / "01_convolutions.ipynb").symlink_to(tmp_path / "source" / "ex04" / "01_convolutions.ipynb")
    (tmp_path / "submitted" / "bob").mkdir()
    (tmp_path / "submitted" / "bob" / "ex04").symlink_to(tmp_path / "source" / "ex04")
    out = io.StringIO()
    assert jobs.discover(tmp_path, "ex04", out) == []
    assert "NOT GRADED: submitted/eve/ex04/01_convolutions.ipynb: is a symlink, not a file" in out.getvalue()
    assert "NOT GRADED: submitted/bob/ex04: is a symlink, not a folder" in out.getvalue()
