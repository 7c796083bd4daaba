"""One rule per visible check: the notebook's test cell and the trusted test agree on every submission.

A student sees a test cell pass in the Lab; grading must pass the same visible checks, and a test
cell that fails in the Lab must fail grading's visible phase. For every notebook this runs the
instructor's answers, the blank release (the stubs) and the crafted cases of tests/cases/ both ways:

- in the notebook: a real Jupyter kernel runs the release notebook's set-up cells once (with the
  instructor's answers), then per submission its solution cells and test cells in notebook order,
  from a snapshot of the set-up's namespace; a test cell passes when it raises nothing;
- in grading: :func:`grading.core.engine.grade_notebook` in the sandbox; the visible checks pass
  when the test passed or failed after its visible phase.

Cases whose verdict in a kernel is decided by time limits, by a dead kernel or by attacks on the
machine are not run in a kernel (``NOT_RUN_IN_A_KERNEL`` says why, case by case); cases that fool
an in-kernel check on purpose are run, and must disagree exactly where ``FOOLS_THE_KERNEL`` says.
Notebook 06's Task 5 check trains twice for 40 epochs in the kernel; ``KERNEL_SKIPS`` names the
submissions it is not run for, and ``SKIPPED_SETUP_CELLS`` the set-up cells no test cell needs.

Run as a script (``python tests/test_visible_parity.py NOTEBOOK RUNS.json``) it is the kernel side:
it prints {run: {grade_id: error or null}} as JSON.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from nbtools import HIDDEN_DELIMITERS, RELEASE, ROOT, SOURCE, cases, nbgrader_meta, notebook_names, read, \
    region  # noqa: E402

pytestmark = pytest.mark.slow

_KILLS_OR_HANGS = "ends, kills or hangs the kernel at a cell's top level; grading sets the cell aside by its time"
_ATTACKS = "attacks the machine outside its job (files, processes, network): run only in the sandbox"
NOT_RUN_IN_A_KERNEL = {
    ("01_convolutions", "threat_bombs"): "a fork bomb and a 64 GB allocation: stopped only by the sandbox's limits",
    ("01_convolutions", "threat_cell_deaf_loop_first"): _KILLS_OR_HANGS,
    ("01_convolutions", "threat_cell_deaf_loop_last"): _KILLS_OR_HANGS,
    ("01_convolutions", "threat_cell_exit_first"): _KILLS_OR_HANGS,
    ("01_convolutions", "threat_cell_exit_last"): _KILLS_OR_HANGS,
    ("01_convolutions", "threat_cell_loop_first"): _KILLS_OR_HANGS,
    ("01_convolutions", "threat_cell_loop_last"): _KILLS_OR_HANGS,
    ("01_convolutions", "threat_cell_sigkill_first"): _KILLS_OR_HANGS,
    ("01_convolutions", "threat_cell_sigkill_last"): _KILLS_OR_HANGS,
    ("01_convolutions", "threat_course_folder"): _ATTACKS,
    ("01_convolutions", "threat_crash"): "os._exit and a segmentation fault inside the graded functions",
    ("01_convolutions", "threat_forged_reply"): "writes a forged reply of the grading protocol to its stdout",
    ("01_convolutions", "threat_hang"): "an endless loop that ignores interrupts, decided by the test's time limit",
    ("01_convolutions", "threat_hang_at_import"): _KILLS_OR_HANGS,
    ("01_convolutions", "threat_tamper_runtime"): "switches off builtins, NumPy's comparisons and the IPython shell "
                                                  "of the kernel that would judge it",
    ("02_sobel_laplace", "threat_blocked_pipe"): "forges a protocol reply, then sleeps for ever",
    ("06_pytorch_cnn", "threat_cell_loop_in_train"): _KILLS_OR_HANGS,
    ("06_pytorch_cnn", "threat_leak_between_tests"): _ATTACKS,
}

_EVADES = "hides SciPy or PyTorch from check_numpy_only's profiler; the sandbox has no SciPy"
#: Submissions built to pass an in-kernel check that grading fails: {(notebook, case): {grade_id: why}}.
FOOLS_THE_KERNEL = {
    ("01_convolutions", "evades_the_probe"): dict.fromkeys(
        ["test_corr2d_valid", "test_corr2d_stride_padding", "test_conv2d"], _EVADES),
    ("01_convolutions", "threat_liars"): dict.fromkeys(
        ["test_output_size", "test_corr2d_stride_padding", "test_conv2d"],
        "results that claim to equal anything, or hand back the test's own expected array"),
    ("03_conv_backprop", "evades_the_probe"): dict.fromkeys(
        ["test_corr2d_backward", "test_conv_forward", "test_conv_backward"], _EVADES),
    ("06_pytorch_cnn", "uses_sklearn_and_torch"): {
        "test_digit_cnn": "the digit_cnn cell imports scikit-learn, which the notebook imports too (its baselines), "
                          "so nothing in the kernel can tell; in the sandbox the import stops the cell"},
}

_TRAINS_TWICE = ("trains DigitCNN twice for 40 epochs (about 10 s a run); it runs in the kernel for the answers and "
                 "cases that change DigitCNN or train (instructor, stubs, missing ReLU, no zero_grad, smuggled "
                 "weights, scikit-learn) and not for these, whose DigitCNN and train are correct")
#: Test cells not run in the kernel for some submissions: {(notebook, grade_id): (runs, why)}.
KERNEL_SKIPS = {
    ("06_pytorch_cnn", "test_accuracy"): ({"noisy", "unusual_but_correct", "partial_evaluate_per_batch"},
                                          _TRAINS_TWICE),
}

#: Set-up cells not run, by cell id: {(notebook, cell id): why}.
SKIPPED_SETUP_CELLS = {
    ("06_pytorch_cnn", "cell-30"): "trains the notebook's own DigitCNN for section 9 (40 epochs); no test cell "
                                   "reads what it makes",
}

#: Longest a test cell may run in the kernel before it counts as failed (PyTorch's training cells).
CELL_SECONDS = 240


# ----------------------------------------------------------------------------- submissions

def instructor_answers(name):
    from test_grading_cases import instructor_answers as answers

    return answers(name)


def stub_answers(name):
    """The release notebook's solution cells as a student receives them."""
    return {nbgrader_meta(c)["grade_id"]: c.source for c in read(RELEASE / f"{name}.ipynb").cells
            if nbgrader_meta(c).get("solution") and c.cell_type == "code"}


