"""The course's settings, read from its ``nbgrader_config.py``."""

from pathlib import Path


def course_setting(root, section, name):
    """A setting of the course's ``nbgrader_config.py`` (``c.Grading.scheduler``, say), or None."""
    from traitlets.config.loader import PyFileConfigLoader

    if not (Path(root) / "nbgrader_config.py").exists():
        return None
    config = PyFileConfigLoader("nbgrader_config.py", path=str(Path(root).resolve())).load_config()
    return config[section][name] if section in config and name in config[section] else None


def course_db_url(root):
    """The gradebook URL that ``nbgrader_config.py`` in ``root`` sets, else nbgrader's default."""
    return course_setting(root, "CourseDirectory", "db_url") or f"sqlite:///{Path(root).resolve() / 'gradebook.db'}"
