"""Every requirement a task's text states has a visible case: a student sees it fail before grading does.

A ✓ that later loses a point to a hidden test is a broken promise. Hidden tests may try other
inputs, never new requirements. Below, for every graded function, each error that its task text
asks for ("Raise a `ValueError` when ...") and each input it must not modify is listed with the
words of the text that state it. Then:

* the list is complete: every sentence of a task's text that asks for an error, with the listed
  phrases (and asides in parentheses) taken out, keeps only joining words; a text that asks to
  leave inputs alone has an entry for that;
* the instructor's solution meets each requirement (a witness call raises, or leaves its input
  alone), and passes the visible checks;
* a mutant of the instructor's solution that breaks just this requirement (it returns None where
  the solution raises, or changes the input after computing its result) fails the notebook's
  visible check cell and the visible phase of the trusted test in grading/ex04, with a message
  that names the requirement.

The notebook side runs in a subprocess (this file as a script), one per notebook: the notebook's
code cells run in order as in a kernel, and each listed test cell runs once with the solution and
once per mutant.
"""

import ast
import json
import re
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nbtools import ROOT, SOURCE, nbgrader_meta, notebook_names, read

pytestmark = pytest.mark.slow

#: An error the task text asks for. ``condition``: a Python expression over the function's
#: parameters that singles this requirement out among the errors the function raises;
#: ``witness``: a call that must raise it.
Raises = namedtuple("Raises", "function phrase error condition witness tests")
#: An input the function must leave alone: ``argument`` names the parameter.
Keeps = namedtuple("Keeps", "function phrase argument witness tests")

KINDS = '("conv", "relu", "pool", "flatten", "linear")'

