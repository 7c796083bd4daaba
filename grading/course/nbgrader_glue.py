"""nbgrader stays the system of record: these preprocessors put trusted results into it.

``nbgrader autograde`` (run by ``make autograde`` through ``python -m grading autograde``) reads
each submitted notebook, *sanitises* it and *autogrades* it. ``nbgrader_config.py`` replaces both
lists of preprocessors:

* :class:`RebuildFromRelease` (first sanitising step) builds the notebook to be graded from the
  release version, which is trusted, and takes from the student's file only the source of each
  solution cell, matched by ``grade_id`` and cell type. Edited, swapped, deleted, duplicated or
  retyped cells, a missing ``nbgrader`` entry, stray metadata or outputs, attachments: none of it
  reaches nbgrader, which therefore never gives up on a student's assignment for inconsistent
  checksums. Written answers are cleaned of HTML that could run in the grader's browser.
* :class:`TrustedResults` (instead of nbgrader's Execute) does not run the notebook. It writes
  into every autograded test cell the outcome that the trusted tests decided for it in
  :func:`grading.core.engine.grade_notebook` (cached per submission by ``python -m grading``): a
  short "passed" line, or an error naming the visible check that failed, or saying that a hidden
  test failed, and why. nbgrader then scores the cells from those outputs as usual (an error is
  0, anything else full points) and writes the gradebook.

Also here: :class:`StripSolutionDelimiters` for the executed solutions in ``notebooks/``,
:class:`MarkManualGrading` for feedback, and the pre-flight that sets aside unreadable files.
"""

import json
import os
import re
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

#: Tags and attributes a written answer may keep (Markdown makes these; nothing that runs).
SAFE_TAGS = ["a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5",
             "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table",
             "tbody", "td", "th", "thead", "tr", "u", "ul"]
SAFE_ATTRIBUTES = {"a": ["href", "title"], "td": ["align"], "th": ["align"]}


class CoursePreprocessor(Preprocessor):
    """Base of this module's preprocessors: enabled as soon as it is listed in the config."""

    enabled = Bool(True).tag(config=True)


def _meta(cell):
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    meta = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return meta if isinstance(meta, dict) else {}


def _text(source):
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


#: What nbgrader cannot write (lone surrogates: UTF-8 has no bytes for them) or a page should not
#: hold (NUL and the other control characters but tab, line feed and carriage return). A notebook's
#: JSON can carry any of them as an escape (\ud800, \u0000).
_UNSTORABLE = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def storable_text(text, code=False):
    """``text`` with each character nbgrader cannot store shown as U+FFFD, and a note saying so.

    Parameters
    ----------
    text : str
        A student's cell source.
    code : bool
        The note becomes a comment (a code cell) instead of an emphasised line (Markdown).
    """
    count = len(_UNSTORABLE.findall(text))
    if not count:
        return text
    note = (f"Note from grading: {count} character(s) that cannot be stored here (a lone surrogate, NUL or "
            "another control character) are shown as \ufffd; the tests saw the cell as it was handed in.")
    cleaned = _UNSTORABLE.sub("\ufffd", text)
    return f"{cleaned}\n\n# {note}\n" if code else f"{cleaned}\n\n*{note}*\n"


def sanitize_markdown(text):
    """Markdown without HTML that could run in a browser: scripts, handlers, frames, forms.

    Allowed tags stay, everything else is shown as text (escaped), and links keep only
    http(s) and mailto targets.
    """
    import bleach

    from grading.course.offline_html import SAFE_LINK_SCHEMES

    cleaned = bleach.clean(text, tags=SAFE_TAGS, attributes=SAFE_ATTRIBUTES,
                           protocols=list(SAFE_LINK_SCHEMES), strip=False, strip_comments=True)
    # Markdown makes links of its own ([x](javascript:...), [x]: data:...), which bleach does not
    # see in the source: their targets are checked here, after entities are decoded.
    cleaned = _INLINE_LINK.sub(lambda m: m.group(1) + _safe_target(m.group(2)), cleaned)
    cleaned = _REFERENCE_LINK.sub(lambda m: m.group(1) + _safe_target(m.group(2)), cleaned)
    # bleach escapes every ">", also Markdown's quote markers at the start of a line; put those
    # back (a ">" in text opens nothing). The renderer checks the links that Markdown itself
    # produces (grading/course/offline_html.py): escapes such as "javascript\:" get past the patterns above.
    return _QUOTE_MARKERS.sub(lambda m: m.group(0).replace("&gt;", ">"), cleaned)


_INLINE_LINK = re.compile(r"(\]\(\s*<?)([^)\s>]*)")
_REFERENCE_LINK = re.compile(r"(^[ \t]*\[[^\]\n]+\]:[ \t]*<?)(\S*?)(?=>?(?:\s|$))", re.M)
_QUOTE_MARKERS = re.compile(r"^(?:[ \t]*&gt;)+", re.M)


