"""Assignment pooling_demo: a small second assignment, graded by the same engine as ex04.

It exists to show that an assignment is a folder: nothing outside this package names it. The
round trip in ``tests/test_second_assignment.py`` grades a small class with it through
``python -m grading --assignments tests/assignments autograde pooling_demo``. Layout::

    tests/assignments/pooling_demo/
        __init__.py              ASSIGNMENT: notebook 01_pooling -> module nb01_pooling
        nb01_pooling.py          trusted tests, one per graded test cell (test_max_pool2d, test_avg_pool2d)
        source/01_pooling.ipynb  the instructor notebook (nbgrader metadata, solutions, points); a
                                 course keeps it as source/pooling_demo/01_pooling.ipynb

The student's code needs NumPy only, so the assignment ships no fixtures, no references and
keeps the default time per test.
"""

from grading.core.assignment import Assignment

ASSIGNMENT = Assignment(notebooks={"01_pooling": "nb01_pooling"})
