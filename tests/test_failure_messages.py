"""What a student reads when something fails: the root cause first, whole, in the grader's words.

* Grading: a test that fails because a solution cell did not run (a syntax error, an exception
  while it ran) leads with that cell, its error and the line in the cell (grading/core/engine.py
  ``root_cause``), in feedback and Formgrader alike (grading.course.preprocessors.trusted_results.result_text).
* Feedback and Formgrader pages wrap a long failure message instead of scrolling it sideways.
* Run All in a student notebook that reaches an unanswered task stops with the grader's words
  ("the solution cell still holds the stub", naming the function), not a bare NotImplementedError.
"""

import shutil
import subprocess

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter
from traitlets.config import Config

from grading.core.engine import grade_notebook
from grading.course.preprocessors.trusted_results import result_text, trusted_outputs
from grading.course.offline_html import exporter_settings, nbgrader_template_dir
from nbtools import RELEASE, SOLUTION_DELIMITERS, SOURCE, nbgrader_meta, read, solution_cells

NOTEBOOK = "01_convolutions"


def _answers():
    """The instructor's solution of every code cell of notebook 01, as a student would type it."""
    return {gid: "\n".join(line for line in cell.source.splitlines() if line.strip() not in SOLUTION_DELIMITERS)
            for gid, cell in solution_cells(read(SOURCE / f"{NOTEBOOK}.ipynb")).items() if cell.cell_type == "code"}


def _without_colon(source, starting):
    """``source`` with the ':' taken off the first line that starts (stripped) with ``starting``; its line number."""
    lines = source.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith(starting))
    lines[at] = lines[at].rstrip().rstrip(":")
    return "\n".join(lines), at + 1


def _submission(answers, path):
    nb = read(RELEASE / f"{NOTEBOOK}.ipynb")
    for cell in nb.cells:
        if nbgrader_meta(cell).get("solution") and nbgrader_meta(cell).get("grade_id") in answers:
            cell.source = answers[nbgrader_meta(cell)["grade_id"]]
    nbformat.write(nb, str(path))
    return path


# ------------------------------------------------------------------ the root cause, graded

@pytest.mark.slow
def test_a_cell_that_did_not_run_leads_the_message_with_its_error_and_line(tmp_path):
    answers = _answers()
    # A missing ':' deep in corr2d; output_size fails while it runs, before its def; conv2d's cell
    # defines conv2d and then fails on a line of its own (an experiment left at its end).
    answers["corr2d"], corr2d_line = _without_colon(answers["corr2d"], "for j in range")
    answers["output_size"] = "limit = 10 / 0\n\n" + answers["output_size"]
    answers["conv2d"] += "\n\nconv2d(X_not_in_this_cell, K)\n"
    conv2d_line = len(answers["conv2d"].splitlines())
    assert corr2d_line > 20  # the line number counts in the cell, as the student sees it
    submitted = _submission(answers, tmp_path / "a.ipynb")
    tests = grade_notebook("ex04", SOURCE / f"{NOTEBOOK}.ipynb", submitted, NOTEBOOK)["tests"]

    corr2d = f"Your corr2d cell has a SyntaxError on line {corr2d_line} (expected ':'), so corr2d was never defined."
    for gid in ("test_corr2d_valid", "test_corr2d_stride_padding"):
        assert tests[gid]["cause"] == corr2d, tests[gid]
        text = result_text(tests[gid])
        assert text.startswith(corr2d + "\n\nA visible check failed (") and "name 'corr2d' is not defined" in text
    assert tests["test_output_size"]["cause"] == ("Your output_size cell raised a ZeroDivisionError on line 1 "
                                                 "(division by zero), so output_size was never defined.")
    # conv2d exists but calls the missing corr2d: both cells are named, in the notebook's order.
    assert tests["test_conv2d"]["cause"] == (
        f"{corr2d} Your conv2d cell raised a NameError on line {conv2d_line} "
        "(name 'X_not_in_this_cell' is not defined) when it ran.")
    # Formgrader and feedback show the cell output that nbgrader scores: the cause comes first there.
    output = trusted_outputs(tests["test_corr2d_valid"])[0]
    assert output["output_type"] == "error" and output["traceback"][0].startswith(corr2d)