REQUIREMENTS = {
    "01_convolutions": [
        Raises("output_size", "the kernel does not fit into the padded input", "ValueError", "k > n + 2 * padding",
               "output_size(2, 3)", ["test_output_size"]),
        Raises("output_size", "`stride < 1`", "ValueError", "stride < 1", "output_size(5, 3, stride=0)",
               ["test_output_size"]),
        Raises("output_size", "`padding < 0`", "ValueError", "padding < 0", "output_size(5, 3, padding=-1)",
               ["test_output_size"]),
        Keeps("corr2d", "the inputs must not be modified", "X", "corr2d(np.ones((4, 5)), np.ones((2, 2)))",
              ["test_corr2d_valid", "test_corr2d_stride_padding"]),
        Keeps("corr2d", "the inputs must not be modified", "K", "corr2d(np.ones((4, 5)), np.ones((2, 2)))",
              ["test_corr2d_valid", "test_corr2d_stride_padding"]),
        Keeps("conv2d", "it must not modify its inputs", "X", "conv2d(np.ones((4, 5)), np.ones((2, 2)))",
              ["test_conv2d"]),
        Keeps("conv2d", "it must not modify its inputs", "K", "conv2d(np.ones((4, 5)), np.ones((2, 2)))",
              ["test_conv2d"]),
    ],
    "02_sobel_laplace": [
        Raises("sobel_gradient", "an image that is not 2-D", "ValueError", "np.ndim(image) != 2",
               "sobel_gradient(np.zeros(9))", ["test_sobel_magnitude"]),
        Raises("sobel_gradient", r"smaller than $3 \times 3$", "ValueError",
               "np.ndim(image) == 2 and min(np.shape(image)) < 3", "sobel_gradient(np.zeros((2, 5)))",
               ["test_sobel_magnitude"]),
        Keeps("sobel_gradient", "Do not modify the caller's array", "image", "sobel_gradient(np.ones((4, 5)))",
              ["test_sobel_magnitude"]),
        Keeps("correlate_separable", "the caller's array untouched", "image",
              "correlate_separable(np.ones((4, 5)), [1, 2], [1, 0, -1])", ["test_correlate_separable"]),
        Raises("separable_factors", "an array that is not 2-D", "ValueError", "np.ndim(K) != 2",
               "separable_factors(np.ones(3))", ["test_separable_factors"]),
        Keeps("separable_factors", "Do not modify `K`", "K", "separable_factors(np.ones((2, 3)))",
              ["test_separable_factors"]),
    ],
    "03_conv_backprop": [
        *[Keeps("corr2d_backward", "the inputs must not be modified", name,
                "corr2d_backward(np.ones((4, 5)), np.ones((2, 2)), np.ones((3, 4)))", ["test_corr2d_backward"])
          for name in ("X", "K", "dY")],
        *[Keeps("conv_forward", "the inputs must not be modified", name,
                "conv_forward(np.ones((1, 2, 4, 5)), np.ones((3, 2, 2, 2)), np.ones(3))", ["test_conv_forward"])
          for name in ("X", "W", "b")],
        *[Keeps("conv_backward", "the inputs must not be modified", name,
                "conv_backward(np.ones((1, 3, 3, 4)), np.ones((1, 2, 4, 5)), np.ones((3, 2, 2, 2)), np.ones(3))",
                ["test_conv_backward"])
          for name in ("dout", "X", "W", "b")],
    ],
    "04_receptive_field": [
        Raises("receptive_field", "a layer does not have 3 or 4 entries", "ValueError",
               "any(len(layer) not in (3, 4) for layer in layers)", "receptive_field([(3, 1)])",
               ["test_receptive_field"]),
        # "a kernel, stride or dilation below 1": three requirements in one phrase.
        Raises("receptive_field", "has a kernel, stride or dilation below 1", "ValueError",
               "any(len(layer) in (3, 4) and layer[0] < 1 for layer in layers)", "receptive_field([(0, 1, 0)])",
               ["test_receptive_field"]),
        Raises("receptive_field", "has a kernel, stride or dilation below 1", "ValueError",
               "any(len(layer) in (3, 4) and layer[1] < 1 for layer in layers)", "receptive_field([(3, 0, 1)])",
               ["test_receptive_field"]),
        Raises("receptive_field", "has a kernel, stride or dilation below 1", "ValueError",
               "any(len(layer) == 4 and layer[3] < 1 for layer in layers)", "receptive_field([(3, 1, 1, 0)])",
               ["test_receptive_field"]),
        Raises("receptive_field", "a negative padding", "ValueError",
               "any(len(layer) in (3, 4) and layer[2] < 0 for layer in layers)", "receptive_field([(3, 1, -1)])",
               ["test_receptive_field"]),
        Keeps("receptive_field", "Do not modify `layers`", "layers", "receptive_field([(3, 1, 1), (2, 2, 0)])",
              ["test_receptive_field"]),
        Keeps("input_region", "Do not modify `layers`", "layers", "input_region([(3, 1, 1), (2, 2, 0)], 1, 2)",
              ["test_input_region"]),
    ],
    "05_equivariance": [
        Raises("translate", "any other `mode`", "ValueError", 'mode not in ("circular", "zero")',
               'translate(np.eye(3), 1, 1, "reflect")', ["test_translate"]),
        Keeps("translate", "do not modify `X`", "X", "translate(np.ones((3, 4)), 1, -1)", ["test_translate"]),
        Raises("equivariance_error", "`layer(X)` does not have `X`'s shape", "ValueError",
               "np.shape(layer(X)) != np.shape(X)", "equivariance_error(lambda Z: Z[::2, ::2], np.eye(4), 1, 1)",
               ["test_equivariance_error"]),
        Keeps("equivariance_error", "do not modify `X`", "X",
              "equivariance_error(lambda Z: 2 * Z, np.ones((3, 4)), 1, 1)", ["test_equivariance_error"]),
    ],
    "06_pytorch_cnn": [
        Raises("layer_shapes", "an unknown layer kind", "ValueError",
               f"any(kind not in {KINDS} for kind in _kinds(spec))", 'layer_shapes((1, 8, 8), [("softmax",)])',
               ["test_layer_shapes"]),
        # 'a "conv" or "pool" after "flatten"': two requirements in one phrase.
        Raises("layer_shapes", 'a `"conv"` or `"pool"` after `"flatten"`', "ValueError",
               '"flatten" in _kinds(spec) and "conv" in _kinds(spec)[_kinds(spec).index("flatten"):]',
               'layer_shapes((1, 8, 8), [("flatten",), ("conv", 4, 3, 1, 1)])', ["test_layer_shapes"]),
        Raises("layer_shapes", 'a `"conv"` or `"pool"` after `"flatten"`', "ValueError",
               '"flatten" in _kinds(spec) and "pool" in _kinds(spec)[_kinds(spec).index("flatten"):]',
               'layer_shapes((1, 8, 8), [("flatten",), ("pool", 2)])', ["test_layer_shapes"]),
        Raises("layer_shapes", 'a `"linear"` on an input that is not flat (flatten first)', "ValueError",
               '"linear" in _kinds(spec) and ("flatten" not in _kinds(spec) '
               'or _kinds(spec).index("linear") < _kinds(spec).index("flatten"))',
               'layer_shapes((1, 8, 8), [("linear", 10)])', ["test_layer_shapes"]),
        Raises("layer_shapes", "a layer whose output would have a height or width below 1", "ValueError",
               f'all(kind in {KINDS} for kind in _kinds(spec)) and "flatten" not in _kinds(spec) '
               'and "linear" not in _kinds(spec)',
               'layer_shapes((1, 4, 4), [("conv", 8, 5, 1, 0)])', ["test_layer_shapes"]),
        # in_shape is a tuple in every call the text shows; only spec can be changed in place.
        Keeps("layer_shapes", "do not modify `in_shape` or `spec`", "spec",
              'layer_shapes((1, 8, 8), [("conv", 2, 3, 1, 1), ("flatten",)])', ["test_layer_shapes"]),
        Keeps("evaluate", "do not change the model's parameters", "model",
              "evaluate(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), "
              "[(torch.zeros(4, 1, 8, 8), torch.zeros(4, dtype=torch.long))])", ["test_evaluate"]),
    ],
}

