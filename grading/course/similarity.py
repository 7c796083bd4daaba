"""``make similarity``: how alike the students' solution code is, per solution cell and per notebook.

Only code the students wrote is compared: the code cells with nbgrader metadata ``solution: true``,
matched by ``grade_id`` to the source notebook, from ``submitted/<student>/<assignment>/``. The
handed-out template of each cell (the release version: signature, docstring, ``raise
NotImplementedError()``) is subtracted, so blank or stub submissions do not match each other.

Each cell is tokenized and filtered by copydetect (names become ``V``, functions ``F``, strings
``S``; comments and whitespace are dropped), so renamed variables and rewritten comments and
docstrings change nothing. The filtered text is cut into k-grams whose hashes are winnowed
(Schleimer, Wilkerson and Aiken 2003, the method of MOSS): a set of fingerprints that does not
depend on the order of statements except at their seams. Two students' similarity is the Dice
coefficient of their fingerprint sets, ``2 |A ∩ B| / (|A| + |B|)``, in 0..1; ``grade_id`` ``all``
compares the union of a notebook's cells. The page highlights the matching parts with
copydetect's overlap functions.

Library: copydetect (PyPI) rather than Dolos (npm). Both fingerprint token k-grams with
winnowing. Dolos parses with tree-sitter and comes with a richer web report, but it is a Node.js
program: the course environment (pip/conda, exact pins, offline wheels) would need Node and npm
packages with native parsers, and its report is a web application, not one file. copydetect is a
small pure-Python package whose dependencies (numpy, matplotlib, jinja2, pygments, tqdm) the
environment already has, and its parts (:func:`copydetect.utils.filter_code`,
:func:`copydetect.utils.winnow`, :func:`copydetect.detector.compare_files`,
:func:`copydetect.utils.highlight_overlap`) work on text in memory, with a template as boilerplate.
Its k-gram hash is Python's ``hash``, which changes from run to run; here the k-grams are hashed
with a fixed polynomial (:func:`kgram_hashes`), so every run gives the same numbers.

Similarity is a reason to look, never a verdict: short cells and standard recipes match by nature.
"""