# ------------------------------------------------------------------ long messages wrap

#: nbgrader's feedback template inlines Bootstrap's CSS from here (as GenerateFeedback sets it up).
BOOTSTRAP_CSS = str(__import__("pathlib").Path(nbgrader_template_dir()).parent / "static" / "node_modules"
                    / "bootstrap" / "dist" / "css")

FORMGRADER_STATIC = __import__("pathlib").Path(nbgrader_template_dir()).parent / "static"

LONG_FAILURE = {"passed": False, "kind": "error", "phase": "visible", "check": "corr2d (valid, stride 1) matches "
                "SciPy and the hand-worked values", "message": "your code raised NameError: name 'corr2d' is not "
                "defined", "cause": "Your corr2d cell has a SyntaxError on line 27 (expected ':'), so corr2d was "
                "never defined."}


def _page(template):
    """A notebook with one failed test cell, as nbgrader exports it (feedback, or Formgrader's formgrade)."""
    cell = nbformat.v4.new_code_cell("check_array(corr2d(X, K), expected)")
    cell.outputs = trusted_outputs(LONG_FAILURE)
    nb = nbformat.v4.new_notebook(cells=[cell])
    exporter = HTMLExporter(config=Config({"HTMLExporter": {**exporter_settings(), "template_name": template,
                                                            "extra_template_paths": [BOOTSTRAP_CSS]}}))
    resources = {"nbgrader": {"notebook": "x", "score": 0, "max_score": 0, "late_penalty": 0},
                 "base_url": "", "index": 0, "total": 1, "submission_id": "s", "notebook_id": "x"}
    html = exporter.from_notebook_node(nb, resources=resources)[0]
    # Formgrader's page links its style sheets (Bootstrap, formgrade.css) from the server: here, from nbgrader.
    return html.replace('"/formgrader/static/', f'"{FORMGRADER_STATIC.as_uri()}/')


def _overflow_in_chromium(html, tmp_path):
    """How many pixels each failure message is wider than its box, measured by headless Chromium."""
    probe = ("<script>document.body.setAttribute('data-overflow', Array.from(document.querySelectorAll("
             "'div.output_error pre')).map(p => p.scrollWidth - p.clientWidth).join(','));</script></body>")
    page = tmp_path / "page.html"
    page.write_text(html.replace("</body>", probe), encoding="utf-8")
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,900",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    found = BeautifulSoup(dom, "html.parser").body.get("data-overflow")
    assert found, "Chromium did not run the probe"
    return [int(v) for v in found.split(",")]


@pytest.mark.slow
@pytest.mark.parametrize("template", ["feedback", "formgrade"])
def test_a_long_failure_message_wraps_on_the_page(template, tmp_path):
    html = _page(template)
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one("div.output_error pre").get_text().strip().startswith(LONG_FAILURE["cause"])
    if shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (make's set-up installs it for the browser tests)")
    assert _overflow_in_chromium(html, tmp_path) == [0], "the message scrolls sideways instead of wrapping"


# ------------------------------------------------------------------ Run All reaches a stub

@pytest.mark.slow
def test_run_all_stops_at_a_stub_with_the_graders_words():
    """The student version of 01, run from the top as Run All does, in a real kernel."""
    from nbclient import NotebookClient

    nb = read(RELEASE / f"{NOTEBOOK}.ipynb")
    first_check = next(i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade_id") == "test_output_size")
    library_error = nbformat.v4.new_code_cell("raise NotImplementedError('not in this version')")
    nb.cells = nb.cells[:first_check + 1] + [library_error]
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert len(errors) == 2, [(o["ename"], o["evalue"]) for o in errors]
    stub, other = errors
    assert stub["ename"] == "NotImplementedError"
    assert stub["evalue"].startswith("output_size: the solution cell still holds the stub")
    shown = "\n".join(stub["traceback"])
    assert "checking.py" not in shown and "raise NotImplementedError()" in shown
    assert other["evalue"] == "not in this version", "a NotImplementedError that is no stub keeps its own words"
