"""How trusted tests are written: one function per ``grade_id``, the student's code as an argument.

A test module (``grading/<assignment>/nb01_convolutions.py``, say) looks like this::

    from grading.core.testing import test, visible, hidden, expect_array

    @test("test_corr2d_valid", policy="numpy")
    def corr2d_valid(student):
        with visible("corr2d on the sheet's image"):
            expect_array(student.corr2d(X, K), reference, name="corr2d(X, sobel_x)")
        with hidden():
            ...

``student`` is a :class:`Student`: ``student.corr2d(X, K)`` calls the student's ``corr2d`` in
the sandbox, through the data-only channel, and returns what it returned as plain data (NumPy
arrays, numbers, strings, tuples, lists, dicts, PyTorch tensors) or as a :class:`Handle` for any
other object, which stays in the sandbox and can be called, or have methods called, through
``student``. An exception raised by the student's code arrives as :class:`StudentError`.

A test passes when it returns. It fails when it raises: :class:`Failed` from the ``expect_*``
helpers, or anything else. Whether the failing line was inside ``visible(...)`` or ``hidden()``
decides what the student is told: the visible check by name, or "a hidden test failed". Points
are not declared here: they live once, in the source notebook's nbgrader metadata.
"""

import contextlib
import numbers

import numpy as np

# Failed, StudentError, SandboxLost and Handle are what test modules catch and compare: they import them from here.
from grading.core.errors import Failed, SandboxLost, StudentError
from grading.core.policies import POLICIES
from grading.core.results import Phase
from grading.core.runner import Handle, Op, decode, encode

_REGISTRY = {}


class TrustedTest:
    """One registered test: the function, the cell it grades and where it runs."""

    def __init__(self, function, grade_id, policy, references=()):
        self.function, self.grade_id, self.policy = function, grade_id, policy
        self.module = function.__module__
        self.references = tuple(references)

    def __repr__(self):
        return f"<trusted test {self.module}/{self.grade_id} ({self.policy})>"