import csv
import html
import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Shortest match that counts, in characters of filtered code (copydetect's noise threshold).
NOISE_CHARACTERS = 15
#: Every match this long is found (copydetect's guarantee threshold); the winnowing window follows.
GUARANTEE_CHARACTERS = 20
WINDOW = GUARANTEE_CHARACTERS - NOISE_CHARACTERS + 1
#: Pairs written to similarity.csv per (notebook, grade_id), most similar first.
MAX_PAIRS_PER_CELL = 500
#: Pairs shown side by side on the page, per notebook.
PAIRS_SHOWN = 10
NOTEBOOK_WIDE = "all"
#: Longest cell shown whole on the page.
MAX_SHOWN_CHARACTERS = 20_000
#: Of a longer cell (a pasted table of megabytes, say) only this start is compared: seconds, not minutes.
MAX_COMPARED_CHARACTERS = 200_000
#: 52 bits: copydetect's pure-Python winnowing compares hashes as floats, exact up to 2**53.
_HASH_MASK = np.uint64(2**52 - 1)
_HASH_BASE = np.uint64(1_000_003)


def kgram_hashes(text, k):
    """A hash of every k-gram of ``text``, the same in every run (unlike Python's ``hash``).

    Returns
    -------
    numpy.ndarray of int64
        ``len(text) - k + 1`` values in 0..2**52 (none for a shorter text).
    """
    count = len(text) - k + 1
    if count <= 0:
        return np.array([], dtype=np.int64)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        for offset in range(k):
            hashes = hashes * _HASH_BASE + codes[offset:offset + count]
        hashes ^= hashes >> np.uint64(29)
        hashes *= np.uint64(0xBF58476D1CE4E5B9)
        hashes ^= hashes >> np.uint64(32)
    return (hashes & _HASH_MASK).astype(np.int64)


@dataclass
class Fingerprint:
    """One piece of code as copydetect's :func:`~copydetect.detector.compare_files` reads it.

    Attributes
    ----------
    raw_code, filtered_code : str
        The code, and copydetect's filtered form of it.
    offsets : numpy.ndarray
        copydetect's map from filtered positions back to raw ones.
    hashes : set of int
        The winnowed fingerprints, the template's removed.
    hash_idx : dict of int to list of int
        Where each fingerprint starts in ``filtered_code``.
    k : int
    token_coverage : int
        Characters of ``filtered_code`` that some fingerprint covers.
    """

    raw_code: str
    filtered_code: str
    offsets: np.ndarray
    hashes: set
    hash_idx: dict = field(repr=False)
    k: int = NOISE_CHARACTERS
    token_coverage: int = 0


def fingerprint(code, template=frozenset(), k=NOISE_CHARACTERS, window=WINDOW):
    """The fingerprint of Python ``code`` (its first :data:`MAX_COMPARED_CHARACTERS`) without those of ``template``."""
    from copydetect.utils import filter_code, get_token_coverage, winnow

    code = code[:MAX_COMPARED_CHARACTERS]
    filtered, offsets = filter_code(code, "cell.py", language="python")
    hashes, positions = winnow(kgram_hashes(filtered, k), window, remove_duplicates=False)
    by_hash = {}
    for value, position in zip(hashes.tolist(), positions.tolist()):
        if value not in template:
            by_hash.setdefault(value, []).append(position)
    coverage = int(get_token_coverage(by_hash, k, len(filtered))) if by_hash else 0
    return Fingerprint(code, filtered, offsets, set(by_hash), by_hash, k, coverage)


def dice_matrix(hash_sets):
    """``2 |A ∩ B| / (|A| + |B|)`` for every pair of sets; 0 where both are empty.

    One matrix product over a student-by-fingerprint incidence matrix, so a class of hundreds
    takes a fraction of a second per cell.
    """
    vocabulary = {value: column for column, value in enumerate(set().union(*hash_sets))} if hash_sets else {}
    incidence = np.zeros((len(hash_sets), len(vocabulary)), dtype=np.float32)
    for row, hashes in enumerate(hash_sets):
        incidence[row, [vocabulary[value] for value in hashes]] = 1.0
    shared = incidence @ incidence.T
    sizes = incidence.sum(axis=1)
    totals = sizes[:, None] + sizes[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        dice = np.where(totals > 0, 2.0 * shared / totals, 0.0)
    return np.clip(dice, 0.0, 1.0)


# ------------------------------------------------------------------------------ the course's files

def solution_code_cells(notebook):
    """``{grade_id: source}`` of the code cells with ``solution: true``; a repeated id keeps its last cell."""
    from grading.core.engine import cell_source, nbgrader_metadata

    cells = {}
    for cell in notebook.get("cells", []):
        meta = nbgrader_metadata(cell)
        if cell.get("cell_type") == "code" and meta.get("solution") and meta.get("grade_id"):
            cells[str(meta["grade_id"])] = cell_source(cell)
    return cells


def _read(path):
    from grading.core.engine import read_notebook

    return read_notebook(path)


def notebook_names(root, assignment):
    """The stems of the assignment's source notebooks, sorted."""
    names = sorted(path.stem for path in (Path(root) / "source" / assignment).glob("*.ipynb"))
    if not names:
        raise SystemExit(f"make similarity: no notebooks in {Path(root) / 'source' / assignment}")
    return names


def submitted_students(root, assignment):
    """The student folders of ``submitted/`` that hold this assignment, sorted."""
    from grading.core.student_ids import is_student_id

    folder = Path(root) / "submitted"
    if not folder.is_dir():
        return []
    return sorted(path.name for path in folder.iterdir()
                  if path.is_dir() and not path.is_symlink() and is_student_id(path.name)
                  and (path / assignment).is_dir())


def class_code(root, assignment, notebook, students):
    """The solution code of each student for one notebook, and the cells' templates.

    Returns
    -------
    grade_ids : list of str
        The source's solution code cells, in notebook order.
    templates : dict
        grade_id -> the release version's source ('' when release/ lacks the cell).
    code : dict
        student -> {grade_id: source}; a cell that is missing, or of the wrong type, is ''.
    unread : dict
        student -> why their notebook could not be read (a missing notebook is not listed).
    """
    from grading.course.text_safety import replace_unstorable

    root = Path(root)
    grade_ids = list(solution_code_cells(_read(root / "source" / assignment / f"{notebook}.ipynb")))
    release = root / "release" / assignment / f"{notebook}.ipynb"
    templates = solution_code_cells(_read(release)) if release.exists() else {}
    templates = {gid: templates.get(gid, "") for gid in grade_ids}
    code, unread = {}, {}
    for student in students:
        path = root / "submitted" / student / assignment / f"{notebook}.ipynb"
        if not path.is_file():
            continue
        try:
            cells = solution_code_cells(_read(path))
        except Exception as error:  # any unreadable file: named, never fatal
            unread[student] = f"{type(error).__name__}: {error}"[:200]
            continue
        # Lone surrogates and NULs (a notebook's JSON can hold them) can be neither hashed nor written.
        code[student] = {gid: replace_unstorable(cells.get(gid, "")) for gid in grade_ids}
    return grade_ids, templates, code, unread


@dataclass
class NotebookSimilarity:
    """Everything about one notebook: fingerprints, and the similarity of every pair per cell."""

    notebook: str
    grade_ids: list
    students: list
    fingerprints: dict  # (student, grade_id) -> Fingerprint
    matrices: dict  # grade_id or NOTEBOOK_WIDE -> (n, n) array over ``students``
    unread: dict


def compare_notebook(root, assignment, notebook, students):
    """Fingerprint every student's cells of ``notebook`` and compare every pair."""
    grade_ids, templates, code, unread = class_code(root, assignment, notebook, students)
    present = sorted(code)
    template_hashes = {gid: frozenset(fingerprint(text).hashes) for gid, text in templates.items()}
    prints = {(student, gid): fingerprint(code[student][gid], template_hashes[gid])
              for student in present for gid in grade_ids}
    matrices = {gid: dice_matrix([prints[student, gid].hashes for student in present]) for gid in grade_ids}
    # Per cell, so that a fingerprint is one cell's: the same k-gram in two cells counts twice.
    matrices[NOTEBOOK_WIDE] = dice_matrix([{(gid, value) for gid in grade_ids for value in prints[student, gid].hashes}
                                           for student in present])
    return NotebookSimilarity(notebook, grade_ids, present, prints, matrices, unread)


def ranked_pairs(result, grade_id, limit=None):
    """``[(similarity, student_a, student_b)]`` of one cell (or ``all``), most similar first."""
    matrix = result.matrices[grade_id]
    pairs = [(float(matrix[a, b]), result.students[a], result.students[b])
             for a, b in itertools.combinations(range(len(result.students)), 2)]
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
    return pairs[:limit] if limit else pairs


def compare_class(root, assignment):
    """:class:`NotebookSimilarity` of every notebook of the assignment."""
    students = submitted_students(root, assignment)
    return [compare_notebook(root, assignment, name, students) for name in notebook_names(root, assignment)]


# ------------------------------------------------------------------------------ output

def write_csv(results, path):
    """similarity.csv: ``notebook,grade_id,student_a,student_b,similarity`` (4 decimals), most similar first."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["notebook", "grade_id", "student_a", "student_b", "similarity"])
        for result in results:
            for grade_id in [NOTEBOOK_WIDE] + result.grade_ids:
                for similarity, a, b in ranked_pairs(result, grade_id, MAX_PAIRS_PER_CELL):
                    writer.writerow([result.notebook, grade_id, a, b, f"{similarity:.4f}"])


def _cut(code):
    """A very long cell (a pasted table, say) as its start and a note, escaped: the page stays readable."""
    return (html.escape(code[:MAX_SHOWN_CHARACTERS])
            + f"\n\n[… the cell has {len(code):,} characters; the first {MAX_SHOWN_CHARACTERS:,} are shown, "
            "without highlighting]")


def highlighted_pair(left, right):
    """Both cells as HTML, each part that matches the other inside ``<mark>``; everything escaped."""
    from copydetect.detector import compare_files
    from copydetect.utils import highlight_overlap

    if max(len(left.raw_code), len(right.raw_code)) > MAX_SHOWN_CHARACTERS:
        return tuple(_cut(side.raw_code) if len(side.raw_code) > MAX_SHOWN_CHARACTERS else html.escape(side.raw_code)
                     for side in (left, right))
    if not left.hashes & right.hashes:
        return html.escape(left.raw_code), html.escape(right.raw_code)
    _, _, (left_slices, right_slices) = compare_files(left, right)
    shown = []
    for code, slices in ((left.raw_code, left_slices), (right.raw_code, right_slices)):
        marked, _ = highlight_overlap(code, np.asarray(slices, dtype=int), "<mark>", "</mark>", escape_html=True)
        shown.append(marked)
    return tuple(shown)


def _histogram_figure(results):
    """Per notebook, the similarity of every pair (``all``): outliers stand apart on the right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.ticker import FuncFormatter, NullFormatter

    columns = min(len(results), 3)
    rows = -(-len(results) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.6 * rows), squeeze=False)
    for axis in axes.flat[len(results):]:
        axis.set_visible(False)
    for axis, result in zip(axes.flat, results):
        values = [pair[0] for pair in ranked_pairs(result, NOTEBOOK_WIDE)]
        counts, edges = np.histogram(values, bins=np.linspace(0, 1, 21))
        # A log scale, bars from 0.5: one similar pair among thousands must still show as a bar.
        axis.bar(edges[:-1], np.where(counts > 0, counts - 0.5, 0), width=np.diff(edges), bottom=0.5, align="edge",
                 color="#4c72b0", edgecolor="white")
        axis.set_yscale("log")
        axis.set_ylim(0.5, max(2.0, counts.max() * 1.5) if len(counts) else 2.0)
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}" if value >= 1 else ""))
        axis.yaxis.set_minor_formatter(NullFormatter())
        axis.set_title(result.notebook, fontsize=9)
        axis.set_xlabel("similarity", fontsize=8)
        axis.tick_params(labelsize=7)
    for row in axes:
        row[0].set_ylabel("pairs", fontsize=8)
    figure.tight_layout()
    return _figure_uri(figure)


