"""Grading on many machines: the README's Dask commands, verbatim, on localhost.

``make dask-certs``, the scheduler and two workers are started with the lines of the README's
block, with only its placeholders (the course folder, SCHEDULER, the port, 0.0.0.0) filled in as
a user would. A small class is graded through them with the README's ``make autograde`` line; the
scores are exactly those of the local run. A worker killed while it grades costs nothing. Nobody
without a certificate of the course's CA gets in: not a tcp:// client, not a TLS client without a
certificate or with one of its own CA, not a worker started from a student's own checkout, and
no HTTP port of Dask's (its unauthenticated web pages) is open.
"""

import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time

import nbformat
import pytest
from nbgrader.api import Gradebook

from nbtools import (ASSIGNMENT, ROOT, SOLUTION_DELIMITERS, cases, free_port, make_course, nbgrader, nbgrader_meta,
                     read, solution_cells)

from grading.core import dask_security

NOTEBOOK = "01_convolutions"
SECTION = "**Grading on many machines (Dask).**"
# What a checkout of the repository brings that the README's commands use (make_course adds the rest).
CHECKOUT = ("Makefile", "requirements.txt", "pyproject.toml", "etc")


def readme_commands():
    """The lines of the README's Dask block by what they start: certs, scheduler, worker, autograde."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index(SECTION):].split("```bash\n", 1)[1].split("\n```", 1)[0]
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines() if line.strip()]
    roles = {"certs": "make dask-certs", "scheduler": "dask scheduler", "worker": "dask worker",
             "autograde": "make autograde"}
    found = {role: [line for line in lines if marker in line] for role, marker in roles.items()}
    assert all(len(matches) == 1 for matches in found.values()) and len(lines) == len(roles), lines
    return {role: matches[0] for role, matches in found.items()}


def as_user_would(line, course, port):
    """A README line with its placeholders filled in: this course folder, the scheduler on localhost."""
    filled = (line.replace("/path/to/this/course", str(course)).replace("0.0.0.0", "127.0.0.1")
              .replace("://SCHEDULER:8786", f"://127.0.0.1:{port}").replace("--port 8786", f"--port {port}"))
    assert "8786" not in filled and "://SCHEDULER" not in filled, filled
    return filled


def _environment():
    """This environment without anything that would put the course on a path or configure Dask."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith(("DASK_", "MAKE"))}


def _checkout(folder):
    """A course folder as a clone has it: the scratch course plus the repository's set-up files."""
    make_course(folder)
    for name in CHECKOUT:
        (folder / name).symlink_to(ROOT / name)
    # This venv, with a set-up stamp of the folder's own: make never redoes the set-up here.
    venv = folder / ".venv"
    venv.mkdir()
    for entry in (ROOT / ".venv").iterdir():
        if entry.name != ".installed":
            (venv / entry.name).symlink_to(entry)
    (venv / ".installed").touch()
    return folder


