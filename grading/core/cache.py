"""Results cached per trusted test, so that a change regrades exactly what it can change.

A test's key is made of what its verdict depends on:

* the student's side: every solution cell of the notebook, in order (the cells run one after
  another in one process, so any of them can change what a later one defines), and what the source
  notebook says about grading (the solution cells, the names each defines, the test's points);
* the trusted side: the test's own module without the other tests' functions, the modules of the
  assignment it imports, its policy's furniture and its references, and the engine itself
  (``grading/core`` and :mod:`helpers.checking`);
* how it ran: sandboxed or not, and its time budget.

So a changed hidden test regrades that test for every student and nothing else, a new submission
regrades that notebook, and course tooling (collecting, recording, feedback) regrades nothing.

One file per (student, notebook), ``.grading/<assignment>/<student>/<notebook>.json``::

    {"keys": {grade_id: key}, "result": {...}, "changed": ns, "submission": sha256, "cells": digest}

``result`` is what :func:`grading.core.engine.grade_notebook` returned; ``changed`` is when its
verdicts or messages, or the submitted file (``submission``, its digest), last changed (not its
timings): that is what tells nbgrader's recording that the student is to be recorded again.
"""

import ast
import functools
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

#: Libraries whose results the trusted tests compare with: a new version may judge differently.
LIBRARIES = ("numpy", "scipy", "torch", "scikit-learn", "scikit-image")

#: Parts of a result that say how long grading took, not what it found.
TIMINGS = ("seconds", "setups")


def _digest(*parts):
    digest = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else json.dumps(part, sort_keys=True).encode()
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


def file_digest(path):
    """The digest of a file's bytes."""
    return _digest(Path(path).read_bytes())


@functools.lru_cache(maxsize=1)
def engine_digest():
    """The engine: ``grading/core``, the :mod:`helpers` package (its comparisons, and the data and
    images that trusted tests load through it) and the versions of the libraries that compute the
    references (read once per process)."""
    import importlib.metadata

    import helpers

    core = sorted(Path(__file__).resolve().parent.rglob("*.py"))
    shared = sorted(Path(helpers.__file__).resolve().parent.glob("*.py"))
    versions = []
    for library in LIBRARIES:
        try:
            versions.append([library, importlib.metadata.version(library)])
        except importlib.metadata.PackageNotFoundError:
            versions.append([library, None])
    return _digest(*[[path.name, file_digest(path)] for path in [*core, *shared]], versions)


def _origin(module_name):
    import importlib.util

    spec = importlib.util.find_spec(module_name)
    return Path(spec.origin) if spec and spec.origin else None


def _imported_modules(tree, package):
    """Absolute names of the modules of ``package`` that a module's top level imports."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = package + ("." + base if base else "")
            if base == package:
                names.update(f"{package}.{alias.name}" for alias in node.names)
            elif base.startswith(package + "."):
                names.add(base)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith(package + "."))
    return names


def _test_decorator(node):
    """The ``@test(...)`` call decorating a function, or None."""
    if not isinstance(node, ast.FunctionDef):
        return None
    return next((d for d in node.decorator_list if isinstance(d, ast.Call)
                 and getattr(d.func, "id", getattr(d.func, "attr", None)) == "test"), None)


def _declared(call):
    """(grade_id, policy, references) as a ``@test(...)`` call writes them (literals only)."""
    values = {"policy": "numpy", "references": ()}
    positional = ["grade_id", "policy", "references"]
    for name, node in [*zip(positional, call.args), *((k.arg, k.value) for k in call.keywords)]:
        try:
            values[name] = ast.literal_eval(node)
        except ValueError:
            values[name] = ast.dump(node)
    return values.get("grade_id"), values["policy"], tuple(values["references"])


@functools.lru_cache(maxsize=32)
def _parsed(source):
    """A module's top-level statements, each with its ``@test`` declaration (or None) and its dump."""
    tree = ast.parse(source)
    return tree, [(node, _test_decorator(node), ast.dump(node)) for node in tree.body]


@functools.lru_cache(maxsize=256)
def _own_code(source, grade_id):
    """(digest of the module without the other tests, policy, references, the module's tree)."""
    tree, statements = _parsed(source)
    own, policy, references = [], None, ()
    for node, call, dump in statements:
        if call is not None:
            declared = _declared(call)
            if declared[0] != grade_id:
                continue  # another test's function: its changes are not this test's
            policy, references = declared[1], declared[2]
        own.append(dump)
    return _digest(own), policy, references, tree


def test_code_digest(assignment, notebook, grade_id):
    """The digest of one trusted test's code and of the assignment's modules it depends on.

    Read from the module's source, which is not imported: the coordinator decides what is cached
    without importing PyTorch.
    """
    module_name = assignment.module_name(assignment.notebooks[notebook])
    own, policy, references, tree = _own_code(_origin(module_name).read_text(encoding="utf-8"), grade_id)
    package = module_name.rsplit(".", 1)[0]
    shared = _imported_modules(tree, package) - {module_name}
    shared |= {name for name in [assignment.fixture_module(policy), *references] if name}
    files = [[name, file_digest(path)] for name in sorted(shared) if (path := _origin(name))]
    return _digest(own, files, policy, list(references))