def _safe_target(target):
    """A link target, or "#" when it names a scheme other than http(s) or mailto."""
    import html
    import urllib.parse

    from grading.course.offline_html import is_safe_link

    return target if is_safe_link(urllib.parse.unquote(html.unescape(html.unescape(target)))) else "#"


class RebuildFromRelease(CoursePreprocessor):
    """Replace the submitted notebook by the release version with the student's solution sources."""

    course_root = Unicode("", help="Course folder (with release/).").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        release_path = Path(self.course_root) / "release" / info["assignment"] / f"{info['notebook']}.ipynb"
        import nbformat

        release = nbformat.read(str(release_path), as_version=4)
        answers = {}
        for cell in nb.get("cells", []) if isinstance(nb.get("cells"), list) else []:
            gid = _meta(cell).get("grade_id")
            if isinstance(gid, str) and isinstance(cell, dict):
                answers[(gid, cell.get("cell_type"))] = _text(cell.get("source", ""))  # the last one wins
        for cell in release.cells:
            meta = _meta(cell)
            if meta.get("solution"):
                source = answers.get((meta.get("grade_id"), cell.cell_type))
                if source is not None:
                    source = storable_text(source, code=cell.cell_type == "code")
                    cell.source = sanitize_markdown(source) if cell.cell_type == "markdown" else source
                else:
                    note = (f"This answer ({meta.get('grade_id')}) was not found in the submitted notebook: its cell "
                            "was deleted, or its nbgrader metadata was changed. Shown is the empty cell of the "
                            "release.")
                    cell.source = (f"*{note}*\n\n" if cell.cell_type == "markdown" else f"# {note}\n") + cell.source
            cell.pop("attachments", None)
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nb.clear()
        nb.update(release)
        return nb, resources


def result_text(result):
    """What a test cell shows for one trusted result (also in feedback).

    A failure whose root cause is a solution cell that did not run to its end (``cause``, see
    :func:`grading.core.engine.root_cause`) starts with that cause; what the check saw follows.
    """
    if result["passed"]:
        return "✓ Passed: every check of this cell passed, the visible ones and the hidden tests."
    kind, phase, check, message = result["kind"], result["phase"], result["check"], result["message"]
    if phase == "visible":
        head = f"A visible check failed ({check})" if check else "A visible check failed"
    elif phase == "setup":
        return f"Your solution cells did not finish running, so no test could call your code: {message}"
    else:
        head = "A hidden test failed"
    if kind == "timeout":
        message = f"your code did not answer in time: {message}"
    elif kind == "crashed":
        message = f"your code's process died: {message}"
    cause = result.get("cause")
    return f"{cause}\n\n{head}: {message}" if cause else f"{head}: {message}"


def trusted_outputs(result):
    """The cell outputs that make nbgrader score a test cell as the trusted side decided."""
    import nbformat

    text = _UNSTORABLE.sub("\ufffd", result_text(result))  # it may quote what the student's code produced
    if result["passed"]:
        return [nbformat.v4.new_output("stream", name="stdout", text=text + "\n")]
    name = {"visible": "VisibleCheckFailed", "setup": "SolutionCellsFailed"}.get(result["phase"], "HiddenTestFailed")
    return [nbformat.v4.new_output("error", ename=name, evalue=text, traceback=[text])]


class TrustedResults(CoursePreprocessor):
    """Fill every autograded test cell with its trusted result (instead of executing the notebook)."""

    course_root = Unicode("", help="Course folder (with source/ and submitted/).").tag(config=True)

    def preprocess(self, nb, resources):
        from grading.core import jobs

        info = resources["nbgrader"]
        result = jobs.result_for(Path(self.course_root), info["assignment"], info["student"], info["notebook"],
                                 sandboxed=not jobs.unsafe_requested(), log=self.log)
        tests = result["tests"]
        for cell in nb.cells:
            meta = _meta(cell)
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                outcome = tests.get(meta.get("grade_id"))
                if outcome is None:  # cannot happen: the engine checks that every cell has a test
                    outcome = {"passed": False, "kind": "error", "phase": "hidden", "check": "",
                               "message": "this cell has no trusted test; tell your instructor"}
                cell.outputs = trusted_outputs(outcome)
        nb.cells = with_grading_guides(nb.cells, Path(self.course_root) / "source" / info["assignment"]
                                       / f"{info['notebook']}.ipynb")
        return nb, resources


GUIDE_KEY = "ex04_grading_guide"


