"""Unit tests for the nbgrader preprocessors and the autograde pre-flight in helpers.grading."""

import io

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output
from nbconvert.exporters import NotebookExporter

from helpers.grading import (HideHiddenTestTracebacks, StderrToStdout, StripSolutionDelimiters,
                             course_db_url, hidden_test_lines, set_aside_unreadable, unreadable_reason)


def _cell(source, outputs=(), **nbgrader):
    cell = new_code_cell(source, outputs=list(outputs))
    if nbgrader:
        cell.metadata["nbgrader"] = dict(schema_version=3, grade_id="g", locked=False, **nbgrader)
    return cell


def _run(preprocessor_class, cells):
    """Run a preprocessor the way nbgrader does: registered by class on an exporter."""
    exporter = NotebookExporter()
    exporter.register_preprocessor(preprocessor_class)  # not enabled explicitly, like nbgrader
    body, _ = exporter.from_notebook_node(new_notebook(cells=cells))
    return nbformat.reads(body, as_version=4)


def test_stderr_in_a_test_cell_becomes_stdout():
    stderr = new_output("stream", name="stderr", text="UserWarning: noisy\n")
    nb = _run(StderrToStdout, [_cell("f()", [stderr], grade=True, solution=False, points=1)])
    (output,) = nb.cells[0].outputs
    assert output.name == "stdout" and output.text == "UserWarning: noisy\n"


def test_stderr_outside_test_cells_is_left_alone():
    stderr = new_output("stream", name="stderr", text="oops\n")
    nb = _run(StderrToStdout, [_cell("f()", [stderr]), _cell("g()", [stderr], grade=False, solution=True)])
    assert [c.outputs[0].name for c in nb.cells] == ["stderr", "stderr"]


def test_hidden_test_lines_skips_visible_blank_and_short_lines():
    source = "visible_check()\n### BEGIN HIDDEN TESTS\nassert secret_value == 42\n\n)\n### END HIDDEN TESTS\nafter()"
    assert hidden_test_lines(source) == ["assert secret_value == 42"]


def test_traceback_quoting_a_hidden_test_is_shortened():
    source = "check()\n### BEGIN HIDDEN TESTS\nassert corr2d(_X, _K).sum() == 17, 'hidden check failed'\n### END HIDDEN TESTS"
    error = new_output("error", ename="AssertionError", evalue="hidden check failed",
                       traceback=["\x1b[0;31mAssertionError\x1b[0m", "----> 3 assert corr2d(_X, _K).sum() == 17, 'hidden check failed'"])
    nb = _run(HideHiddenTestTracebacks, [_cell(source, [error], grade=True, solution=False, points=2)])
    traceback = "\n".join(nb.cells[0].outputs[0].traceback)
    assert "corr2d(_X, _K)" not in traceback
    assert "AssertionError: hidden check failed" in traceback


def test_traceback_of_a_visible_test_is_kept():
    source = "assert visible_thing() == 1, 'visible failed'\n### BEGIN HIDDEN TESTS\nassert hidden_thing() == 2\n### END HIDDEN TESTS"
    lines = ["AssertionError", "----> 1 assert visible_thing() == 1, 'visible failed'"]
    error = new_output("error", ename="AssertionError", evalue="visible failed", traceback=lines)
    nb = _run(HideHiddenTestTracebacks, [_cell(source, [error], grade=True, solution=False, points=1)])
    assert nb.cells[0].outputs[0].traceback == lines


def test_solution_delimiters_are_removed_from_solution_cells_only():
    solution = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
    nb = _run(StripSolutionDelimiters, [_cell(solution, grade=False, solution=True), _cell(solution)])
    assert nb.cells[0].source == "def f():\n    return 1"
    assert nb.cells[1].source == solution


# ------------------------------------------------------------------ pre-flight of `make autograde`

def _write_notebook(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell("1 + 1")]), str(path))


def test_unreadable_reason_accepts_a_notebook_and_names_what_is_wrong(tmp_path):
    good = tmp_path / "good.ipynb"
    _write_notebook(good)
    assert unreadable_reason(good) is None
    truncated = tmp_path / "truncated.ipynb"
    truncated.write_text(good.read_text()[:40])
    assert unreadable_reason(truncated).startswith("the file is not a notebook")
    binary = tmp_path / "binary.ipynb"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    assert "not" in unreadable_reason(binary)
    damaged = tmp_path / "damaged.ipynb"
    damaged.write_text('{"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    assert unreadable_reason(damaged).startswith("the notebook is damaged")


def test_set_aside_renames_only_unreadable_notebooks(tmp_path):
    ok = tmp_path / "submitted" / "ann" / "ex04" / "01_convolutions.ipynb"
    bad = tmp_path / "submitted" / "ben" / "ex04" / "01_convolutions.ipynb"
    _write_notebook(ok)
    _write_notebook(bad)
    bad.write_text("{ not json")
    out = io.StringIO()
    (moved, reason), = set_aside_unreadable(tmp_path, "ex04", out=out)
    assert moved == bad.with_name("01_convolutions.ipynb.unreadable") and moved.read_text() == "{ not json"
    assert ok.exists() and not bad.exists()
    assert "NOT GRADED: submitted/ben/ex04/01_convolutions.ipynb" in out.getvalue()
    assert "--student ben" in out.getvalue()
    assert set_aside_unreadable(tmp_path, "ex04", out=io.StringIO()) == []  # a second run changes nothing


def test_course_db_url_reads_the_course_config_or_falls_back(tmp_path):
    assert course_db_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"
    (tmp_path / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.db_url = "sqlite:////srv/grades.db"\n')
    assert course_db_url(tmp_path) == "sqlite:////srv/grades.db"