#: Words that may stay in an error sentence once its requirements are taken out.
JOINING_WORDS = {"raise", "a", "an", "with", "clear", "message", "when", "or", "and", "for", "if", "the"}
#: How the text asks to leave inputs alone.
KEEP_PATTERN = re.compile(r"(must not|do not|never)\s+(be\s+)?(modif|change)|untouched", re.I)
ERROR_SENTENCE = re.compile(r"\braise\s+(?:an?\s+)?`?(\w+Error)`?[^.;]*", re.I)


def _plain(text):
    return " ".join(text.split())


def task_texts(name):
    """{function: the markdown between the previous solution cell and the function's own}."""
    texts, markdown = {}, []
    for cell in read(SOURCE / f"{name}.ipynb").cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type == "markdown":
            markdown.append(cell.source)
        elif meta.get("solution"):
            for node in ast.parse(cell.source).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    texts[node.name] = _plain("\n".join(markdown))
            markdown = []
    return texts


def test_every_stated_error_and_kept_input_is_listed():
    for name in notebook_names():
        listed = REQUIREMENTS.get(name, [])
        for function, text in task_texts(name).items():
            mine = [r for r in listed if r.function == function]
            for sentence in ERROR_SENTENCE.finditer(text):
                error = sentence.group(1)
                rest = re.sub(r"\([^()]*\)", " ", sentence.group(0))  # asides
                for requirement in mine:
                    if isinstance(requirement, Raises) and requirement.error == error:
                        rest = rest.replace(re.sub(r"\([^()]*\)", " ", requirement.phrase), " ")
                rest = re.sub(r"`?\w+Error`?", " ", rest)
                left = [w for w in re.findall(r"[^\s,;:.]+", rest) if w.lower() not in JOINING_WORDS]
                assert not left, f"{name}, {function}: the text asks for a {error} that is not listed: {left}"
            if KEEP_PATTERN.search(text):
                assert any(isinstance(r, Keeps) for r in mine), f"{name}, {function}: keeping inputs is not listed"
            for requirement in mine:
                assert _plain(requirement.phrase) in text, f"{name}, {function}: not in the text: {requirement.phrase}"


def test_the_listed_functions_and_tests_exist():
    for name, listed in REQUIREMENTS.items():
        texts = task_texts(name)
        tests = {nbgrader_meta(c).get("grade_id") for c in read(SOURCE / f"{name}.ipynb").cells}
        for requirement in listed:
            assert requirement.function in texts, requirement
            assert set(requirement.tests) <= tests, requirement


