"""nbgrader configuration of the ex04 course unit.

Run nbgrader from this folder (the Makefile does): source/ holds the instructor notebooks,
release/ the student versions, notebooks/ the executed solutions.
"""

import os
import sys

from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    DeduplicateIds,
    Execute,
    GetGrades,
    IncludeHeaderFooter,
    LockCells,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

c.CourseDirectory.course_id = "dl-ex04-cnn"
# The folder of this file, so nbgrader finds the course wherever it is started from.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# The instructor-only grading package lives in the course folder, not in the student package.
if c.CourseDirectory.root not in sys.path:
    sys.path.insert(0, c.CourseDirectory.root)
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

# The student versions: nbgrader's steps, then the language_info JupyterLab's kernel reports, so
# that opening a notebook does not mark it as changed.
from nbgrader.converters import GenerateAssignment  # noqa: E402

c.GenerateAssignment.preprocessors = [*GenerateAssignment.class_traits()["preprocessors"].default(),
                                      "grading.course.preprocessors.RecordLanguageInfo"]

# The executed solutions in notebooks/ must not show the hidden tests.
c.GenerateSolution.preprocessors = [
    IncludeHeaderFooter,
    LockCells,
    ClearOutput,
    ClearMarkScheme,
    ClearHiddenTests,
    "grading.course.preprocessors.StripSolutionDelimiters",
    Execute,
    # Text printed in bursts arrives as one or several outputs depending on timing; merge them.
    "nbconvert.preprocessors.CoalesceStreamsPreprocessor",
]

# nbconvert's own preprocessors are skipped unless enabled (nbgrader's enable themselves).
c.CoalesceStreamsPreprocessor.enabled = True

# Grading (see README, "How grading works"): nbgrader executes nothing. The notebook to grade is
# rebuilt from the release version plus the student's solution sources, and every test cell gets
# the result that the trusted tests decided outside the student's process (python -m grading).
c.Autograde.sanitize_preprocessors = [
    "grading.course.preprocessors.RebuildFromRelease",
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    "grading.course.preprocessors.TrustedResults",
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
c.RebuildFromRelease.course_root = c.CourseDirectory.root
c.TrustedResults.course_root = c.CourseDirectory.root

# Feedback: the trusted result of every test cell, and a note under written answers that no
# person has graded yet.
c.GenerateFeedback.preprocessors = [
    "grading.course.preprocessors.MarkManualGrading",
    GetGrades,
    CSSHTMLHeaderPreprocessor,
]

# Feedback files and Formgrader pages show their formulas offline: MathML written into the HTML
# instead of MathJax from a CDN (grading/course/offline_html.py). Our templates go in front of nbgrader's.
from grading.course.offline_html import exporter_settings  # noqa: E402

c.HTMLExporter.update(exporter_settings())

# make collect is grading/course/collect.py (Moodle's download layout, mapping CSV, no deletions), not
# nbgrader's zip_collect.

# nbgrader collect and Formgrader's Collect take from the exchange only regular files that the
# account named by a submission handed in: no symlinks, FIFOs or devices, nothing under a
# classmate's id (grading/course/exchange_collect.py).
c.ExchangeFactory.collect = "grading.course.exchange_collect.SafeExchangeCollect"

# make grades: nbgrader's CSV plus the number of written answers still waiting for a person.
c.ExportApp.plugin_class = "grading.course.export.CourseCsvExport"

# make autograde on many machines: the address of a running Dask scheduler (tls://HOST:PORT, with the
# certificates of make dask-certs; README: Grading on many machines),
# or "" to grade on this machine with one worker per core. SCHEDULER=... on the command line wins.
c.Grading.scheduler = ""
