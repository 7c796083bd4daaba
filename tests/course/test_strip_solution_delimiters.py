"""The executed solutions lose the solution delimiters (grading/course/preprocessors): unit tests, seconds."""

import nbformat
from nbconvert.exporters import NotebookExporter
from nbformat.v4 import new_code_cell, new_notebook

from grading.course.preprocessors import StripSolutionDelimiters


def _meta(gid, **flags):
    return {"nbgrader": {"schema_version": 3, "grade_id": gid, "locked": False, "solution": False, "grade": False,
                         **flags}}


def _run(preprocessor, nb, resources=None):
    exporter = NotebookExporter()
    exporter.register_preprocessor(preprocessor)
    body, _ = exporter.from_notebook_node(nb, resources=resources or {})
    return nbformat.reads(body, as_version=4)


def test_solution_delimiters_are_removed_from_solution_cells_only():
    solution = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
    cells = [new_code_cell(solution, metadata=_meta("a", solution=True)), new_code_cell(solution)]
    nb = _run(StripSolutionDelimiters, new_notebook(cells=cells))
    assert nb.cells[0].source == "def f():\n    return 1" and nb.cells[1].source == solution
