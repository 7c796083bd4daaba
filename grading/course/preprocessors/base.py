"""What every preprocessor of the course shares: its base class and the cell predicates.

A student's notebook can hold anything where nbgrader expects its metadata (a string, a list, a
missing entry), so every predicate here reads cells defensively and never raises.
"""

import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

#: The cell metadata key under which the course keeps its own marks (nbgrader ignores it).
COURSE_KEY = "course"
#: Course mark of a cell that holds a grading guide (grader only, never in feedback).
GUIDE_MARK = "grading_guide"
#: Course mark that names the task (the heading) a graded cell belongs to.
TASK_MARK = "task"


class CoursePreprocessor(Preprocessor):
    """Base of the course's preprocessors: enabled as soon as it is listed in the config."""

    enabled = Bool(True).tag(config=True)


def nbgrader_meta(cell):
    """A cell's ``metadata.nbgrader`` as a dict (empty when missing or not a dict)."""
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    meta = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return meta if isinstance(meta, dict) else {}


def source_text(source):
    """A cell's source as one string: a list of lines is joined, anything else is ""."""
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def is_solution(cell):
    """Whether a cell holds an answer: code or text the student writes."""
    return bool(nbgrader_meta(cell).get("solution"))


def is_autograded_test(cell):
    """Whether a cell is a test cell that nbgrader scores from its outputs."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_written_answer(cell):
    """Whether a cell is a Markdown answer that a person grades."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "markdown" and bool(meta.get("solution")) and bool(meta.get("grade"))


def course_mark(cell, name):
    """The course's mark ``name`` on a cell (``metadata.course.<name>``), or None."""
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    marks = meta.get(COURSE_KEY, {}) if isinstance(meta, dict) else {}
    return marks.get(name) if isinstance(marks, dict) else None


def set_course_mark(cell, name, value):
    """Set the course's mark ``name`` on a cell, replacing a ``metadata.course`` that is no dict."""
    if not isinstance(cell.metadata.get(COURSE_KEY), dict):
        cell.metadata[COURSE_KEY] = {}
    cell.metadata[COURSE_KEY][name] = value


def is_grading_guide(cell):
    """Whether a cell is a grading guide inserted for the grader."""
    return bool(course_mark(cell, GUIDE_MARK))


def cell_id(kind, grade_id):
    """A cell id made from a grade_id (nbformat allows letters, digits, - and _, at most 64)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{kind}-{grade_id}")[:64]
