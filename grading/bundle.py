"""``make student-bundle``: ``dist/ex04-student.zip``, the unit as students get it.

The bundle holds the release notebooks, the student-facing ``helpers`` package as a wheel (built
from ``helpers/`` alone, so nothing of ``grading/`` can be in it), the exact pins of what the
notebooks need (a subset of ``requirements.txt``: no nbgrader, Dask or test tools) and a short
README for students. Nothing comes from ``source/`` or ``notebooks/``;
``tests/test_bundle.py`` scans every file for the solutions.
"""

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: What the student notebooks import or run in, beside the standard library; their dependencies
#: come along (resolved from this environment's metadata, pinned as in requirements.txt).
STUDENT_PACKAGES = ["jupyterlab", "ipykernel", "ipywidgets", "numpy", "scipy", "matplotlib", "torch",
                    "scikit-learn", "scikit-image"]

TOP = "ex04-student"
#: A fixed time for every member, so that the same inputs give the same zip.
ZIP_TIME = (2026, 1, 1, 0, 0, 0)


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


def student_requirements(requirements=ROOT / "requirements.txt", roots=STUDENT_PACKAGES):
    """Exact pins for ``roots`` and everything they need (on this platform), from the course lock.

    Returns
    -------
    list of str
        ``name==version`` lines, sorted.

    Raises
    ------
    RuntimeError
        When a needed package is not pinned in the lock.
    """
    from packaging.requirements import Requirement

    pins = _pins(requirements)
    wanted, todo = set(), [_normalise(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            raise RuntimeError(f"{name} is needed by the student notebooks but not installed here") from None
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(_normalise(requirement.name))
    missing = sorted(wanted - set(pins))
    if missing:
        raise RuntimeError(f"not pinned in requirements.txt: {missing}")
    return sorted((f"{pins[n][0]}=={pins[n][1]}" for n in wanted), key=str.lower)


def build_wheel(out_dir):
    """The ``helpers`` wheel, built from a copy holding only ``helpers/`` and the project file."""
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "src"
        shutil.copytree(ROOT / "helpers", tree / "helpers", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
        (tree / "README.md").write_text("The student-facing package of the ex04 course unit.\n")
        env = dict(os.environ, SOURCE_DATE_EPOCH="1767225600")  # reproducible timestamps in the wheel
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(out_dir), str(tree)], check=True, env=env, cwd=scratch)
    wheels = sorted(out_dir.glob("ex04_helpers-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one helpers wheel, found {wheels}")
    return wheels[0]


def student_readme(wheel_name, notebooks):
    listed = ", ".join(f"`{name}`" for name in notebooks)
    return f"""# ex04 · Convolutional neural networks: the student version

Six notebooks ({listed}) in the folder `ex04/`. You need Python 3.11 or newer.

## Set up once, then open the notebooks

Linux and macOS, in this folder:

```bash
python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt wheels/{wheel_name}
.venv/bin/jupyter lab ex04
```

Windows (PowerShell or the command prompt), in this folder:

```
py -m venv .venv && .venv\\Scripts\\python -m pip install -r requirements.txt wheels\\{wheel_name}
.venv\\Scripts\\jupyter lab ex04
```

The first command takes a few minutes; later, only the second is needed. **On Linux without an
NVIDIA GPU**, add `--extra-index-url https://download.pytorch.org/whl/cpu` to the `pip install`
of the first command: plain PyPI gives Linux the CUDA build of PyTorch (several GB), the CPU
build does the same here in a fraction of the space. (Where that address cannot be reached,
leave it out: it works either way.)

## Work

Run each notebook from top to bottom. Cells that say `YOUR CODE HERE` are yours; the cell after
each task checks your work and says what is wrong if it is not right yet. Cells with
*YOUR ANSWER HERE* are written answers. Keep solution cells to definitions: when your work is
graded, each notebook's solution cells get 10 seconds to run, alone, where only NumPy (and, in
notebook 06, PyTorch) can be imported.

## Hand in

The six `.ipynb` files of `ex04/`, under their names, saved (File → Save) after a last
*Kernel → Restart Kernel and Run All Cells*:

* **Moodle** (or another LMS): upload the six files to the assignment, or one zip of them.
* **JupyterHub with nbgrader**: in the *Assignments* tab, *Submit* next to ex04.

Do not rename the files or copy cells between notebooks: each answer is found by its cell. A
file over 25 MB is not graded; clear large outputs first (*Edit → Clear Outputs of All Cells*).
"""


def build(out=ROOT / "dist" / "ex04-student.zip", assignment="ex04"):
    """Write the bundle; returns its path."""
    release = ROOT / "release" / assignment
    notebooks = sorted(release.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no notebooks in {release}: run make assignment first")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        wheel = build_wheel(Path(scratch) / "wheels")
        files = {f"{assignment}/{path.name}": path.read_bytes() for path in notebooks}
        files[f"wheels/{wheel.name}"] = wheel.read_bytes()
        files["requirements.txt"] = ("# Exact versions of what the notebooks need. Install: see README.md.\n"
                                     + "\n".join(student_requirements()) + "\n").encode()
        files["README.md"] = student_readme(wheel.name, [p.stem for p in notebooks]).encode()
        temporary = out.with_suffix(".zip.tmp")
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(files):
                info = zipfile.ZipInfo(f"{TOP}/{name}", date_time=ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, files[name])
        os.replace(temporary, out)
    return out


if __name__ == "__main__":
    print(f"wrote {build().relative_to(ROOT)}")
