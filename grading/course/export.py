"""``make grades``: nbgrader's CSV, plus how many written answers still wait for a person."""

import csv

from nbgrader.api import MissingEntry
from nbgrader.plugins.export import CsvExportPlugin


class CourseCsvExport(CsvExportPlugin):
    """``make grades``: nbgrader's columns and ``waiting_for_manual_grading``.

    The extra column counts the student's written answers that no person has graded yet: while
    it is above 0, ``score`` is not final.
    """

    def export(self, gradebook):
        keys = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                "raw_score", "late_submission_penalty", "score", "max_score", "waiting_for_manual_grading"]
        with open(self.to or "grades.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, keys)
            writer.writeheader()
            for assignment in gradebook.assignments:
                if self.assignment and assignment.name not in self.assignment:
                    continue
                for student in gradebook.students:
                    if self.student and student.id not in self.student:
                        continue
                    row = {"assignment": assignment.name, "duedate": assignment.duedate, "student_id": student.id,
                           "last_name": student.last_name, "first_name": student.first_name,
                           "email": student.email, "max_score": assignment.max_score}
                    try:
                        submission = gradebook.find_submission(assignment.name, student.id)
                    except MissingEntry:
                        row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0,
                                   waiting_for_manual_grading=0)
                    else:
                        penalty = submission.late_submission_penalty or 0.0
                        waiting = sum(1 for notebook in submission.notebooks for grade in notebook.grades
                                      if grade.needs_manual_grade)
                        row.update(timestamp=submission.timestamp, raw_score=submission.score,
                                   late_submission_penalty=penalty, score=max(0.0, submission.score - penalty),
                                   waiting_for_manual_grading=waiting)
                    writer.writerow({k: "" if v is None else v for k, v in row.items()})