def test(grade_id, policy="numpy", references=()):
    """Register a trusted test for the test cell ``grade_id`` of the notebook its module tests.

    Which notebook a module tests is said once, in its assignment's ``ASSIGNMENT``
    (:mod:`grading.core.assignment`).

    Parameters
    ----------
    grade_id : str
    policy : {"numpy", "torch"}
        "numpy": the student's code runs where only NumPy (and the standard library) can be
        imported. "torch": PyTorch as well.
    references : sequence of str
        Modules with correct versions of *other* graded functions, by absolute name, that this
        test's sandbox needs as fixtures. Only this test's sandbox receives them, so a student
        cannot copy a reference into the function it stands for.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; one of {tuple(POLICIES)}")

    def register(function):
        key = (function.__module__, grade_id)
        if key in _REGISTRY and _REGISTRY[key].function.__qualname__ != function.__qualname__:
            raise ValueError(f"two trusted tests for {grade_id} in {function.__module__}")
        _REGISTRY[key] = TrustedTest(function, grade_id, policy, references)
        return function

    return register


def registered(module):
    """{grade_id: TrustedTest} of one imported test module (by its name)."""
    return {gid: trusted for (name, gid), trusted in _REGISTRY.items() if name == module}


# ----------------------------------------------------------------------------- phases

class _Phase:
    current = None


@contextlib.contextmanager
def visible(description):
    """Checks the student also sees in the notebook; a failure here is reported by name."""
    previous, _Phase.current = _Phase.current, (Phase.VISIBLE, description)
    try:
        yield
    except BaseException as error:
        _mark(error, (Phase.VISIBLE, description))
        raise
    finally:
        _Phase.current = previous


@contextlib.contextmanager
def hidden():
    """Checks on inputs the student never saw."""
    previous, _Phase.current = _Phase.current, (Phase.HIDDEN, "")
    try:
        yield
    except BaseException as error:
        _mark(error, (Phase.HIDDEN, ""))
        raise
    finally:
        _Phase.current = previous


def _mark(error, phase):
    # The innermost phase wins: it is where the failing check was.
    if getattr(error, "phase", None) is None:
        try:
            error.phase = phase
        except AttributeError:
            pass


def current_phase():
    """(phase, check) of the check running now: (``Phase.VISIBLE``, its description) or (``Phase.HIDDEN``, "")."""
    return _Phase.current or (Phase.HIDDEN, "")


# ----------------------------------------------------------------------------- the student

class Student:
    """The student's code as the trusted side sees it: names that can be called through a channel.

    Parameters
    ----------
    connection : object
        Has ``request(document) -> reply document`` and ``cell_errors`` (grade_id -> error data
        for the solution cells that raised). A sandbox session, or :class:`LocalConnection`.
    """

    def __init__(self, connection):
        self._connection = connection
        self._names = []

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _Remote(self, name)

    def names_used(self):
        """The names of the student's namespace that were called or read so far, in order."""
        return list(self._names)

    def _note(self, target):
        if isinstance(target, str) and not target.startswith("fixture:") and target not in self._names:
            self._names.append(target)

    def cell_errors(self):
        """grade_id -> "Type: message" for every solution cell that raised when it ran."""
        return {gid: f"{e['type']}: {e['message']}" for gid, e in self._connection.cell_errors.items()}

    def _ask(self, document):
        reply = self._connection.request(document)
        if "error" in reply:
            error = reply["error"]
            raise StudentError(str(error.get("type", "Exception")), str(error.get("message", "")),
                               [str(b) for b in error.get("bases", [])])
        return decode(reply["ok"])

    def call(self, target, *args, **kwargs):
        """Call a name of the student's namespace, a handle, or ``"fixture:NAME"``."""
        self._note(target)
        return self._ask({"op": Op.CALL, "target": encode(target), "args": encode(list(args)),
                          "kwargs": encode(dict(kwargs))})

    def method(self, target, attribute, *args, **kwargs):
        """Call ``target.attribute(*args, **kwargs)`` in the sandbox (target: a handle or a name)."""
        self._note(target)
        return self._ask({"op": Op.CALL, "target": encode(target), "attribute": attribute,
                          "args": encode(list(args)), "kwargs": encode(dict(kwargs))})

    def attribute(self, target, attribute):
        """``target.attribute`` as data (or a handle)."""
        self._note(target)
        return self._ask({"op": Op.GETATTR, "target": encode(target), "attribute": attribute})

    def fixture(self, name, *args, **kwargs):
        """Build a piece of test furniture in the sandbox (the assignment's furniture module of the test's policy)."""
        return self.call("fixture:" + name, *args, **kwargs)

    def keep(self, value):
        """Put ``value`` into the sandbox and return its handle (to pass to calls, read back later)."""
        return self._ask({"op": Op.KEEP, "value": encode(value)})

    def value(self, handle):
        """What a kept value (or any handle) holds now, as data."""
        return self._ask({"op": Op.VALUE, "target": encode(handle)})

    @contextlib.contextmanager
    def replaced(self, name, fixture):
        """Within the block, the student's ``name`` is the fixture ``fixture`` instead.

        For a test of one task that calls another task's function: Task 4's train calls the
        student's evaluate, and a wrong evaluate must cost Task 3's points only.
        """
        previous = self._ask({"op": Op.SWAP, "name": name, "value": encode("fixture:" + fixture)})
        try:
            yield
        finally:
            if previous is not None:
                self._ask({"op": Op.SWAP, "name": name, "value": encode(previous)})


class _Remote:
    """``student.name``: calling it calls the student's ``name``."""

    def __init__(self, student, name):
        self._student, self._name = student, name

    def __call__(self, *args, **kwargs):
        return self._student.call(self._name, *args, **kwargs)

    def __repr__(self):
        return f"<the student's {self._name}>"


class LocalConnection:
    """The student side in this very process, through the same codec: for writing tests only.

    Never use it to grade: the student's code would run next to the trusted code.
    """

    def __init__(self, cells, prelude=(), fixtures=()):
        import importlib
        import json

        from grading.core.runner import Dispatcher

        self._json = json
        namespace = {"__name__": "__main__"}
        for line in prelude:
            exec(line, namespace)
        names = [fixtures] if isinstance(fixtures, str) else list(fixtures or ())
        self._dispatcher = Dispatcher(namespace, [importlib.import_module(n) for n in names])
        self.cell_errors = self._dispatcher.run_cells(list(cells))

    def request(self, document):
        # A JSON round trip both ways, exactly as through the sandbox's pipes.
        reply = self._dispatcher.answer(self._json.loads(self._json.dumps(document)))
        return self._json.loads(self._json.dumps(reply))


# ------------------------------------------------------------------------ comparisons

