"""The environment: pins, conda file in step with them, no CUDA on a CPU machine, config loads."""

import importlib.metadata
import re
import sys
import sysconfig

import pytest
import yaml
from traitlets.config.loader import PyFileConfigLoader

from nbtools import ROOT

# Packages whose version can change a stored output or a grade: pinned exactly in both files.
MUST_PIN = ["numpy", "scipy", "matplotlib", "torch", "scikit-image", "scikit-learn", "ipywidgets",
            "ipykernel", "nbgrader", "nbval", "nbconvert", "nbclient", "nbformat", "jupyterlab", "pillow"]
CONDA_TO_PIP = {"pytorch": "torch"}


def _normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _pip_pins():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"requirements.txt: {line!r} is not an exact pin"
            pins[_normalise(name)] = version
    return pins


def _conda_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, _, version = dep.partition("=")
            pins[_normalise(CONDA_TO_PIP.get(name, name))] = version or None
    return pins


def test_requirements_pin_everything_that_matters():
    pins = _pip_pins()
    missing = [name for name in MUST_PIN if name not in pins]
    assert not missing, f"requirements.txt must pin {missing}"
    assert pins["torch"] == "2.13.0"


def test_environment_yml_is_in_step_with_requirements():
    pip, conda = _pip_pins(), _conda_pins()
    missing = [name for name in MUST_PIN if name not in conda]
    assert not missing, f"environment.yml lacks {missing}"
    different = {name: (version, pip.get(name)) for name, version in conda.items()
                 if version and name not in ("python",) and version != pip.get(name)}
    assert not different, f"environment.yml (conda, pip) versions differ: {different}"
    assert conda["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert "torchvision" in conda, "conda users get torchvision (optional for pip users)"


def test_installed_versions_are_the_pinned_ones():
    pins = _pip_pins()
    wrong = {}
    for name in MUST_PIN:
        installed = importlib.metadata.version(name).split("+")[0]  # torch reports 2.13.0+cpu
        if installed != pins[name]:
            wrong[name] = (pins[name], installed)
    assert not wrong, f"(pinned, installed) differ, run `make venv`: {wrong}"


def test_no_cuda_packages_on_a_machine_without_gpu():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    cuda = sorted(d.metadata["Name"] for d in importlib.metadata.distributions()
                  if re.match(r"(nvidia-|cuda-|triton)", d.metadata["Name"].lower()))
    assert not cuda, f"CUDA packages installed on a CPU machine: {cuda}"


def test_nbgrader_config_loads_without_error():
    # nbgrader ignores a config file that raises and carries on with its defaults (wrong folders,
    # hidden tests in the solutions), so a broken config must fail here instead.
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert config.CourseDirectory.solution_directory == "notebooks"
    names = [getattr(p, "__name__", p) for p in config.GenerateSolution.preprocessors]
    assert "ClearHiddenTests" in names and names.index("ClearHiddenTests") < names.index("Execute")
    # Grading executes nothing in nbgrader: trusted results fill the test cells.
    autograde = [getattr(p, "__name__", p) for p in config.Autograde.autograde_preprocessors]
    assert "grading.course.preprocessors.TrustedResults" in autograde and "Execute" not in autograde
    sanitize = [getattr(p, "__name__", p) for p in config.Autograde.sanitize_preprocessors]
    assert sanitize[0] == "grading.course.preprocessors.RebuildFromRelease"


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")]
    assert commands[-1].strip() == "make test"
    assert "make test" in (ROOT / "README.md").read_text()


def test_every_installed_package_is_pinned_exactly():
    # Nothing floats: a dependency missing from requirements.txt would install whatever is newest.
    pins = _pip_pins()
    own = {"pip", "setuptools", "wheel", "ex04-helpers"}
    unpinned, different = [], {}
    # Only what pip installed into site-packages (setuptools can put its vendored copies on sys.path).
    site_packages = sysconfig.get_paths()["purelib"]
    for dist in importlib.metadata.distributions(path=[site_packages]):
        name = _normalise(dist.metadata["Name"])
        version = dist.version.split("+")[0]
        if name in own:
            continue
        if name not in pins:
            unpinned.append(name)
        elif pins[name] != version:
            different[name] = (pins[name], version)
    assert not unpinned, f"installed but not pinned in requirements.txt: {sorted(unpinned)}"
    assert not different, f"(pinned, installed) differ: {different}"
