"""``make report``: what a class did and did not understand, from the gradebook and the cached results.

Nothing is graded again. The points come from nbgrader's gradebook (what Formgrader shows and
``make grades`` exports); what went wrong comes from the grading results cached in
``.grading/<assignment>/<student>/<notebook>.json`` (:mod:`grading.core.jobs`): the message of each
failed test, the named mistake in it (``likely_mistakes`` of :func:`helpers.checking.check_array`
and the trusted tests: "It equals the correlation with the kernel as given: the kernel was not
flipped"), the seconds each job took.

Writes ``reports/<assignment>/items.csv`` (one row per graded test cell) and
``reports/<assignment>/class.html`` (one file; its figures are PNGs inside it, drawn with
matplotlib, so it opens offline, from disk or from an LMS).

Item analysis, as in classical test theory: per test cell the mean points, the share of students
with full marks and with zero, and its discrimination, the point-biserial correlation of the
item's score with the rest of the student's total (the total without this item, the "corrected
item-total correlation"): near 0 or negative, the item does not separate students who did well
from those who did not. A notebook a student did not hand in counts as 0 points, as in nbgrader's
export.
"""

import base64
import csv
import html
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Named mistakes: a known wrong result ("It equals ...") or a shape off by a constant.
_NAMED_PATTERNS = (re.compile(r"It equals ([^\n]+?)\.(?:\s|$)"),
                   re.compile(r"((?:Each side is|It is) \d+ too (?:short|long))"))
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
#: Discrimination under this is worth a look (a common rule of thumb of item analysis).
LOW_DISCRIMINATION = 0.2
SLOWEST_SHOWN = 10
FAILURES_SHOWN = 5


def failure_cause(message, kind):
    """``(named, text)``: what made a test fail, so that equal causes of different students group.

    A named mistake is returned as it is named (``named`` True). Any other message is cut to its
    first line, with numbers replaced by ``#`` and quoted text by ``'…'`` (positions, values and
    names differ between students; the cause does not). An empty message gives the result's kind.
    """
    from grading.course.text_safety import replace_unstorable

    message = replace_unstorable(message or "")  # a lone surrogate from a student's text cannot be written
    for pattern in _NAMED_PATTERNS:
        found = pattern.search(message)
        if found:
            return True, found.group(1)
    first = message.strip().split("\n", 1)[0]
    if not first:
        return False, kind or "failed"
    first = _NUMBER.sub("#", _QUOTED.sub("'…'", first))
    return False, re.sub(r"\s+", " ", first)[:200]


# ------------------------------------------------------------------------------ reading

@dataclass
class Item:
    """One graded cell of a notebook: a test cell (autograded) or a written answer (by a person)."""

    notebook: str
    grade_id: str
    points: float
    written: bool
    scores: dict = field(default_factory=dict)  # student -> points (0 for a notebook not handed in)
    waiting: set = field(default_factory=set)  # students whose answer waits for manual grading
    failures: Counter = field(default_factory=Counter)  # (named, cause) -> students


@dataclass
class ClassResults:
    assignment: str
    students: list
    notebooks: list
    items: list
    handed_in: dict  # notebook -> the students of the gradebook with the notebook in submitted/
    jobs: list  # (seconds, student, notebook, slowest test, its seconds)
    not_graded: dict  # student -> lines of their NOT_GRADED.txt
    missing_results: list  # (student, notebook): in the gradebook, not in .grading/


