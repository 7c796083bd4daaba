"""nbgrader stays the system of record: these preprocessors put trusted results into it.

``nbgrader autograde`` (run by ``make autograde`` through ``python -m grading autograde``) reads
each submitted notebook, *sanitises* it and *autogrades* it. ``nbgrader_config.py`` replaces both
lists of preprocessors, and adds some of its own elsewhere (one module each):

* :class:`RebuildFromRelease` (first sanitising step) builds the notebook to be graded from the
  trusted release version and the student's solution sources only.
* :class:`TrustedResults` (instead of nbgrader's Execute) runs nothing: it writes into every
  autograded test cell the outcome that the trusted tests decided, from which nbgrader scores it.
* :class:`MarkManualGrading` prepares the feedback: no grading guides, tasks named, a note under
  each written answer that waits for a person.
* :class:`StripSolutionDelimiters` for the executed solutions in ``notebooks/``.
* :class:`RecordLanguageInfo` for the student versions in ``release/``.

What they share (the base class, the cell predicates) is in :mod:`.base`.
"""

from grading.course.preprocessors.base import CoursePreprocessor
from grading.course.preprocessors.mark_manual_grading import MarkManualGrading
from grading.course.preprocessors.rebuild_from_release import RebuildFromRelease
from grading.course.preprocessors.record_language_info import RecordLanguageInfo
from grading.course.preprocessors.strip_solution_delimiters import StripSolutionDelimiters
from grading.course.preprocessors.trusted_results import TrustedResults

__all__ = ["CoursePreprocessor", "MarkManualGrading", "RebuildFromRelease", "RecordLanguageInfo",
           "StripSolutionDelimiters", "TrustedResults"]
