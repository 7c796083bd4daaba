"""``make student-bundle``: ``dist/<assignment>-student.zip``, the assignment as students get it.

The bundle is the whole student environment: the release notebooks, the student-facing
``helpers`` package as a wheel (built from ``helpers/`` alone, so nothing of ``grading/`` can be in
it), the exact pins of everything the notebooks need on Linux, macOS and Windows (the closure of
:data:`STUDENT_PACKAGES` in the course lock: no nbgrader, Dask or test tools), a set-up script
(``setup_<assignment>.py``, from :mod:`grading.course.student_setup`) that installs exactly those pins with
``--no-deps`` as the course venv is installed, and a short README for students. Nothing comes
from ``source/`` or ``notebooks/``; ``tests/test_bundle.py`` scans every file for the solutions.
"""

import importlib.metadata
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: What the student notebooks and ``helpers`` import or run in, beside the standard library
#: (``tests/test_student_environment.py`` checks this against their import statements); their
#: dependencies come along, pinned as in requirements.txt.
STUDENT_PACKAGES = ["jupyterlab", "ipykernel", "ipywidgets", "numpy", "scipy", "matplotlib", "torch",
                    "scikit-learn", "scikit-image", "tqdm"]

#: Needed on macOS or Windows only, so not in the course lock (made on Linux). None of them
#: requires another package (read off their wheels' metadata).
PLATFORM_PINS = {"appnope": "1.0.0", "colorama": "0.4.6", "pywinpty": "3.1.2"}

#: Asked for by a dependency but left out on purpose, as in the course venv: jsonschema's optional
#: IRI checker (through jupyter-events' ``jsonschema[format-nongpl]``), which with the lark parser
#: it brings makes every nbformat import over a second slower. Nothing the students run uses it.
LEFT_OUT = {"rfc3987-syntax"}