@pytest.mark.parametrize("name", sorted(REQUIREMENTS))
def test_a_solution_that_breaks_a_stated_requirement_fails_the_visible_checks(name):
    run = subprocess.run([sys.executable, __file__, name], capture_output=True, text=True, timeout=900,
                         cwd=ROOT)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    problems = [line for line in report if line]
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------- the subprocess

SPOIL = '''
def _kinds(spec):
    return [str(layer[0]) for layer in spec]


def _spoil(value):
    """Change an input in place: an array's first entry, a list's length, a model's weights."""
    import numpy
    if isinstance(value, numpy.ndarray) and value.size and value.flags.writeable:
        value.flat[0] += 1
    elif isinstance(value, list):
        value.append(value[-1] if value else 0)
    elif hasattr(value, "parameters"):
        import torch
        with torch.no_grad():
            for parameter in value.parameters():
                parameter.add_(0.5)
'''


def _signature(source, function):
    """(parameter list as written, the call passing each by name) of ``function`` in a cell's source."""
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == function)
    names = [a.arg for a in node.args.args]
    return ast.unparse(node.args), ", ".join(f"{n}={n}" for n in names)


def mutant(requirement, source):
    """Source that redefines the function to break just ``requirement`` (run after the solution cell)."""
    params, call = _signature(source, requirement.function)
    head = f"{SPOIL}\n_stated = {requirement.function}\n\n\ndef {requirement.function}({params}):\n"
    if isinstance(requirement, Raises):
        return head + (f"    try:\n        return _stated({call})\n    except {requirement.error}:\n"
                       f"        if {requirement.condition}:\n            return None\n        raise\n")
    return head + f"    result = _stated({call})\n    _spoil({requirement.argument})\n    return result\n"


def _named(requirement, message):
    """Whether a failure's message names the requirement it caught."""
    if isinstance(requirement, Raises):
        return requirement.error in message
    return re.search(r"modif|chang", message) is not None


def _witness_problems(requirement, namespace, solution):
    """What is wrong with the requirement's witness call, run with the solution and with the mutant."""
    import copy
    import inspect

    call = ast.parse(requirement.witness, mode="eval").body

    def arguments():
        args = [eval(compile(ast.Expression(a), "<witness>", "eval"), namespace) for a in call.args]
        kwargs = {k.arg: eval(compile(ast.Expression(k.value), "<witness>", "eval"), namespace) for k in call.keywords}
        return args, kwargs

    problems = []
    for version, function in (("solution", solution), ("mutant", namespace[requirement.function])):
        args, kwargs = arguments()
        bound = inspect.signature(solution).bind(*args, **kwargs).arguments
        if isinstance(requirement, Raises):
            try:
                function(*args, **kwargs)
                raised = False
            except Exception as error:
                raised = type(error).__name__ == requirement.error
            if raised != (version == "solution"):
                problems.append(f"{requirement.witness}: the {version} {'does not raise' if not raised else 'raises'}"
                                f" {requirement.error}")
        else:
            before = copy.deepcopy(bound[requirement.argument])
            function(*args, **kwargs)
            after = bound[requirement.argument]
            same = _same(before, after)
            if same != (version == "solution"):
                problems.append(f"{requirement.witness}: the {version} {'keeps' if same else 'changes'} "
                                f"{requirement.argument}")
    return problems


