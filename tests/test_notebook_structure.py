"""House rules every source notebook must follow (checked on source/, release/ and notebooks/)."""

import ast
import re

import pytest

from nbtools import (HIDDEN_DELIMITERS, RELEASE, SOLUTION_DELIMITERS, SOLUTIONS, SOURCE, autograded_test_cells,
                     grade_cells, nbgrader_meta, notebook_names, read, region, solution_cells)

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
def test_every_test_cell_has_points_visible_and_hidden_tests(name):
    tests = autograded_test_cells(read(SOURCE / f"{name}.ipynb"))
    assert tests, f"{name} has no autograded tests"
    for gid, cell in tests.items():
        meta = nbgrader_meta(cell)
        assert meta["points"] > 0 and meta["locked"], gid
        visible = region(cell.source, HIDDEN_DELIMITERS, inside=False)
        hidden = region(cell.source, HIDDEN_DELIMITERS, inside=True)
        assert "✓" in visible, f"{gid}: the visible part must end by confirming success"
        assert hidden.strip(), f"{gid}: no hidden tests"
        # Student code can patch anything it can import, so hidden tests never trust helpers.
        uses_helpers = re.search(r"\bhelpers\.|import helpers|from helpers|check_(array|scalar|shape)|sheet_(image|kernels)", hidden)
        assert not uses_helpers, f"{gid}: hidden tests use helpers ({uses_helpers[0]})"
        # A submission that hands the work to a library scores 0.
        assert "_libraries_reached(" in hidden, f"{gid}: hidden tests must reject library calls"
        # The last line must not be a bare expression: nbgrader would read it as partial credit.
        last = ast.parse(cell.source).body[-1]
        bare = isinstance(last, ast.Expr) and not (isinstance(last.value, ast.Call)
                                                   and getattr(last.value.func, "id", "") == "print")
        assert not bare, f"{gid}: ends with a bare expression (line {last.lineno})"


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
