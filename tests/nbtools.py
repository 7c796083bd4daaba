"""Small notebook utilities shared by the tests (not part of the course package)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ex04"
SOURCE = ROOT / "source" / ASSIGNMENT
RELEASE = ROOT / "release" / ASSIGNMENT
SOLUTIONS = ROOT / "notebooks" / ASSIGNMENT
BIN = Path(sys.executable).parent

SOLUTION_DELIMITERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_DELIMITERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def notebook_names():
    """Stems of the source notebooks, in course order."""
    return sorted(p.stem for p in SOURCE.glob("*.ipynb"))


def read(path):
    return nbformat.read(str(path), as_version=4)


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_cells(nb):
    """{grade_id: cell} for every cell that carries points."""
    return {nbgrader_meta(c)["grade_id"]: c for c in nb.cells if nbgrader_meta(c).get("grade")}


def autograded_test_cells(nb):
    """{grade_id: cell} for code cells with points (visible + hidden tests)."""
    return {gid: c for gid, c in grade_cells(nb).items()
            if c.cell_type == "code" and not nbgrader_meta(c).get("solution")}


def solution_cells(nb):
    """{grade_id: cell} for every cell a student writes into (code and written answers)."""
    return {nbgrader_meta(c)["grade_id"]: c for c in nb.cells if nbgrader_meta(c).get("solution")}


def region(source, delimiters, inside=True):
    """The lines of ``source`` inside (or outside) a delimited region, delimiters excluded."""
    begin, end = delimiters
    kept, within = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == begin:
            within = True
        elif stripped == end:
            within = False
        elif within == inside:
            kept.append(line)
    return "\n".join(kept)


def nbgrader(*args, cwd, check=True, timeout=900):
    """Run the nbgrader command line of this environment in ``cwd``."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=cwd, env=env, text=True,
                            capture_output=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def make_course(directory, extra_config=""):
    """A scratch course: this repo's nbgrader_config.py and source/, nothing else."""
    directory = Path(directory)
    shutil.copytree(SOURCE, directory / "source" / ASSIGNMENT)
    config = (ROOT / "nbgrader_config.py").read_text()
    (directory / "nbgrader_config.py").write_text(config + "\n" + extra_config)
    return directory


def comparable_cells(nb):
    """What must agree between a committed and a regenerated notebook: no volatile fields."""
    return [
        {"cell_type": c.cell_type, "source": c.source, "nbgrader": nbgrader_meta(c)}
        for c in nb.cells
    ]


def dumps(obj):
    return json.dumps(obj, indent=1, ensure_ascii=False, sort_keys=True)


def heavy_modules_loaded_by(module, candidates=("matplotlib", "scipy", "torch", "skimage", "sklearn",
                                                "ipywidgets", "tqdm")):
    """The libraries of ``candidates`` that ``import module`` loads, in a fresh interpreter.

    ``helpers`` and its submodules load heavy libraries only when a function needs them, so that
    ``import helpers`` in a notebook's preamble stays fast; each module's tests call this.
    """
    code = f"import sys, {module}; print(sorted(m for m in {tuple(candidates)!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().replace("'", '"'))