def _same(a, b):
    import numpy as np

    if hasattr(a, "state_dict"):
        return all(np.array_equal(x.detach().numpy(), y.detach().numpy())
                   for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def _snapshot(namespace):
    """Copies of the namespace's data, to undo what a mutant did to it."""
    import copy

    kept = {}
    for key, value in namespace.items():
        if key.startswith("__") or callable(value) and not hasattr(value, "state_dict"):
            continue
        try:
            kept[key] = copy.deepcopy(value)
        except Exception:
            pass
    return kept


def _restore(namespace, snapshot):
    import copy

    for key, value in snapshot.items():
        try:
            namespace[key] = copy.deepcopy(value)
        except Exception:  # a copy that cannot be copied again (PyTorch's hook handles): the copy itself
            namespace[key] = value


def check_notebook(name):
    """Problems of one notebook's visible checks against the mutants of its requirements (run as a script)."""
    import os

    os.environ["MPLBACKEND"] = "Agg"
    os.environ["EX04_INTERACTIVE"] = "0"
    import matplotlib.pyplot as plt
    import nbformat

    from grading.core import assignment
    from grading.core.engine import current_phase_at, notebook_plan
    from grading.core.policies import POLICIES
    from grading.core.testing import LocalConnection, Student

    requirements = REQUIREMENTS[name]
    nb = nbformat.read(str(SOURCE / f"{name}.ipynb"), as_version=4)
    solutions = {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells
                 if nbgrader_meta(c).get("solution") and c.cell_type == "code"}
    cell_of = {}  # function -> grade_id of its solution cell
    for gid, source in solutions.items():
        for node in ast.parse(source).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                cell_of[node.name] = gid
    problems = []
    namespace = {"__name__": "__main__"}
    listed_tests = {g for r in requirements for g in r.tests}
    last = max(i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade_id") in listed_tests)

    # The notebook: its code cells in order; each listed test cell with the solution, then per mutant.
    for cell in nb.cells[:last + 1]:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        gid = nbgrader_meta(cell).get("grade_id")
        mine = [r for r in requirements if gid in r.tests]
        exec(compile(code, f"<cell {gid or cell.get('id')}>", "exec"), namespace)
        plt.close("all")
        if not mine:
            continue
        snapshot = _snapshot(namespace)
        for requirement in mine:
            solution = namespace[requirement.function]
            exec(mutant(requirement, solutions[cell_of[requirement.function]]), namespace)
            problems += [f"{name}: {p}" for p in _witness_problems(requirement, namespace, solution)]
            try:
                exec(compile(code, f"<cell {gid}>", "exec"), namespace)
                broken = requirement.argument if isinstance(requirement, Keeps) else requirement.condition
                problems.append(f"{name}/{gid} (notebook): a mutant of {requirement.function} that breaks "
                                f"'{requirement.phrase}' ({broken}) passes")
            except Exception as error:
                if not _named(requirement, str(error)):
                    problems.append(f"{name}/{gid} (notebook): '{requirement.phrase}' is caught for another reason: "
                                    f"{type(error).__name__}: {str(error)[:200]}")
            namespace[requirement.function] = solution
            _restore(namespace, snapshot)
            plt.close("all")

    # The trusted tests: the solution passes; a mutant fails in the visible phase, naming the requirement.
    ex04 = assignment.load("ex04")
    tests = ex04.tests(name)
    plan = notebook_plan(SOURCE / f"{name}.ipynb")

    def run(gid, cells):
        trusted = tests[gid]
        fixtures = [ex04.fixture_module(trusted.policy), *trusted.references]
        student = Student(LocalConnection(cells, POLICIES[trusted.policy].prelude, fixtures))
        try:
            trusted.function(student)
        except Exception as error:  # as the engine: any exception fails the test, in the phase it was raised in
            return current_phase_at(error)[0], f"{type(error).__name__}: {error}"
        return None, ""

    base = [(gid, solutions[gid]) for gid in plan["solutions"]]
    for gid in sorted(listed_tests):
        phase, message = run(gid, base)
        if phase is not None:
            problems.append(f"{name}/{gid} (trusted): the solution fails ({phase}): {message[:200]}")
        for requirement in (r for r in requirements if gid in r.tests):
            target = cell_of[requirement.function]
            cells = [(g, s + "\n\n" + mutant(requirement, s) if g == target else s) for g, s in base]
            phase, message = run(gid, cells)
            what = f"a mutant of {requirement.function} that breaks '{requirement.phrase}'"
            if phase != "visible":
                problems.append(f"{name}/{gid} (trusted): {what} " + ("passes" if phase is None else
                                f"fails only in the {phase} phase: {message[:200]}"))
            elif not _named(requirement, message):
                problems.append(f"{name}/{gid} (trusted): {what} is caught for another reason: {message[:200]}")
    return problems


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(json.dumps(check_notebook(sys.argv[1])))
