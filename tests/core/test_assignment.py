"""Assignments loaded by name from folders (grading/core/assignment.py): unit tests, seconds.

Each test writes its own small assignment package under ``tmp_path`` with a name of its own, and
starts from an empty cache of loaded assignments, so tests do not see each other's packages.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grading.core import assignment as assignments

ROOT = Path(__file__).resolve().parents[2]

TEST_MODULE = '''
from grading.core.testing import test


@test("test_double", policy="numpy")
def double(student):
    assert student.double(2) == 4
'''


def _package(folder, name, init=None, modules=None):
    """Write the package ``folder/name`` with ``__init__.py`` text ``init`` and {module: text}; its folder."""
    package = folder / name
    package.mkdir(parents=True)
    if init is None:
        init = """
            from grading.core.assignment import Assignment

            ASSIGNMENT = Assignment(notebooks={"01_demo": "nb01_demo"}, fixtures={"numpy": "furniture"},
                                    seconds={("01_demo", "test_double"): 5.0})
        """
    (package / "__init__.py").write_text(textwrap.dedent(init))
    for module, text in (modules or {"nb01_demo": TEST_MODULE, "furniture": "VALUE = 1\n"}).items():
        (package / f"{module}.py").write_text(text)
    return package


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    """An empty cache of loaded assignments, and no packages of other tests left importable."""
    monkeypatch.setattr(assignments, "_LOADED", {})
    monkeypatch.delenv(assignments.PATH_VARIABLE, raising=False)
    yield
    for module in [m for m in sys.modules if m.startswith(assignments.EXTERNAL_PACKAGE + ".")]:
        del sys.modules[module]


def test_a_package_in_a_listed_folder_loads_by_name(tmp_path, monkeypatch):
    package = _package(tmp_path / "packages", "demo_listed")
    folders = [str(tmp_path / "elsewhere"), str(tmp_path / "packages")]  # the first does not exist
    monkeypatch.setenv(assignments.PATH_VARIABLE, os.pathsep.join(folders))
    loaded = assignments.load("demo_listed")
    assert (loaded.name, loaded.package, loaded.folder) == ("demo_listed", "grading_assignments.demo_listed", package)
    assert loaded.notebooks == {"01_demo": "nb01_demo"}
    assert assignments.load("demo_listed") is loaded


def test_listed_folders_come_before_the_engine_package(tmp_path, monkeypatch):
    monkeypatch.setenv(assignments.PATH_VARIABLE, os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))
    assert assignments.search_path() == [tmp_path / "a", tmp_path / "b", ROOT / "grading"]


def test_module_names_tests_fixtures_and_seconds(tmp_path, monkeypatch):
    _package(tmp_path, "demo_modules")
    monkeypatch.setenv(assignments.PATH_VARIABLE, str(tmp_path))
    loaded = assignments.load("demo_modules")
    assert loaded.module_name("nb01_demo") == "grading_assignments.demo_modules.nb01_demo"
    assert loaded.module_name("somewhere.else") == "somewhere.else"
    tests = loaded.tests("01_demo")
    assert list(tests) == ["test_double"]
    assert (tests["test_double"].module, tests["test_double"].policy) == (
        "grading_assignments.demo_modules.nb01_demo", "numpy")
    assert loaded.fixture_module("numpy") == "grading_assignments.demo_modules.furniture"
    assert loaded.fixture_module("torch") is None
    assert loaded.test_seconds("01_demo", "test_double") == 5.0
    assert loaded.test_seconds("01_demo", "test_other") == assignments.DEFAULT_TEST_SECONDS
    assert [p.name for p in loaded.source_files()] == ["__init__.py", "furniture.py", "nb01_demo.py"]
    with pytest.raises(KeyError, match="has no notebook '02_missing' .*01_demo"):
        loaded.test_module("02_missing")


def test_the_engine_folder_holds_ex04():
    loaded = assignments.load("ex04")
    assert (loaded.package, loaded.folder) == ("grading.ex04", ROOT / "grading" / "ex04")
    assert "01_convolutions" in loaded.notebooks


def test_a_missing_package_is_a_lookup_error_that_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv(assignments.PATH_VARIABLE, str(tmp_path))
    with pytest.raises(LookupError) as raised:
        assignments.load("demo_nowhere")
    message = str(raised.value)
    assert "demo_nowhere" in message and str(tmp_path) in message and assignments.PATH_VARIABLE in message


def test_a_folder_without_init_is_no_package(tmp_path, monkeypatch):
    (tmp_path / "demo_no_init").mkdir()
    (tmp_path / "demo_no_init" / "nb01_demo.py").write_text(TEST_MODULE)
    monkeypatch.setenv(assignments.PATH_VARIABLE, str(tmp_path))
    with pytest.raises(LookupError, match="no package demo_no_init/"):
        assignments.load("demo_no_init")


@pytest.mark.parametrize("init", ["ASSIGNMENT_ = None\n", "ASSIGNMENT = {'notebooks': {}}\n"],
                         ids=["misspelt", "a dict"])
def test_a_package_without_assignment_is_a_lookup_error(tmp_path, monkeypatch, init):
    _package(tmp_path, "demo_undeclared", init=init, modules={})
    monkeypatch.setenv(assignments.PATH_VARIABLE, str(tmp_path))
    with pytest.raises(LookupError, match=r"demo_undeclared/__init__.py does not define ASSIGNMENT = Assignment"):
        assignments.load("demo_undeclared")


@pytest.mark.parametrize("name", ["../ex04", "ex-04", "", "grading.ex04"])
def test_a_name_that_is_no_identifier_is_refused(name):
    with pytest.raises(LookupError, match="cannot name an assignment package"):
        assignments.load(name)


def test_a_package_that_fails_to_import_is_not_cached(tmp_path, monkeypatch):
    package = _package(tmp_path, "demo_broken", init="raise RuntimeError('half written')\n", modules={})
    monkeypatch.setenv(assignments.PATH_VARIABLE, str(tmp_path))
    with pytest.raises(RuntimeError, match="half written"):
        assignments.load("demo_broken")
    (package / "__init__.py").write_text("from grading.core.assignment import Assignment\n\n"
                                        "ASSIGNMENT = Assignment(notebooks={})\n")
    assert assignments.load("demo_broken").notebooks == {}


# ------------------------------------------------------------------ the cache key of a test

#: Prints the test's key, then again after appending a statement to each file named on the command line.
KEYS_SCRIPT = '''
import json, sys
from grading.core import assignment, cache

PLAN = {"solutions": ["double"], "defines": {"double": ["double"]}, "tests": {"test_double": 1.0}}
CELLS = [("double", "def double(x):\\n    return 2 * x\\n")]


def key():
    cache.engine_digest.cache_clear()
    return cache.test_keys(assignment.load("demo_keyed"), "01_demo", PLAN, CELLS)["test_double"]


keys = [key()]
for path in sys.argv[1:]:
    with open(path, "a") as file:
        file.write("\\nCHANGED = 1\\n")
    keys.append(key())
print(json.dumps(keys))
'''


def test_the_test_key_follows_core_and_the_assignment_but_not_course_tooling(tmp_path):
    """Keys computed by a copy of the engine, as files of the copy and of the assignment change."""
    engine = tmp_path / "engine"
    (engine / "grading").mkdir(parents=True)
    shutil.copy(ROOT / "grading" / "__init__.py", engine / "grading" / "__init__.py")
    for part in ("core", "course"):
        shutil.copytree(ROOT / "grading" / part, engine / "grading" / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    package = _package(tmp_path / "packages", "demo_keyed")
    script = tmp_path / "keys.py"
    script.write_text(KEYS_SCRIPT)
    changed = [engine / "grading" / "course" / "recording.py", engine / "grading" / "course" / "preprocessors",
               engine / "grading" / "core" / "runner.py", package / "nb01_demo.py", package / "furniture.py"]
    changed[1] = next(changed[1].glob("*.py"))  # a module of course tooling's subpackage
    env = {"PYTHONPATH": str(engine), assignments.PATH_VARIABLE: str(tmp_path / "packages"), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, str(script), *map(str, changed)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    first, after_course, after_course_package, after_core, after_tests, after_fixtures = json.loads(run.stdout)
    assert first == after_course == after_course_package, "course tooling changes no result"
    assert len({after_course_package, after_core, after_tests, after_fixtures}) == 4, \
        "a change to core or to any module of the assignment must change the key"


def test_a_package_that_another_account_could_change_is_refused(tmp_path, monkeypatch):
    """Trusted tests run with the grader's rights: a folder open to others must not hold them."""
    packages = tmp_path / "packages"
    package = _package(packages, "demo_open")
    monkeypatch.setenv(assignments.PATH_VARIABLE, str(packages))
    package.chmod(0o777)
    with pytest.raises(LookupError, match="can be written by other accounts"):
        assignments.load("demo_open")
    package.chmod(0o755)
    (package / "nb01_demo.py").chmod(0o666)
    with pytest.raises(LookupError, match="belongs to another account or can be written by others"):
        assignments.load("demo_open")
    (package / "nb01_demo.py").chmod(0o644)
    assert assignments.load("demo_open").notebooks == {"01_demo": "nb01_demo"}


def test_listed_folders_are_searched_first_and_relative_ones_resolved(tmp_path, monkeypatch):
    _package(tmp_path / "packages", "demo_relative")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(assignments.PATH_VARIABLE, "packages")
    assert assignments.search_path()[0] == tmp_path / "packages"
    assert assignments.load("demo_relative").folder == (tmp_path / "packages" / "demo_relative")
