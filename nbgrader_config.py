"""nbgrader configuration of the ex04 course unit.

Run nbgrader from this folder (the Makefile does): source/ holds the instructor notebooks,
release/ the student versions, notebooks/ the executed solutions.
"""

import os

from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    Execute,
    GetGrades,
    IgnorePattern,
    IncludeHeaderFooter,
    LimitOutput,
    LockCells,
    SaveAutoGrades,
)
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

c.CourseDirectory.course_id = "dl-ex04-cnn"
# The folder of this file, so nbgrader finds the course wherever it is started from.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.solution_directory = "notebooks"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")

# Formgrader's Release and Collect buttons work through an exchange folder. Here it lives in the
# course (ignored by git), which suits one machine; on JupyterHub set it to the shared path.
c.Exchange.root = os.path.join(c.CourseDirectory.root, "exchange")

# Students are added to the gradebook as their submissions are autograded.
c.Autograde.create_student = True
# A student who deletes a test cell is still graded by it: autograde puts it back.
c.OverwriteCells.add_missing_cells = True

# The slowest cell (training the CNN of notebook 06) takes well under a minute on two CPU
# cores; 180 s leaves room for a slow machine but still stops an endless loop.
c.Execute.timeout = 180
# No execution timestamps in the stored solutions: regenerating must not change a byte.
c.Execute.record_timing = False

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# The executed solutions in notebooks/ must not show the hidden tests.
c.GenerateSolution.preprocessors = [
    IncludeHeaderFooter,
    LockCells,
    ClearOutput,
    ClearMarkScheme,
    ClearHiddenTests,
    "helpers.grading.StripSolutionDelimiters",
    Execute,
    # Text printed in bursts arrives as one or several outputs depending on timing; merge them.
    "nbconvert.preprocessors.CoalesceStreamsPreprocessor",
]

# nbconvert's own preprocessors are skipped unless enabled (nbgrader's enable themselves).
c.CoalesceStreamsPreprocessor.enabled = True

# A correct answer that makes a library warn (text on stderr) still earns its points.
c.Autograde.autograde_preprocessors = [
    Execute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    "helpers.grading.StderrToStdout",
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# Feedback shows neither hidden-test source nor tracebacks that quote it.
c.GenerateFeedback.preprocessors = [
    "helpers.grading.HideHiddenTestTracebacks",
    ClearHiddenTests,
    GetGrades,
    CSSHTMLHeaderPreprocessor,
]

# zip_collect: submissions downloaded from an LMS as <student_id>_<notebook>.ipynb files or
# <student_id>_<anything>.zip archives, placed in downloaded/ex04/archive/.
c.ZipCollectApp.collector_plugin = "nbgrader.plugins.FileNameCollectorPlugin"
c.FileNameCollectorPlugin.named_regexp = (
    r".*?(?P<student_id>[A-Za-z0-9.-]+)_(?:[^/]*/)*(?P<file_id>[^/]+\.ipynb)$"
)
