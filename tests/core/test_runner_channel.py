"""The data-only channel between the trusted side and the sandbox (grading/core/runner.py)."""

import base64
import io
import json

import numpy as np
import pytest
import torch

from grading.core.runner import (ChannelError, Dispatcher, Handle, decode, encode, error_data, read_message,
                                    write_message)


def roundtrip(value):
    return decode(json.loads(json.dumps(encode(value, handles=lambda obj: 7))))


@pytest.mark.parametrize("value", [None, True, False, 0, -3, 2**70, 1.5, float("inf"), "text ✓", [1, [2.0]],
                                   (1, (2, "a")), {"a": [1, 2], "b": {"c": None}}])
def test_plain_values_come_back_equal_and_of_the_same_type(value):
    back = roundtrip(value)
    assert back == value and type(back) is type(value)


def test_nan_comes_back_as_nan():
    assert np.isnan(roundtrip(float("nan")))


@pytest.mark.parametrize("array", [np.arange(6).reshape(2, 3), np.zeros((0, 4)), np.array(3.5, dtype=np.float32),
                                   np.array([True, False]), np.array([1 + 2j]), np.arange(4, dtype=np.uint8)])
def test_arrays_keep_shape_dtype_and_values(array):
    back = roundtrip(array)
    assert type(back) is np.ndarray and back.dtype == array.dtype and np.array_equal(back, array)


def test_numpy_scalars_and_tensors():
    assert roundtrip(np.float32(2.5)) == np.float32(2.5) and type(roundtrip(np.int64(3))) is np.int64
    tensor = torch.arange(6.0).reshape(2, 3).requires_grad_()
    back = roundtrip(tensor)
    assert isinstance(back, torch.Tensor) and torch.equal(back.detach(), tensor.detach()) and back.requires_grad


def test_objects_that_are_not_data_become_handles():
    class Liar:
        def __eq__(self, other):
            return True

        def __array__(self, *args, **kwargs):
            return np.ones(3)

    class LyingInt(int):
        def __eq__(self, other):
            return True

    class LyingArray(np.ndarray):
        def __eq__(self, other):
            return True

    assert isinstance(roundtrip(Liar()), Handle)
    assert isinstance(roundtrip(LyingInt(3)), Handle)  # an int subclass is not an int here
    plain = roundtrip(np.arange(3).view(LyingArray))  # crosses as the plain array it holds
    assert type(plain) is np.ndarray and not (plain == np.array([9, 9, 9])).any()
    assert isinstance(roundtrip({1: "non-string key"}), Handle)
    with pytest.raises(ChannelError):
        encode(Liar())  # without a handle table, it cannot cross at all


def _npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize("data", [
    {"__ndarray__": _npy(np.array([object()], dtype=object), allow_pickle=True)},  # a pickle inside .npy
    {"__ndarray__": _npy(np.zeros(2, dtype=[("a", "f8")]))},                      # a structured dtype
    {"__ndarray__": _npy(np.array(["text"]))},                                     # strings are not numbers
    {"__ndarray__": "not base64 !"},
    {"__npscalar__": _npy(np.arange(3))},
    {"__pickle__": "gASVAAAA"},
    {"__handle__": "7"},
    {"__tuple__": [1], "extra": 2, "more": 3},
    {"plain": "dict"},
    {"__bigint__": "1e5"},
])
def test_decode_rejects_what_encode_never_makes(data):
    with pytest.raises(ChannelError):
        decode(data)


def test_nesting_is_limited():
    deep = [0]
    for _ in range(50):
        deep = [deep]
    with pytest.raises(ChannelError):
        encode(deep)
    data = 0
    for _ in range(50):
        data = [data]
    with pytest.raises(ChannelError):
        decode(data)


def test_messages_are_framed_and_limited():
    stream = io.BytesIO()
    write_message(stream, {"op": "call", "args": [1, 2]})
    stream.seek(0)
    assert read_message(stream) == {"op": "call", "args": [1, 2]}
    with pytest.raises(EOFError):
        read_message(stream)
    huge = io.BytesIO((2**40).to_bytes(8, "big") + b"{}")
    with pytest.raises(ChannelError):
        read_message(huge)


def test_exceptions_cross_as_type_bases_and_message():
    class Odd(ValueError):
        def __str__(self):
            raise RuntimeError("no message for you")

    data = error_data(Odd())
    assert data["type"] == "Odd" and "ValueError" in data["bases"] and "could not be read" in data["message"]


def test_dispatcher_calls_handles_keeps_and_restores_builtins():
    namespace = {"__name__": "__main__"}
    dispatcher = Dispatcher(namespace)
    errors = dispatcher.run_cells([("ok", "import builtins\ndef f(x):\n    return [x, x]\n"),
                                   ("bad", "def g(:\n"),
                                   ("tamper", "builtins.isinstance = lambda *a: True\nclass Box: pass\n")])
    assert set(errors) == {"bad"} and errors["bad"]["type"] == "SyntaxError"
    assert isinstance is __builtins__["isinstance"] if isinstance(__builtins__, dict) else True
    reply = dispatcher.answer({"op": "call", "target": "f", "args": encode([np.arange(2)]), "kwargs": encode({})})
    got = decode(reply["ok"])
    assert len(got) == 2 and np.array_equal(got[1], [0, 1])
    box = decode(dispatcher.answer({"op": "call", "target": "Box", "args": [], "kwargs": encode({})})["ok"])
    assert isinstance(box, Handle) and box.type_name == "Box"
    missing = dispatcher.answer({"op": "call", "target": "nope", "args": [], "kwargs": encode({})})
    assert missing["error"]["type"] == "NameError"
    kept = decode(dispatcher.answer({"op": "keep", "value": encode([1, 2])})["ok"])
    assert decode(dispatcher.answer({"op": "value", "target": encode(kept)})["ok"]) == [1, 2]
