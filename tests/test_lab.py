"""`make lab` serves the student versions in JupyterLab, with a kernel that runs this venv;
`make instructor` serves the course with a working Formgrader."""

import json
import os
import signal
import subprocess
import time
import re
import urllib.error
import urllib.request

import pytest

from nbtools import BIN, ROOT, free_port, notebook_names

pytestmark = pytest.mark.slow
TOKEN = "ex04-test"


def _get(port, path):
    # Formgrader creates the gradebook on its first API call (alembic): seconds on a busy machine.
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}?token={TOKEN}", timeout=60) as response:
        return json.load(response)


def _serve(target):
    """Run `make <target>` on a free port until the server answers; yield the port."""
    port = free_port()
    args = f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 --IdentityProvider.token={TOKEN}"
    # The Makefile target itself, as a student or instructor runs it (the set-up is already done).
    server = subprocess.Popen(["make", "--no-print-directory", target, f"LAB_ARGS={args}"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        for _ in range(120):
            try:
                _get(port, "/api/status")
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"make {target} exited:\n{server.stdout.read()[-3000:]}")
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 60 s")
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def lab():
    yield from _serve("lab")


@pytest.fixture(scope="module")
def instructor():
    yield from _serve("instructor")


def test_lab_serves_the_student_notebooks(lab):
    listing = _get(lab, "/api/contents/")
    names = {item["name"] for item in listing["content"]}
    assert {f"{name}.ipynb" for name in notebook_names()} <= names
    notebook = _get(lab, f"/api/contents/{notebook_names()[0]}.ipynb")
    text = json.dumps(notebook["content"])
    assert "raise NotImplementedError()" in text, "make lab must open the student versions, not the solutions"


def test_lab_kernel_is_the_course_venv_and_notebooks_open_unmodified(lab):
    specs = _get(lab, "/api/kernelspecs")
    python3 = specs["kernelspecs"]["python3"]["spec"]
    assert python3["argv"][0].startswith(str(BIN.parent)), python3["argv"]
    # JupyterLab rewrites a notebook's kernelspec metadata (and marks it modified) when it differs
    # from the kernel it starts: every release notebook must record exactly this one.
    for name in notebook_names():
        recorded = _get(lab, f"/api/contents/{name}.ipynb")["content"]["metadata"]["kernelspec"]
        assert (recorded["name"], recorded["display_name"]) == ("python3", python3["display_name"]), name


def _page_config(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={TOKEN}", timeout=60) as response:
        page = response.read().decode()
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


INSTRUCTOR_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                      "@jupyter/nbgrader:validate-assignment"]


def test_the_student_lab_has_no_instructor_tools(lab, instructor):
    disabled = _page_config(lab).get("disabledExtensions", [])
    assert all(plugin in disabled for plugin in INSTRUCTOR_PLUGINS), disabled
    for path in ("/formgrader", "/formgrader/api/assignments"):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"http://127.0.0.1:{lab}{path}?token={TOKEN}", timeout=60)
        assert error.value.code == 404, path
    # The same environment, started as make instructor: the tools are there (the test can fail).
    disabled = _page_config(instructor).get("disabledExtensions", [])
    assert not any(plugin in disabled for plugin in INSTRUCTOR_PLUGINS), disabled


def test_instructor_gets_a_working_formgrader(instructor):
    # Formgrader shows an error page, not an HTTP error, when the course root is outside the
    # server root, so look at what it says.
    url = f"http://127.0.0.1:{instructor}/formgrader/manage_assignments?token={TOKEN}"
    with urllib.request.urlopen(url, timeout=60) as response:
        page = response.read().decode()
    assert "formgrader encountered an error" not in page
    assert "Manage Assignments" in page
    assignments = _get(instructor, "/formgrader/api/assignments")
    assert "ex04" in [a["name"] for a in assignments]
    # Release and Collect need the exchange folder: make instructor creates it, writable by all.
    exchange = ROOT / "exchange"
    assert exchange.is_dir() and exchange.stat().st_mode & 0o777 == 0o777


def test_formgrader_gets_mathjax_from_the_instructor_server(instructor):
    # Formgrader pages load MathJax from here (grading/course/templates/base/mathjax.html.j2), not a CDN.
    url = f"http://127.0.0.1:{instructor}/static/jupyter_server_mathjax/MathJax.js?token={TOKEN}"
    with urllib.request.urlopen(url, timeout=60) as response:
        assert response.status == 200 and b"MathJax" in response.read(2000)