def with_grading_guides(cells, source_path):
    """``cells`` with the source's model answer and grading guide after each written answer.

    Formgrader shows the autograded notebook: the grader then reads the guide right below the
    student's answer. The cells carry ``metadata.ex04_grading_guide`` and no nbgrader metadata
    (nbgrader ignores them); :class:`MarkManualGrading` removes them from the feedback.
    """
    import nbformat

    guides = {}
    for cell in nbformat.read(str(source_path), as_version=4).cells:
        meta = _meta(cell)
        if cell.cell_type == "markdown" and meta.get("solution") and meta.get("grade"):
            guides[meta.get("grade_id")] = cell.source
    out = []
    for cell in cells:
        if cell.get("metadata", {}).get(GUIDE_KEY):
            continue  # a guide from an earlier run, or one a student planted: rebuilt here
        out.append(cell)
        gid = _meta(cell).get("grade_id")
        if cell.cell_type == "markdown" and gid in guides:
            guide = nbformat.v4.new_markdown_cell(
                "<div style=\"border-left: 4px solid #c60; padding-left: 1em\">\n\n"
                f"**For the grader only** (not in the student's feedback): the model answer and grading guide of "
                f"`{gid}`.\n\n{guides[gid]}\n\n</div>")
            guide.metadata[GUIDE_KEY] = True
            guide.id = _cell_id("grading-guide", gid)  # not nbformat's random one: same notebook every run
            out.append(guide)
    return out


def _cell_id(kind, grade_id):
    """A cell id made from a grade_id (nbformat allows letters, digits, - and _, at most 64)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{kind}-{grade_id}")[:64]


TASK_KEY = "ex04_task"


def heading_text(line):
    """A Markdown heading line as plain text: no ``#`` marks, code ticks or emphasis."""
    text = re.sub(r"^\s{0,3}#+\s*|\s+#+\s*$", "", line)
    return re.sub(r"`|\*\*|__|(?<!\w)[*_]|[*_](?!\w)", "", text).strip()


def name_tasks(cells):
    """Give every graded, solution or task cell the heading it stands under (``metadata.ex04_task``).

    The feedback page's contents list graded cells by it (grading/course/templates/feedback).
    """
    heading = ""
    for cell in cells:
        if cell.cell_type == "markdown" and not _meta(cell):
            fenced = False  # a "# comment" in a code block is no heading
            for line in cell.source.splitlines():
                fenced ^= line.lstrip().startswith(("```", "~~~"))
                if not fenced and re.match(r"^\s{0,3}#+\s", line):
                    heading = heading_text(line)
        elif _meta(cell).get("grade") or _meta(cell).get("solution") or _meta(cell).get("task"):
            cell.metadata[TASK_KEY] = heading


class MarkManualGrading(CoursePreprocessor):
    """In feedback: no grading guides, each graded cell named by its task, and a note under a written
    answer that no person has graded yet."""

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook, MissingEntry

        # The grader's model answers and guides never reach the student, whatever happens below.
        nb.cells = [cell for cell in nb.cells if not cell.get("metadata", {}).get(GUIDE_KEY)]
        name_tasks(nb.cells)
        info = resources["nbgrader"]
        waiting = set()
        with Gradebook(info["db_url"]) as gradebook:
            try:
                submission = gradebook.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            except MissingEntry:
                return nb, resources
            waiting = {g.name for g in submission.grades if g.needs_manual_grade}
        import nbformat

        cells = []
        for cell in nb.cells:
            cells.append(cell)
            if cell.cell_type == "markdown" and _meta(cell).get("grade_id") in waiting:
                note = nbformat.v4.new_markdown_cell(
                    "*This answer is waiting for manual grading: its points are not in the total yet.*")
                note.id = _cell_id("waiting", _meta(cell)["grade_id"])
                cells.append(note)
        nb.cells = cells
        return nb, resources


class StripSolutionDelimiters(CoursePreprocessor):
    """Remove the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines from solution cells.

    Used for the executed solution versions in ``notebooks/``, which read better without them.
    """

    delimiters = ("### BEGIN SOLUTION", "### END SOLUTION")

    def preprocess_cell(self, cell, resources, index):
        meta = _meta(cell)
        if meta.get("solution") and cell.get("cell_type") == "code":
            lines = cell.source.splitlines()
            cell.source = "\n".join(line for line in lines if line.strip() not in self.delimiters)
        return cell, resources


class RecordLanguageInfo(CoursePreprocessor):
    """Give a student version the ``language_info`` that this environment's Python kernel reports.

    JupyterLab writes the kernel's ``language_info`` into a notebook as it opens it, and a notebook
    whose own differs is marked as changed: with the bare ``{"name": "python"}`` of the source, every
    student notebook was "modified" the moment it opened, and closing it asked to save. (A student
    on another Python version still sees that: the version is part of it.)
    """

    def preprocess(self, nb, resources):
        import copy

        from ipykernel.ipkernel import IPythonKernel

        nb.metadata["language_info"] = copy.deepcopy(IPythonKernel.language_info)
        return nb, resources


