"""``make report`` (grading/course/report.py): item analysis of a class graded through the real round trip.

The class (notebook 01_convolutions only): ``honest`` (full marks), ``unflipped`` (conv2d without
the flip: a named mistake), ``hostile`` (output_size only, with a lone surrogate in a comment;
conv2d raises with markup in its message), ``blank`` (as handed out, plus a file that is not a
notebook). ``honest`` and ``unflipped`` write an answer that waits for manual grading. Graded by ``python -m grading
autograde`` (sandbox and nbgrader), then reported by ``python -m grading report``.
"""

import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from bs4 import BeautifulSoup

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crafted_class import HONEST, NOTEBOOK, PARTIAL, write_escaped
from nbtools import ASSIGNMENT, ROOT, make_course, nbgrader, nbgrader_meta, read, remote_resources
from offline_page import missing_tools, open_offline

from grading.course.report import failure_cause

WRITTEN = "written_correlation_vs_convolution"
HOSTILE_CONV2D = "def conv2d(X, K):\n    raise RuntimeError('<img src=x onerror=\"document.title=1\">')\n"
CLASS = {
    "honest": dict(HONEST, **{WRITTEN: "Convolution flips the kernel; correlation does not."}),
    "unflipped": dict(HONEST, conv2d="def conv2d(X, K):\n    return corr2d(X, K)\n",
                      **{WRITTEN: "They are the same."}),
    "hostile": dict(PARTIAL, conv2d=HOSTILE_CONV2D),
    "blank": {},
}


# ------------------------------------------------------------------ messages (fast)

def test_a_named_mistake_is_found_in_the_engines_message():
    message = ("conv2d(X_test, [[1, 2], [3, 4]]) has the expected shape (2, 3) but different values.\n"
               "It equals the correlation with the kernel as given: the kernel was not flipped.\n"
               "6 of 6 values differ from the expected ones.")
    assert failure_cause(message, "failed") == (True, "the correlation with the kernel as given: the kernel was "
                                                      "not flipped")
    assert failure_cause("corr2d(X, K, padding=1): shape (3, 3), expected (5, 5). Each side is 2 too short: missing "
                         "padding, or a loop that stops too early?", "failed") == (True, "Each side is 2 too short")


def test_messages_that_differ_in_numbers_and_names_group_as_one_cause():
    first = failure_cause("your code raised NameError: name 'kernal' is not defined", "error")
    second = failure_cause("your code raised NameError: name 'imgae' is not defined", "error")
    assert first == second == (False, "your code raised NameError: name '…' is not defined")
    assert failure_cause("output_size(2, 3) should raise ValueError, but returned 0", "failed") == \
        failure_cause("output_size(7, 9) should raise ValueError, but returned -1", "failed")
    assert failure_cause("", "timeout") == (False, "timeout")
    assert failure_cause("a\nb", "failed") == (False, "a"), "only the first line: the details differ by student"
    assert failure_cause("your code raised ValueError: not yet \ud800", "error") == \
        (False, "your code raised ValueError: not yet \ufffd"), "a lone surrogate cannot be written to a page"


# ------------------------------------------------------------------ a graded class (slow)

