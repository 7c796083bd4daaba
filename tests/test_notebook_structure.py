"""House rules every source notebook must follow (checked on source/, release/ and notebooks/)."""

import ast
import re

import pytest

from nbtools import (HIDDEN_DELIMITERS, RELEASE, SOLUTION_DELIMITERS, SOLUTIONS, SOURCE, autograded_test_cells,
                     grade_cells, nbgrader_meta, notebook_names, read, solution_cells)

NAMES = notebook_names()
EXPECTED_NOTEBOOKS = ["01_convolutions", "02_sobel_laplace", "03_conv_backprop", "04_receptive_field",
                      "05_equivariance", "06_pytorch_cnn"]


def test_notebooks_are_the_units_and_in_order():
    assert NAMES, "no source notebooks"
    assert NAMES == EXPECTED_NOTEBOOKS[:len(NAMES)], f"unexpected notebook names: {NAMES}"


@pytest.mark.parametrize("name", NAMES)
def test_grade_ids_are_unique(name):
    ids = [nbgrader_meta(c)["grade_id"] for c in read(SOURCE / f"{name}.ipynb").cells if nbgrader_meta(c)]
    assert len(ids) == len(set(ids)), f"duplicate grade_id in {name}: nbgrader would silently keep only the last"


@pytest.mark.parametrize("name", NAMES)
def test_preamble_is_the_shared_one(name):
    first_code = next(c for c in read(SOURCE / f"{name}.ipynb").cells if c.cell_type == "code")
    for needed in ("import helpers", "helpers.setup_notebook(", "helpers.pick_device()"):
        assert needed in first_code.source, f"{name}: the first code cell must be the shared preamble ({needed})"


@pytest.mark.parametrize("name", NAMES)
def test_points_announced_match_the_metadata(name):
    nb = read(SOURCE / f"{name}.ipynb")
    match = re.search(r"\*\*Points:\*\* (\d+) checked automatically, (\d+) for (?:a )?written answers?",
                      nb.cells[0].source)
    assert match, f"{name}: the first cell must announce the points"
    auto = sum(nbgrader_meta(c)["points"] for c in autograded_test_cells(nb).values())
    written = sum(nbgrader_meta(c)["points"] for c in grade_cells(nb).values() if c.cell_type == "markdown")
    assert (int(match[1]), int(match[2])) == (auto, written)


@pytest.mark.parametrize("name", NAMES)
def test_every_answer_cell_is_delimited(name):
    for gid, cell in solution_cells(read(SOURCE / f"{name}.ipynb")).items():
        if cell.cell_type == "code":
            assert SOLUTION_DELIMITERS[0] in cell.source and SOLUTION_DELIMITERS[1] in cell.source, gid


@pytest.mark.parametrize("name", NAMES)
def test_every_test_cell_has_points_visible_checks_and_no_grading_code(name):
    tests = autograded_test_cells(read(SOURCE / f"{name}.ipynb"))
    assert tests, f"{name} has no autograded tests"
    for gid, cell in tests.items():
        meta = nbgrader_meta(cell)
        assert meta["points"] > 0 and meta["locked"], gid
        assert "✓" in cell.source, f"{gid}: the visible checks must end by confirming success"
        # Hidden tests live in grading/ex04, never in a notebook; no probe either.
        for marker in (*HIDDEN_DELIMITERS, "_libraries_reached", "setprofile", "TorchFunctionMode"):
            assert marker not in cell.source, f"{gid}: {marker!r} in a test cell"
        # The last line must not be a bare expression: nbgrader would read it as partial credit.
        last = ast.parse(cell.source).body[-1]
        bare = isinstance(last, ast.Expr) and not (isinstance(last.value, ast.Call)
                                                   and getattr(last.value.func, "id", "") == "print")
        assert not bare, f"{gid}: ends with a bare expression (line {last.lineno})"


@pytest.mark.parametrize("name", NAMES)
def test_every_graded_cell_has_exactly_one_trusted_test(name):
    """A graded cell without a trusted test, or a trusted test that names no cell, fails here."""
    from grading.core import assignment
    from grading.core.policies import POLICIES

    tests = assignment.load("ex04").tests(name)
    cells = set(autograded_test_cells(read(SOURCE / f"{name}.ipynb")))
    assert set(tests) == cells
    assert all(t.policy in POLICIES for t in tests.values())