#: The platforms a student may have, as environment markers see them (one Python version each is
#: enough for the markers in this lock, which only ask for 3.11 or older; newer ones are added
#: where a package asks for them, as torch does for setuptools on 3.12).
PLATFORMS = {
    "linux": {"os_name": "posix", "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
    "darwin": {"os_name": "posix", "sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
    "win32": {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64"},
}
PYTHONS = ["3.11", "3.12", "3.13", "3.14"]

#: What the bundle is made of, in this repository: its files' date is when these last changed.
INPUTS = ["release", "helpers", "requirements.txt", "pyproject.toml", "grading/course/bundle.py",
          "grading/course/student_setup.py"]


#: Counts of notebooks as the student README spells them; larger ones stay digits.
NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve"]


def bundle_folder(assignment):
    """The folder that the bundle unpacks to."""
    return f"{assignment}-student"


def setup_script(assignment):
    """The name of the set-up script in the bundle (:mod:`grading.course.student_setup` reads it back)."""
    return f"setup_{assignment}.py"


def wheel_pattern(pyproject=ROOT / "pyproject.toml"):
    """The file name pattern of the ``helpers`` wheel: its distribution name from ``pyproject.toml``."""
    import tomllib

    name = tomllib.loads(Path(pyproject).read_text())["project"]["name"]
    return f"{re.sub(r'[-_.]+', '_', name)}-*.whl"  # a wheel's file name writes the name this way


def number_word(count):
    """``count`` as a word for the README ("six"), or as digits when large."""
    return NUMBER_WORDS[count] if 0 <= count < len(NUMBER_WORDS) else str(count)


def _normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(requirements):
    pins = {}
    for line in Path(requirements).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[_normalise(name)] = (name.strip(), version.strip())
    return pins


def _environments():
    from packaging.markers import default_environment

    for platform, values in PLATFORMS.items():
        for python in PYTHONS:
            yield platform, {**default_environment(), **values, "python_version": python,
                             "python_full_version": f"{python}.0", "implementation_name": "cpython",
                             "platform_python_implementation": "CPython"}


def _requires(name):
    """The requirement strings of an installed distribution (``PLATFORM_PINS`` require nothing)."""
    if name in PLATFORM_PINS:
        return []
    try:
        return importlib.metadata.requires(name) or []
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(f"{name} is needed by the student notebooks but not installed here, "
                           "so what it needs cannot be read") from None


def closure(roots=STUDENT_PACKAGES):
    """Every package that ``roots`` need, and on which platforms.

    Walks the installed distributions' requirements, extras included, once for each platform of
    :data:`PLATFORMS` and Python of :data:`PYTHONS`; stops at :data:`LEFT_OUT`.

    Returns
    -------
    dict
        Normalised name -> set of platform names (keys of :data:`PLATFORMS`).
    """
    from packaging.requirements import Requirement

    needed = {}
    for platform, environment in _environments():
        seen, todo = set(), [(_normalise(r), frozenset()) for r in roots]
        while todo:
            name, extras = todo.pop()
            if (name, extras) in seen or name in LEFT_OUT:
                continue
            seen.add((name, extras))
            needed.setdefault(name, set()).add(platform)
            for text in _requires(name):
                requirement = Requirement(text)
                marker = requirement.marker
                if marker is None or any(marker.evaluate({**environment, "extra": extra})
                                         for extra in sorted(extras) or [""]):
                    todo.append((_normalise(requirement.name), frozenset(map(_normalise, requirement.extras))))
    return needed


def _marker(platforms):
    if set(platforms) == set(PLATFORMS):
        return ""
    return " ; " + " or ".join(f'sys_platform == "{p}"' for p in sorted(platforms))


def student_requirements(requirements=ROOT / "requirements.txt", roots=STUDENT_PACKAGES):
    """Exact pins for ``roots`` and everything they need, from the course lock.

    Returns
    -------
    list of str
        ``name==version`` lines, sorted, with a ``sys_platform`` marker on those that only some
        platforms need.

    Raises
    ------
    RuntimeError
        When a needed package is neither pinned in the lock nor in :data:`PLATFORM_PINS`.
    """
    pins = _pins(requirements)
    pins.update({name: (name, version) for name, version in PLATFORM_PINS.items()})
    needed = closure(roots)
    missing = sorted(set(needed) - set(pins))
    if missing:
        raise RuntimeError(f"not pinned in requirements.txt: {missing}")
    return sorted((f"{pins[n][0]}=={pins[n][1]}{_marker(needed[n])}" for n in needed), key=str.lower)


def minimum_python(names):
    """The oldest Python that every installed distribution in ``names`` accepts (Requires-Python).

    Returns
    -------
    str
        Such as ``"3.11.5"``; ``PLATFORM_PINS`` (which ask for less) are not read.
    """
    from packaging.specifiers import SpecifierSet

    wanted = [SpecifierSet(importlib.metadata.metadata(name).get("Requires-Python") or "")
              for name in names if name not in PLATFORM_PINS]
    candidates = [f"3.{minor}.{micro}" for minor in range(11, 20) for micro in range(30)]
    return next(version for version in candidates if all(version in spec for spec in wanted))


def _git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def bundle_time(environ=None):
    """When the bundle's files are dated, in seconds since the epoch.

    ``SOURCE_DATE_EPOCH`` when set; else the time of the last commit that changed the
    :data:`INPUTS`, when none of them has uncommitted changes (the same inputs give the same
    zip); else now.
    """
    environ = os.environ if environ is None else environ
    if environ.get("SOURCE_DATE_EPOCH"):
        return int(environ["SOURCE_DATE_EPOCH"])
    try:
        if not _git("status", "--porcelain", "--", *INPUTS):
            return int(_git("log", "-1", "--format=%ct", "--", *INPUTS))
    except (OSError, subprocess.CalledProcessError, ValueError):
        pass  # not a git checkout
    return int(time.time())


def _zip_entry(name, seconds):
    # The DOS time is local time (what Windows shows); the extended-timestamp field carries the
    # same moment in UTC for unzip and macOS.
    local = time.localtime(seconds)
    info = zipfile.ZipInfo(name, date_time=tuple(max(local[:6], (1980, 1, 1, 0, 0, 0))))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.extra = struct.pack("<HHBl", 0x5455, 5, 1, seconds)
    return info


def build_wheel(out_dir, seconds, assignment):
    """The ``helpers`` wheel, built from a copy holding only ``helpers/`` and the project file."""
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "src"
        shutil.copytree(ROOT / "helpers", tree / "helpers", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
        (tree / "README.md").write_text(f"The student-facing package of the {assignment} course unit.\n")
        env = dict(os.environ, SOURCE_DATE_EPOCH=str(seconds))  # reproducible timestamps in the wheel
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(out_dir), str(tree)], check=True, env=env, cwd=scratch)
    wheels = sorted(out_dir.glob(wheel_pattern()))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one helpers wheel, found {wheels}")
    return wheels[0]


def student_readme(assignment, notebooks, python, title=""):
    """The bundle's README: set-up, work and hand-in of ``assignment``'s ``notebooks`` (their names).

    ``title`` (what the assignment is about) follows the assignment's name in the heading.
    """
    heading = f"{assignment} · {title}" if title else assignment
    listed = ", ".join(f"`{name}`" for name in notebooks)
    count = number_word(len(notebooks))
    script = setup_script(assignment)
    return f"""# {heading}: the student version

{count.capitalize()} notebooks ({listed}) in the folder `{assignment}/`. You need Python {python} or newer.

## Set up once, then open the notebooks

Linux and macOS, in this folder:

```bash
python3 {script}
.venv/bin/jupyter lab {assignment}
```

Windows (PowerShell or the command prompt), in this folder:

```
py {script}
.venv\\Scripts\\jupyter lab {assignment}
```

The first command takes a few minutes; later, only the second is needed. It makes a virtual
environment in `.venv` holding exactly the versions in `requirements.txt` and nothing else, plus
the course package from `wheels/`. On Linux without an NVIDIA GPU it first tries PyTorch's CPU
build from PyTorch's own index (once, briefly): PyPI gives Linux the CUDA build, several GB. If
the set-up stops half-way (no network, say), run it again: it goes on where it stopped.

## Work

Run each notebook from top to bottom. Cells that say `YOUR CODE HERE` are yours; the cell after
each task checks your work and says what is wrong if it is not right yet. Cells with
*YOUR ANSWER HERE* are written answers. Keep solution cells to definitions: when your work is
graded, each solution cell gets 5 seconds to run (to define its functions), alone, where only NumPy
(and, where a task is about PyTorch, PyTorch) can be imported; a solution cell that runs longer, crashes or exits
Python is skipped: the tasks it defines score 0, the others are graded as usual.

## Hand in

The {count} `.ipynb` files of `{assignment}/`, under their names, saved (File → Save) after a last
*Kernel → Restart Kernel and Run All Cells*:

* **Moodle** (or another LMS): upload the {count} files to the assignment, or one zip of them.
* **JupyterHub with nbgrader**: in the *Assignments* tab, *Submit* next to {assignment}.

Do not rename the files or copy cells between notebooks: each answer is found by its cell. A
file over 25 MB is not graded; clear large outputs first (*Edit → Clear Outputs of All Cells*).
"""


def build(assignment, out=None, title=""):
    """Write the bundle of ``assignment`` (its notebooks in ``release/<assignment>/``); returns its path.

    Parameters
    ----------
    assignment : str
        The assignment's name.
    out : path-like, optional
        The zip to write; ``dist/<assignment>-student.zip`` by default.
    title : str
        What the assignment is about, for the heading of the students' README.
    """
    release = ROOT / "release" / assignment
    notebooks = sorted(release.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no notebooks in {release}: run make assignment first")
    out = Path(out) if out else ROOT / "dist" / f"{bundle_folder(assignment)}.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    seconds = bundle_time()
    with tempfile.TemporaryDirectory() as scratch:
        wheel = build_wheel(Path(scratch) / "wheels", seconds, assignment)
        files = {f"{assignment}/{path.name}": path.read_bytes() for path in notebooks}
        files[f"wheels/{wheel.name}"] = wheel.read_bytes()
        pins = student_requirements()
        python = minimum_python(_normalise(line.split("==")[0]) for line in pins)
        script = setup_script(assignment)
        files["requirements.txt"] = ("# Exact versions of everything the notebooks need, installed with --no-deps\n"
                                     f"# by {script} (see README.md). Needs Python {python} or newer.\n"
                                     + "\n".join(pins) + "\n").encode()
        files[script] = (ROOT / "grading" / "course" / "student_setup.py").read_bytes()
        files["README.md"] = student_readme(assignment, [p.stem for p in notebooks], python, title).encode()
        temporary = out.with_suffix(".zip.tmp")
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(files):
                archive.writestr(_zip_entry(f"{bundle_folder(assignment)}/{name}", seconds), files[name])
        os.replace(temporary, out)
    return out


def main(argv=None):
    """``python -m grading.course.bundle ASSIGNMENT``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m grading.course.bundle",
                                     description="write dist/<assignment>-student.zip, what students get")
    parser.add_argument("assignment", help="the assignment's name (its notebooks are in release/<assignment>/)")
    parser.add_argument("--title", default="", help="what the assignment is about, for the students' README")
    args = parser.parse_args(argv)
    print(f"wrote {build(args.assignment, title=args.title).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