def _filled(release, answers):
    nb = nbformat.from_dict(release)
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("report"))
    for path in (root / "source" / ASSIGNMENT).glob("*.ipynb"):
        if path.stem != NOTEBOOK:
            path.unlink()
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=root)
    release = read(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    for student, answers in CLASS.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        write_escaped(_filled(release, answers), folder / f"{NOTEBOOK}.ipynb")
    (root / "submitted" / "blank" / ASSIGNMENT / "notes.txt").write_text("my notes\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for command in ("autograde", "report"):
        run = subprocess.run([sys.executable, "-m", "grading", command, ASSIGNMENT], cwd=root, capture_output=True,
                             text=True, timeout=900, env=env)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    with open(root / "reports" / ASSIGNMENT / "items.csv", newline="", encoding="utf-8") as handle:
        items = list(csv.DictReader(handle))
    return {"root": root, "items": items, "page": root / "reports" / ASSIGNMENT / "class.html"}


def _gradebook_points(root):
    """{(grade_id, student): points} of every code grade cell, one lookup per student, and the totals."""
    from nbgrader.api import Gradebook

    points, totals = {}, {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        cells = gradebook.find_notebook(NOTEBOOK, ASSIGNMENT).grade_cells
        for student in CLASS:
            totals[student] = gradebook.find_submission(ASSIGNMENT, student).score
            for cell in cells:
                grade = gradebook.find_grade(cell.name, NOTEBOOK, ASSIGNMENT, student)
                if cell.cell_type == "code":
                    points[cell.name, student] = (grade.score, cell.max_score)
    return points, totals


def _point_biserial(passed, rest):
    """The textbook formula for an item scored right or wrong: (M1 - M0) / s * sqrt(p q), s of the population."""
    passed, rest = np.asarray(passed, bool), np.asarray(rest, float)
    share = passed.mean()
    return (rest[passed].mean() - rest[~passed].mean()) / rest.std() * np.sqrt(share * (1 - share))


@pytest.mark.slow
def test_items_csv_agrees_with_the_gradebook_to_the_last_student(graded):
    points, totals = _gradebook_points(graded["root"])
    rows = {row["grade_id"]: row for row in graded["items"]}
    assert set(rows) == {gid for gid, _ in points}, "one row per graded test cell, no written answer"
    for gid, row in rows.items():
        scores = [points[gid, student][0] for student in CLASS]
        maximum = points[gid, "honest"][1]
        assert row["notebook"] == NOTEBOOK and float(row["points"]) == maximum
        assert int(row["students"]) == len(CLASS)
        assert float(row["mean_points"]) == pytest.approx(sum(scores) / len(CLASS), abs=1e-4)
        assert float(row["full_marks_rate"]) == pytest.approx(sum(s == maximum for s in scores) / len(CLASS), abs=1e-4)
        assert float(row["zero_rate"]) == pytest.approx(sum(s == 0 for s in scores) / len(CLASS), abs=1e-4)
        rest = [totals[student] - points[gid, student][0] for student in CLASS]
        expected = _point_biserial([s == maximum for s in scores], rest)
        assert float(row["discrimination"]) == pytest.approx(expected, abs=1e-4), gid


@pytest.mark.slow
def test_the_named_mistake_comes_first_and_the_stub_is_named(graded):
    rows = {row["grade_id"]: row for row in graded["items"]}
    conv2d = rows["test_conv2d"]
    # unflipped made the named mistake; blank still holds the stub; hostile raised: named first, with its count.
    assert conv2d["top_failure"] == "the correlation with the kernel as given: the kernel was not flipped"
    assert conv2d["top_failure_students"] == "1" and "not flipped (1)" in conv2d["named_mistakes"]
    assert rows["test_corr2d_valid"]["top_failure"].startswith("your code raised NotImplementedError")
    assert rows["test_corr2d_valid"]["top_failure_students"] == "2"


@pytest.mark.slow
def test_the_page_says_what_to_look_at_first_and_escapes_student_text(graded):
    soup = BeautifulSoup(graded["page"].read_text(encoding="utf-8"), "html.parser")
    text = soup.get_text(" ")
    first = soup.find(class_="first").get_text(" ")
    assert "25 % of the class: the correlation with the kernel as given: the kernel was not flipped" in \
        first.replace("\N{NO-BREAK SPACE}", " ")
    assert "2 written answer(s) wait for manual grading" in first
    assert "point-biserial" in text
    assert "notes.txt: not a notebook of ex04" in text, "the student not graded, and why"
    assert "Slowest jobs" in text
    assert soup.find("img", attrs={"onerror": True}) is None and "RuntimeError: <img src=x onerror=" in text
    assert remote_resources(soup) == []


@pytest.mark.slow
@pytest.mark.skipif(bool(missing_tools()), reason="needs Chromium and chromedriver (make browser-tools)")
def test_the_page_renders_offline_with_its_figures(graded, tmp_path):
    shown = open_offline(graded["page"], tmp_path / "class.png")
    assert all(url.startswith(("file:", "data:")) for url in shown["requests"]), shown["requests"]
    assert len(shown["images"]) >= 3 and all(loaded and width > 100 for _, loaded, width in shown["images"])
    assert "What to look at first" in shown["text"]
    assert (tmp_path / "class.png").stat().st_size > 20_000
