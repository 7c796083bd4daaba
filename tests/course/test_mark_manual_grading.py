"""Feedback names each graded cell by its task (grading/course/preprocessors, templates/feedback): seconds."""

import os

import nbgrader
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from traitlets.config import Config

from grading.course.offline_html import exporter_settings
from grading.course.preprocessors.mark_manual_grading import heading_text, name_tasks


def _feedback_exporter():
    """nbconvert's exporter set up as ``nbgrader generate_feedback`` sets it up with the course's settings."""
    css = os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader", "static", "node_modules",
                       "bootstrap", "dist", "css")
    return HTMLExporter(config=Config({"HTMLExporter": {**exporter_settings(), "template_name": "feedback",
                                                        "extra_template_paths": [css]}}))


def _graded(gid, **flags):
    return {"nbgrader": {"schema_version": 3, "grade_id": gid, "grade": True, "solution": False, "locked": True,
                         "points": 2, "score": 1, **flags}}


def test_headings_become_plain_text():
    assert heading_text("## Task 2 · `corr2d` with **padding** ##") == "Task 2 · corr2d with padding"


def test_the_feedback_contents_name_each_graded_cell_by_its_heading():
    nb = new_notebook(cells=[
        new_markdown_cell("## Task 1 · Cross-correlation\n\n```python\n# not a heading\n```"),
        new_code_cell("check(corr2d)", metadata=_graded("test_corr2d")),
        new_markdown_cell("## Task 2 · Padding"),
        new_markdown_cell("YOUR ANSWER HERE", metadata=_graded("why_padding", solution=True, locked=False)),
    ])
    name_tasks(nb.cells)
    assert [c.metadata.get("course", {}).get("task") for c in nb.cells] == [
        None, "Task 1 · Cross-correlation", None, "Task 2 · Padding"]
    html, _ = _feedback_exporter().from_notebook_node(nb, resources={"nbgrader": {
        "notebook": "nb", "score": 2, "max_score": 4, "late_penalty": 0}})
    contents = {a["href"]: a.get_text() for a in BeautifulSoup(html, "html.parser").select("#toc a")}
    assert contents == {"#test_corr2d": "Task 1 · Cross-correlation", "#why_padding": "Task 2 · Padding"}
