"""The student side of a grading job, and the data-only codec both sides speak.

This file runs in two places:

* inside the sandbox, as a script (``python sandbox_runner.py``), where it executes the
  student's solution cells and then answers calls from the trusted side, one message at a time;
* in the trusted process, imported as ``grading.core.runner``, for :func:`encode` and
  :func:`decode` only.

It imports nothing beyond the standard library and NumPy (and PyTorch where the job's policy
allows it, only when a tensor crosses the channel), so that it works inside a sandbox that holds
nothing else.

Messages are JSON documents framed by an 8-byte big-endian length. Values are JSON numbers,
strings, booleans and null, plus tagged objects: tuples, lists, dicts with string keys, NumPy
arrays and scalars of numeric dtype as ``.npy`` bytes (never pickled), PyTorch tensors the same
way, non-finite floats, and *handles*: numbers standing for an object that stays in the sandbox
(a model, a loader). An exception crosses as its type name, the names of its bases and its
message. Nothing else can cross: :func:`decode` rejects every other form.
"""

import base64
import io
import json
import math
import os
import struct
import sys

if __name__ == "__main__" and len(sys.argv) > 3:
    # The interpreter runs isolated (-I): the allowed packages come from the third argument.
    sys.path[:0] = [p for p in sys.argv[3].split(":") if p]

import numpy as np

# Student code may replace builtins (isinstance, say), which json and this module use too. The
# originals are put back after every cell and every call, before anything is encoded: such a
# change affects the student's own code only.
import builtins as _builtins

_PRISTINE_BUILTINS = dict(vars(_builtins))


def _restore_builtins():
    vars(_builtins).update(_PRISTINE_BUILTINS)

#: dtype kinds that may cross: bool, signed and unsigned integers, floats, complex.
NUMERIC_KINDS = "biufc"
#: Largest message either side accepts (bytes).
MAX_MESSAGE = 256 * 2**20
#: Deepest nesting of lists, tuples and dicts a value may have.
MAX_DEPTH = 20
#: Longest string (characters) that crosses; longer ones are cut.
MAX_STRING = 100_000


class ChannelError(Exception):
    """A message broke the protocol: not a value this channel carries."""


class Handle:
    """An object that stays on the sandbox side, known to the trusted side by number.

    Parameters
    ----------
    number : int
    type_name : str
        ``type(obj).__name__`` on the sandbox side (for messages only; it is the student's word).
    """

    def __init__(self, number, type_name=""):
        self.number = int(number)
        self.type_name = str(type_name)[:200]

    def __repr__(self):
        return f"<object of type {self.type_name} in the sandbox>"

    def __eq__(self, other):
        return isinstance(other, Handle) and other.number == self.number

    def __hash__(self):
        return hash(self.number)


# ------------------------------------------------------------------------------------ codec

def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _npy_array(text):
    if not isinstance(text, str):
        raise ChannelError("array payload is not text")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as error:
        raise ChannelError(f"not an .npy array: {error}") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in NUMERIC_KINDS or array.dtype.names:
        raise ChannelError(f"arrays of dtype {getattr(array, 'dtype', '?')} do not cross")
    return array


