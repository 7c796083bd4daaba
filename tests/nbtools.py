"""Small notebook utilities shared by the tests (not part of the course package)."""

import json
import os
import re
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


def free_port():
    """A TCP port on the loopback that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    """A scratch course: this repo's nbgrader_config.py, source/ and grading package (linked)."""
    directory = Path(directory)
    shutil.copytree(SOURCE, directory / "source" / ASSIGNMENT)
    (directory / "grading").symlink_to(ROOT / "grading", target_is_directory=True)
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


# ------------------------------------------------------------------ crafted submissions

CASES = ROOT / "tests" / "cases"


def load_case(path):
    """One crafted submission: ``tests/cases/<notebook>/<case>.py``.

    The file is plain Python in cells: ``# %% <grade_id>`` starts the source of one solution
    cell. Comment lines before the first cell say what the case is about; among them
    ``# scores: {...}`` gives the exact score of every autograded test cell (or ``full``), and
    ``# base: instructor`` appends each cell to the instructor's solution instead of replacing
    the student stub.

    Returns
    -------
    dict
        ``cells`` {grade_id: source}, ``scores`` dict or "full", ``base`` "stub" or "instructor".
    """
    text = Path(path).read_text(encoding="utf-8")
    header, _, body = text.partition("\n# %% ")
    case = {"cells": {}, "scores": None, "base": "stub", "about": ""}
    for line in header.splitlines():
        if line.startswith("# scores:"):
            value = line.split(":", 1)[1].strip()
            case["scores"] = "full" if value == "full" else json.loads(value)
        elif line.startswith("# base:"):
            case["base"] = line.split(":", 1)[1].strip()
        elif line.startswith("#"):
            case["about"] += line[1:].strip() + " "
    for chunk in ("# %% " + body).split("\n# %% ") if body else []:
        chunk = chunk[len("# %% "):] if chunk.startswith("# %% ") else chunk
        gid, _, source = chunk.partition("\n")
        case["cells"][gid.strip()] = source.rstrip("\n") + "\n"
    if case["scores"] is None:
        raise ValueError(f"{path}: no '# scores:' line")
    return case


def cases(notebook):
    """{case name: case} of one notebook's crafted submissions."""
    return {p.stem: load_case(p) for p in sorted((CASES / notebook).glob("*.py"))}


def remote_resources(soup):
    """Addresses outside the page that a browser would fetch: scripts, styles, images, frames,
    modules imported by inline scripts and fonts or styles pulled in by CSS."""
    found = []
    for tag, attribute in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
        for element in soup.find_all(tag):
            address = (element.get(attribute) or "").strip()
            if address.startswith(("http://", "https://", "//")):
                found.append(address)
    for script in soup.find_all("script"):
        found += re.findall(r"""["']((?:https?:)?//[^"']+)["']""", script.string or "")
    for style in soup.find_all("style"):
        found += re.findall(r"""url\(\s*["']?((?:https?:)?//[^"')]+)""", style.string or "")
    return found
