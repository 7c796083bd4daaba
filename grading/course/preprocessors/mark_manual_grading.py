"""Feedback: no grading guides, graded cells named by their task, written answers still to grade."""

import re

from grading.course.preprocessors.base import (
    TASK_MARK,
    CoursePreprocessor,
    cell_id,
    is_grading_guide,
    nbgrader_meta,
    set_course_mark,
)


def heading_text(line):
    """A Markdown heading line as plain text: no ``#`` marks, code ticks or emphasis."""
    text = re.sub(r"^\s{0,3}#+\s*|\s+#+\s*$", "", line)
    return re.sub(r"`|\*\*|__|(?<!\w)[*_]|[*_](?!\w)", "", text).strip()


def name_tasks(cells):
    """Give every graded, solution or task cell the heading it stands under (``metadata.course.task``).

    The feedback page's contents list graded cells by it (grading/course/templates/feedback).
    """
    heading = ""
    for cell in cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type == "markdown" and not meta:
            fenced = False  # a "# comment" in a code block is no heading
            for line in cell.source.splitlines():
                fenced ^= line.lstrip().startswith(("```", "~~~"))
                if not fenced and re.match(r"^\s{0,3}#+\s", line):
                    heading = heading_text(line)
        elif meta.get("grade") or meta.get("solution") or meta.get("task"):
            set_course_mark(cell, TASK_MARK, heading)


class MarkManualGrading(CoursePreprocessor):
    """In feedback: no grading guides, each graded cell named by its task, and a note under a written
    answer that no person has graded yet."""

    def preprocess(self, nb, resources):
        import nbformat
        from nbgrader.api import Gradebook, MissingEntry

        # The grader's model answers and guides never reach the student, whatever happens below.
        nb.cells = [cell for cell in nb.cells if not is_grading_guide(cell)]
        name_tasks(nb.cells)
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            try:
                submission = gradebook.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            except MissingEntry:
                return nb, resources
            waiting = {g.name for g in submission.grades if g.needs_manual_grade}
        cells = []
        for cell in nb.cells:
            cells.append(cell)
            if cell.cell_type == "markdown" and nbgrader_meta(cell).get("grade_id") in waiting:
                note = nbformat.v4.new_markdown_cell(
                    "*This answer is waiting for manual grading: its points are not in the total yet.*")
                note.id = cell_id("waiting", nbgrader_meta(cell)["grade_id"])
                cells.append(note)
        nb.cells = cells
        return nb, resources