def read_gradebook(db_url, assignment):
    """Items with every student's points, from nbgrader's gradebook.

    Returns
    -------
    students : list of str
    notebooks : list of str
    items : list of Item
        In notebook order, then in the order nbgrader keeps the notebook's grade cells.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gradebook:
        try:
            found = gradebook.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(f"make report: the gradebook ({db_url}) has no assignment {assignment!r}; "
                             "run make autograde first") from None
        notebooks = sorted(notebook.name for notebook in found.notebooks)
        items = [Item(notebook.name, cell.name, float(cell.max_score), cell.cell_type == "markdown")
                 for notebook in sorted(found.notebooks, key=lambda n: n.name) for cell in notebook.grade_cells]
        by_key = {(item.notebook, item.grade_id): item for item in items}
        students = []
        for submission in gradebook.assignment_submissions(assignment):
            student = submission.student.id
            students.append(student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    item = by_key[notebook.name, grade.name]
                    item.scores[student] = float(grade.score or 0.0)
                    if grade.needs_manual_grade:
                        item.waiting.add(student)
    students.sort()
    for item in items:
        for student in students:
            item.scores.setdefault(student, 0.0)
    return students, notebooks, items


def _cached_result(root, assignment, student, notebook):
    from grading.core import cache
    from grading.core.jobs import cache_path

    record = cache.read(cache_path(root, assignment, student, notebook))
    return record["result"] if record else None


def read_not_graded(root, assignment, students):
    """student -> the lines of ``autograded/<student>/<assignment>/NOT_GRADED.txt`` that name a file."""
    notes = {}
    folder = Path(root) / "autograded"
    candidates = sorted(set(students) | {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir()
                        else set(students))
    for student in candidates:
        path = folder / student / assignment / "NOT_GRADED.txt"
        if path.is_file():
            lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
                     if line.startswith("NOT GRADED")]
            notes[student] = lines
    return notes


def read_class(root, assignment, db_url=None):
    """Everything the report shows: the gradebook's points and the cached results' messages."""
    from grading.course.config import course_db_url

    root = Path(root)
    students, notebooks, items = read_gradebook(db_url or course_db_url(root), assignment)
    # nbgrader records a notebook a student did not hand in (0 points): handed in is what submitted/ holds.
    handed_in = {notebook: {student for student in students
                            if (root / "submitted" / student / assignment / f"{notebook}.ipynb").is_file()}
                 for notebook in notebooks}
    jobs, missing = [], []
    by_notebook = {}
    for item in items:
        by_notebook.setdefault(item.notebook, []).append(item)
    for notebook in notebooks:
        for student in sorted(handed_in[notebook]):
            result = _cached_result(root, assignment, student, notebook)
            if result is None:
                missing.append((student, notebook))
                continue
            tests = result.get("tests", {})
            seconds = sum(float(s.get("seconds", 0)) for s in result.get("setups", []))
            seconds += sum(float(t.get("seconds", 0)) for t in tests.values())
            slowest = max(tests.items(), key=lambda kv: float(kv[1].get("seconds", 0)), default=(None, {}))
            jobs.append((round(seconds, 3), student, notebook, slowest[0], float(slowest[1].get("seconds", 0))))
            for item in by_notebook[notebook]:
                test = tests.get(item.grade_id)
                if item.written or test is None or item.scores[student] >= item.points:
                    continue
                item.failures[failure_cause(test.get("message", ""), test.get("kind", ""))] += 1
    jobs.sort(key=lambda job: (-job[0], job[1], job[2]))
    return ClassResults(assignment, students, notebooks, items, handed_in, jobs,
                        read_not_graded(root, assignment, students), missing)


# ------------------------------------------------------------------------------ statistics

def totals(results):
    """student -> the assignment's total points (every item, written answers included)."""
    return {student: sum(item.scores[student] for item in results.items) for student in results.students}


def point_biserial(item_scores, rest_scores):
    """Pearson correlation of an item's scores with the rest-of-total scores; None when either is constant.

    With an item scored 0 or full marks this is the point-biserial correlation of item analysis.
    """
    item_scores, rest_scores = np.asarray(item_scores, float), np.asarray(rest_scores, float)
    if len(item_scores) < 2 or np.ptp(item_scores) == 0 or np.ptp(rest_scores) == 0:
        return None
    return float(np.corrcoef(item_scores, rest_scores)[0, 1])


def item_statistics(item, students, total):
    """The numbers of one item, over ``students`` (0 for a notebook they did not hand in)."""
    scores = np.array([item.scores[s] for s in students], float)
    count = len(students)
    return {
        "students": count,
        "mean_points": float(scores.mean()) if count else 0.0,
        "full_marks_rate": float(np.mean(scores >= item.points)) if count else 0.0,
        "zero_rate": float(np.mean(scores <= 0)) if count else 0.0,
        "discrimination": point_biserial(scores, [total[s] - item.scores[s] for s in students]),
    }


