"""Set up an assignment's notebooks in this folder: ``python3 setup_<assignment>.py`` (Windows: ``py ...``).

Makes a virtual environment in ``.venv`` and installs exactly the versions in ``requirements.txt``
and nothing else (``pip --no-deps``: the list is complete), then the course package from
``wheels/``. Running it again finishes a set-up that stopped half-way. Afterwards, open the
notebooks with ``.venv/bin/jupyter lab <assignment>`` (Windows: ``.venv\\Scripts\\jupyter lab <assignment>``).

(In the course repository this is ``grading/course/student_setup.py``; ``make student-bundle`` copies
it into the bundle as ``setup_<assignment>.py``, the name from which it reads the assignment.)
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
#: The assignment whose notebooks are in this folder (``setup_<assignment>.py``, as the bundle names this script).
ASSIGNMENT = Path(__file__).stem.removeprefix("setup_")
#: PyTorch's CPU-only builds; PyPI's Linux build of PyTorch is the CUDA one (several GB).
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: JupyterLab's "Would you like to get notified about official Jupyter news?" pop-up.
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
#: The kernel the notebooks record, so that opening one changes nothing in it.
KERNEL = ("python3", "Python 3 (ipykernel)")


def venv_python(venv=VENV):
    """The virtual environment's Python."""
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def pinned_version(name, requirements):
    """The version ``requirements`` (text of a requirements file) pins for ``name``, or None."""
    found = re.search(rf"^{re.escape(name)}==([^\s;#]+)", requirements, re.M | re.I)
    return found.group(1) if found else None


def required_python(requirements):
    """The oldest Python that ``requirements`` (text of a requirements file) says it needs, as a tuple."""
    found = re.search(r"Needs Python (\d+(?:\.\d+)+) or newer", requirements)
    return tuple(int(part) for part in found.group(1).split(".")) if found else (3, 11)


def wants_cpu_torch(platform=sys.platform, which=shutil.which):
    """Whether to try PyTorch's CPU build: on Linux without an NVIDIA driver."""
    return platform.startswith("linux") and which("nvidia-smi") is None


def run(args, check=True, quiet=False):
    """Run a command, showing it (and, when ``quiet``, its output only if it fails); True when it succeeded."""
    args = [str(a) for a in args]
    print("$", subprocess.list2cmdline(args) if os.name == "nt" else shlex.join(args), flush=True)
    done = subprocess.run(args, capture_output=quiet, text=True)
    if quiet and done.returncode:
        print(done.stdout + done.stderr)
    if check and done.returncode:
        sys.exit(f"The set-up stopped: the command above failed (exit code {done.returncode}). "
                 f"Fix what it says (network?), then run {Path(__file__).name} again.")
    return done.returncode == 0


def pip(python, *args, check=True):
    return run([python, "-m", "pip", "--disable-pip-version-check", *args], check=check)


def imports(python, module):
    return subprocess.run([str(python), "-c", f"import {module}"], capture_output=True).returncode == 0


def main():
    requirements = HERE / "requirements.txt"
    wheels = sorted((HERE / "wheels").glob("*.whl"))  # the bundle holds one: the course package
    if not requirements.is_file() or len(wheels) != 1:
        sys.exit(f"{HERE} is not the unpacked {ASSIGNMENT} bundle (requirements.txt and wheels/ are missing).")
    needed = required_python(requirements.read_text())
    if sys.version_info[:len(needed)] < needed:
        sys.exit(f"Python {'.'.join(map(str, needed))} or newer is needed; this is {sys.version.split()[0]} "
                 f"({sys.executable}). Install a newer Python and run this script with it.")
    python = venv_python()
    if not python.exists():
        run([sys.executable, "-m", "venv", VENV])
    torch = pinned_version("torch", requirements.read_text())
    if torch and wants_cpu_torch():
        # One quick try (no retries): an index that cannot be reached must not hold up the set-up.
        if not pip(python, "install", "--no-deps", "--retries", "0", "--timeout", "15", "--index-url", CPU_INDEX,
                   f"torch=={torch}+cpu", check=False):
            print(f"NOTE: PyTorch's CPU build could not be fetched from {CPU_INDEX}; PyPI's build comes instead.")
    pip(python, "install", "--no-deps", "-r", requirements, wheels[0])
    if torch and not imports(python, "torch"):
        # PyPI's Linux build needs NVIDIA's CUDA libraries, which are separate packages.
        print("NOTE: this PyTorch build needs its CUDA libraries: installing them (several GB).")
        pip(python, "install", f"torch=={torch}")
    pip(python, "check")
    run([python, "-m", "jupyterlab.labextensions", "disable", "--level=sys_prefix", NEWS_PLUGIN], quiet=True)
    run([python, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL[0], "--display-name", KERNEL[1]],
        quiet=True)
    lab = Path(".venv", "Scripts", "jupyter") if os.name == "nt" else Path(".venv", "bin", "jupyter")
    print(f"\nDone. Open the notebooks with:  {lab} lab {ASSIGNMENT}")


if __name__ == "__main__":
    main()