def submissions(name):
    """{run name: {grade_id: source of the solution cell}}: instructor, stubs, and the cases run in a kernel."""
    from test_grading_cases import case_answers

    stubs = stub_answers(name)
    runs = {"instructor": instructor_answers(name), "stubs": stubs}
    for case_name, case in cases(name).items():
        if (name, case_name) not in NOT_RUN_IN_A_KERNEL:
            runs[case_name] = {**stubs, **case_answers(name, case)}  # as submission() fills the release notebook
    return runs


# ----------------------------------------------------------------------------- the notebook side

_KERNEL_HELPERS = r'''
def __parity_kept_value(value):
    import copy
    import types
    if isinstance(value, (types.ModuleType, types.FunctionType, type)):
        return value
    try:
        return copy.deepcopy(value)
    except Exception:
        return value

def __parity_snapshot(drop):
    global __parity_kept
    for key in drop:
        globals().pop(key, None)
    __parity_kept = {k: __parity_kept_value(v) for k, v in globals().items()
                     if not k.startswith("_") and k not in ("In", "Out", "exit", "quit", "get_ipython")}

def __parity_restore():
    import matplotlib.pyplot
    matplotlib.pyplot.close("all")
    for key in [k for k in globals() if not k.startswith("_") and k not in ("In", "Out", "exit", "quit",
                                                                               "get_ipython")]:
        if key not in __parity_kept:
            del globals()[key]
    globals().update({k: __parity_kept_value(v) for k, v in __parity_kept.items()})
'''


def _visible_part(source):
    return region(source, HIDDEN_DELIMITERS, inside=False)


def _notebook_plan(name):
    """The release notebook's code cells as ("setup" | "solution" | "test", grade_id, source), up to the last test."""
    cells = []
    for cell in read(RELEASE / f"{name}.ipynb").cells:
        if cell.cell_type != "code" or (name, cell.get("id")) in SKIPPED_SETUP_CELLS:
            continue
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            cells.append(("solution", meta["grade_id"], cell.source))
        elif meta.get("grade"):
            cells.append(("test", meta["grade_id"], _visible_part(cell.source)))
        else:
            cells.append(("setup", None, cell.source))
    last = max(i for i, (kind, _, _) in enumerate(cells) if kind == "test")
    return cells[:last + 1]