def ranked_failures(item):
    """``[(named, cause, students)]``: the named mistakes first, then the other causes; most frequent first."""
    return sorted(((named, cause, count) for (named, cause), count in item.failures.items()),
                  key=lambda entry: (not entry[0], -entry[2], entry[1]))


def _rounded(value):
    return "" if value is None else f"{value:.4f}"


def write_items_csv(results, path):
    """items.csv: one row per graded test cell, in notebook order. No timings: the same class gives the same file."""
    total = totals(results)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["notebook", "grade_id", "points", "students", "mean_points", "full_marks_rate", "zero_rate",
                         "discrimination", "top_failure", "top_failure_students", "named_mistakes"])
        for item in results.items:
            if item.written:
                continue
            stats = item_statistics(item, results.students, total)
            failures = ranked_failures(item)
            top = failures[0] if failures else (False, "", 0)
            named = "; ".join(f"{cause} ({count})" for is_named, cause, count in failures if is_named)
            writer.writerow([item.notebook, item.grade_id, f"{item.points:g}", stats["students"],
                             _rounded(stats["mean_points"]), _rounded(stats["full_marks_rate"]),
                             _rounded(stats["zero_rate"]), _rounded(stats["discrimination"]), top[1], top[2], named])


# ------------------------------------------------------------------------------ figures

def _figure_uri(figure):
    """A matplotlib figure as a data: URI (PNG): the page carries its pictures."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def totals_figure(values, maximum, title):
    """A histogram of points (whole points as bins when the maximum is small)."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(4.2, 2.6))
    bins = np.arange(0, maximum + 2) - 0.5 if maximum <= 30 else np.linspace(0, maximum, 21)
    axis.hist(values, bins=bins, color="#4c72b0", edgecolor="white")
    axis.set_xlabel(f"points (of {maximum:g})", fontsize=8)
    axis.set_ylabel("students", fontsize=8)
    axis.set_title(title, fontsize=9)
    axis.tick_params(labelsize=7)
    axis.yaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    return _figure_uri(figure)