def _fmt(value):
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (numbers.Integral, np.integer)):
        return str(int(value))
    if isinstance(value, (numbers.Real, np.floating)):
        return f"{float(value):.10g}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def as_array(got, name):
    """The student's result as a float-comparable NumPy array, or :class:`Failed` saying why not."""
    torch = __import__("sys").modules.get("torch")
    if torch is not None and isinstance(got, torch.Tensor):
        got = got.detach().numpy()
    if isinstance(got, Handle):
        raise Failed(f"{name} returned {got!r}, not an array")
    if isinstance(got, (list, tuple)) or isinstance(got, (numbers.Number, np.generic, np.ndarray)):
        try:
            array = np.asarray(got)
        except Exception:
            raise Failed(f"{name} returned a {type(got).__name__} that is not a rectangular array of numbers") from None
        if array.dtype.kind not in "biufc":
            raise Failed(f"{name} returned values that are not numbers")
        return array
    raise Failed(f"{name} returned {_fmt(got)} ({type(got).__name__}), not an array")


def _judged_by(check, *args, **kwargs):
    """Run a check of :mod:`helpers.checking`; its AssertionError becomes :class:`Failed`, same message."""
    try:
        check(*args, **kwargs)
    except AssertionError as error:
        raise Failed(str(error)) from None


def expect_array(got, expected, name, rtol=1e-6, atol=1e-8, hint=None, exact=False, likely_mistakes=None):
    """Fail unless ``got`` is an array with ``expected``'s shape and values: the notebooks' ``check_array``.

    The visible checks of a trusted test judge with the very function the notebook's test cell
    calls, with the same defaults, so that a check passes in grading exactly when it passes in
    the notebook.

    Parameters
    ----------
    got : object
        What the student's code returned.
    expected : array_like
        The reference, computed on the trusted side.
    name : str
        The call, as the student would write it (goes into the message).
    rtol, atol : float
        Relative and absolute tolerance, as in ``np.isclose``; integers against integers compare exactly.
    hint : str, optional
        Added to a shape mismatch (``check_array``'s ``shape_hint``).
    exact : bool
        Every value must be equal (tolerances 0), whatever the dtypes.
    likely_mistakes : dict of str to array_like, optional
        Results of known mistakes, named in the message when ``got`` equals one.
    """
    from helpers.checking import check_array

    if exact:
        rtol, atol = 0.0, 0.0
    _judged_by(check_array, got, expected, name, rtol=rtol, atol=atol, shape_hint=hint,
               likely_mistakes=likely_mistakes)


def expect_shape(got, expected_shape, name, hint=None):
    """Fail unless ``got`` is an array of numbers of shape ``expected_shape``: the notebooks' ``check_shape``."""
    from helpers.checking import check_shape

    _judged_by(check_shape, got, expected_shape, name, shape_hint=hint)


def expect_scalar(got, expected, name, rtol=1e-9, atol=0.0, kind=None):
    """Fail unless ``got`` is a number equal (or close) to ``expected``: the notebooks' ``check_scalar``.

    Parameters
    ----------
    rtol, atol : float
        As in ``np.isclose``; two integers compare exactly.
    kind : {None, "int", "float"}
        Insist on the Python type too (``"int"``: an ``int``, not a float or a NumPy integer).
    """
    from helpers.checking import check_scalar

    if kind not in (None, "int", "float"):
        raise ValueError(f"kind must be None, 'int' or 'float', not {kind!r}")
    if kind == "int" and type(got) is not int:
        raise Failed(f"{name} should be a Python int, got {type(got).__name__} {_fmt(got)}")
    if kind == "float" and type(got) is not float:
        raise Failed(f"{name} should be a Python float, got {type(got).__name__} {_fmt(got)}")
    _judged_by(check_scalar, got, expected, name, rtol=rtol, atol=atol)


def expect_true(condition, message):
    """Fail with ``message`` unless ``condition``."""
    if not condition:
        raise Failed(message)


def expect_raises(exception, call, name):
    """Fail unless ``call()`` makes the student's code raise ``exception`` (a class name).

    Parameters
    ----------
    exception : str
        "ValueError", say; a subclass counts.
    call : callable
        Makes the call through ``student``, e.g. ``lambda: student.output_size(2, 3)``.
    name : str
        The call, as the student would write it.
    """
    try:
        result = call()
    except SandboxLost:
        raise
    except StudentError as error:
        if error.is_a(exception):
            return error
        raise Failed(f"{name} should raise {exception}, but raised {error.type}: {error.message}") from None
    raise Failed(f"{name} should raise {exception}, but returned {_fmt(result)}")
