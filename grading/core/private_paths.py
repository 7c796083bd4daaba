"""Results carry nothing of the grading machine's file system.

Student code can learn paths of the machine that grades it: ``/proc/self/mountinfo`` in the
sandbox names the folders bound into it (the venv's site-packages, the job's folder), the
interpreter names its own prefix (in the instructor's home, say), and an exception raised on the
trusted side may name the course folder. A result holds whatever the student's code put into an
exception message, and results reach Formgrader and the feedback. :func:`scrub_result` replaces
each such path in a result with a neutral placeholder (a job's folder: any folder in the
grader's folder, or one named like a job's in the temporary folder):

=====================================  ================================
the venv's and the system's packages   ``<python>/site-packages``
the standard library                   ``<python>/lib``
the interpreter's prefixes (the venv)  ``<python>``
the course folder, the checkout        ``<course>``
a job's temporary folder               ``<job>``
the grading account's home             ``<home>``
=====================================  ================================

System prefixes (``/usr``, ``/usr/local``) say nothing about the machine and stay as they are.

This is best-effort: a student's code that writes a path otherwise (reversed, encoded, with a
look-alike of ``/`` such as U+2215) gets it through. What leaks that way is only where the
grader's folders are (their names), nothing that is in them.
"""

import os
import re
import sys
import sysconfig
import tempfile
from pathlib import Path

#: Prefixes of a system's own Python: no secret, and too short to replace safely.
SYSTEM_PREFIXES = {"/", "/usr", "/usr/local", "/opt"}
#: Characters that continue a path component: a path ends before any other. A path may start
#: anywhere (``x/work/course`` names the course too), so nothing is asked of what comes before it.
_NAME = r"[\w.+@-]"


def _variants(path):
    """A path as it may be written: as given, resolved, and escaped as in /proc/self/mountinfo."""
    found = set()
    for candidate in {str(path), os.path.realpath(path)}:
        candidate = candidate.rstrip("/")
        if candidate.startswith("/") and candidate not in SYSTEM_PREFIXES:
            found.add(candidate)
            found.add(candidate.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")
                      .replace("\n", "\\012"))
    return found


def private_paths(*roots):
    """[(path, placeholder)] of this machine, longest path first.

    Parameters
    ----------
    roots : str or os.PathLike
        Course folders beyond this checkout (the one a job grades).
    """
    pairs = {}

    def add(paths, placeholder):
        for path in paths:
            for variant in _variants(path):
                pairs.setdefault(variant, placeholder)

    scheme = sysconfig.get_paths()
    add([scheme["purelib"], scheme["platlib"], *(p for p in sys.path if p.endswith("site-packages"))],
        "<python>/site-packages")
    add([scheme["stdlib"], scheme["platstdlib"]], "<python>/lib")
    add([sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
         os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))], "<python>")
    add([Path(__file__).resolve().parents[2], *roots], "<course>")
    home = os.path.expanduser("~")
    if home not in ("", "/", "~"):
        add([home], "<home>")
    return sorted(pairs.items(), key=lambda pair: -len(pair[0]))


def _pattern(pairs):
    from grading.core.sandbox import JOB_PREFIX, grader_folder_path

    # The grader's folder holds nothing but jobs' folders; the shared temporary folder holds anything.
    children = {variant: r"[\w.-]+" for variant in _variants(grader_folder_path())}
    children.update({variant: re.escape(JOB_PREFIX) + r"[\w.-]*" for variant in _variants(tempfile.gettempdir())})
    jobs = "|".join(re.escape(variant) + "/" + children[variant] for variant in sorted(children, key=len, reverse=True))
    paths = "|".join(re.escape(path) for path, _ in pairs)
    return re.compile(rf"(?:(?P<job>{jobs})|(?P<path>{paths}))(?!{_NAME})")


def scrub_result(result, *roots):
    """A job's result (JSON-ready data, or a text) with no path of this machine in any of its texts."""
    pairs = private_paths(*roots)
    pattern = _pattern(pairs)
    placeholders = dict(pairs)

    def clean(value):
        if isinstance(value, str):
            return pattern.sub(lambda m: "<job>" if m["job"] else placeholders[m["path"]], value)
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return clean(result)