def cells_digest(plan, cells):
    """The digest of a student's solution cells (and of what the source notebook says of them)."""
    return _digest(cells, plan["solutions"], plan["defines"])


def grading_context(plan, cells, sandboxed=True):
    """What a cell's fate depends on: the student's cells, the engine, and the sandbox or not."""
    return _digest(cells_digest(plan, cells), engine_digest(), "sandboxed" if sandboxed else "unsandboxed")


def test_keys(assignment, notebook, plan, cells, sandboxed=True):
    """{grade_id: key} of one student's notebook.

    Parameters
    ----------
    assignment : grading.core.assignment.Assignment
    notebook : str
    plan : dict
        :func:`grading.core.engine.notebook_plan` of the source notebook.
    cells : list of (grade_id, source)
        The student's solution cells (:func:`grading.core.engine.student_cells`).
    """
    engine = engine_digest()
    student = cells_digest(plan, cells)
    return {gid: _digest(engine, student, test_code_digest(assignment, notebook, gid), points,
                         assignment.test_seconds(notebook, gid), "sandboxed" if sandboxed else "unsandboxed")
            for gid, points in plan["tests"].items()}


def _verdicts(result):
    """A result without its timings: what the student and the gradebook see."""
    tests = {gid: {k: v for k, v in test.items() if k not in TIMINGS} for gid, test in result.get("tests", {}).items()}
    return {**{k: v for k, v in result.items() if k not in TIMINGS and k != "tests"}, "tests": tests}


def read(path):
    """A stored record ({keys, result, changed}), or None when there is none or it cannot be read."""
    try:
        stored = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or not isinstance(stored.get("keys"), dict) or "result" not in stored:
        return None
    return stored


def stale_tests(stored, keys):
    """The grade_ids whose stored result does not hold for these keys (all of them without a record)."""
    if stored is None:
        return list(keys)
    have = stored.get("result", {}).get("tests", {})
    return [gid for gid, key in keys.items() if stored["keys"].get(gid) != key or gid not in have]


def set_aside(stored, cells):
    """The cells a stored record set aside, if it was graded on these very cells by this very engine in
    the same mode (``cells``: :func:`grading_context`), else {}."""
    if not stored or stored.get("cells") != cells:
        return {}
    faulty = stored.get("result", {}).get("faulty_cells")
    return dict(faulty) if isinstance(faulty, dict) else {}


def merge(stored, keys, fresh, cells=None):
    """The record after grading some tests: their fresh results beside the stored ones of the others.

    Only the tests in ``fresh`` take their key from ``keys``: a stored result that no longer holds
    keeps its old key, so that it stays stale until it is graded. ``fresh`` is a result of
    :func:`grading.core.engine.grade_notebook` for some tests; its notes on the file and its cells
    set aside replace the stored ones (they come from the same cells, as every test's key holds them).
    """
    old = (stored or {}).get("result", {})
    old_keys = (stored or {}).get("keys", {})
    tests, record_keys = {}, {}
    for gid in keys:  # the source notebook's order
        if gid in fresh.get("tests", {}):
            tests[gid], record_keys[gid] = fresh["tests"][gid], keys[gid]
        elif gid in old.get("tests", {}) and gid in old_keys:
            tests[gid], record_keys[gid] = old["tests"][gid], old_keys[gid]
    result = {**old, **{k: v for k, v in fresh.items() if k != "tests"}, "tests": tests}
    changed = (stored or {}).get("changed")
    if stored is None or changed is None or _verdicts(result) != _verdicts(old):
        changed = time.time_ns()
    record = {**(stored or {}), "keys": record_keys, "result": result, "changed": changed}
    if cells is not None:
        record["cells"] = cells
    return record


def write(path, record):
    """Write a record atomically (a crash mid-write leaves the old file or none)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "w") as stream:
        json.dump(record, stream, indent=1, sort_keys=True)
    os.replace(temporary, path)


#: Folder of the grader's folder that keeps trusted computations (:func:`computed_once`).
COMPUTED_FOLDER = "computed"


def computed_once(name, depends_on, compute):
    """An array that trusted code computes the same way for every student, kept on disk between runs.

    A trusted test that needs a costly reference (a network trained by the recipe, say) pays for it
    once per machine and code version instead of once per grading process. The file lives in the
    grader's own folder (:func:`grading.core.sandbox.grader_folder`, which no sandbox sees), under a
    key of ``depends_on``; nothing a student hands in reaches it.

    Parameters
    ----------
    name : str
        A readable part of the file's name.
    depends_on : list
        What the result is a function of: source texts, versions, settings (JSON-ready).
    compute : callable
        Returns the array (NumPy, or anything ``np.asarray`` takes) when no kept file holds.

    Returns
    -------
    numpy.ndarray
    """
    import numpy as np

    from grading.core.sandbox import grader_folder

    path = grader_folder() / COMPUTED_FOLDER / f"{name}-{_digest(depends_on)[:32]}.npy"
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        pass  # not computed yet here, or a file cut short: computed again
    value = np.asarray(compute())
    path.parent.mkdir(mode=0o700, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npy")
    with os.fdopen(handle, "wb") as stream:
        np.save(stream, value, allow_pickle=False)
    os.replace(temporary, path)
    return value
