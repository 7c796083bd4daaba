"""What submitted/ holds (grading/course/submissions.py): the jobs, and every file that is not graded, named."""

import io

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from grading.course import submissions


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
    assert submissions.discover(tmp_path, "ex04", out) == [("ann", "01_convolutions")]
    log = out.getvalue()
    assert "01_convolutions (1).ipynb: no notebook of ex04 has this name" in log
    assert "02_sobel_laplace.zip: a zip archive" in log and "notes.txt: not a notebook" in log
    assert "submitted/..evil: not a student id: it starts with a dot" in log


def test_discover_never_follows_a_symlink(tmp_path):
    _write_notebook(tmp_path / "source" / "ex04" / "01_convolutions.ipynb")
    folder = tmp_path / "submitted" / "eve" / "ex04"
    folder.mkdir(parents=True)
    (folder / "01_convolutions.ipynb").symlink_to(tmp_path / "source" / "ex04" / "01_convolutions.ipynb")
    (tmp_path / "submitted" / "bob").mkdir()
    (tmp_path / "submitted" / "bob" / "ex04").symlink_to(tmp_path / "source" / "ex04")
    out = io.StringIO()
    assert submissions.discover(tmp_path, "ex04", out) == []
    assert "NOT GRADED: submitted/eve/ex04/01_convolutions.ipynb: is a symlink, not a file" in out.getvalue()
    assert "NOT GRADED: submitted/bob/ex04: is a symlink, not a folder" in out.getvalue()