def encode(value, handles=None, depth=0):
    """Turn a value into JSON-ready data.

    Parameters
    ----------
    value : object
    handles : callable, optional
        Called with an object that is not data; returns its handle number. Without it, such an
        object raises :class:`ChannelError`.

    Returns
    -------
    object
        JSON-ready data.
    """
    if depth > MAX_DEPTH:
        raise ChannelError("value nested too deeply")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value if kind is not str else value[:MAX_STRING]
    if kind is int:
        return value if -2**63 <= value < 2**63 else {"__bigint__": str(value)}
    if kind is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if kind is tuple:
        return {"__tuple__": [encode(v, handles, depth + 1) for v in value]}
    if kind is list:
        return [encode(v, handles, depth + 1) for v in value]
    if kind is dict and all(type(k) is str for k in value):
        return {"__dict__": {k: encode(v, handles, depth + 1) for k, v in value.items()}}
    if isinstance(value, Handle):
        return {"__handle__": value.number, "type": value.type_name}
    if isinstance(value, np.ndarray) and value.dtype.kind in NUMERIC_KINDS and not value.dtype.names:
        # A subclass crosses as the plain array it holds: no __array__ or __eq__ of its own.
        return {"__ndarray__": _npy_bytes(np.array(value.view(np.ndarray), order="C", copy=True))}
    if isinstance(value, np.generic) and np.dtype(type(value)).kind in NUMERIC_KINDS:
        return {"__npscalar__": _npy_bytes(np.asarray(value))}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor) and type(value) is torch.Tensor \
            and not value.is_complex() and value.layout == torch.strided:
        array = value.detach().cpu().resolve_conj().resolve_neg().numpy().copy()
        return {"__tensor__": _npy_bytes(array), "requires_grad": bool(value.requires_grad)}
    if handles is not None:
        return {"__handle__": handles(value), "type": type(value).__name__}
    raise ChannelError(f"an object of type {kind.__name__} cannot cross the channel")


def decode(data, depth=0):
    """The inverse of :func:`encode`; rejects anything it would not produce.

    Tensors become PyTorch tensors where PyTorch is imported, else NumPy arrays.
    """
    if depth > MAX_DEPTH:
        raise ChannelError("value nested too deeply")
    kind = type(data)
    if data is None or kind in (bool, int, float):
        return data
    if kind is str:
        return data[:MAX_STRING]
    if kind is list:
        return [decode(v, depth + 1) for v in data]
    if kind is not dict or len(data) not in (1, 2):
        raise ChannelError(f"unexpected {kind.__name__} in a message")
    tag = next(iter(data))
    payload = data[tag]
    if tag == "__tuple__" and type(payload) is list:
        return tuple(decode(v, depth + 1) for v in payload)
    if tag == "__dict__" and type(payload) is dict:
        return {str(k): decode(v, depth + 1) for k, v in payload.items()}
    if tag == "__ndarray__":
        return _npy_array(payload)
    if tag == "__npscalar__":
        array = _npy_array(payload)
        if array.shape != ():
            raise ChannelError("a scalar must have shape ()")
        return array[()]
    if tag == "__tensor__":
        array = _npy_array(payload)
        torch = sys.modules.get("torch")
        if torch is None:
            return array
        tensor = torch.from_numpy(array.copy())
        wants_grad = data.get("requires_grad") is True and tensor.is_floating_point()
        return tensor.requires_grad_(True) if wants_grad else tensor
    if tag == "__float__" and payload in ("nan", "inf", "-inf"):
        return float(payload)
    if tag == "__bigint__" and type(payload) is str and payload.lstrip("-").isdigit() and len(payload) < 5000:
        return int(payload)
    if tag == "__handle__" and type(payload) is int:
        return Handle(payload, data.get("type", "") if type(data.get("type", "")) is str else "")
    raise ChannelError(f"unknown tag {str(tag)[:40]!r} in a message")


def error_data(error):
    """An exception as data: its type name, the names of its bases and its message."""
    names = []
    for klass in type(error).__mro__:
        name = getattr(klass, "__name__", "?")
        if isinstance(name, str):
            names.append(name[:100])
    try:
        message = str(error)
    except Exception:  # a student's exception whose __str__ raises
        message = "(the exception's message could not be read)"
    return {"type": names[0] if names else "Exception", "bases": names[1:], "message": message[:2000]}