@pytest.mark.parametrize("name", NAMES)
def test_task_headings_announce_the_points_of_their_test_cells(name):
    """'Task 2 (3 + 2 points)' must add up to the points of the graded cells up to the next task."""
    nb = read(SOURCE / f"{name}.ipynb")
    heading = re.compile(r"^#+ .*Task \d+ \(([\d +]+) points?\)", re.M)
    announced, current = [], None
    for cell in nb.cells:
        match = heading.search(cell.source) if cell.cell_type == "markdown" else None
        if match:
            current = [sum(int(n) for n in match[1].split("+")), 0, match[0]]
            announced.append(current)
        elif cell.cell_type == "code" and nbgrader_meta(cell).get("grade") and current is not None:
            current[1] += nbgrader_meta(cell)["points"]
    assert announced, f"{name}: no task headings"
    for said, counted, text in announced:
        assert said == counted, f"{name}: {text!r} announces {said} points, its test cells carry {counted}"


@pytest.mark.parametrize("name", NAMES)
def test_student_version_hides_solutions_and_hidden_tests(name):
    text = (RELEASE / f"{name}.ipynb").read_text()
    for marker in (*SOLUTION_DELIMITERS, *HIDDEN_DELIMITERS, "_libraries_reached", "Model answer"):
        assert marker not in text, f"release/{name} contains {marker!r}"
    nb = read(RELEASE / f"{name}.ipynb")
    stubs = [c for c in solution_cells(nb).values() if c.cell_type == "code"]
    assert stubs and all("raise NotImplementedError()" in c.source for c in stubs)


@pytest.mark.parametrize("name", NAMES)
def test_solution_version_hides_hidden_tests(name):
    text = (SOLUTIONS / f"{name}.ipynb").read_text()
    for marker in (*SOLUTION_DELIMITERS, *HIDDEN_DELIMITERS, "_libraries_reached"):
        assert marker not in text, f"notebooks/{name} contains {marker!r}"


@pytest.mark.parametrize("name", NAMES)
def test_stored_outputs_hold_nothing_volatile(name):
    nb = read(SOLUTIONS / f"{name}.ipynb")
    volatile = re.compile(r"at 0x[0-9a-f]+|\d+(\.\d+)?\s?(ms|µs|s/it|it/s)\b|/tmp/ipykernel_|\r")
    for cell in nb.cells:
        assert "execution" not in cell.metadata, f"{name}: execution timestamps stored in cell metadata"
        for output in cell.get("outputs", []):
            text = output.get("text", "") + output.get("data", {}).get("text/plain", "")
            assert not volatile.search(text), f"{name}: volatile output {text[:120]!r}"
            assert output.get("name") != "stderr", f"{name}: stderr in a stored output: {text[:120]!r}"


def test_the_student_package_holds_no_grading_code():
    """helpers is what students receive: no nbgrader glue, no trusted tests, no references."""
    from nbtools import ROOT

    for path in sorted((ROOT / "helpers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] not in ("nbgrader", "grading") and "preprocessors" not in name, \
                    f"helpers/{path.name} imports {name}"
    assert not (ROOT / "helpers" / "grading.py").exists()


#: The most an executed notebook may weigh: photo figures are stored as JPEG (helpers.course).
MAX_NOTEBOOK_BYTES = 1_500_000


@pytest.mark.parametrize("name", NAMES)
def test_executed_notebooks_stay_small(name):
    size = (SOLUTIONS / f"{name}.ipynb").stat().st_size
    assert size <= MAX_NOTEBOOK_BYTES, f"notebooks/{name}.ipynb is {size / 1e6:.2f} MB"


@pytest.mark.parametrize("name", NAMES)
def test_every_stored_figure_has_alternative_text(name):
    nb = read(SOLUTIONS / f"{name}.ipynb")
    images = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for mime in ("image/png", "image/jpeg"):
                if mime in output.get("data", {}):
                    images += 1
                    alt = output.get("metadata", {}).get(mime, {}).get("alt", "")
                    assert alt.startswith("Figure"), f"{name} {cell.get('id')}: a figure without alt text"
    assert images, f"{name} stores no figures"


@pytest.mark.parametrize("name", NAMES)
def test_student_versions_record_the_kernels_language_info(name):
    # JupyterLab marks a notebook as changed when it opens it if this differs from what the kernel
    # reports. The version is left out here: it is that of the Python that ran make assignment.
    from ipykernel.ipkernel import IPythonKernel

    recorded = dict(read(RELEASE / f"{name}.ipynb").metadata["language_info"])
    expected = dict(IPythonKernel.language_info)
    assert recorded.pop("version", None) and expected.pop("version")
    assert recorded == expected