def _shell(line, cwd, log=None, **kwargs):
    """Run a README line as a user types it, in bash."""
    if log is None:
        return subprocess.run(["bash", "-c", line], cwd=cwd, env=_environment(), capture_output=True, text=True,
                              **kwargs)
    return subprocess.Popen(["bash", "-c", line], cwd=cwd, env=_environment(), stdout=open(log, "w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _stop(processes):
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _stranger(certificate=None, key=None):
    """Dask connection settings of someone who trusts any scheduler and shows ``certificate`` (or none)."""
    from distributed.security import Security

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if certificate:
        context.load_cert_chain(certificate, key)

    class Stranger(Security):
        def get_connection_args(self, role):
            return {"ssl_context": context, "require_encryption": True, "extra_conn_args": {}}

    return Stranger()


# ---------------------------------------------------------------- the README's cluster (slow)

@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    commands, port = readme_commands(), free_port()
    machine = _checkout(tmp_path_factory.mktemp("dask") / "course")
    log = machine.parent
    made = _shell(commands["certs"], machine, timeout=600)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    scheduler = _shell(as_user_would(commands["scheduler"], machine, port), machine, log / "scheduler.log")
    workers = [_shell(as_user_would(commands["worker"], machine, port), machine, log / f"worker{i}.log")
               for i in range(2)]
    address = f"tls://127.0.0.1:{port}"
    from distributed import Client

    try:
        with Client(address, security=dask_security.client_security(machine / "dask-certs"), timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield {"address": address, "port": port, "scheduler": scheduler, "workers": workers, "log": log,
               "machine": machine, "commands": commands}
    finally:
        _stop(workers + [scheduler])


def _course(path, cluster, slow=False):
    """A grading machine's course with three submissions of one notebook, and the cluster's certificates."""
    root = _checkout(path)
    shutil.copytree(cluster["machine"] / "dask-certs", root / "dask-certs")  # "copy that folder"
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=root)
    release = read(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    source = read(root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    answers = {gid: "\n".join(line for line in c.source.splitlines() if line.strip() not in SOLUTION_DELIMITERS)
               for gid, c in solution_cells(source).items()}
    if slow:  # solution cells that take a while (each within its own time), so that a worker can be killed mid-job
        for gid in ("output_size", "corr2d"):
            answers[gid] = "import time\ntime.sleep(3)\n" + answers[gid]
    submissions = {"instructor": answers, "partial": cases(NOTEBOOK)["partial_valid_only"]["cells"],
                   "untouched": {}}
    for student, cells in submissions.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nb = nbformat.from_dict(release)
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if nbgrader_meta(cell).get("solution") and gid in cells:
                cell.source = cells[gid]
        nbformat.write(nb, str(folder / f"{NOTEBOOK}.ipynb"))
    return root


def _scores(root):
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {student: {g.name: g.auto_score
                          for g in gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student).grades
                          if g.cell.cell_type == "code"} for student in ("instructor", "partial", "untouched")}


FULL_MARKS = {"test_output_size": 1.0, "test_corr2d_valid": 3.0, "test_corr2d_stride_padding": 2.0, "test_conv2d": 2.0}


@pytest.mark.slow
def test_a_class_graded_on_dask_scores_exactly_as_on_this_machine(cluster, tmp_path):
    remote = _course(tmp_path / "remote", cluster)
    run = _shell(as_user_would(cluster["commands"]["autograde"], remote, cluster["port"]), remote, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"on the Dask cluster at {cluster['address']}" in run.stdout and "0 failed" in run.stdout
    local = _course(tmp_path / "local", cluster)
    run = subprocess.run([sys.executable, "-m", "grading", "autograde", ASSIGNMENT, "--workers", "1"], cwd=local,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:]
    assert _scores(remote) == _scores(local)
    assert _scores(remote)["instructor"] == FULL_MARKS
    assert _scores(remote)["partial"] == {"test_output_size": 0.0, "test_corr2d_valid": 3.0,
                                          "test_corr2d_stride_padding": 0.0, "test_conv2d": 0.0}
    # The cached results are the same data, whichever machine computed them.
    for student in ("instructor", "partial", "untouched"):
        a = json.loads((remote / ".grading" / ASSIGNMENT / student / f"{NOTEBOOK}.json").read_text())["result"]
        b = json.loads((local / ".grading" / ASSIGNMENT / student / f"{NOTEBOOK}.json").read_text())["result"]
        assert {g: t["score"] for g, t in a["tests"].items()} == {g: t["score"] for g, t in b["tests"].items()}


def listening_ports(pid):
    """The TCP ports that a process and its descendants listen on."""
    import psutil

    root = psutil.Process(pid)
    return {connection.laddr.port for process in [root, *root.children(recursive=True)]
            for connection in process.net_connections("tcp") if connection.status == psutil.CONN_LISTEN}


def _lets_in(address, security):
    """Whether a Dask listener completes a connection (TLS and Dask's handshake) with ``security``."""
    import asyncio

    from distributed.comm import connect

    async def attempt():
        arguments = security.get_connection_args("client") if security else {}
        try:
            comm = await connect(address, timeout="10s", **arguments)
        except OSError:
            return False
        await comm.close()
        return True

    return asyncio.run(attempt())


@pytest.mark.slow
def test_nobody_without_the_course_certificate_gets_in(cluster, tmp_path):
    from distributed import Client

    ours = dask_security.client_security(cluster["machine"] / "dask-certs")
    with Client(cluster["address"], security=ours, timeout="30s") as client:
        info = client.scheduler_info()
    workers = set(info["workers"])
    listeners = [cluster["address"], *workers, *(w["nanny"] for w in info["workers"].values() if w.get("nanny"))]
    assert len(workers) == 2 and len(listeners) == 5, listeners
    # A student's own clone, with certificates of their own CA from the same command.
    student = _checkout(tmp_path / "student")
    assert _shell(cluster["commands"]["certs"], student, timeout=600).returncode == 0
    rogue = _shell(as_user_would(cluster["commands"]["worker"], student, cluster["port"]), student,
                   tmp_path / "rogue.log")
    theirs = dask_security.role_files(student / "dask-certs", "client")
    for listener in listeners:
        assert _lets_in(listener, ours), f"{listener} refuses the course's own client"
        assert not _lets_in(listener.replace("tls://", "tcp://"), None), f"{listener} let in a tcp:// client"
        assert not _lets_in(listener, _stranger()), f"{listener} let in a TLS client without a certificate"
        assert not _lets_in(listener, _stranger(*map(str, theirs))), \
            f"{listener} let in a TLS client with a certificate of another CA"
    try:
        rogue.wait(timeout=60)  # it gives up at once; one that kept trying must not have joined either
    except subprocess.TimeoutExpired:
        pass
    finally:
        _stop([rogue])
    with Client(cluster["address"], security=ours, timeout="30s") as client:
        info = client.scheduler_info()
    assert set(info["workers"]) == workers, "only the course's own workers are in the cluster"
    # No HTTP port (Dask's unauthenticated pages, the scheduler's on 8787): each listens on its TLS ports only.
    assert listening_ports(cluster["scheduler"].pid) == {cluster["port"]}
    ports = {int(listener.rsplit(":", 1)[1]) for listener in listeners[1:]}
    assert set().union(*(listening_ports(worker.pid) for worker in cluster["workers"])) == ports


@pytest.mark.slow
def test_a_worker_that_dies_mid_job_costs_nothing(cluster, tmp_path):
    root = _course(tmp_path / "course", cluster, slow=True)
    process = _shell(as_user_would(cluster["commands"]["autograde"], root, cluster["port"]), root,
                     tmp_path / "autograde.log")
    time.sleep(8)  # both workers are inside a job (the solution cells sleep 6 s per set-up)
    os.killpg(cluster["workers"][0].pid, signal.SIGKILL)
    process.wait(timeout=900)
    out = (tmp_path / "autograde.log").read_text()
    assert process.returncode == 0, out[-3000:]
    assert _scores(root)["instructor"] == FULL_MARKS
    assert "0 failed" in out
