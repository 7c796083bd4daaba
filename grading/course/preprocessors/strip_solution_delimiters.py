"""The executed solutions in ``notebooks/`` without the solution delimiter lines."""

from grading.course.preprocessors.base import CoursePreprocessor, is_solution


class StripSolutionDelimiters(CoursePreprocessor):
    """Remove the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines from solution cells.

    Used for the executed solution versions in ``notebooks/``, which read better without them.
    """

    delimiters = ("### BEGIN SOLUTION", "### END SOLUTION")

    def preprocess_cell(self, cell, resources, index):
        if is_solution(cell) and cell.get("cell_type") == "code":
            lines = cell.source.splitlines()
            cell.source = "\n".join(line for line in lines if line.strip() not in self.delimiters)
        return cell, resources
