"""`make lab` serves the student versions in JupyterLab, with a kernel that runs this venv."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from nbtools import BIN, ROOT, notebook_names

pytestmark = pytest.mark.slow
TOKEN = "ex04-test"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}?token={TOKEN}", timeout=5) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def lab():
    port = _free_port()
    args = f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 --IdentityProvider.token={TOKEN}"
    # The Makefile target itself, as a student runs it (the set-up step is already done).
    server = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        for _ in range(120):
            try:
                _get(port, "/api/status")
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"make lab exited:\n{server.stdout.read()[-3000:]}")
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 60 s")
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_lab_serves_the_student_notebooks(lab):
    listing = _get(lab, "/api/contents/")
    names = {item["name"] for item in listing["content"]}
    assert {f"{name}.ipynb" for name in notebook_names()} <= names
    notebook = _get(lab, f"/api/contents/{notebook_names()[0]}.ipynb")
    text = json.dumps(notebook["content"])
    assert "raise NotImplementedError()" in text, "make lab must open the student versions, not the solutions"


def test_lab_kernel_is_the_course_venv(lab):
    specs = _get(lab, "/api/kernelspecs")
    python3 = specs["kernelspecs"]["python3"]["spec"]
    assert python3["argv"][0].startswith(str(BIN.parent)), python3["argv"]
    assert python3["display_name"] == "Python 3 (ex04)"
