"""Per-test cache keys: a change regrades what it can change and nothing else."""

import itertools
import textwrap

import pytest

from grading.core import assignment as assignments
from grading.core import cache

TESTS = '''\
from grading.core.testing import expect_array, hidden, test, visible

from .shared import SIZE


@test("test_double", policy="numpy")
def double(student):
    with visible("double"):
        expect_array(student.double([1, 2]), [2, 4], name="double")


@test("test_half", policy="numpy", references=["{package}.reference_half"])
def half(student):
    with hidden():
        expect_array(student.half([SIZE]), [SIZE / 2], name="half")
'''

PLAN = {"solutions": ["double", "half"], "defines": {"double": ["double"], "half": ["half"]},
        "tests": {"test_double": 1.0, "test_half": 2.0}}
CELLS = [("double", "def double(x):\n    return [2 * v for v in x]\n"),
         ("half", "def half(x):\n    return [v / 2 for v in x]\n")]
_names = itertools.count()


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A small assignment package in a folder of its own, found through the search path."""
    name = f"cachetest{next(_names)}"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text(textwrap.dedent('''\
        from grading.core.assignment import Assignment

        ASSIGNMENT = Assignment(notebooks={"nb": "tests_nb"}, fixtures={"numpy": "furniture"})
        '''))
    (folder / "tests_nb.py").write_text(TESTS.format(package=f"{assignments.EXTERNAL_PACKAGE}.{name}"))
    (folder / "shared.py").write_text("SIZE = 4\n")
    (folder / "furniture.py").write_text("def ones(n):\n    return [1] * n\n")
    (folder / "reference_half.py").write_text("def half(x):\n    return [v / 2 for v in x]\n")
    (folder / "notes.py").write_text("UNUSED = 1\n")
    monkeypatch.setenv(assignments.PATH_VARIABLE, str(tmp_path))
    return assignments.load(name), folder


def keys(assignment, cells=CELLS, plan=PLAN):
    return cache.test_keys(assignment, "nb", plan, cells)


def test_changing_one_test_changes_only_its_key(package):
    assignment, folder = package
    before = keys(assignment)
    module = folder / "tests_nb.py"
    module.write_text(module.read_text().replace("[SIZE / 2]", "[SIZE / 2.0]"))
    after = keys(assignment)
    assert after["test_half"] != before["test_half"]
    assert after["test_double"] == before["test_double"]


def test_a_module_the_test_imports_is_part_of_its_key_and_others_are_not(package):
    assignment, folder = package
    before = keys(assignment)
    (folder / "notes.py").write_text("UNUSED = 2\n")  # imported by no test
    assert keys(assignment) == before
    (folder / "shared.py").write_text("SIZE = 6\n")  # both tests import the module
    after = keys(assignment)
    assert after["test_half"] != before["test_half"] and after["test_double"] != before["test_double"]


def test_a_reference_is_part_of_the_key_of_the_test_that_lends_it_only(package):
    assignment, folder = package
    before = keys(assignment)
    (folder / "reference_half.py").write_text("def half(x):\n    return [v * 0.5 for v in x]\n")
    after = keys(assignment)
    assert after["test_half"] != before["test_half"] and after["test_double"] == before["test_double"]


def test_the_student_s_cells_the_points_and_the_sandbox_are_in_every_key(package):
    assignment, _ = package
    before = keys(assignment)
    changed_cell = [CELLS[0], ("half", CELLS[1][1] + "# a comment\n")]
    assert all(keys(assignment, changed_cell)[gid] != before[gid] for gid in before)
    more_points = {**PLAN, "tests": {"test_double": 1.0, "test_half": 3.0}}
    assert keys(assignment, plan=more_points)["test_half"] != before["test_half"]
    assert keys(assignment, plan=more_points)["test_double"] == before["test_double"]
    unsandboxed = cache.test_keys(assignment, "nb", PLAN, CELLS, sandboxed=False)
    assert all(unsandboxed[gid] != before[gid] for gid in before)


def test_course_tooling_is_not_in_the_key():
    """grading/core and the helpers package are the engine: grading/course/ is not read."""
    import grading.core
    from pathlib import Path

    core = Path(grading.core.__file__).parent
    read = []
    original = cache.file_digest

    def spy(path):
        read.append(Path(path).resolve())
        return original(path)

    cache.engine_digest.cache_clear()
    try:
        cache.file_digest = spy
        cache.engine_digest()
    finally:
        cache.file_digest = original
        cache.engine_digest.cache_clear()
    import helpers

    shared = Path(helpers.__file__).resolve().parent
    assert read and all(core in p.parents or shared in p.parents for p in read)
    assert any(p.name == "checking.py" for p in read) and any(p.name == "datasets.py" for p in read)
    assert not any("course" in p.parts for p in read)


def test_stale_tests_and_merge_keep_what_still_holds():
    keys_now = {"a": "k1", "b": "k2"}
    result = {"tests": {"a": {"passed": True, "score": 1, "seconds": 0.1}, "b": {"passed": False, "score": 0,
                                                                                  "seconds": 0.2}},
              "problems": [], "faulty_cells": {}, "setups": []}
    stored = {"keys": {"a": "k1", "b": "old"}, "result": result, "changed": 5}
    assert cache.stale_tests(None, keys_now) == ["a", "b"]
    assert cache.stale_tests(stored, keys_now) == ["b"]
    same_again = {"tests": {"b": {"passed": False, "score": 0, "seconds": 0.9}}, "problems": [], "faulty_cells": {},
                  "setups": [{"seconds": 3}]}
    merged = cache.merge(stored, keys_now, same_again)
    assert merged["keys"] == keys_now and merged["result"]["tests"]["a"] == result["tests"]["a"]
    assert merged["result"]["tests"]["b"]["seconds"] == 0.9
    assert merged["changed"] == 5, "only timings differ: nbgrader has nothing new to record"
    now_passing = {"tests": {"b": {"passed": True, "score": 2, "seconds": 0.9}}, "problems": [], "faulty_cells": {},
                   "setups": []}
    assert cache.merge(stored, keys_now, now_passing)["changed"] != 5


def test_a_trusted_computation_runs_once_per_key_and_survives_a_damaged_file(tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return np.arange(4.0) + len(calls)  # another value per call: which file was read shows

    first = cache.computed_once("weights", ["source v1"], compute)
    again = cache.computed_once("weights", ["source v1"], compute)
    assert calls == [1] and np.array_equal(first, again) and again.dtype == np.float64
    cache.computed_once("weights", ["source v2"], compute)
    assert calls == [1, 1], "another key, another computation"
    (kept,) = [p for p in (tmp_path / "course-grading" / cache.COMPUTED_FOLDER).glob("weights-*.npy")
               if np.array_equal(np.load(p), first)]
    kept.write_bytes(kept.read_bytes()[:20])  # cut short, as by a full disk
    assert np.array_equal(cache.computed_once("weights", ["source v1"], compute), first + 2) and len(calls) == 3
    assert oct((tmp_path / "course-grading" / cache.COMPUTED_FOLDER).stat().st_mode & 0o777) == "0o700"
