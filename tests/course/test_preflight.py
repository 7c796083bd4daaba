"""Unreadable notebooks and what no student hands in are set aside (grading/course/preflight.py): seconds."""

import io
import os
import stat

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from grading.course import submissions
from grading.course.preflight import set_aside_unreadable, unreadable_reason


def _write_notebook(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell("1 + 1")]), str(path))


def test_unreadable_reason_names_what_is_wrong(tmp_path):
    good = tmp_path / "good.ipynb"
    _write_notebook(good)
    assert unreadable_reason(good) is None
    truncated = tmp_path / "truncated.ipynb"
    truncated.write_text(good.read_text()[:40])
    assert unreadable_reason(truncated).startswith("the file is not a notebook")
    zipped = tmp_path / "zipped.ipynb"
    zipped.write_bytes(b"PK\x03\x04rest of a zip")
    assert "zip" in unreadable_reason(zipped)
    damaged = tmp_path / "damaged.ipynb"
    damaged.write_text('{"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    assert unreadable_reason(damaged).startswith("the notebook is damaged")
    not_nb = tmp_path / "list.ipynb"
    not_nb.write_text("[1, 2]")
    assert "JSON but not a notebook" in unreadable_reason(not_nb)
    deep = tmp_path / "deep.ipynb"
    deep.write_text('{"nbformat": 4, "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert "nested too deeply" in unreadable_reason(deep)
    big = tmp_path / "big.ipynb"
    with open(big, "wb") as handle:
        handle.truncate(26 * 2**20)
    assert "over the limit" in unreadable_reason(big)


def test_set_aside_renames_only_unreadable_notebooks(tmp_path):
    ok = tmp_path / "submitted" / "ann" / "ex04" / "01_convolutions.ipynb"
    bad = tmp_path / "submitted" / "ben" / "ex04" / "01_convolutions.ipynb"
    _write_notebook(ok)
    _write_notebook(bad)
    bad.write_text("{ not json")
    out = io.StringIO()
    (moved, reason), = set_aside_unreadable(tmp_path, "ex04", out)
    assert moved == bad.with_name("01_convolutions.ipynb.unreadable") and moved.read_text() == "{ not json"
    assert ok.exists() and not bad.exists()
    assert "NOT GRADED: submitted/ben/ex04/01_convolutions.ipynb" in out.getvalue()
    assert set_aside_unreadable(tmp_path, "ex04", io.StringIO()) == []


def test_pre_flight_sets_aside_what_no_student_hands_in(tmp_path):
    from test_collect import within

    source = tmp_path / "source" / "ex04"
    for name in ("01_convolutions", "02_sobel_laplace", "03_pooling", "04_padding_stride", "05_equivariance"):
        _write_notebook(source / f"{name}.ipynb")
    solutions = (source / "01_convolutions.ipynb").read_bytes()
    _write_notebook(tmp_path / "submitted" / "ann" / "ex04" / "01_convolutions.ipynb")
    eve = tmp_path / "submitted" / "eve" / "ex04"
    eve.mkdir(parents=True)
    (eve / "01_convolutions.ipynb").symlink_to(source / "01_convolutions.ipynb")
    os.mkfifo(eve / "02_sobel_laplace.ipynb")
    (eve / "03_pooling.ipynb").symlink_to("/dev/zero")
    if os.geteuid() == 0:
        os.mknod(eve / "04_padding_stride.ipynb", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    with open(eve / "05_equivariance.ipynb", "wb") as handle:
        handle.truncate(30 * 2**20)
    (eve / "data").mkdir()
    (eve / "data" / "course").symlink_to(tmp_path / "source", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "ex04").symlink_to(source, target_is_directory=True)
    (tmp_path / "submitted" / "mallory").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    zed = tmp_path / "submitted" / "zed" / "ex04"
    for name in ("01_convolutions", "02_sobel_laplace", "03_pooling"):  # 24 MB each: 72 MB in all
        _write_notebook(zed / f"{name}.ipynb")
        with open(zed / f"{name}.ipynb", "ab") as handle:
            handle.truncate(24 * 2**20)
    out = io.StringIO()
    with within(20):
        set_aside_unreadable(tmp_path, "ex04", out)
    log = out.getvalue()
    expected = {"submitted/eve/ex04/01_convolutions.ipynb": "is a symlink, not a file",
                "submitted/eve/ex04/02_sobel_laplace.ipynb": "is a FIFO (named pipe), not a file",
                "submitted/eve/ex04/03_pooling.ipynb": "is a symlink, not a file",
                "submitted/eve/ex04/05_equivariance.ipynb": "has 30 MB, over the limit of 25 MB for one file",
                "submitted/eve/ex04/data/course": "is a symlink, not a file",
                "submitted/mallory": "is a symlink, not a folder",
                "submitted/zed/ex04": "holds more than 64 MB in all, over the limit"}
    if os.geteuid() == 0:
        expected["submitted/eve/ex04/04_padding_stride.ipynb"] = "is a device, not a file"
    for path, why in expected.items():
        assert f"NOT GRADED: {path}: {why}." in log, f"{path}: {why}\n---\n{log}"
    # Moved, not followed: the course's own files are where they were, as they were.
    assert sorted(p.name for p in source.iterdir()) == sorted(f"{n}.ipynb" for n in (
        "01_convolutions", "02_sobel_laplace", "03_pooling", "04_padding_stride", "05_equivariance"))
    assert (source / "01_convolutions.ipynb").read_bytes() == solutions
    assert [p.name for p in eve.rglob("*")] == ["data"] and not (tmp_path / "submitted" / "mallory").exists()
    assert not zed.exists() and (tmp_path / "submitted" / ".set-aside" / "zed%2Fex04").is_dir()
    not_graded = {}
    assert submissions.discover(tmp_path, "ex04", io.StringIO(), not_graded) == [("ann", "01_convolutions")]
    assert sorted(not_graded) == ["eve", "mallory", "zed"]
    assert any("submitted/eve/ex04/02_sobel_laplace.ipynb: is a FIFO (named pipe), not a file; set aside as "
               "submitted/.set-aside/eve%2Fex04%2F02_sobel_laplace.ipynb" in line for line in not_graded["eve"])
    assert set_aside_unreadable(tmp_path, "ex04", io.StringIO()) == [], "a second run finds nothing more"
