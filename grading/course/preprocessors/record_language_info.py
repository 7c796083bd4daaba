"""Student versions that JupyterLab does not mark as changed the moment they open."""

import copy

from grading.course.preprocessors.base import CoursePreprocessor


class RecordLanguageInfo(CoursePreprocessor):
    """Give a student version the ``language_info`` that this environment's Python kernel reports.

    JupyterLab writes the kernel's ``language_info`` into a notebook as it opens it, and a notebook
    whose own differs is marked as changed: with the bare ``{"name": "python"}`` of the source, every
    student notebook would be "modified" the moment it opened, and closing it would ask to save. (A
    student on another Python version still sees that: the version is part of it.)
    """

    def preprocess(self, nb, resources):
        from ipykernel.ipkernel import IPythonKernel

        nb.metadata["language_info"] = copy.deepcopy(IPythonKernel.language_info)
        return nb, resources