def items_figure(items, students):
    """Per item, the share of students with full marks, partial points, zero, and waiting for a person."""
    plt = _pyplot()
    labels = [item.grade_id for item in items]
    shares = {"full marks": [], "partial": [], "zero": [], "waiting for a person": []}
    for item in items:
        scores = np.array([item.scores[s] for s in students], float)
        waiting = np.array([s in item.waiting for s in students])
        count = max(len(students), 1)
        shares["waiting for a person"].append(waiting.sum() / count)
        shares["full marks"].append(((scores >= item.points) & ~waiting).sum() / count)
        shares["zero"].append(((scores <= 0) & ~waiting).sum() / count)
        shares["partial"].append(((scores > 0) & (scores < item.points) & ~waiting).sum() / count)
    figure, axis = plt.subplots(figsize=(6.0, 0.45 * len(items) + 1.0))
    left = np.zeros(len(items))
    colours = {"full marks": "#55a868", "partial": "#dd8452", "zero": "#c44e52", "waiting for a person": "#bbbbbb"}
    for name, values in shares.items():
        axis.barh(labels, values, left=left, color=colours[name], label=name)
        left += np.array(values)
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.set_xlabel("share of the class", fontsize=8)
    axis.tick_params(labelsize=7)
    axis.legend(fontsize=7, ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    figure.tight_layout()
    return _figure_uri(figure)


# ------------------------------------------------------------------------------ the page

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;
vertical-align:top}th{background:#f2f2f2}.first{background:#eef5ff;border-left:4px solid #4c72b0;padding:.5em 1em}
.named{font-weight:600;color:#8a1c1c}.figs{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
img{max-width:100%}td.n{text-align:right;white-space:nowrap}
"""


def _percent(share):
    return f"{100 * share:.0f}\N{NO-BREAK SPACE}%"


def look_first(results, total):
    """Short sentences for the top of the page: the named mistakes, the hardest items, doubtful items, what waits."""
    notes = []
    count = max(len(results.students), 1)
    named = sorted(((n, cause, item) for item in results.items for is_named, cause, n in ranked_failures(item)
                    if is_named), key=lambda entry: -entry[0])
    for students, cause, item in named[:3]:
        notes.append(f"<span class='named'>{_percent(students / count)} of the class: {html.escape(cause)}</span> "
                     f"({html.escape(item.notebook)}, {html.escape(item.grade_id)})")
    tests = [item for item in results.items if not item.written]
    share = {id(item): item_statistics(item, results.students, total)["mean_points"] / (item.points or 1)
             for item in tests}
    hardest = sorted(tests, key=lambda item: (share[id(item)], item.notebook, item.grade_id))[:3]
    if hardest:
        notes.append("Hardest tests (lowest mean share of points): " + ", ".join(
            f"{html.escape(item.grade_id)} ({_percent(share[id(item)])})" for item in hardest))
    doubtful = []
    for item in tests:
        value = item_statistics(item, results.students, total)["discrimination"]
        if value is not None and value < LOW_DISCRIMINATION:
            doubtful.append(f"{html.escape(item.grade_id)} ({value:.2f})")
    if doubtful:
        notes.append(f"Tests that hardly separate strong from weak students (discrimination under "
                     f"{LOW_DISCRIMINATION}): {', '.join(doubtful)}: read their messages below.")
    waiting = sum(len(item.waiting) for item in results.items)
    if waiting:
        notes.append(f"{waiting} written answer(s) wait for manual grading: the totals are provisional.")
    if results.not_graded:
        notes.append(f"{len(results.not_graded)} student(s) have files that were not graded (see the end of the page).")
    return notes or ["Nothing stands out."]


def _item_rows(items, students, total):
    rows = []
    for item in items:
        stats = item_statistics(item, students, total)
        failures = ranked_failures(item)[:FAILURES_SHOWN]
        shown = "".join(
            "<div>• " + (f"<span class='named'>{html.escape(cause)}</span>" if named else html.escape(cause))
            + f": {count} ({_percent(count / max(len(students), 1))})</div>" for named, cause, count in failures)
        discrimination = "" if stats["discrimination"] is None else f"{stats['discrimination']:.2f}"
        rows.append(f"<tr><td>{html.escape(item.grade_id)}</td><td class='n'>{item.points:g}</td>"
                    f"<td class='n'>{stats['mean_points']:.2f}</td>"
                    f"<td class='n'>{_percent(stats['full_marks_rate'])}</td>"
                    f"<td class='n'>{_percent(stats['zero_rate'])}</td><td class='n'>{discrimination}</td>"
                    f"<td>{shown}</td></tr>")
    return rows


def _written_rows(items, students):
    rows = []
    for item in items:
        graded = [item.scores[s] for s in students if s not in item.waiting]
        mean = f"{np.mean(graded):.2f}" if graded else ""
        rows.append(f"<tr><td>{html.escape(item.grade_id)}</td><td class='n'>{item.points:g}</td>"
                    f"<td class='n'>{len(item.waiting)}</td><td class='n'>{len(graded)}</td>"
                    f"<td class='n'>{mean}</td></tr>")
    return rows


def notebook_section(results, notebook, total):
    items = [item for item in results.items if item.notebook == notebook]
    tests = [item for item in items if not item.written]
    written = [item for item in items if item.written]
    notebook_totals = [sum(item.scores[s] for item in items) for s in results.students]
    maximum = sum(item.points for item in items)
    parts = [f"<h2>{html.escape(notebook)}</h2>",
             f"<p>{len(results.handed_in[notebook])} of {len(results.students)} student(s) handed it in; "
             f"mean {np.mean(notebook_totals) if notebook_totals else 0:.2f} of {maximum:g} points.</p>",
             "<div class='figs'>",
             f"<img alt='points in {html.escape(notebook)}' src='{totals_figure(notebook_totals, maximum, notebook)}'>",
             f"<img alt='per task: full marks, partial, zero' src='{items_figure(items, results.students)}'>"
             if items else "", "</div>"]
    if tests:
        parts += ["<table><tr><th>test cell</th><th>points</th><th>mean</th><th>full marks</th><th>zero</th>"
                  "<th>discrimination</th><th>why it failed (named mistakes first; students)</th></tr>",
                  *_item_rows(tests, results.students, total), "</table>"]
    if written:
        parts += ["<h3>Written answers</h3><table><tr><th>answer</th><th>points</th><th>waiting for manual grading"
                  "</th><th>graded</th><th>mean of the graded</th></tr>", *_written_rows(written, results.students),
                  "</table>"]
    return "\n".join(parts)


def not_graded_section(results):
    parts = ["<h2>Not graded</h2>"]
    if not results.not_graded and not results.missing_results:
        return "\n".join(parts + ["<p>Every file handed in was graded.</p>"])
    if results.not_graded:
        parts.append("<p>From each student's NOT_GRADED.txt (written by make autograde, copied into their "
                     "feedback):</p><table><tr><th>student</th><th>why</th></tr>")
        parts += [f"<tr><td>{html.escape(student)}</td><td>{'<br>'.join(html.escape(line) for line in lines)}</td></tr>"
                  for student, lines in sorted(results.not_graded.items())]
        parts.append("</table>")
    if results.missing_results:
        parts.append("<p>In the gradebook but without a grading result in .grading/ (graded with an older engine, or "
                     "the cache was removed): " + ", ".join(f"{html.escape(s)}/{html.escape(n)}"
                                                            for s, n in results.missing_results) + "</p>")
    return "\n".join(parts)


def slowest_section(results):
    if not results.jobs:
        return ""
    rows = [f"<tr><td>{html.escape(student)}</td><td>{html.escape(notebook)}</td><td class='n'>{seconds:.1f}</td>"
            f"<td>{html.escape(test or '')} ({test_seconds:.1f} s)</td></tr>"
            for seconds, student, notebook, test, test_seconds in results.jobs[:SLOWEST_SHOWN]]
    return "\n".join(["<h2>Slowest jobs</h2><p>Seconds of set-up and tests of each graded notebook, as the grading "
                      "machine measured them.</p><table><tr><th>student</th><th>notebook</th><th>seconds</th>"
                      "<th>slowest test</th></tr>", *rows, "</table>"])


def write_class_html(results, path):
    total = totals(results)
    maximum = sum(item.points for item in results.items)
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Class report: "
             f"{html.escape(results.assignment)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>Class report: {html.escape(results.assignment)}</h1>",
             f"<p>{len(results.students)} student(s) in the gradebook; mean total "
             f"{np.mean(list(total.values())) if total else 0:.2f} of {maximum:g} points.</p>",
             "<div class='first'><h2>What to look at first</h2><ul>",
             *[f"<li>{note}</li>" for note in look_first(results, total)], "</ul></div>",
             f"<img alt='totals of the class' src='{totals_figure(list(total.values()), maximum, 'total points')}'>",
             "<p><b>Discrimination</b> is the point-biserial correlation of a test's points with the rest of the "
             "student's total (the total without this test): near 1, strong students pass it and weak ones do not; "
             f"under {LOW_DISCRIMINATION} or negative, the test measures something else, or everybody passes or fails "
             "it. A notebook not handed in counts as 0 points. Failure messages are grouped by cause: numbers and "
             "quoted names are left out, named mistakes (in red) first.</p>"]
    parts += [notebook_section(results, notebook, total) for notebook in results.notebooks]
    parts += [not_graded_section(results), slowest_section(results), "</body></html>"]
    Path(path).write_text("\n".join(parts), encoding="utf-8")


def write_report(root, assignment, db_url=None, out=None):
    """``make report``: write ``reports/<assignment>/items.csv`` and ``class.html``; returns their paths."""
    results = read_class(root, assignment, db_url)
    folder = Path(out) if out else Path(root) / "reports" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    write_items_csv(results, folder / "items.csv")
    write_class_html(results, folder / "class.html")
    return [folder / "items.csv", folder / "class.html"]
