"""``make similarity`` (grading/course/similarity.py) on a crafted class whose answers are known (seconds)."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crafted_class import NOTEBOOK, STUDENTS, write_class
from nbtools import ASSIGNMENT, ROOT, remote_resources
from offline_page import missing_tools, open_offline

from grading.course import similarity


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    root = write_class(tmp_path_factory.mktemp("similarity"))
    run = subprocess.run([sys.executable, "-m", "grading", "similarity", ASSIGNMENT], cwd=root, capture_output=True,
                         text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert run.returncode == 0, run.stdout + run.stderr
    with open(root / "reports" / ASSIGNMENT / "similarity.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {"root": root, "rows": rows}


def _pair(row):
    return frozenset((row["student_a"], row["student_b"]))


def _notebook_wide(rows):
    """``[(similarity, {a, b})]`` of the whole notebook, in the file's order."""
    return [(float(row["similarity"]), _pair(row)) for row in rows
            if row["notebook"] == NOTEBOOK and row["grade_id"] == "all"]


@pytest.mark.slow
def test_the_disguised_copy_ranks_first_and_clearly_above_the_independent_solution(crafted):
    ranked = _notebook_wide(crafted["rows"])
    assert ranked[0][1] == {"honest", "disguised"}, ranked[:3]
    scores = {pair: value for value, pair in ranked}
    copied, independent = scores[frozenset({"honest", "disguised"})], scores[frozenset({"honest", "independent"})]
    assert copied >= 0.8 and copied - independent >= 0.5, (copied, independent)
    # The cell with most code on its own: the copy stands out there too.
    corr2d = sorted(((float(r["similarity"]), _pair(r)) for r in crafted["rows"] if r["grade_id"] == "corr2d"),
                    key=lambda item: -item[0])
    assert corr2d[0][1] == {"honest", "disguised"} and corr2d[0][0] - corr2d[1][0] >= 0.5, corr2d[:3]


def test_no_pair_with_a_blank_student_is_similar(crafted):
    with_blank = [(row["grade_id"], _pair(row), float(row["similarity"])) for row in crafted["rows"]
                  if {"blank", "blank_too"} & _pair(row)]
    assert len(with_blank) == 4 * (2 * 4 + 1), "every pair of every cell and the notebook is in the file"
    assert max(value for _, _, value in with_blank) <= 0.3, sorted(with_blank, key=lambda r: -r[2])[:3]


def test_without_the_template_taken_out_blank_notebooks_match_each_other(crafted, monkeypatch):
    """The defence above is the template's subtraction: without it, two blank notebooks are the same."""
    original = similarity.class_code

    def no_templates(*args):
        grade_ids, templates, code, unread = original(*args)
        return grade_ids, {gid: "" for gid in templates}, code, unread

    monkeypatch.setattr(similarity, "class_code", no_templates)
    result = similarity.compare_notebook(crafted["root"], ASSIGNMENT, NOTEBOOK, list(STUDENTS))
    pairs = {frozenset((a, b)): value for value, a, b in similarity.ranked_pairs(result, "all")}
    assert pairs[frozenset({"blank", "blank_too"})] > 0.9


def test_the_csv_has_every_cell_and_the_notebook_with_similarities_in_0_to_1(crafted):
    rows = crafted["rows"]
    assert list(rows[0]) == ["notebook", "grade_id", "student_a", "student_b", "similarity"]
    assert {row["grade_id"] for row in rows} == {"all", "output_size", "corr2d", "conv2d"}
    assert all(0.0 <= float(row["similarity"]) <= 1.0 for row in rows)
    students = len(STUDENTS)
    assert len(rows) == 4 * students * (students - 1) // 2


@pytest.mark.slow
def test_the_same_class_gives_the_same_file_whatever_python_hashes_strings_with(crafted, tmp_path):
    # copydetect hashes k-grams with Python's hash(), which PYTHONHASHSEED changes; ours does not.
    code = ("import sys; from grading.course.similarity import write_similarity; "
            "write_similarity(sys.argv[1], sys.argv[2], sys.argv[3])")
    written = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        subprocess.run([sys.executable, "-c", code, str(crafted["root"]), ASSIGNMENT, str(out)], check=True,
                       env=dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT)), timeout=300)
        written.append((out / "similarity.csv").read_bytes())
    assert written[0] == written[1]


def test_the_page_shows_pairs_side_by_side_and_student_text_only_as_text(crafted):
    page = (crafted["root"] / "reports" / ASSIGNMENT / "similarity.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(page, "html.parser")
    assert "reason to look, not a verdict" in soup.get_text()
    assert remote_resources(soup) == []
    assert soup.find("script") is None, "a comment in a student's code became markup"
    assert 'document.title = "hacked"' in soup.get_text()
    first = soup.find("h3")
    assert "disguised and honest" in first.get_text()
    sides = first.find_next("div", class_="pair").find_all("pre")
    assert len(sides) == 2 and all(side.find("mark") for side in sides)


@pytest.mark.slow
@pytest.mark.skipif(bool(missing_tools()), reason="needs Chromium and chromedriver (make browser-tools)")
def test_the_page_renders_offline_with_its_figure(crafted, tmp_path):
    page = crafted["root"] / "reports" / ASSIGNMENT / "similarity.html"
    shown = open_offline(page, tmp_path / "similarity.png")
    assert all(url.startswith(("file:", "data:")) for url in shown["requests"]), shown["requests"]
    assert shown["images"] and all(loaded and width > 100 for _, loaded, width in shown["images"]), shown["images"]
    assert "reason to look, not a verdict" in shown["text"] and "disguised and honest" in shown["text"]
    assert (tmp_path / "similarity.png").stat().st_size > 10_000


@pytest.mark.slow
def test_a_pasted_table_is_compared_by_its_start_and_shown_cut():
    rows = "".join(f"    ({i}, {i / 2:.6f}, 'row {i:06d}'),\n" for i in range(60_000))
    big = similarity.fingerprint(f"TABLE = [\n{rows}]\n")
    small = similarity.fingerprint("TABLE = [\n    (0, 0.000000, 'row 000000'),\n]\n")
    assert len(big.raw_code) == similarity.MAX_COMPARED_CHARACTERS and big.hashes & small.hashes
    left, right = similarity.highlighted_pair(big, small)
    assert len(left) < 1.5 * similarity.MAX_SHOWN_CHARACTERS and "the cell has 200,000 characters" in left
    assert "row 059999" not in left and "row 000000" in right
