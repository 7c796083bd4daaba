"""The notebook to grade: the trusted release version with the student's solution sources."""

from pathlib import Path

from traitlets import Unicode

from grading.course.preprocessors.base import CoursePreprocessor, nbgrader_meta, source_text
from grading.course.text_safety import sanitize_markdown, storable_text


class RebuildFromRelease(CoursePreprocessor):
    """Replace the submitted notebook by the release version with the student's solution sources.

    Only the source of each solution cell comes from the student's file, matched by ``grade_id``
    and cell type. Edited, swapped, deleted, duplicated or retyped cells, a missing ``nbgrader``
    entry, stray metadata or outputs, attachments: none of it reaches nbgrader, which therefore
    never gives up on a student's assignment for inconsistent checksums. Written answers are
    cleaned of HTML that could run in the grader's browser.
    """

    course_root = Unicode("", help="Course folder (with release/).").tag(config=True)

    def preprocess(self, nb, resources):
        import nbformat

        info = resources["nbgrader"]
        release_path = Path(self.course_root) / "release" / info["assignment"] / f"{info['notebook']}.ipynb"
        release = nbformat.read(str(release_path), as_version=4)
        answers = {}
        for cell in nb.get("cells", []) if isinstance(nb.get("cells"), list) else []:
            gid = nbgrader_meta(cell).get("grade_id")
            if isinstance(gid, str) and isinstance(cell, dict):
                answers[(gid, cell.get("cell_type"))] = source_text(cell.get("source", ""))  # the last one wins
        for cell in release.cells:
            meta = nbgrader_meta(cell)
            if meta.get("solution"):
                source = answers.get((meta.get("grade_id"), cell.cell_type))
                if source is not None:
                    source = storable_text(source, code=cell.cell_type == "code")
                    cell.source = sanitize_markdown(source) if cell.cell_type == "markdown" else source
                else:
                    note = (f"This answer ({meta.get('grade_id')}) was not found in the submitted notebook: its cell "
                            "was deleted, or its nbgrader metadata was changed. Shown is the empty cell of the "
                            "release.")
                    cell.source = (f"*{note}*\n\n" if cell.cell_type == "markdown" else f"# {note}\n") + cell.source
            cell.pop("attachments", None)
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nb.clear()
        nb.update(release)
        return nb, resources
