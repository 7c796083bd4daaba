"""The nbgrader side of grading (grading/course/nbgrader_glue.py, grading/core/jobs.py): unit tests, seconds."""

import io
import json
import os
import stat

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbconvert.exporters import NotebookExporter
from nbgrader.utils import determine_grade

from grading.core import jobs
from grading.course.nbgrader_glue import (RebuildFromRelease, StripSolutionDelimiters, course_db_url, result_text,
                                   sanitize_markdown, set_aside_unreadable, trusted_outputs, unreadable_reason)


def _meta(gid, **flags):
    return {"nbgrader": {"schema_version": 3, "grade_id": gid, "locked": False, "solution": False, "grade": False,
                         **flags}}


def _run(preprocessor, nb, resources=None):
    exporter = NotebookExporter()
    exporter.register_preprocessor(preprocessor)
    body, _ = exporter.from_notebook_node(nb, resources=resources or {})
    return nbformat.reads(body, as_version=4)


def test_solution_delimiters_are_removed_from_solution_cells_only():
    solution = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
    cells = [new_code_cell(solution, metadata=_meta("a", solution=True)), new_code_cell(solution)]
    nb = _run(StripSolutionDelimiters, new_notebook(cells=cells))
    assert nb.cells[0].source == "def f():\n    return 1" and nb.cells[1].source == solution


def _outcome(**kw):
    base = {"passed": False, "kind": "failed", "phase": "hidden", "check": "", "message": "wrong values"}
    base.update(kw)
    return base


def test_trusted_outputs_give_nbgrader_the_trusted_score():
    cell = new_code_cell("check()", metadata=_meta("t", grade=True, points=3))
    cell.outputs = trusted_outputs({"passed": True})
    assert determine_grade(cell) == (3, 3)
    for outcome in (_outcome(), _outcome(phase="visible", check="corr2d on the sheet"), _outcome(kind="timeout")):
        cell.outputs = trusted_outputs(outcome)
        assert determine_grade(cell) == (0, 3)


def test_messages_say_visible_check_or_hidden_test():
    assert result_text(_outcome(phase="visible", check="corr2d(X, K)")).startswith("A visible check failed (corr2d(X, K))")
    assert result_text(_outcome()).startswith("A hidden test failed: wrong values")
    assert "did not answer in time" in result_text(_outcome(kind="timeout", message="30 s"))
    assert result_text({"passed": True}).startswith("✓ Passed")


def test_written_answers_lose_html_that_could_run_but_keep_their_text():
    dirty = ('The kernel <b>flips</b>. <script>fetch("/api")</script><img src=x onerror="alert(1)">'
             '<a href="javascript:alert(1)">link</a> <iframe src="//evil"></iframe> $a < b$')
    from bs4 import BeautifulSoup

    clean = sanitize_markdown(dirty)
    assert "<b>flips</b>" in clean and "a &lt; b" in clean
    tags = BeautifulSoup(clean, "html.parser").find_all(True)
    assert {t.name for t in tags} == {"b", "a"}  # the rest is shown as text, escaped
    assert not [a for t in tags for a in t.attrs if a.startswith("on")]
    assert all(not t.get("href", "").startswith("javascript") for t in tags)
    assert "<script" not in clean and "<iframe" not in clean and "<img" not in clean


def test_markdown_links_with_other_schemes_are_defused():
    answer = ("[a](javascript:alert(1)) [b]( jav&#x61;script:fetch('/api') ) [c](JaVaScRiPt:x) [d](data:text/html,x)\n"
              "[e][ref]\n\n[ref]: javascript:alert(2)\n[f](https://example.org/page) [g](#section) [h](notes.html)")
    clean = sanitize_markdown(answer)
    import nbconvert.filters.markdown as md
    from bs4 import BeautifulSoup

    links = [a.get("href") for a in BeautifulSoup(md.markdown2html_mistune(clean), "html.parser").find_all("a")]
    assert links.count("#") == 5, links
    assert "https://example.org/page" in links and "#section" in links and "notes.html" in links
    assert not [href for href in links if "script" in href.lower() or href.startswith("data:")]