def cell_error_data(error, filename):
    """:func:`error_data` of an exception that a solution cell raised, with the cell's line it points at.

    ``line`` counts from the first line of the cell, as its author sees it: a syntax error's own
    line, else the last line of the cell's code that the traceback passes (None if it passes none).
    A syntax error's message is its text alone, without the file name and line that ``str`` adds.
    """
    data = error_data(error)
    line = None
    try:
        if isinstance(error, SyntaxError) and error.filename == filename:
            line = error.lineno
            data["message"] = str(error.msg)[:2000]
        else:
            trace = error.__traceback__
            while trace is not None:
                if trace.tb_frame.f_code.co_filename == filename:
                    line = trace.tb_lineno
                trace = trace.tb_next
    except Exception:  # a student's exception class whose attributes raise: no line, then
        line = None
    data["line"] = line if type(line) is int else None
    return data


def frame(document):
    """One JSON document as the bytes that cross: an 8-byte big-endian length, then the JSON."""
    body = json.dumps(document, allow_nan=False, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_MESSAGE:
        raise ChannelError(f"a message of {len(body)} bytes is over the limit")
    return struct.pack(">Q", len(body)) + body


def write_message(stream, document):
    """Write one framed JSON document to a binary stream."""
    stream.write(frame(document))
    stream.flush()


def read_message(stream):
    """Read one framed JSON document; ``EOFError`` when the other side is gone."""
    header = _read_exactly(stream, 8)
    (size,) = struct.unpack(">Q", header)
    if size > MAX_MESSAGE:
        raise ChannelError(f"a message of {size} bytes is over the limit")
    body = _read_exactly(stream, size)
    try:
        return json.loads(body.decode("utf-8"))
    except ValueError as error:
        raise ChannelError(f"not JSON: {error}") from None


def _read_exactly(stream, size):
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# ------------------------------------------------------------------------------ student side

class Op:
    """The requests the student side answers, by the name that crosses the channel.

    Every request but :data:`STOP` has its handler in :data:`HANDLERS`; :data:`STOP` ends the
    loop that reads requests (:meth:`Dispatcher.serve`).
    """

    #: Call a name, a handle or a fixture (``attribute``: a method of it).
    CALL = "call"
    #: Read an attribute of a name or a handle.
    GETATTR = "getattr"
    #: Keep a value in the sandbox; reply with its handle.
    KEEP = "keep"
    #: A name's or a handle's value as data.
    VALUE = "value"
    #: Put a fixture (or a kept handle) under a name of the student's namespace.
    SWAP = "swap"
    #: Run the solution cell at ``index`` (the set-up process only).
    CELL = "cell"
    #: Start a test in a copy of the set-up process (the set-up process only).
    FORK = "fork"
    #: End the loop: the set-up process exits, or a test's copy does.
    STOP = "stop"
    #: Requests that only the set-up process answers; a test's copy treats them as unknown.
    SETUP_ONLY = frozenset({CELL, FORK})


class Dispatcher:
    """Runs the student's cells and answers requests: the whole student side of a job.

    Parameters
    ----------
    namespace : dict
        Where the student's cells run (their ``__main__``).
    fixtures : list of modules
        Test furniture the trusted side may ask for by name (an assignment's fixture module, and
        the references a test needs), searched in order.
    cells : list of (grade_id, source)
        The solution cells that :data:`Op.CELL` requests run, by index.
    channel_in, channel_out : binary streams, optional
        Where requests come from and replies go (for :meth:`serve` and :data:`Op.FORK`).
    """

    def __init__(self, namespace, fixtures=(), cells=(), channel_in=None, channel_out=None):
        self.namespace = namespace
        self.fixtures = list(fixtures or ())
        self.cells = list(cells)
        self.channel_in, self.channel_out = channel_in, channel_out
        self.objects = {}
        self.cell_errors = {}
        self.is_copy = False  # a test's copy of the set-up process

    def _handle(self, obj):
        number = len(self.objects) + 1
        self.objects[number] = obj
        return number

    def _resolve(self, value):
        """Handles in arguments become the sandbox objects they stand for."""
        if isinstance(value, Handle):
            if value.number not in self.objects:
                raise ChannelError(f"no object with handle {value.number}")
            return self.objects[value.number]
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: self._resolve(v) for k, v in value.items()}
        return value

    def run_cell(self, grade_id, source):
        """Execute one solution cell; returns its error data if it raised, else None."""
        filename = f"<solution cell {grade_id}>"
        try:
            code = compile(source, filename, "exec")
            exec(code, self.namespace)
        except BaseException as error:  # SystemExit and KeyboardInterrupt too: the cell failed
            _restore_builtins()
            self.cell_errors[grade_id] = cell_error_data(error, filename)
        else:
            _restore_builtins()
        return self.cell_errors.get(grade_id)

    def run_cells(self, cells):
        """Execute solution cells in order; remember which failed and why.

        Parameters
        ----------
        cells : list of [grade_id, source]

        Returns
        -------
        dict
            grade_id -> error data for every cell that raised.
        """
        for grade_id, source in cells:
            self.run_cell(grade_id, source)
        return dict(self.cell_errors)

    def target(self, name):
        """The object a request names: a name in the namespace, a handle, or a fixture."""
        if isinstance(name, Handle):
            return self._resolve(name)
        if not isinstance(name, str):
            raise ChannelError("a target is a name or a handle")
        if name.startswith("fixture:"):
            wanted = name[len("fixture:"):]
            for module in self.fixtures:
                if hasattr(module, wanted):
                    return getattr(module, wanted)
            raise ChannelError(f"no fixture {wanted!r} in this sandbox")
        if name not in self.namespace:
            raise NameError(f"name {name!r} is not defined")
        return self.namespace[name]

    def answer(self, request):
        """Carry out one request with its handler in :data:`HANDLERS`; the reply is a JSON-ready document.

        None when the handler wrote its replies itself (:data:`Op.FORK`).
        """
        try:
            op = request.get("op")
            handler = HANDLERS.get(op) if isinstance(op, str) else None
            if handler is None or (self.is_copy and op in Op.SETUP_ONLY):
                raise ChannelError(f"unknown request {op!r}")
            return handler(self, request)
        except BaseException as error:
            _restore_builtins()
            return {"error": error_data(error)}

    def serve(self):
        """Answer requests from ``channel_in`` until :data:`Op.STOP` or the end of the channel."""
        while True:
            try:
                request = read_message(self.channel_in)
            except EOFError:
                return
            if request.get("op") == Op.STOP:
                return
            reply = self.answer(request)
            if reply is not None:
                write_message(self.channel_out, reply)

    # -- handlers: each takes the request and returns the reply

    def _ok(self, result):
        # The student's code has run: builtins are put back before anything is encoded.
        _restore_builtins()
        return {"ok": encode(result, self._handle)}

    def call(self, request):
        function = self.target(decode(request["target"]))
        if request.get("attribute"):
            function = getattr(function, str(request["attribute"]))
        args = self._resolve(decode(request.get("args", [])))
        kwargs = self._resolve(decode(request.get("kwargs", {"__dict__": {}})))
        return self._ok(function(*args, **kwargs))

    def get_attribute(self, request):
        return self._ok(getattr(self.target(decode(request["target"])), str(request["attribute"])))

    def keep(self, request):
        # A value that stays in the sandbox, so that the trusted side can read it back after a
        # call and see whether the student's code changed its input.
        value = self._resolve(decode(request["value"]))
        return self._ok(Handle(self._handle(value), type(value).__name__))

    def value(self, request):
        return self._ok(self.target(decode(request["target"])))

    def swap(self, request):
        # Put a fixture under a name of the student's namespace (a reference evaluate, say), so
        # that a test of one task does not depend on another task's function.
        name = str(request["name"])
        previous = self.namespace.get(name)
        self.namespace[name] = self.target(decode(request["value"]))
        return self._ok(Handle(self._handle(previous), type(previous).__name__) if previous is not None else None)

    def cell(self, request):
        # One solution cell at a time: the trusted side knows which one runs, and gives each its own time.
        index = request.get("index")
        if type(index) is not int or not 0 <= index < len(self.cells):
            raise ChannelError(f"no solution cell {index!r}")
        grade_id, source = self.cells[index]
        return {"cell": index, "cell_error": self.run_cell(str(grade_id), str(source))}


