"""nbgrader tools of this course (used by ``nbgrader_config.py`` and ``make autograde``; instructors only).

Fixes for behaviour of nbgrader 0.9 that would be unfair to students or clumsy for instructors:

* A test cell scores 0 when anything reaches stderr, so a correct answer scores 0 as soon as
  a library prints a warning. :class:`StderrToStdout` moves such text to stdout in graded
  cells before grades are computed: the text stays visible, the grade depends on errors only.
* Feedback quotes hidden tests through tracebacks even after their source is removed.
  :class:`HideHiddenTestTracebacks` shortens a traceback that quotes a hidden test to its
  last line (the exception and its message).
* :class:`StripSolutionDelimiters` removes the ``### BEGIN/END SOLUTION`` lines from the
  executed solution versions in ``notebooks/``.
* One unreadable notebook makes nbgrader skip a student's whole assignment.
  :func:`set_aside_unreadable` (``python -m helpers.grading preflight ASSIGNMENT``, run by
  ``make autograde``) names such files, sets them aside and keeps the student in the gradebook.
"""

import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class CoursePreprocessor(Preprocessor):
    """Base of this module's preprocessors: enabled as soon as it is listed in the config.

    nbconvert registers preprocessors disabled unless told otherwise, and a disabled one is
    skipped without a word; nbgrader's own preprocessors switch themselves on the same way.
    """

    enabled = Bool(True).tag(config=True)


def _is_grade_code_cell(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade"))


def hidden_test_lines(source):
    """The non-trivial source lines between the hidden-test delimiters of one cell.

    Parameters
    ----------
    source : str

    Returns
    -------
    list of str
        Stripped lines, without blank lines and without lines too short to identify
        (such as ``)`` or ``else:``).
    """
    lines, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN_HIDDEN:
            inside = True
        elif stripped == END_HIDDEN:
            inside = False
        elif inside and len(stripped) > 6:
            lines.append(stripped)
    return lines


class StderrToStdout(CoursePreprocessor):
    """Turn stderr streams of graded code cells into stdout so they do not zero the grade."""

    def preprocess_cell(self, cell, resources, index):
        if _is_grade_code_cell(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output["name"] = "stdout"
        return cell, resources


class HideHiddenTestTracebacks(CoursePreprocessor):
    """Shorten tracebacks that quote hidden tests; run it before ``ClearHiddenTests``."""

    def preprocess_cell(self, cell, resources, index):
        if not _is_grade_code_cell(cell):
            return cell, resources
        hidden = hidden_test_lines(cell.get("source", ""))
        if not hidden:
            return cell, resources
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            text = _ANSI.sub("", "\n".join(output.get("traceback", [])))
            if any(line in text for line in hidden):
                output["traceback"] = [
                    f"{output.get('ename', 'Error')}: {output.get('evalue', '')}",
                    "(A hidden test failed; its source is not shown.)",
                ]
        return cell, resources


class StripSolutionDelimiters(CoursePreprocessor):
    """Remove the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines from solution cells.

    Used for the executed solution versions in ``notebooks/``, which read better without them.
    """

    delimiters = ("### BEGIN SOLUTION", "### END SOLUTION")

    def preprocess_cell(self, cell, resources, index):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell.get("cell_type") == "code":
            lines = cell.source.splitlines()
            cell.source = "\n".join(line for line in lines if line.strip() not in self.delimiters)
        return cell, resources


# ----------------------------------------------------------------------------------------------
# Pre-flight for `make autograde`: one unreadable notebook must not stop a student's other ones.

UNREADABLE_SUFFIX = ".unreadable"


def unreadable_reason(path):
    """Why a submitted notebook cannot be graded, or None when it can.

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    str or None
    """
    import json
    import warnings

    import nbformat

    try:
        with open(path, encoding="utf-8") as handle:
            content = json.load(handle)
    except UnicodeDecodeError:
        return "the file is not text (is it a notebook at all?)"
    except json.JSONDecodeError as error:
        return f"the file is not a notebook (invalid JSON: {error.msg} at line {error.lineno})"
    try:
        with warnings.catch_warnings():
            # Old notebooks without cell ids are fine for nbgrader; only real damage counts.
            warnings.simplefilter("ignore")
            nb = nbformat.from_dict(content)
            nb = nbformat.convert(nb, 4) if nb.get("nbformat") != 4 else nb
            nbformat.validate(nb)
    except Exception as error:  # nbformat raises several types for damaged notebooks
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        return f"the notebook is damaged: {message.strip().splitlines()[0][:200]}"
    return None


def set_aside_unreadable(root, assignment, out=None, db_url=None):
    """Rename unreadable notebooks in ``submitted/`` so nbgrader grades everything else.

    nbgrader gives up on a student's whole assignment when one notebook cannot be read. A
    notebook renamed to ``<name>.ipynb.unreadable`` counts as not submitted instead (0 points for
    that notebook), and the student's other notebooks are graded. Nothing is deleted.

    Parameters
    ----------
    root : str or pathlib.Path
        Course directory (the folder with ``nbgrader_config.py``).
    assignment : str
    out : file-like, optional
        Where to write one line per file set aside; standard output when omitted.
    db_url : str, optional
        The course gradebook. Students whose files are set aside are added to it, so that the
        grade export lists them (with 0 for what could not be graded) even when nothing of
        theirs could be read.

    Returns
    -------
    list of (pathlib.Path, str)
        The files set aside (their new paths) and why.
    """
    import sys
    from pathlib import Path

    out = out or sys.stdout
    root = Path(root)
    set_aside = []
    for path in sorted(root.glob(f"submitted/*/{assignment}/*.ipynb")):
        reason = unreadable_reason(path)
        if reason is None:
            continue
        target = path.with_name(path.name + UNREADABLE_SUFFIX)
        path.rename(target)
        student = path.parent.parent.name
        print(f"NOT GRADED: {path.relative_to(root)}: {reason}.\n"
              f"  Set aside as {target.name}; {student}'s other notebooks are graded, this one scores 0.\n"
              f"  To grade a repaired file: put it back as {path.name}, then run\n"
              f"  nbgrader autograde {assignment} --student {student} --force", file=out)
        set_aside.append((target, reason))
    if set_aside and db_url:
        from nbgrader.api import Gradebook

        with Gradebook(db_url) as gradebook:
            for target, _ in set_aside:
                gradebook.update_or_create_student(target.parent.parent.name)
    return set_aside


def course_db_url(root):
    """The gradebook URL that ``nbgrader_config.py`` in ``root`` sets, else nbgrader's default."""
    from pathlib import Path

    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve()
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config() \
        if (root / "nbgrader_config.py").exists() else None
    if config is not None and "db_url" in config.CourseDirectory:
        return config.CourseDirectory.db_url
    return f"sqlite:///{root / 'gradebook.db'}"


def main(argv=None):
    """``python -m helpers.grading preflight ASSIGNMENT [ROOT]``"""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.grading")
    parser.add_argument("command", choices=["preflight"])
    parser.add_argument("assignment")
    parser.add_argument("root", nargs="?", default=".")
    args = parser.parse_args(argv)
    set_aside = set_aside_unreadable(args.root, args.assignment, db_url=course_db_url(args.root))
    print(f"pre-flight: {len(set_aside)} unreadable notebook(s) set aside")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
