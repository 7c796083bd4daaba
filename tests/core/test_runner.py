"""The request table of the student side (grading/core/runner.py: Op, HANDLERS, Dispatcher): unit tests."""

import io

import pytest

from grading.core import runner
from grading.core.runner import HANDLERS, Dispatcher, Op, decode, encode, read_message, write_message
from grading.core.testing import Student


def _ops():
    return {value for name, value in vars(Op).items() if name.isupper() and isinstance(value, str)}


def test_every_request_but_stop_has_one_handler_and_every_handler_a_request():
    assert set(HANDLERS) == _ops() - {Op.STOP}
    assert Op.SETUP_ONLY <= set(HANDLERS)


class Recorder:
    """A connection that notes each request and answers it with a dispatcher."""

    def __init__(self, dispatcher):
        self.dispatcher, self.ops, self.cell_errors = dispatcher, [], {}

    def request(self, document):
        self.ops.append(document["op"])
        return self.dispatcher.answer(document)


def test_the_trusted_side_asks_only_for_requests_of_the_table():
    namespace = {"__name__": "__main__"}
    dispatcher = Dispatcher(namespace, [runner])
    dispatcher.run_cells([("f", "class Box:\n    size = 3\n    def grow(self, n):\n        return self.size + n\n"
                                "def make():\n    return Box()\n")])
    recorder = Recorder(dispatcher)
    student = Student(recorder)
    box = student.make()
    assert student.method(box, "grow", 2) == 5 and student.attribute(box, "size") == 3
    kept = student.keep([1, 2])
    assert student.value(kept) == [1, 2]
    with student.replaced("make", "MAX_DEPTH"):
        assert student.value("make") == runner.MAX_DEPTH
    assert set(recorder.ops) == {Op.CALL, Op.GETATTR, Op.KEEP, Op.VALUE, Op.SWAP}


@pytest.mark.parametrize("request_", [{"op": "defined", "name": "f"}, {"op": "nope"}, {"op": ["call"]}, {}])
def test_a_request_outside_the_table_is_answered_with_an_error(request_):
    reply = Dispatcher({"__name__": "__main__", "f": 1}).answer(request_)
    assert reply["error"]["type"] == "ChannelError" and "unknown request" in reply["error"]["message"]


def test_a_test_s_copy_answers_no_set_up_request():
    dispatcher = Dispatcher({"__name__": "__main__"}, cells=[("a", "x = 1")])
    dispatcher.is_copy = True
    for op in sorted(Op.SETUP_ONLY):
        reply = dispatcher.answer({"op": op, "index": 0})
        assert "unknown request" in reply["error"]["message"], op
    assert "x" not in dispatcher.namespace


def test_cells_run_by_index_and_an_index_out_of_range_is_refused():
    dispatcher = Dispatcher({"__name__": "__main__"}, cells=[("a", "x = 1"), ("b", "1 / 0")])
    assert dispatcher.answer({"op": Op.CELL, "index": 0}) == {"cell": 0, "cell_error": None}
    assert dispatcher.answer({"op": Op.CELL, "index": 1})["cell_error"]["type"] == "ZeroDivisionError"
    assert dispatcher.namespace["x"] == 1
    for index in (2, -1, "0", True):
        assert "no solution cell" in dispatcher.answer({"op": Op.CELL, "index": index})["error"]["message"]


def test_serve_answers_until_stop():
    requests = io.BytesIO()
    for document in ({"op": Op.VALUE, "target": encode("x")}, {"op": Op.STOP}, {"op": Op.VALUE, "target": "x"}):
        write_message(requests, document)
    requests.seek(0)
    replies = io.BytesIO()
    Dispatcher({"__name__": "__main__", "x": 7}, channel_in=requests, channel_out=replies).serve()
    replies.seek(0)
    assert decode(read_message(replies)["ok"]) == 7
    with pytest.raises(EOFError):
        read_message(replies)
