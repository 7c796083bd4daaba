"""Assignments as folders: the engine loads one by name and never names one itself.

An assignment is a Python package whose ``__init__.py`` defines ``ASSIGNMENT``, an
:class:`Assignment`: which module holds the trusted tests of each notebook, the test furniture
each library policy's sandbox receives, and the time budgets of tests that need more than the
default. Each test module registers its tests with :func:`grading.core.testing.test`.

Packages are looked up by the assignment's name, first in the folders listed in the environment
variable :data:`PATH_VARIABLE` (``os.pathsep``-separated; ``python -m grading --assignments DIR``
sets it), then beside this engine (``grading/<name>/``). A package from a listed folder is
imported as ``grading_assignments.<name>``; its modules import each other relatively.
"""

import dataclasses
import importlib
import importlib.util
import os
import stat
import sys
import types
from pathlib import Path

#: Environment variable with extra folders that hold assignment packages.
PATH_VARIABLE = "GRADING_ASSIGNMENTS_PATH"

#: The package under which assignments from listed folders are imported.
EXTERNAL_PACKAGE = "grading_assignments"

#: Wall time for one trusted test (its calls together), unless the assignment says otherwise.
DEFAULT_TEST_SECONDS = 30.0

_ENGINE_PACKAGE = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Assignment:
    """What an assignment's package declares about its grading.

    Parameters
    ----------
    notebooks : dict
        Notebook name (the source file's stem) -> module of its trusted tests, relative to the
        assignment's package ("nb01_convolutions") or absolute.
    fixtures : dict
        Library policy ("numpy", "torch") -> module of test furniture built inside that policy's
        sandbox, relative or absolute. A policy without an entry gets none.
    seconds : dict
        (notebook, grade_id) -> wall time of that test, for tests that need more than
        :data:`DEFAULT_TEST_SECONDS`.
    """

    notebooks: dict
    fixtures: dict = dataclasses.field(default_factory=dict)
    seconds: dict = dataclasses.field(default_factory=dict)
    name: str = ""
    package: str = ""
    folder: Path = None

    def module_name(self, relative):
        """The absolute name of one of the package's modules."""
        return relative if "." in relative else f"{self.package}.{relative}"

    def test_module(self, notebook):
        """The module with the trusted tests of ``notebook`` (imported, so its tests are registered)."""
        if notebook not in self.notebooks:
            raise KeyError(f"assignment {self.name} has no notebook {notebook!r} (it has {', '.join(self.notebooks)})")
        return importlib.import_module(self.module_name(self.notebooks[notebook]))

    def tests(self, notebook):
        """{grade_id: TrustedTest} of one notebook."""
        from grading.core.testing import registered

        return registered(self.test_module(notebook).__name__)

    def fixture_module(self, policy):
        """The furniture module of a policy's sandbox, as an absolute module name, or None."""
        relative = self.fixtures.get(policy)
        return self.module_name(relative) if relative else None

    def test_seconds(self, notebook, grade_id):
        """The wall time one trusted test gets."""
        return float(self.seconds.get((notebook, grade_id), DEFAULT_TEST_SECONDS))

    def source_files(self):
        """The package's Python files, in a stable order (what its results depend on)."""
        return sorted(self.folder.rglob("*.py"))


def search_path():
    """The folders searched for assignment packages, in order (listed ones as absolute paths)."""
    listed = [Path(p).resolve() for p in os.environ.get(PATH_VARIABLE, "").split(os.pathsep) if p]
    return [*listed, _ENGINE_PACKAGE]


def unsafe_folder(folder):
    """Why trusted code must not be imported from ``folder`` (a package's folder), or "".

    The package runs with the grader's rights: it and every folder above it must belong to the
    grading account (or root) and be writable by nobody else, or another account could put code
    there (a shared /tmp, a course folder open to the group).
    """
    me = os.geteuid()
    for path in [folder, *folder.parents]:
        info = path.stat()
        if info.st_uid not in (me, 0):
            return f"{path} belongs to another account (uid {info.st_uid})"
        # Above the package, a sticky folder (/tmp) is fine: others cannot move what is not theirs.
        if info.st_mode & 0o022 and (path == folder or not info.st_mode & stat.S_ISVTX):
            return f"{path} can be written by other accounts (mode {oct(info.st_mode & 0o777)})"
    for file in folder.rglob("*.py"):
        info = file.stat()
        if info.st_uid not in (me, 0) or info.st_mode & 0o022:
            return f"{file} belongs to another account or can be written by others"
    return ""


def _import_external(name, folder):
    if EXTERNAL_PACKAGE not in sys.modules:
        parent = types.ModuleType(EXTERNAL_PACKAGE)
        parent.__path__ = []
        sys.modules[EXTERNAL_PACKAGE] = parent
    qualified = f"{EXTERNAL_PACKAGE}.{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[qualified]
        raise
    return module


_LOADED = {}


def load(name):
    """The :class:`Assignment` called ``name``.

    Raises
    ------
    LookupError
        When no folder of :func:`search_path` holds a package of that name, or the package does
        not declare ``ASSIGNMENT``.
    """
    if name in _LOADED:
        return _LOADED[name]
    if not name.isidentifier():
        raise LookupError(f"{name!r} cannot name an assignment package (a Python identifier is needed)")
    for base in search_path():
        folder = base / name
        if not (folder / "__init__.py").is_file():
            continue
        if base.resolve() == _ENGINE_PACKAGE:
            module = importlib.import_module(f"{_ENGINE_PACKAGE.name}.{name}")
        else:
            why = unsafe_folder(folder.resolve())
            if why:
                raise LookupError(f"the trusted tests of {name} are not imported from {folder}: {why}")
            module = _import_external(name, folder.resolve())
        declared = getattr(module, "ASSIGNMENT", None)
        if not isinstance(declared, Assignment):
            raise LookupError(f"{folder}/__init__.py does not define ASSIGNMENT = Assignment(...)")
        assignment = dataclasses.replace(declared, name=name, package=module.__name__,
                                         folder=Path(module.__file__).resolve().parent)
        _LOADED[name] = assignment
        return assignment
    raise LookupError(f"no trusted tests for assignment {name!r}: no package {name}/ in "
                      + ", ".join(str(p) for p in search_path())
                      + f" (add its folder to {PATH_VARIABLE}, or python -m grading --assignments DIR)")
