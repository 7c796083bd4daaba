"""The course's settings, read from its ``nbgrader_config.py``."""

import functools
from pathlib import Path


def course_setting(root, section, name):
    """A setting of the course's ``nbgrader_config.py`` (``c.Grading.scheduler``, say), or None."""
    path = Path(root).resolve() / "nbgrader_config.py"
    if not path.exists():
        return None
    config = _loaded(str(path), path.stat().st_mtime_ns)
    return config[section][name] if section in config and name in config[section] else None


@functools.lru_cache(maxsize=4)
def _loaded(path, mtime_ns):
    """The file's settings, read once while it is unchanged (reading it imports nbgrader: about 1 s)."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(Path(path).name, path=str(Path(path).parent)).load_config()


def course_db_url(root):
    """The gradebook URL that ``nbgrader_config.py`` in ``root`` sets, else nbgrader's default."""
    return course_setting(root, "CourseDirectory", "db_url") or f"sqlite:///{Path(root).resolve() / 'gradebook.db'}"