def test_rebuild_takes_only_solution_sources_from_the_student(tmp_path):
    release = new_notebook(cells=[
        new_markdown_cell("intro"),
        new_code_cell("def f():\n    raise NotImplementedError()", metadata=_meta("f", solution=True)),
        new_code_cell("check(f)", metadata=_meta("test_f", grade=True, locked=True, points=1)),
        new_markdown_cell("YOUR ANSWER HERE", metadata=_meta("answer", solution=True, grade=True, points=2)),
    ])
    folder = tmp_path / "release" / "ex04"
    folder.mkdir(parents=True)
    nbformat.write(release, str(folder / "nb.ipynb"))
    student = new_notebook(cells=[
        new_code_cell("print('all tests pass')", metadata=_meta("test_f", solution=True)),  # a test turned solution
        new_code_cell("def f():\n    return 1", metadata=_meta("f", solution=True)),
        new_markdown_cell("My answer <script>x()</script>", metadata=_meta("answer", solution=True, grade=True, points=2),
                          attachments={"a.svg": {"image/svg+xml": "PHN2Zz4="}}),
        new_code_cell("import os", metadata={"nbgrader": "not even a dict"}),
    ])
    student.metadata["kernelspec"] = {"name": "evil", "display_name": "evil"}
    pre = RebuildFromRelease(course_root=str(tmp_path))
    nb, _ = pre.preprocess(student, {"nbgrader": {"assignment": "ex04", "notebook": "nb"}})
    assert [c.source for c in nb.cells[:3]] == ["intro", "def f():\n    return 1", "check(f)"]
    assert nb.cells[3].source.startswith("My answer") and "<script" not in nb.cells[3].source
    assert "attachments" not in nb.cells[3] and len(nb.cells) == 4
    assert nb.metadata.get("kernelspec", {}).get("name") != "evil"


def _write_notebook(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell("1 + 1")]), str(path))