def _figure_uri(figure):
    """A matplotlib figure as a data: URI (PNG), so the page needs nothing but itself."""
    import base64

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1400px;color:#222}
.note{background:#fff6d5;border-left:4px solid #e0b000;padding:.6em 1em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:8px;margin-bottom:1.2em}
pre{background:#f7f7f7;border:1px solid #ddd;padding:6px;overflow-x:auto;font-size:12px;margin:0;white-space:pre-wrap}
mark{background:#ffd27f}h3{margin-bottom:.2em}.cell{color:#666;font-size:12px;margin:.4em 0 .1em}
img{max-width:100%}
"""


def _pair_section(result, similarity, a, b):
    lines = [f"<h3>{html.escape(a)} and {html.escape(b)}: {similarity:.2f}</h3>"]
    for gid in result.grade_ids:
        left, right = result.fingerprints[a, gid], result.fingerprints[b, gid]
        cell = result.matrices[gid][result.students.index(a), result.students.index(b)]
        left_html, right_html = highlighted_pair(left, right)
        lines.append(f'<div class="cell">{html.escape(gid)}: {cell:.2f}</div>'
                     f'<div class="pair"><pre>{left_html}</pre><pre>{right_html}</pre></div>')
    return "\n".join(lines)


def write_html(results, assignment, path):
    """similarity.html: the most similar pairs first, side by side, matches highlighted. Loads nothing."""
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>Similarity of solutions: {html.escape(assignment)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>Similarity of the solution code: {html.escape(assignment)}</h1>",
             "<p class='note'><b>Similarity is a reason to look, not a verdict.</b> Short cells, standard recipes "
             "and the hints of the assignment make honest solutions alike. Read the two solutions side by side "
             "before you conclude anything.</p>",
             f"<p>Compared: the solution code cells only, with the handed-out template taken out, tokenized so that "
             f"names, comments and docstrings do not count (copydetect's filter), as winnowed fingerprints of "
             f"{NOISE_CHARACTERS} characters. Similarity is the Dice coefficient of two fingerprint sets, 0 (nothing "
             f"shared) to 1 (the same). <mark>Highlighted</mark>: what matches the other side.</p>",
             f"<img alt='similarity of every pair, per notebook' src='{_histogram_figure(results)}'>"]
    top = sorted(((pair, result) for result in results for pair in ranked_pairs(result, NOTEBOOK_WIDE, 3)
                  if pair[0] > 0), key=lambda item: -item[0][0])
    parts.append("<h2>Most similar pairs</h2><table><tr><th>notebook</th><th>students</th><th>similarity</th></tr>")
    parts += [f"<tr><td>{html.escape(result.notebook)}</td><td>{html.escape(a)}, {html.escape(b)}</td>"
              f"<td>{similarity:.2f}</td></tr>" for (similarity, a, b), result in top[:15]]
    parts.append("</table>")
    for result in results:
        parts.append(f"<h2>{html.escape(result.notebook)}</h2>")
        if result.unread:
            parts.append("<p>Not compared (the file could not be read): "
                         + ", ".join(f"{html.escape(s)} ({html.escape(why)})" for s, why in result.unread.items())
                         + "</p>")
        pairs = [pair for pair in ranked_pairs(result, NOTEBOOK_WIDE, PAIRS_SHOWN) if pair[0] > 0]
        if not pairs:
            parts.append("<p>No two submissions share solution code beyond the template.</p>")
        parts += [_pair_section(result, *pair) for pair in pairs]
    parts.append("</body></html>")
    Path(path).write_text("\n".join(parts), encoding="utf-8")


def write_similarity(root, assignment, out=None):
    """``make similarity``: write ``reports/<assignment>/similarity.csv`` and ``similarity.html``.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    results = compare_class(root, assignment)
    folder = Path(out) if out else Path(root) / "reports" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(results, folder / "similarity.csv")
    write_html(results, assignment, folder / "similarity.html")
    return [folder / "similarity.csv", folder / "similarity.html"]
