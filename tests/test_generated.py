"""release/ and notebooks/ are exactly what `make assignment` makes from source/.

The notebooks are regenerated in a scratch course (the solution versions without executing
them: sources and nbgrader metadata are compared, not outputs) and compared cell by cell.
"""

import pytest

from nbtools import (ASSIGNMENT, RELEASE, SOLUTIONS, SOURCE, comparable_cells, dumps, make_course, nbgrader,
                     notebook_names, read)

pytestmark = pytest.mark.slow

NO_EXECUTE = """
# Added by tests/test_generated.py: compare sources only, so skip executing the solutions.
c.GenerateSolution.preprocessors = [p for p in c.GenerateSolution.preprocessors
                                    if getattr(p, "__name__", p) != "Execute"]
"""


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("regenerate"), extra_config=NO_EXECUTE)
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=root)
    nbgrader("generate_solution", ASSIGNMENT, "--force", cwd=root)
    return root


def test_same_notebooks_everywhere():
    expected = {f"{name}.ipynb" for name in notebook_names()}
    assert expected, "source/ex04 has no notebooks"
    assert {p.name for p in RELEASE.glob("*.ipynb")} == expected
    assert {p.name for p in SOLUTIONS.glob("*.ipynb")} == expected


@pytest.mark.parametrize("name", notebook_names())
def test_release_is_regenerated(regenerated, name):
    fresh = comparable_cells(read(regenerated / "release" / ASSIGNMENT / f"{name}.ipynb"))
    committed = comparable_cells(read(RELEASE / f"{name}.ipynb"))
    assert dumps(committed) == dumps(fresh), (
        f"release/{ASSIGNMENT}/{name}.ipynb is not what source/ generates: instructors, run `make assignment` "
        "and commit; students who worked in release/, this difference is your work (it is safe)")


@pytest.mark.parametrize("name", notebook_names())
def test_solutions_are_regenerated_and_executed(regenerated, name):
    fresh = comparable_cells(read(regenerated / "notebooks" / ASSIGNMENT / f"{name}.ipynb"))
    committed_nb = read(SOLUTIONS / f"{name}.ipynb")
    assert dumps(comparable_cells(committed_nb)) == dumps(fresh), \
        f"notebooks/{ASSIGNMENT}/{name}.ipynb is stale: run `make assignment`"
    code = [c for c in committed_nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), f"notebooks/{ASSIGNMENT}/{name}.ipynb was not executed"
    errors = [c.source[:60] for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"executed solutions must run without errors: {errors}"


@pytest.mark.parametrize("name", notebook_names())
def test_source_carries_no_outputs(name):
    nb = read(SOURCE / f"{name}.ipynb")
    stored = [c.source[:60] for c in nb.cells if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not stored, f"source notebooks carry no outputs; clear them in {name}: {stored}"