# ----------------------------------------------------------------------------------------------
# Pre-flight: one unreadable notebook must not stop a student's other ones.

UNREADABLE_SUFFIX = ".unreadable"


def unreadable_reason(path):
    """Why a submitted notebook cannot be graded, or None when it can.

    Never raises: a file that is too large, nested too deeply or damaged gets a reason, so one bad
    file cannot stop the pre-flight of a whole class. A symlink, FIFO or device is named as such
    ("is a symlink, not a file"), and never followed, waited on or read.
    """
    from grading.core.engine import MAX_NOTEBOOK_BYTES, read_notebook
    from grading.course.safe_files import Refused, open_regular

    try:  # never through a link, never waiting on a FIFO, never reading a device
        handle, _ = open_regular(path, limit=MAX_NOTEBOOK_BYTES)
    except Refused as why:
        return str(why) if str(why).startswith("is ") else f"the file {why}"
    try:
        head = os.read(handle, 4)
    except OSError as error:
        return f"the file cannot be read ({error.strerror})"
    finally:
        os.close(handle)
    if head == b"PK\x03\x04":
        return "the file is a zip archive, not a notebook"
    try:
        read_notebook(path)
    except UnicodeDecodeError:
        return "the file is not text (is it a notebook at all?)"
    except json.JSONDecodeError as error:
        return f"the file is not a notebook (invalid JSON: {error.msg} at line {error.lineno})"
    except (ValueError, MemoryError) as error:
        return str(error) if str(error).startswith("the file") else f"the notebook is damaged: {str(error)[:200]}"
    except Exception as error:  # nbformat raises several types for damaged notebooks
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        return f"the notebook is damaged: {message.strip().splitlines()[0][:200]}"
    return None


def set_aside_unreadable(root, assignment, out, db_url=None):
    """Rename unreadable notebooks in ``submitted/`` to ``<name>.ipynb.unreadable``; nothing is deleted.

    First, what no student can have handed in (symlinks, FIFOs, devices, files and hand-ins over
    the limits) moves to ``submitted/.set-aside/`` (:mod:`grading.course.preflight`): nbgrader would
    follow or read it when it copies the hand-in.

    Returns
    -------
    list of (pathlib.Path, str)
        The files set aside (their new paths) and why.
    """
    from grading.course.preflight import set_aside_what_is_not_a_file

    root = Path(root)
    set_aside, students = [], set()
    for moved in set_aside_what_is_not_a_file(root, assignment):
        if "renamed_to" in moved:
            print(f"pre-flight: {moved['path']} renamed to {moved['renamed_to']}: {moved['why']}", file=out)
            continue
        print(f"NOT GRADED: {moved['path']}: {moved['why']}.\n"
              f"  Set aside as {moved['set_aside_as']}; "
              + ("a student hands in plain files, so nothing of it is graded or copied." if moved["student"] else
                 "nbgrader never sees it. Rename the folder and put it back to grade it."), file=out)
        set_aside.append((root / moved["set_aside_as"], moved["why"]))
        if moved["student"]:
            students.add(moved["student"])
    for path in sorted(root.glob(f"submitted/*/{assignment}/*.ipynb")):
        reason = unreadable_reason(path)
        if reason is None:
            continue
        target = path.with_name(path.name + UNREADABLE_SUFFIX)
        os.replace(path, target)
        student = path.parent.parent.name
        print(f"NOT GRADED: {path.relative_to(root)}: {reason}.\n"
              f"  Set aside as {target.name}; {student}'s other notebooks are graded, this one scores 0.\n"
              f"  To grade a repaired file: put it back as {path.name} and run make autograde again.", file=out)
        set_aside.append((target, reason))
        students.add(student)
    if students and db_url:
        from nbgrader.api import Gradebook

        with Gradebook(db_url) as gradebook:
            for student in sorted(students):
                gradebook.update_or_create_student(student)
    return set_aside


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


# ----------------------------------------------------------------------------------------------
# Grade export: nbgrader's CSV, plus how many written answers still wait for a person.

from nbgrader.plugins.export import CsvExportPlugin  # noqa: E402


class CourseCsvExport(CsvExportPlugin):
    """``make grades``: nbgrader's columns and ``waiting_for_manual_grading``.

    The extra column counts the student's written answers that no person has graded yet: while
    it is above 0, ``score`` is not final.
    """

    def export(self, gradebook):
        import csv

        from nbgrader.api import MissingEntry

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
