"""The notebook to grade is the release with the student's answers (grading/course/preprocessors): seconds."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grading.course.preprocessors import RebuildFromRelease


def _meta(gid, **flags):
    return {"nbgrader": {"schema_version": 3, "grade_id": gid, "locked": False, "solution": False, "grade": False,
                         **flags}}


def test_rebuild_takes_only_solution_sources_from_the_student(tmp_path):
    release = new_notebook(cells=[
        new_markdown_cell("intro"),
        new_code_cell("def f():\n    raise NotImplementedError()", metadata=_meta("f", solution=True)),
        new_code_cell("check(f)", metadata=_meta("test_f", grade=True, locked=True, points=1)),
        new_markdown_cell("YOUR ANSWER HERE", metadata=_meta("answer", solution=True, grade=True, points=2)),
    ])
    folder = tmp_path / "release" / "ex04"
    folder.mkdir(parents=True)
    nbformat.write(release, str(folder / "nb.ipynb"))
    student = new_notebook(cells=[
        new_code_cell("print('all tests pass')", metadata=_meta("test_f", solution=True)),  # a test turned solution
        new_code_cell("def f():\n    return 1", metadata=_meta("f", solution=True)),
        new_markdown_cell("My answer <script>x()</script>",
                          metadata=_meta("answer", solution=True, grade=True, points=2),
                          attachments={"a.svg": {"image/svg+xml": "PHN2Zz4="}}),
        new_code_cell("import os", metadata={"nbgrader": "not even a dict"}),
    ])
    student.metadata["kernelspec"] = {"name": "evil", "display_name": "evil"}
    pre = RebuildFromRelease(course_root=str(tmp_path))
    nb, _ = pre.preprocess(student, {"nbgrader": {"assignment": "ex04", "notebook": "nb"}})
    assert [c.source for c in nb.cells[:3]] == ["intro", "def f():\n    return 1", "check(f)"]
    assert nb.cells[3].source.startswith("My answer") and "<script" not in nb.cells[3].source
    assert "attachments" not in nb.cells[3] and len(nb.cells) == 4
    assert nb.metadata.get("kernelspec", {}).get("name") != "evil"