def _load_modules(sources):
    """Modules sent as source text (references of one test): they exist in this process only."""
    import types

    loaded = []
    for name, source in sources or []:
        module = types.ModuleType(str(name))
        module.__file__ = f"<{name}>"
        sys.modules[str(name)] = module
        exec(compile(str(source), f"<{name}>", "exec"), module.__dict__)
        loaded.append(module)
    return loaded


def fork_test(dispatcher, request):
    """Run one test in a copy of this process; reply with how the copy ended.

    The copy (the child) starts exactly where the set-up left off, gets the test's references
    (only it ever holds them), answers the test's requests and exits when told to stop. This
    process waits meanwhile, reading nothing, then reports the child's exit status, so that a
    child that crashes is told apart from one that finished. Writes its replies itself.
    """
    channel_out = dispatcher.channel_out
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError as error:  # out of processes: the trusted side finds out whose fault that is
        write_message(channel_out, {"forked": False, "error": f"{type(error).__name__}: {error}"[:300]})
        return None
    if pid == 0:
        try:
            dispatcher.is_copy = True
            dispatcher.fixtures.extend(_load_modules(request.get("modules")))
            _restore_builtins()
            write_message(channel_out, {"forked": True, "pid": os.getpid()})
            dispatcher.serve()
        finally:
            sys.stdout.flush()
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    write_message(channel_out, {"child_ended": os.waitstatus_to_exitcode(status)})
    return None


