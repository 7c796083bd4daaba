"""The course's settings come from its nbgrader_config.py (grading/course/config.py): unit tests, seconds."""

from grading.course.config import course_db_url


def test_course_db_url_reads_the_course_config_or_falls_back(tmp_path):
    assert course_db_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"
    (tmp_path / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.db_url = "sqlite:////srv/grades.db"\n')
    assert course_db_url(tmp_path) == "sqlite:////srv/grades.db"
