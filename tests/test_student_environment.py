"""What the student bundle's environment must hold (grading/course/bundle.py), read off the code students run.

Every module that the student notebooks and ``helpers`` import, at the top or inside a function,
comes from a package in the bundle's pins; the pins are the whole closure on Linux, macOS and
Windows; and ``progress_bar`` still trains where tqdm is missing.
"""

import ast
import importlib.metadata
import re
import sys

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from nbtools import HIDDEN_DELIMITERS, RELEASE, ROOT, SOURCE, notebook_names, read, region

#: Imported only inside ``try`` for an optional feature, with a message when it is missing.
OPTIONAL = {"torchvision"}  # helpers.datasets: download=True


def _normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules(source):
    """Top-level names of the absolute imports in Python ``source`` (IPython magics dropped)."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def student_code():
    """(where, source) of the code students run: release notebooks, the instructor's answers, helpers/."""
    for name in notebook_names():
        for i, cell in enumerate(read(RELEASE / f"{name}.ipynb").cells):
            if cell.cell_type == "code":
                yield f"release {name} cell {i}", cell.source
        for i, cell in enumerate(read(SOURCE / f"{name}.ipynb").cells):
            if cell.cell_type == "code":  # what a student's finished notebook holds, hidden tests aside
                yield f"source {name} cell {i}", region(cell.source, HIDDEN_DELIMITERS, inside=False)
    for path in sorted((ROOT / "helpers").glob("*.py")):
        yield str(path.relative_to(ROOT)), path.read_text()


def bundle_pins(platform=None):
    """{normalised name: version} of the bundle's requirements that apply on ``platform``
    (``sys.platform`` value; all when None)."""
    from grading.course.bundle import PLATFORMS, student_requirements

    pins = {}
    for line in student_requirements():
        requirement = Requirement(line)
        if platform is None or requirement.marker is None or requirement.marker.evaluate(
                {**default_environment(), **PLATFORMS[platform]}):
            pins[_normalise(requirement.name)] = str(requirement.specifier)[2:]
    return pins


@pytest.mark.slow
def test_every_module_the_students_import_is_in_the_bundle():
    distributions = importlib.metadata.packages_distributions()
    pinned = bundle_pins("linux")
    missing = {}
    for where, source in student_code():
        for module in imported_modules(source) - set(sys.stdlib_module_names) - {"helpers", "__future__"} - OPTIONAL:
            owners = {_normalise(d) for d in distributions.get(module, [module])}
            if not owners & set(pinned):
                missing.setdefault(module, where)
    assert not missing, f"imported by student code but not in the bundle (module: first place): {missing}"


def test_the_scan_sees_imports_inside_functions():
    assert imported_modules("def f():\n    from tqdm.auto import tqdm\n%matplotlib inline\nimport numpy.linalg") \
        == {"tqdm", "numpy"}


@pytest.mark.slow
def test_the_pins_are_the_closure_on_every_platform():
    linux, mac, windows = bundle_pins("linux"), bundle_pins("darwin"), bundle_pins("win32")
    # Read off the packages' metadata: tqdm and IPython need colorama on Windows only, the terminal
    # needs pywinpty there and pexpect elsewhere, ipykernel needs appnope on macOS.
    assert "colorama" in windows and "colorama" not in linux and "colorama" not in mac
    assert "pywinpty" in windows and "pexpect" not in windows and "pexpect" in linux and "pexpect" in mac
    assert "appnope" in mac and "appnope" not in linux
    # Extras count: jupyter-events asks for jsonschema[format-nongpl]; only the IRI checker is left out.
    assert {"fqdn", "isoduration", "uri-template", "webcolors", "rfc3339-validator"} <= set(linux)
    assert "rfc3987-syntax" not in linux and "lark" not in linux
    for tool in ("nbgrader", "dask", "pytest", "nbval", "selenium"):
        assert tool not in linux


@pytest.mark.slow
def test_every_linux_pin_is_what_the_course_venv_runs():
    # The course venv is installed from the same lock; a pin that differs from what is installed
    # here would hand students something never tested.
    different = {name: (version, importlib.metadata.version(name).split("+")[0])
                 for name, version in bundle_pins("linux").items()
                 if importlib.metadata.version(name).split("+")[0] != version}
    assert not different


def test_progress_bar_falls_back_to_the_plain_loop_without_tqdm(monkeypatch, capsys):
    from helpers.training import progress_bar

    for module in ("tqdm", "tqdm.auto"):
        monkeypatch.setitem(sys.modules, module, None)  # import tqdm now raises ImportError
    items = range(4)
    assert progress_bar(items, environ={"EX04_INTERACTIVE": "1"}, desc="training") is items
    captured = capsys.readouterr()
    assert captured.out == captured.err == ""