class _Kernel:
    """A Jupyter kernel that runs cells and says whether each raised."""

    def __init__(self, cwd):
        from jupyter_client.manager import start_new_kernel

        import os

        env = dict(os.environ, MPLBACKEND="module://matplotlib_inline.backend_inline", EX04_INTERACTIVE="0",
                   PYTHONPATH=str(ROOT))
        self.manager, self.client = start_new_kernel(kernel_name="python3", cwd=str(cwd), env=env)

    def run(self, code, timeout=CELL_SECONDS):
        """None when the cell ran without an exception, else "Type: message"."""
        try:
            reply = self.client.execute_interactive(code, timeout=timeout, output_hook=lambda message: None,
                                                    store_history=False)
        except TimeoutError:
            self.manager.interrupt_kernel()
            self.client.get_shell_msg(timeout=30)
            return f"TimeoutError: the cell ran longer than {timeout} s"
        content = reply["content"]
        if content["status"] == "ok":
            return None
        return f"{content.get('ename')}: {content.get('evalue', '')[:300]}"

    def close(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def notebook_verdicts(name, runs):
    """{run: {grade_id: None (passed) or the error}} of the release notebook's test cells in a kernel.

    A test cell that ``KERNEL_SKIPS`` names for a run has no entry.
    """
    from grading.core.engine import defined_names

    plan = _notebook_plan(name)
    instructor = instructor_answers(name)
    kernel = _Kernel(RELEASE)
    try:
        # A student's Lab has no grading package (this machine's editable install would offer it).
        assert kernel.run("import sys\nsys.modules['grading'] = None") is None
        for kind, gid, source in plan:
            if kind == "setup":
                kernel.run(source)
            elif kind == "solution":
                kernel.run(instructor[gid])
        solution_names = sorted({n for kind, gid, _ in plan if kind == "solution"
                                 for n in defined_names(instructor[gid])})
        problem = kernel.run(_KERNEL_HELPERS + f"\n__parity_snapshot({solution_names!r})")
        assert problem is None, problem
        verdicts = {}
        for run, answers in runs.items():
            assert kernel.run("__parity_restore()") is None
            verdicts[run] = {}
            for kind, gid, source in plan:
                if kind == "solution":
                    kernel.run(answers[gid])
                elif kind == "test" and run not in KERNEL_SKIPS.get((name, gid), ((), ""))[0]:
                    verdicts[run][gid] = kernel.run(source)
        return verdicts
    finally:
        kernel.close()


def _notebook_verdicts_in_a_process(name, runs, tmp_path):
    """The kernel side in a process of its own, so that this one keeps none of the notebook's state."""
    path = tmp_path / "runs.json"
    path.write_text(json.dumps(runs))
    done = subprocess.run([sys.executable, __file__, name, str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=3000)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- the grading side

def grading_verdicts(name, runs, tmp_path):
    """{run: {grade_id: None (visible checks passed) or the message}} of the trusted tests, sandboxed."""
    from grading.core.engine import grade_notebook
    from test_grading_cases import submission

    verdicts = {}
    for run, answers in runs.items():
        path = RELEASE / f"{name}.ipynb" if run == "stubs" else submission(name, answers, tmp_path / f"{run}.ipynb")
        result = grade_notebook("ex04", SOURCE / f"{name}.ipynb", path, name, sandboxed=True)
        verdicts[run] = {gid: None if t["passed"] or t["phase"] != "visible" else t["message"][:300]
                         for gid, t in result["tests"].items()}
    return verdicts


# ----------------------------------------------------------------------------- the test

def disagreements(name, in_notebook, in_grading):
    """Lines naming every (run, grade_id) whose verdicts differ where no FOOLS_THE_KERNEL entry says they must."""
    lines = []
    for run in in_notebook:
        fooled = FOOLS_THE_KERNEL.get((name, run), {})
        for gid, notebook_error in in_notebook[run].items():
            grading_error = in_grading[run][gid]
            agree = (notebook_error is None) == (grading_error is None)
            if gid in fooled:
                if not (notebook_error is None and grading_error is not None):
                    lines.append(f"{run}/{gid}: expected to pass in the kernel and fail in grading ({fooled[gid]}); "
                                 f"kernel: {notebook_error or 'passed'}; grading: {grading_error or 'passed'}")
            elif not agree:
                lines.append(f"{run}/{gid}: kernel {'passed' if notebook_error is None else 'failed'}, grading "
                             f"{'passed' if grading_error is None else 'failed'}\n  kernel: {notebook_error}\n"
                             f"  grading: {grading_error}")
    return lines


@pytest.mark.parametrize("name", notebook_names())
def test_a_visible_check_passes_in_the_notebook_exactly_when_it_passes_in_grading(name, tmp_path):
    runs = submissions(name)
    started = time.monotonic()
    in_notebook = _notebook_verdicts_in_a_process(name, runs, tmp_path)
    kernel_seconds = time.monotonic() - started
    in_grading = grading_verdicts(name, runs, tmp_path)
    assert all(error is None for error in in_notebook["instructor"].values()), in_notebook["instructor"]
    assert all(error is not None for error in in_notebook["stubs"].values()), in_notebook["stubs"]
    problems = disagreements(name, in_notebook, in_grading)
    assert not problems, f"{len(problems)} disagreements (kernel {kernel_seconds:.0f} s):\n" + "\n".join(problems)


def test_every_exclusion_names_a_case_a_cell_and_a_test_that_exist():
    """A stale entry would drop nothing, or hide a case added later under an old name."""
    for (name, case_name) in [*NOT_RUN_IN_A_KERNEL, *FOOLS_THE_KERNEL]:
        assert case_name in cases(name), (name, case_name)
    for (name, case_name), fooled in FOOLS_THE_KERNEL.items():
        assert set(fooled) <= set(_test_ids(name)), (name, case_name, fooled)
    for (name, gid), (runs, _) in KERNEL_SKIPS.items():
        assert gid in _test_ids(name) and runs <= set(cases(name)), (name, gid, runs)
    for (name, cell_id) in SKIPPED_SETUP_CELLS:
        cell = next(c for c in read(RELEASE / f"{name}.ipynb").cells if c.get("id") == cell_id)
        assert cell.cell_type == "code" and not nbgrader_meta(cell).get("grade_id"), (name, cell_id)


def _test_ids(name):
    return [gid for kind, gid, _ in _notebook_plan(name) if kind == "test"]


if __name__ == "__main__":
    notebook, runs_path = sys.argv[1], sys.argv[2]
    print(json.dumps(notebook_verdicts(notebook, json.loads(Path(runs_path).read_text()))))