def test_unreadable_reason_names_what_is_wrong(tmp_path):
    good = tmp_path / "good.ipynb"
    _write_notebook(good)
    assert unreadable_reason(good) is None
    truncated = tmp_path / "truncated.ipynb"
    truncated.write_text(good.read_text()[:40])
    assert unreadable_reason(truncated).startswith("the file is not a notebook")
    zipped = tmp_path / "zipped.ipynb"
    zipped.write_bytes(b"PK\x03\x04rest of a zip")
    assert "zip" in unreadable_reason(zipped)
    damaged = tmp_path / "damaged.ipynb"
    damaged.write_text('{"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    assert unreadable_reason(damaged).startswith("the notebook is damaged")
    not_nb = tmp_path / "list.ipynb"
    not_nb.write_text("[1, 2]")
    assert "JSON but not a notebook" in unreadable_reason(not_nb)
    deep = tmp_path / "deep.ipynb"
    deep.write_text('{"nbformat": 4, "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert "nested too deeply" in unreadable_reason(deep)
    big = tmp_path / "big.ipynb"
    with open(big, "wb") as handle:
        handle.truncate(26 * 2**20)
    assert "over the limit" in unreadable_reason(big)


def test_set_aside_renames_only_unreadable_notebooks(tmp_path):
    ok = tmp_path / "submitted" / "ann" / "ex04" / "01_convolutions.ipynb"
    bad = tmp_path / "submitted" / "ben" / "ex04" / "01_convolutions.ipynb"
    _write_notebook(ok)
    _write_notebook(bad)
    bad.write_text("{ not json")
    out = io.StringIO()
    (moved, reason), = set_aside_unreadable(tmp_path, "ex04", out)
    assert moved == bad.with_name("01_convolutions.ipynb.unreadable") and moved.read_text() == "{ not json"
    assert ok.exists() and not bad.exists()
    assert "NOT GRADED: submitted/ben/ex04/01_convolutions.ipynb" in out.getvalue()
    assert set_aside_unreadable(tmp_path, "ex04", io.StringIO()) == []


def test_course_db_url_reads_the_course_config_or_falls_back(tmp_path):
    assert course_db_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"
    (tmp_path / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.db_url = "sqlite:////srv/grades.db"\n')
    assert course_db_url(tmp_path) == "sqlite:////srv/grades.db"


def test_discover_names_files_that_are_not_graded(tmp_path):
    (tmp_path / "source" / "ex04").mkdir(parents=True)
    _write_notebook(tmp_path / "source" / "ex04" / "01_convolutions.ipynb")
    folder = tmp_path / "submitted" / "ann" / "ex04"
    _write_notebook(folder / "01_convolutions.ipynb")
    _write_notebook(folder / "01_convolutions (1).ipynb")
    (folder / "02_sobel_laplace.zip").write_bytes(b"PK")
    (folder / "notes.txt").write_text("hi")
    (tmp_path / "submitted" / "..evil" / "ex04").mkdir(parents=True)
    out = io.StringIO()
    assert jobs.discover(tmp_path, "ex04", out) == [("ann", "01_convolutions")]
    log = out.getvalue()
    assert "01_convolutions (1).ipynb: no notebook of ex04 has this name" in log
    assert "02_sobel_laplace.zip: a zip archive" in log and "notes.txt: not a notebook" in log
    assert "submitted/..evil: not a student id: it starts with a dot" in log


def test_results_are_cached_atomically_and_keyed_by_content(tmp_path):
    (tmp_path / "source" / "ex04").mkdir(parents=True)
    _write_notebook(tmp_path / "source" / "ex04" / "nb.ipynb")
    submission = tmp_path / "submitted" / "ann" / "ex04" / "nb.ipynb"
    _write_notebook(submission)
    from grading.core.engine import job_key

    key = job_key(tmp_path / "source" / "ex04" / "nb.ipynb", submission)
    jobs.store(tmp_path, "ex04", "ann", "nb", key, {"tests": {}})
    assert jobs.cached(tmp_path, "ex04", "ann", "nb") == {"tests": {}}
    assert jobs.cached(tmp_path, "ex04", "ann", "nb", sandboxed=False) is None  # another mode, another key
    submission.write_text(submission.read_text().replace("1 + 1", "2 + 2"))
    assert jobs.cached(tmp_path, "ex04", "ann", "nb") is None  # a changed file is graded again
    assert not list((tmp_path / ".grading").rglob(".tmp-*"))
    json.loads((tmp_path / ".grading" / "ex04" / "ann" / "nb.json").read_text())


def test_sanitized_answers_keep_their_quotes():
    # bleach escaped Markdown's quote markers, so a quoted line showed as "&gt; ...".
    assert sanitize_markdown("> a quote\n> > nested\na > b") == "> a quote\n> > nested\na &gt; b"


def test_grading_guides_come_out_the_same_on_every_run():
    # nbformat gave each inserted guide a random cell id: every re-recording rewrote the
    # autograded notebooks of students whose work had not changed.
    from nbtools import SOURCE

    from grading.course.nbgrader_glue import GUIDE_KEY, with_grading_guides

    source = SOURCE / "01_convolutions.ipynb"
    cells = nbformat.read(str(source), as_version=4).cells
    first, second = with_grading_guides(cells, source), with_grading_guides(cells, source)
    guides = [c for c in first if c.metadata.get(GUIDE_KEY)]
    assert guides and [c.id for c in first] == [c.id for c in second]
    assert all(c.id.startswith("grading-guide-") for c in guides)
    nbformat.validate(nbformat.v4.new_notebook(cells=first))


def test_pre_flight_sets_aside_what_no_student_hands_in(tmp_path):
    from test_collect import within

    source = tmp_path / "source" / "ex04"
    for name in ("01_convolutions", "02_sobel_laplace", "03_pooling", "04_padding_stride", "05_equivariance"):
        _write_notebook(source / f"{name}.ipynb")
    solutions = (source / "01_convolutions.ipynb").read_bytes()
    _write_notebook(tmp_path / "submitted" / "ann" / "ex04" / "01_convolutions.ipynb")
    eve = tmp_path / "submitted" / "eve" / "ex04"
    eve.mkdir(parents=True)
    (eve / "01_convolutions.ipynb").symlink_to(source / "01_convolutions.ipynb")
    os.mkfifo(eve / "02_sobel_laplace.ipynb")
    (eve / "03_pooling.ipynb").symlink_to("/dev/zero")
    if os.geteuid() == 0:
        os.mknod(eve / "04_padding_stride.ipynb", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    with open(eve / "05_equivariance.ipynb", "wb") as handle:
        handle.truncate(30 * 2**20)
    (eve / "data").mkdir()
    (eve / "data" / "course").symlink_to(tmp_path / "source", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "ex04").symlink_to(source, target_is_directory=True)
    (tmp_path / "submitted" / "mallory").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    zed = tmp_path / "submitted" / "zed" / "ex04"
    for name in ("01_convolutions", "02_sobel_laplace", "03_pooling"):  # 24 MB each: 72 MB in all
        _write_notebook(zed / f"{name}.ipynb")
        with open(zed / f"{name}.ipynb", "ab") as handle:
            handle.truncate(24 * 2**20)
    out = io.StringIO()
    with within(20):
        set_aside_unreadable(tmp_path, "ex04", out)
    log = out.getvalue()
    expected = {"submitted/eve/ex04/01_convolutions.ipynb": "is a symlink, not a file",
                "submitted/eve/ex04/02_sobel_laplace.ipynb": "is a FIFO (named pipe), not a file",
                "submitted/eve/ex04/03_pooling.ipynb": "is a symlink, not a file",
                "submitted/eve/ex04/05_equivariance.ipynb": "has 30 MB, over the limit of 25 MB for one file",
                "submitted/eve/ex04/data/course": "is a symlink, not a file",
                "submitted/mallory": "is a symlink, not a folder",
                "submitted/zed/ex04": "holds more than 64 MB in all, over the limit"}
    if os.geteuid() == 0:
        expected["submitted/eve/ex04/04_padding_stride.ipynb"] = "is a device, not a file"
    for path, why in expected.items():
        assert f"NOT GRADED: {path}: {why}." in log, f"{path}: {why}\n---\n{log}"
    # Moved, not followed: the course's own files are where they were, as they were.
    assert sorted(p.name for p in source.iterdir()) == sorted(f"{n}.ipynb" for n in (
        "01_convolutions", "02_sobel_laplace", "03_pooling", "04_padding_stride", "05_equivariance"))
    assert (source / "01_convolutions.ipynb").read_bytes() == solutions
    assert [p.name for p in eve.rglob("*")] == ["data"] and not (tmp_path / "submitted" / "mallory").exists()
    assert not zed.exists() and (tmp_path / "submitted" / ".set-aside" / "zed%2Fex04").is_dir()
    not_graded = {}
    assert jobs.discover(tmp_path, "ex04", io.StringIO(), not_graded) == [("ann", "01_convolutions")]
    assert sorted(not_graded) == ["eve", "mallory", "zed"]
    assert any("submitted/eve/ex04/02_sobel_laplace.ipynb: is a FIFO (named pipe), not a file; set aside as "
               "submitted/.set-aside/eve%2Fex04%2F02_sobel_laplace.ipynb" in line for line in not_graded["eve"])
    assert set_aside_unreadable(tmp_path, "ex04", io.StringIO()) == [], "a second run finds nothing more"


def test_discover_never_follows_a_symlink(tmp_path):
    _write_notebook(tmp_path / "source" / "ex04" / "01_convolutions.ipynb")
    folder = tmp_path / "submitted" / "eve" / "ex04"
    folder.mkdir(parents=True)
    (folder / "01_convolutions.ipynb").symlink_to(tmp_path / "source" / "ex04" / "01_convolutions.ipynb")
    (tmp_path / "submitted" / "bob").mkdir()
    (tmp_path / "submitted" / "bob" / "ex04").symlink_to(tmp_path / "source" / "ex04")
    out = io.StringIO()
    assert jobs.discover(tmp_path, "ex04", out) == []
    assert "NOT GRADED: submitted/eve/ex04/01_convolutions.ipynb: is a symlink, not a file" in out.getvalue()
    assert "NOT GRADED: submitted/bob/ex04: is a symlink, not a folder" in out.getvalue()