#: The one table of requests: op -> handler(dispatcher, request) -> reply document (None: written already).
HANDLERS = {
    Op.CALL: Dispatcher.call,
    Op.GETATTR: Dispatcher.get_attribute,
    Op.KEEP: Dispatcher.keep,
    Op.VALUE: Dispatcher.value,
    Op.SWAP: Dispatcher.swap,
    Op.CELL: Dispatcher.cell,
    Op.FORK: fork_test,
}


def _serve(channel_in, channel_out):
    """The main loop inside the sandbox: set up, then answer until told to stop.

    The set-up sends the solution cells' requests (:data:`Op.CELL`) in order; after a
    :data:`Op.FORK` request a child answers the requests of one test.
    """
    setup = read_message(channel_in)
    if setup.get("torch_threads"):
        import torch

        torch.set_num_threads(int(setup["torch_threads"]))
    import importlib

    fixtures = [importlib.import_module(str(name)) for name in setup.get("fixtures") or []]
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    cells = [tuple(cell) for cell in setup.get("cells", []) if isinstance(cell, list) and len(cell) == 2]
    dispatcher = Dispatcher(namespace, fixtures, cells, channel_in, channel_out)
    for line in setup.get("prelude", []):
        exec(line, namespace)
    # The imports are done: the trusted side asks for the student's cells, one by one, from now.
    write_message(channel_out, {"imported": True})
    dispatcher.serve()


def main():
    # The channel is two pipes whose descriptors come as arguments. The student's prints go to
    # fds 1 and 2, which the sandbox reads into a capped log, so they never corrupt a message.
    channel_in = os.fdopen(int(sys.argv[1]), "rb", buffering=0)
    channel_out = os.fdopen(int(sys.argv[2]), "wb", buffering=0)
    sys.stdin = open(os.devnull)
    # np.set_printoptions and the like are the student's business; the codec does not print.
    _serve(channel_in, channel_out)
    sys.stdout.flush()
    # Skip interpreter shutdown: atexit hooks and __del__ methods of the student's objects.
    os._exit(0)


if __name__ == "__main__":
    main()
