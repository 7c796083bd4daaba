"""Trusted tests of ex04/06_pytorch_cnn: layer_shapes, DigitCNN, evaluate, train, the test accuracy.

layer_shapes runs where only NumPy can be imported; its references are the same layers built in
PyTorch here. The other four run where PyTorch (and only PyTorch) can be imported. The models,
loaders and recorders they need are built in the sandbox by :mod:`grading.ex04.fixtures_torch`, which this
module imports too, so that the same seeds build the same objects on both sides; the digits are
loaded here and sent as tensors. What can be checked here is: the weights come back as arrays
(``state_arrays``) and the logits are recomputed from them with ``torch.nn.functional``; the
trained weights and batch-norm statistics of train are compared with a training run here, and so
are Task 5's trained weights (within a tolerance: 40 epochs amplify rounding); the test images
cross only after training and are counted here.

Changes from the notebook's test cells, where the channel or the one-task-one-test rule asks:

* The checks that layer_shapes and evaluate "must not modify" their inputs, and the hidden check
  that evaluate leaves the data unchanged, are dropped: the student's code gets copies, and every
  reference is computed from trusted copies.
* test_digit_cnn compared the parameter count with the student's layer_shapes too; here it is
  compared with the trusted count only (a wrong layer_shapes costs Task 1's points, not Task 2's).
* test_train runs its visible part with a reference DigitCNN (the same layers, created in the same
  order, so the same weights from the same seed) and, like its hidden part, with a correct evaluate
  in the student's ``evaluate``; test_accuracy too. The last validation entries are compared with
  an evaluation done here, from the trained weights.
* The hidden test of evaluate built its untrained linear model from whatever state the global RNG
  was in; here it is built from seed 0.
"""

import functools
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from grading.ex04 import fixtures_torch as fixtures
from grading.ex04.reference_cnn import ReferenceDigitCNN
from grading.ex04.reference_evaluate import reference_evaluate
from grading.core.cache import computed_once
from grading.core.testing import StudentError, Failed, Handle, expect_raises, expect_true, hidden, test, visible


torch.set_num_threads(1)  # as in the sandbox: the same numbers on both sides


DIGIT_CNN_SPEC = [
    ("conv", 32, 3, 1, 1), ("relu",), ("pool", 2),
    ("conv", 64, 3, 1, 1), ("relu",), ("pool", 2),
    ("flatten",), ("linear", 10),
]
DIGIT_SHAPE = (1, 8, 8)


# ----------------------------------------------------------------------------- data

@functools.lru_cache(maxsize=None)
def _digits():
    """All 1797 digits as in the hidden tests: (N, 1, 8, 8) float32 in [0, 1], int64 labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images[:, None] / 16.0, dtype=torch.float32)
    return images, torch.tensor(digits.target, dtype=torch.int64)


@functools.lru_cache(maxsize=None)
def _split():
    """The unit's fixed split, as the notebook's visible checks use it."""
    from helpers.datasets import digits_split

    return digits_split()


def _part(name):
    from helpers.datasets import as_tensors

    return as_tensors(getattr(_split(), name))


# ----------------------------------------------------------------------------- references

def _lazy_rows(in_shape, spec):
    """The visible check's reference: lazy PyTorch layers on a dummy input, counts from p.numel()."""
    layers = {"conv": lambda c, k, s, p: nn.LazyConv2d(c, k, stride=s, padding=p), "relu": nn.ReLU,
              "pool": nn.MaxPool2d, "flatten": nn.Flatten, "linear": nn.LazyLinear}
    z, rows = torch.zeros(1, *in_shape), []
    with torch.no_grad():
        for kind, *args in spec:
            layer = layers[kind](*args)
            z = layer(z)
            rows.append((tuple(z.shape[1:]), sum(p.numel() for p in layer.parameters())))
    return rows


def _torch_rows(in_shape, spec):
    """The hidden checks' reference: the layers built in PyTorch, run on a batch of two zeros."""
    z, rows = torch.zeros(2, *in_shape), []
    with torch.no_grad():
        for layer in spec:
            if layer[0] == "conv":
                module = nn.Conv2d(z.shape[1], layer[1], layer[2], stride=layer[3], padding=layer[4])
            elif layer[0] == "relu":
                module = nn.ReLU()
            elif layer[0] == "pool":
                module = nn.MaxPool2d(layer[1])
            elif layer[0] == "flatten":
                module = nn.Flatten()
            else:
                module = nn.Linear(z.shape[1], layer[1])
            z = module(z)
            rows.append((tuple(z.shape[1:]), sum(p.numel() for p in module.parameters())))
    return rows


def _functional_logits(weights, x):
    """conv-ReLU-pool, conv-ReLU-pool, flatten, linear, from the arrays of the three layers."""
    (w1, b1), (w2, b2), (wf, bf) = weights
    z = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=1)), 2)
    z = F.max_pool2d(F.relu(F.conv2d(z, w2, b2, padding=1)), 2)
    return F.linear(z.flatten(1), wf, bf)


def _reference_train(model, loader, val, epochs, lr, smoothing):
    """The recipe of Task 4, step by step (the hidden test's copy)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * len(loader))
    history = {"train_loss": [], "val_loss": [], "val_accuracy": []}
    for _ in range(epochs):
        model.train()
        total, count = 0.0, 0
        for images, labels in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(images), labels, label_smoothing=smoothing)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(labels)
            count += len(labels)
        val_loss, val_accuracy = reference_evaluate(model, val)
        history["train_loss"].append(total / count)
        history["val_loss"].append(val_loss)
        history["val_accuracy"].append(val_accuracy)
    return history


HIDDEN_TRAININGS = [(150, 32, 3, 0.01, 0.1, True), (97, 40, 2, 0.003, 0.0, False), (64, 64, 4, 0.02, 0.2, True)]

#: Task 5's recipe (section 9): batch size, seed of the shuffle and of the shifts, largest shift, epochs,
#: largest learning rate, label smoothing.
TASK5_RECIPE = {"batch": 64, "seed": 0, "max_shift": 1, "epochs": 40, "lr": 0.01, "smoothing": 0.1}

#: How far Task 5's trained weights may lie from the recipe's, as ||w - w_recipe|| / ||w_recipe|| over
#: all parameters. Forty epochs amplify a difference in the last bit (a loss summed and divided
#: instead of averaged, one weight changed by 1e-7) to a distance of 0 to 0.23 in 40 trials; the
#: same start and images in another order land 0.53 to 0.57 away, other images 0.6 and more,
#: another start 1.4 (README: How grading works).
TRAINED_WEIGHTS_TOLERANCE = 0.35


@functools.lru_cache(maxsize=None)
def _hidden_trainings():
    """The recipe run here on the hidden test's data: the same for every student, so done once per worker.

    Returns
    -------
    list of (setting, (train indices, validation indices), trained net, history)
    """
    X_all, y_all = _digits()
    gen = torch.Generator().manual_seed(64)
    runs = []
    for setting in HIDDEN_TRAININGS:
        n, batch, epochs, lr, smoothing, _ = setting
        idx = torch.randperm(len(X_all), generator=gen)
        tr, va = idx[:n], idx[n:n + 80]
        twin = fixtures.bn_net(n)
        history = _reference_train(twin, fixtures.loader(X_all[tr], y_all[tr], batch, True, n),
                                   fixtures.loader(X_all[va], y_all[va], 30), epochs, lr, smoothing)
        runs.append((setting, (tr, va), twin, history))
    return runs


# ----------------------------------------------------------------------------- reading the sandbox

def _model(got, name):
    """A model the student's code built stays in the sandbox: it must come back as a handle."""
    if not isinstance(got, Handle):
        raise Failed(f"{name} returned {type(got).__name__}, not a model")
    return got


def _parameter_count(student, model):
    return int(sum(np.asarray(a).size for a in student.fixture("parameter_arrays", model).values()))


def _layers(student, model):
    """The model's Conv2d and Linear modules (in the order of model.modules()) and all modules."""
    rows = student.fixture("describe_modules", model)
    return [r for r in rows if r["kind"] == "Conv2d"], [r for r in rows if r["kind"] == "Linear"], rows


def _layer_weights(student, model, name):
    """(weight, bias) tensors of conv1, conv2 and the linear layer, from the model's state_dict."""
    convs, linears, _ = _layers(student, model)
    if len(convs) != 2 or len(linears) != 1:
        raise Failed(f"{name}: expected 2 Conv2d and 1 Linear modules, found {len(convs)} and {len(linears)}")
    state = student.fixture("state_arrays", model)
    weights = []
    for row in convs + linears:
        key = f"{row['name']}.weight" if row["name"] else "weight"
        if key not in state:
            raise Failed(f"{name}: the weight of the layer {row['name']!r} is not in its state_dict")
        bias_key = key[:-len("weight")] + "bias"
        bias = torch.as_tensor(state[bias_key]) if row["bias"] is not None and bias_key in state else None
        weights.append((torch.as_tensor(state[key]), bias))
    return weights


def _logits(got, name, shape):
    """The student's output: a tensor of the given shape."""
    if not isinstance(got, torch.Tensor):
        raise Failed(f"{name}: expected a tensor of logits, got {type(got).__name__}")
    if tuple(got.shape) != tuple(shape):
        raise Failed(f"{name}: expected logits of shape {tuple(shape)}, got {tuple(got.shape)}")
    return got.detach()


def _same(got, expected):
    """Equal arrays; a 0-d buffer (num_batches_tracked) may come back with shape (1,)."""
    return got is not None and np.size(got) == np.size(expected) and np.array_equal(np.ravel(got), np.ravel(expected))


def _float_pair(got, name):
    if not (isinstance(got, tuple) and len(got) == 2):
        raise Failed(f"{name} must return a pair (mean_loss, accuracy), got {type(got).__name__}")
    if not all(isinstance(v, float) for v in got):
        raise Failed(f"{name}: both numbers must be Python floats (use .item()), got {[type(v).__name__ for v in got]}")
    return got


def _flat_weights(pairs):
    """One float64 vector of (weight, bias) pairs, in their order (a missing bias is left out)."""
    return torch.cat([t.detach().double().flatten() for pair in pairs for t in pair if t is not None])


@functools.lru_cache(maxsize=None)
def _task5_recipe_weights():
    """Task 5's training, run here with the recipe from the trusted start: the same for every student,
    so done once per machine and version of this code (about 3 s), and kept (:func:`computed_once`).

    Returns
    -------
    torch.Tensor of float64
        The trained parameters of conv1, conv2 and the linear layer, flattened in that order.
    """
    import sklearn

    import helpers.datasets

    modules = (sys.modules[__name__], fixtures, sys.modules[ReferenceDigitCNN.__module__], helpers.datasets)
    sources = [Path(module.__file__).read_text(encoding="utf-8") for module in modules]
    depends_on = [*sources, TASK5_RECIPE, torch.__version__, np.__version__, sklearn.__version__]
    return torch.from_numpy(computed_once("task5-recipe-weights", depends_on, _train_task5_recipe))


def _train_task5_recipe():
    r = TASK5_RECIPE
    torch.manual_seed(0)
    twin = ReferenceDigitCNN()
    batches = fixtures.shifted_batches(fixtures.loader(*_part("train"), r["batch"], True, r["seed"]),
                                       r["max_shift"], r["seed"])
    _reference_train(twin, batches, fixtures.loader(*_part("val"), r["batch"]), r["epochs"], r["lr"], r["smoothing"])
    return _flat_weights([(twin.conv1.weight, twin.conv1.bias), (twin.conv2.weight, twin.conv2.bias),
                          (twin.fc.weight, twin.fc.bias)]).numpy()


def _check_trained_by_the_recipe(student, model):
    """The weights after the student's train are what the recipe trains from the same start on the same batches.

    Equal weights cannot be asked for (see :data:`TRAINED_WEIGHTS_TOLERANCE`); weights installed
    from elsewhere, trained on other images, in another order or from another start, lie far away.
    """
    weights = _flat_weights(_layer_weights(student, model, "the trained DigitCNN"))
    expected = _task5_recipe_weights()
    if weights.shape != expected.shape or not torch.isfinite(weights).all():
        raise Failed("the trained DigitCNN must have the weights and biases of Task 2, as finite numbers")
    distance = float((weights - expected).norm() / expected.norm())
    expect_true(distance <= TRAINED_WEIGHTS_TOLERANCE,
                f"the weights after your train lie {distance:.2f} from what the recipe trains from the same start on "
                f"the same batches (relative distance; at most {TRAINED_WEIGHTS_TOLERANCE}, a correct train lands "
                "within about 0.25): train the model you are given, on the batches you are given, with the recipe "
                "of Task 4")


def _start_from_trusted_weights(student, model):
    """Give the model the start values of DigitCNN() after torch.manual_seed(0), computed here.

    For a correct DigitCNN these are the values it has anyway; a network that brings weights
    trained elsewhere (on every digit, the test images included) loses them, so the accuracy
    counted afterwards is what the student's train achieves.
    """
    torch.manual_seed(0)
    start = [p.detach().numpy().copy() for p in ReferenceDigitCNN().parameters()]
    try:
        student.fixture("load_parameters", model, start)
    except StudentError as error:
        raise Failed("DigitCNN() must have the parameters of Task 2 in the order conv1, conv2, linear: "
                     f"{error.message}") from None


def _check_trained_cnn(student, model, images, labels, what):
    """Send the test images (only now), count right answers here, and recompute the logits from the weights."""
    student.method(model, "eval")
    logits = _logits(student.fixture("forward", model, images), f"the trained DigitCNN on {len(labels)} test images",
                     (len(labels), 10))
    correct = int((logits.argmax(1) == labels).sum())
    expect_true(correct >= 0.97 * len(labels), f"{what}{correct}/{len(labels)} test images right "
                f"({100 * correct / len(labels):.1f}%); at least 97% needed")
    with torch.no_grad():
        reference = _functional_logits(_layer_weights(student, model, "the trained DigitCNN"), images)
    expect_true(torch.allclose(logits.float(), reference, atol=1e-4, rtol=1e-4),
                "the trained DigitCNN's logits differ from conv-ReLU-pool, conv-ReLU-pool, flatten, linear "
                "computed from its own weights")


# ----------------------------------------------------------------------------- Task 1

def _check_rows(student, in_shape, spec):
    """The hidden checks of one layer list against PyTorch."""
    got = student.layer_shapes(in_shape, spec)
    expect_true(isinstance(got, list) and len(got) == len(spec),
                f"layer_shapes must return a list with one pair per layer ({len(spec)})")
    for layer, pair, ref in zip(spec, got, _torch_rows(tuple(in_shape), spec)):
        try:
            shape, count = pair
            values = (*shape, count)
        except (TypeError, ValueError):
            raise Failed(f"{layer}: expected a pair (output_shape, n_parameters), got {pair!r}") from None
        expect_true(all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in values),
                    f"{layer}: shapes and counts must be integers, got {pair}")
        expect_true((tuple(int(v) for v in shape), int(count)) == ref,
                    f"input {tuple(in_shape)}, layer {layer}: expected {ref}, got {pair}")


@test("test_layer_shapes", policy="numpy")
def layer_shapes(student):
    """Task 1: output shapes and parameter counts from the formulas, against PyTorch."""
    with visible("layer_shapes of DIGIT_CNN_SPEC agrees with PyTorch on every layer"):
        kept = student.keep(list(DIGIT_CNN_SPEC))
        got = student.layer_shapes(DIGIT_SHAPE, kept)
        expect_true(student.value(kept) == list(DIGIT_CNN_SPEC), "layer_shapes must not modify spec")
        expect_true(isinstance(got, list), f"layer_shapes must return a list, not {type(got).__name__}")
        expect_true(len(got) == len(DIGIT_CNN_SPEC),
                    f"one (shape, parameters) pair per layer: expected {len(DIGIT_CNN_SPEC)}, got {len(got)}")
        first = got[0]
        try:
            ok = tuple(first[0]) == (32, 8, 8) and first[1] == 320
        except (TypeError, IndexError):
            ok = False
        expect_true(ok, f"first convolution: expected ((32, 8, 8), 320) (worked example), got {first}")
        for layer, pair, (ref_shape, ref_count) in zip(DIGIT_CNN_SPEC, got, _lazy_rows(DIGIT_SHAPE, DIGIT_CNN_SPEC)):
            try:
                shape, count = pair
                shape = tuple(shape)
            except (TypeError, ValueError):
                raise Failed(f"{layer}: expected a pair (output_shape, n_parameters), got {pair!r}") from None
            expect_true(shape == ref_shape, f"after {layer}: expected shape {ref_shape}, got {shape}")
            expect_true(count == ref_count, f"{layer}: expected {ref_count} parameters, got {count}")
            expect_true(all(isinstance(v, (int, np.integer)) for v in (*shape, count)),
                        f"{layer}: shapes and counts must be integers, got {(shape, count)}")
    with visible("layer_shapes with stride, odd sizes, pooling by 3, ReLU after a linear layer and after flatten"):
        for in_shape, spec in [((3, 29, 20), [("conv", 6, 5, 2, 1), ("relu",), ("pool", 3), ("flatten",), ("linear", 7),
                                              ("relu",), ("linear", 3)]),
                               ((1, 5, 5), [("flatten",), ("relu",), ("linear", 1)])]:
            got = student.layer_shapes(in_shape, spec)
            expect_true(isinstance(got, (list, tuple)), f"layer_shapes must return a list, not {type(got).__name__}")
            expect_true(len(got) == len(spec), f"input {in_shape}: one (shape, parameters) pair per layer: expected "
                        f"{len(spec)}, got {len(got)}")
            for layer, pair, ref in zip(spec, got, _lazy_rows(in_shape, spec)):
                try:
                    shape, count = pair
                    ok = (tuple(shape), count) == ref
                except (TypeError, ValueError):
                    ok = False
                expect_true(ok, f"input {in_shape}, layer {layer}: expected {ref}, got {pair}")
    with visible("layer_shapes refuses layers that do not fit (ValueError)"):
        for bad_shape, bad_spec, why in [(DIGIT_SHAPE, [("softmax",)], "an unknown layer"),
                                         (DIGIT_SHAPE, [("linear", 10)], "a linear layer before flatten"),
                                         (DIGIT_SHAPE, [("flatten",), ("pool", 2)], "pooling after flatten"),
                                         (DIGIT_SHAPE, [("flatten",), ("conv", 4, 3, 1, 1)],
                                          "a convolution after flatten"),
                                         ((1, 4, 4), [("conv", 8, 5, 1, 0)],
                                          "a 5 × 5 kernel on a 4 × 4 input without padding")]:
            try:
                expect_raises("ValueError", lambda: student.layer_shapes(bad_shape, bad_spec), "layer_shapes")
            except Failed:
                raise Failed(f"layer_shapes must raise ValueError for {why}") from None
    with hidden():
        _check_rows(student, (1, 8, 8), [("conv", 32, 3, 1, 1), ("relu",), ("pool", 2), ("conv", 64, 3, 1, 1),
                                         ("relu",), ("pool", 2), ("flatten",), ("linear", 10)])
        _check_rows(student, (1, 8, 8), [("conv", 5, 3, 1, 1), ("relu",), ("pool", 2), ("conv", 7, 3, 1, 1), ("relu",),
                                         ("pool", 2), ("flatten",), ("linear", 4)])
        _check_rows(student, (3, 32, 32), [("conv", 16, 5, 1, 2), ("relu",), ("pool", 2), ("conv", 32, 3, 2, 0),
                                           ("relu",), ("pool", 3), ("flatten",), ("linear", 100), ("relu",),
                                           ("linear", 10)])
        _check_rows(student, (2, 17, 9), [("conv", 4, 3, 2, 0), ("pool", 2), ("relu",), ("flatten",), ("linear", 6)])
        _check_rows(student, (1, 5, 5), [("flatten",), ("relu",), ("linear", 1)])
        _check_rows(student, [4, 11, 13], [("conv", 3, 1, 1, 0), ("conv", 2, 7, 3, 3), ("pool", 1)])
        rng = np.random.default_rng(606)
        for _ in range(12):
            shape = (int(rng.integers(1, 5)), int(rng.integers(12, 40)), int(rng.integers(12, 40)))
            spec, h, w = [], shape[1], shape[2]
            for _block in range(int(rng.integers(1, 4))):
                k, s = int(rng.choice([1, 3, 5])), int(rng.integers(1, 3))
                p = int(rng.integers(0, k // 2 + 1))
                if (h + 2 * p - k) // s + 1 < 2 or (w + 2 * p - k) // s + 1 < 2:
                    break
                h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
                spec += [("conv", int(rng.integers(1, 20)), k, s, p), ("relu",)]
                if min(h, w) >= 2:
                    spec.append(("pool", 2))
                    h, w = h // 2, w // 2
            spec += [("flatten",), ("linear", int(rng.integers(1, 30)))]
            _check_rows(student, shape, spec)
        for shape, spec in [((1, 8, 8), [("dropout", 0.5)]), ((1, 8, 8), [("conv", 4, 3, 1, 1), ("linear", 10)]),
                            ((1, 8, 8), [("flatten",), ("conv", 4, 3, 1, 1)]), ((1, 8, 8), [("flatten",), ("pool", 2)]),
                            ((1, 3, 3), [("conv", 2, 5, 1, 0)]), ((1, 8, 8), [("pool", 9)]),
                            ((2, 6, 6), [("conv", 2, 3, 1, 0), ("pool", 5)]),
                            ((1, 8, 3), [("conv", 2, 5, 1, 0)]), ((1, 3, 9), [("pool", 4)])]:
            try:
                expect_raises("ValueError", lambda: student.layer_shapes(shape, spec), "layer_shapes")
            except Failed:
                raise Failed(f"layer_shapes({shape}, {spec}) must raise ValueError") from None


# ----------------------------------------------------------------------------- Task 2

@test("test_digit_cnn", policy="torch")
def digit_cnn(student):
    """Task 2: DigitCNN's layers, parameter count and forward pass, against torch.nn.functional."""
    with visible("DigitCNN(): the layers, 21386 parameters, logits like conv-ReLU-pool ×2, flatten, linear"):
        student.fixture("manual_seed", 0)
        model = _model(student.DigitCNN(), "DigitCNN()")
        expect_true(student.fixture("is_module", model), "DigitCNN must be a subclass of nn.Module")
        convs, linears, _ = _layers(student, model)
        expect_true(len(convs) == 2 and len(linears) == 1,
                    f"expected 2 Conv2d and 1 Linear modules, found {len(convs)} and {len(linears)} "
                    "(create them in __init__ as attributes)")
        expect_true(convs[0]["weight"] == (32, 1, 3, 3) and convs[1]["weight"] == (64, 32, 3, 3),
                    f"convolution weights: expected (32, 1, 3, 3) and (64, 32, 3, 3), got {convs[0]['weight']} "
                    f"and {convs[1]['weight']}")
        expect_true(all(c["padding"] in ((1, 1), "same") and c["stride"] == (1, 1) for c in convs),
                    "both convolutions: padding=1, stride 1")
        expect_true(linears[0]["weight"] == (10, 256), "linear layer: expected weight (10, 256) (64 channels × 2 × 2 "
                    f"positions), got {linears[0]['weight']}")
        rows = _layers(student, model)[2]
        kinds = [r["type"] for r in rows if r["kind"] in ("Conv2d", "Linear")]
        expect_true(kinds == ["Conv2d", "Conv2d", "Linear"],
                    f"create the layers in __init__ in the order conv, conv, linear, not {kinds}")
        extra = [r["type"] for r in rows if r["kind"] in ("Dropout", "BatchNorm", "Softmax")]
        expect_true(not extra, f"nothing else: no dropout, batch normalisation or softmax, found {extra}")
        n_parameters = _parameter_count(student, model)
        expected = 32 * (1 * 9 + 1) + 64 * (32 * 9 + 1) + 10 * (256 + 1)
        expect_true(n_parameters == expected, f"expected {expected} parameters, PyTorch counts {n_parameters}")
        x = torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(6))
        student.method(model, "eval")
        out = _logits(student.fixture("forward", model, x), "model(x) for x of shape (5, 1, 8, 8)", (5, 10))
        with torch.no_grad():
            difference = (out - _functional_logits(_layer_weights(student, model, "DigitCNN()"), x)).abs().max().item()
        expect_true(difference < 1e-5, "the logits differ from conv-ReLU-pool, conv-ReLU-pool, flatten, linear by up "
                    f"to {difference:.3g}")
        _logits(student.fixture("forward", model, x[:1]), "a batch of one image", (1, 10))
        one_by_one = torch.cat([_logits(student.fixture("forward", model, x[i:i + 1]), "a batch of one image", (1, 10))
                                for i in range(len(x))])
        expect_true(torch.allclose(out, one_by_one, atol=1e-5, rtol=1e-4),
                    "an image's logits must not depend on the other images of the batch")
        grads = student.fixture("gradients", model, x)
        without = [name for name, g in grads.items() if g is None or not float(np.abs(g).sum()) > 0]
        expect_true(not without, f"every weight must get a gradient (is something detached?); none reaches {without}")
    with visible("DigitCNN(c1=4, c2=6, n_classes=3): parameter count and logits of shape (N, 3)"):
        small = _model(student.DigitCNN(c1=4, c2=6, n_classes=3), "DigitCNN(c1=4, c2=6, n_classes=3)")
        expect_true(_parameter_count(student, small) == 4 * 10 + 6 * (4 * 9 + 1) + 3 * (24 + 1),
                    "DigitCNN(c1=4, c2=6, n_classes=3) has the wrong number of parameters")
        _logits(student.call(small, x), "DigitCNN(c1=4, c2=6, n_classes=3)(x)", (5, 3))
    with hidden():
        gen = torch.Generator().manual_seed(6060)
        for c1, c2, n in [(32, 64, 10), (4, 6, 3), (16, 8, 5), (1, 1, 2), (7, 12, 10)]:
            label = f"DigitCNN({c1}, {c2}, {n})"
            student.fixture("manual_seed", c1 + c2)
            built = student.DigitCNN(c1=c1, c2=c2, n_classes=n) if (c1, c2, n) != (32, 64, 10) else student.DigitCNN()
            model = _model(built, label)
            convs, linears, rows = _layers(student, model)
            expect_true(len(convs) == 2 and len(linears) == 1, f"{label}: 2 Conv2d and 1 Linear expected")
            kinds = [r["type"] for r in rows if r["kind"] in ("Conv2d", "Linear")]
            expect_true(kinds == ["Conv2d", "Conv2d", "Linear"],
                        f"layers must be created in the order conv, conv, linear, not {kinds}")
            for conv, shape in zip(convs, [(c1, 1, 3, 3), (c2, c1, 3, 3)]):
                expect_true(conv["weight"] == shape and conv["bias"] == (shape[0],),
                            f"{label}: conv weight {shape} with bias")
                expect_true(conv["padding"] in ((1, 1), "same") and conv["stride"] == (1, 1)
                            and conv["dilation"] == (1, 1) and conv["groups"] == 1, "convolutions: padding 1, stride 1")
            expect_true(linears[0]["weight"] == (n, 4 * c2) and linears[0]["bias"] is not None,
                        f"{label}: linear weight ({n}, {4 * c2}) with bias")
            count, expected = _parameter_count(student, model), c1 * 10 + c2 * (9 * c1 + 1) + n * (4 * c2 + 1)
            expect_true(count == expected, f"{label}: {count} parameters, expected {expected}")
            expect_true(not any(r["kind"] in ("Dropout", "BatchNorm", "Softmax") for r in rows),
                        "no dropout, batch norm or softmax")
            weights = _layer_weights(student, model, label)
            for mode in ("eval", "train"):
                student.method(model, mode)
                for batch in (1, 3, 17):
                    x = torch.rand(batch, 1, 8, 8, generator=gen) * 2 - 0.5
                    out = _logits(student.fixture("forward", model, x), f"{label} on ({batch}, 1, 8, 8)", (batch, n))
                    with torch.no_grad():
                        reference = _functional_logits(weights, x)
                    expect_true(torch.allclose(out, reference, atol=1e-5, rtol=1e-4),
                                f"{label}: logits differ from conv-ReLU-pool, conv-ReLU-pool, flatten, linear")
                    one_by_one = torch.cat([_logits(student.fixture("forward", model, x[i:i + 1]),
                                                    f"{label} on (1, 1, 8, 8)", (1, n)) for i in range(batch)])
                    expect_true(torch.allclose(out, one_by_one, atol=1e-5, rtol=1e-4),
                                "an image's logits must not depend on the other images of the batch")
        # Gradients reach every weight.
        model = _model(student.DigitCNN(c1=3, c2=5, n_classes=4), "DigitCNN(c1=3, c2=5, n_classes=4)")
        grads = student.fixture("gradients", model, torch.rand(6, 1, 8, 8, generator=gen))
        expect_true(all(g is not None and float(np.abs(g).sum()) > 0 for g in grads.values()),
                    "every parameter must receive a gradient")


# ----------------------------------------------------------------------------- Task 3

@test("test_evaluate", policy="torch")
def evaluate(student):
    """Task 3: evaluate's mean loss over images and accuracy, in evaluation mode, the mode restored."""
    with visible("evaluate on the validation images in batches of 100, 100 and 70, a model with dropout"):
        val_images, val_labels = _part("val")
        uneven_loader = student.fixture("loader", val_images, val_labels, 100)
        model = student.fixture("dropout_model", 1)
        twin = fixtures.dropout_model(1)                 # the same model, here
        twin.eval()
        with torch.no_grad():
            reference_logits = twin(val_images)
        reference = (F.cross_entropy(reference_logits, val_labels).item(),
                     (reference_logits.argmax(1) == val_labels).float().mean().item())
        for mode in (True, False):
            student.method(model, "train", mode)
            got = _float_pair(student.evaluate(model, uneven_loader), "evaluate")
            expect_true(student.attribute(model, "training") == mode,
                        f"evaluate must put the model back into {'training' if mode else 'evaluation'} mode")
            state = student.fixture("state_arrays", model)
            expect_true(all(_same(state.get(k), v.numpy()) for k, v in twin.state_dict().items()),
                        "evaluate must not change the parameters")
            expect_true(abs(got[1] - reference[1]) < 1e-6, f"accuracy: expected {reference[1]:.4f}, got {got[1]:.4f} "
                        "(evaluation mode? every image counted once?)")
            expect_true(abs(got[0] - reference[0]) < 1e-4 * max(1.0, reference[0]),
                        f"mean loss: expected {reference[0]:.4f}, got {got[0]:.4f} (evaluation mode? averaged over "
                        "images, not over batches?)")
        recorder = student.fixture("probe_model", val_images)       # records whether gradients were tracked
        student.evaluate(recorder, uneven_loader)
        seen = student.attribute(recorder, "grad_seen")
        expect_true(bool(seen) and not any(seen),
                    "evaluate must run the model without gradient tracking (with torch.no_grad():)")
    with hidden():
        X_all, y_all = _digits()
        model = student.fixture("probe_model", X_all)
        twin = fixtures.probe_model(X_all)               # the same model, here; it is only ever run in eval mode
        twin.eval()
        twin_state = {k: v.numpy().copy() for k, v in twin.state_dict().items()}
        gen = torch.Generator().manual_seed(61)
        for n, batch in [(50, 16), (1, 1), (130, 64), (97, 200), (33, 5)]:
            idx = torch.randperm(len(X_all), generator=gen)[:n]
            X, y = X_all[idx].clone(), y_all[idx].clone()
            with torch.no_grad():
                logits = twin.body(X)
            expected_loss = F.cross_entropy(logits.double(), y).item()
            expected_acc = (logits.argmax(1) == y).double().mean().item()
            for mode in (True, False):
                student.method(model, "train", mode)
                student.fixture("clear_record", model)
                got = student.evaluate(model, student.fixture("loader", X, y, batch))
                modes = student.fixture("training_modes", model)
                expect_true(all(m == mode for m in modes), "evaluate must restore the model's mode")
                seen = student.attribute(model, "grad_seen")
                expect_true(bool(seen) and not any(seen),
                            "evaluate must run the model without gradient tracking (torch.no_grad())")
                expect_true(isinstance(got, tuple) and len(got) == 2 and all(isinstance(v, float) for v in got),
                            "evaluate must return a pair of Python floats")
                expect_true(abs(got[1] - expected_acc) < 1e-6,
                            f"{n} images in batches of {batch}: accuracy {got[1]}, expected {expected_acc}")
                expect_true(abs(got[0] - expected_loss) < 1e-5 * max(1.0, abs(expected_loss)),
                            f"{n} images in batches of {batch}: mean loss {got[0]}, expected {expected_loss} "
                            "(per image, not per batch)")
                state = student.fixture("state_arrays", model)
                for k, v in twin_state.items():
                    expect_true(_same(state.get(k), v), f"evaluate must not change the model ({k} changed)")
        # A plain DataLoader, an untrained linear model, a model that is always right.
        linear = student.fixture("linear_model", 0)
        twin = fixtures.linear_model(0)
        with torch.no_grad():
            logits = twin(X_all[:300])
        got = _float_pair(student.evaluate(linear, student.fixture("loader", X_all[:300], y_all[:300], 64)), "evaluate")
        expect_true(abs(got[0] - F.cross_entropy(logits, y_all[:300]).item()) < 1e-5
                    and abs(got[1] - (logits.argmax(1) == y_all[:300]).double().mean().item()) < 1e-6,
                    "evaluate is wrong on a DataLoader")
        y = torch.arange(10).repeat(3)
        got = _float_pair(student.evaluate(student.fixture("oracle_model"),
                                           student.fixture("loader", y[:, None, None, None].float(), y, 7)), "evaluate")
        expect_true(got[1] == 1.0 and got[0] < 1e-6,
                    f"a model that is always right and sure: expected (about 0, 1.0), got {got}")


# ----------------------------------------------------------------------------- Task 4

def _check_history(got, epochs, keys=("train_loss", "val_loss", "val_accuracy")):
    expect_true(isinstance(got, dict) and set(got) >= set(keys), "train must return a dict with keys train_loss, "
                f"val_loss, val_accuracy; got {type(got).__name__} {sorted(got) if isinstance(got, dict) else ''}")
    for key in keys:
        expect_true(isinstance(got[key], list) and len(got[key]) == epochs,
                    f"history[{key!r}] must be a list with one value per epoch ({epochs}), got {got[key]!r}")
        expect_true(all(isinstance(v, float) for v in got[key]),
                    f"history[{key!r}] must hold Python floats (use .item()), "
                    f"got {[type(v).__name__ for v in got[key]]}")


@test("test_train", policy="torch", references=["grading.ex04.reference_cnn", "grading.ex04.reference_evaluate"])
def train(student):
    """Task 4: the training loop, step by step against the recipe (with a correct evaluate)."""
    with student.replaced("evaluate", "reference_evaluate"):     # a wrong evaluate costs Task 3's points, not these
        with visible("train: 4 epochs of a small DigitCNN on 300 training images; the loss falls, the history"):
            train_images, train_labels = _part("train")
            val_images, val_labels = _part("val")
            small_train = student.fixture("loader", train_images[:300], train_labels[:300], 32, True, 0)
            small_val = student.fixture("loader", val_images, val_labels, 100)
            small_model = student.fixture("reference_digit_cnn", 8, 16, 10, 0)
            before = student.fixture("parameter_arrays", small_model)
            bar = student.fixture("progress_recorder")
            history = student.train(small_model, small_train, small_val, 4, 0.01, label_smoothing=0.1, progress=bar)
            _check_history(history, 4)
            calls, used = student.attribute(bar, "calls"), student.attribute(bar, "yielded")
            expect_true(calls == [4] and used == 4, "train must loop over progress(range(epochs)), called once, when "
                        f"progress is given; calls seen: {calls}, epochs taken from it: {used}")
            after = student.fixture("parameter_arrays", small_model)
            expect_true(any(not _same(after.get(k), before[k]) for k in before), "train did not change the parameters")
            expect_true(history["train_loss"][-1] < 0.8 * history["train_loss"][0],
                        f"the training loss hardly fell: {[round(v, 3) for v in history['train_loss']]}")
            expect_true(history["val_accuracy"][-1] > 0.5,
                        "after 4 epochs even a small DigitCNN gets more than half of "
                        f"the validation images right, got {history['val_accuracy'][-1]:.3f}")
            trained = ReferenceDigitCNN(8, 16, 10)    # the trained weights, evaluated here
            arrays = student.fixture("state_arrays", small_model)
            trained.load_state_dict({k: torch.as_tensor(v) for k, v in arrays.items()})
            final = reference_evaluate(trained, fixtures.loader(val_images, val_labels, 100))
            expect_true(abs(final[0] - history["val_loss"][-1]) < 1e-5
                        and abs(final[1] - history["val_accuracy"][-1]) < 1e-6,
                        "the last entries of val_loss and val_accuracy must be evaluate(model, val_loader) "
                        "after the last epoch")
        with visible("train without progress and label_smoothing"):
            tiny = student.fixture("reference_digit_cnn", 2, 2, 10)
            got = student.train(tiny, small_train, small_val, 1, 0.01)
            expect_true(isinstance(got, dict) and isinstance(got.get("train_loss"), list)
                        and len(got["train_loss"]) == 1,
                        "train without progress and label_smoothing must work too")
        with visible("train follows the recipe step by step: 2 epochs of a batch-norm network handed over in "
                     "evaluation mode"):
            images, labels = train_images[:120], train_labels[:120]
            model = student.fixture("bn_net", 64)
            student.train(model, student.fixture("loader", images, labels, 30, True, 5), small_val, 2, 0.01,
                          label_smoothing=0.1)
            twin = fixtures.bn_net(64)
            _reference_train(twin, fixtures.loader(images, labels, 30, True, 5),
                             fixtures.loader(val_images, val_labels, 100), 2, 0.01, 0.1)
            state = student.fixture("state_arrays", model)
            for name, expected in twin.state_dict().items():
                got = state.get(name)
                expect_true(got is not None and np.size(got) == expected.numel() and torch.allclose(
                    torch.as_tensor(got).reshape(expected.shape).float(), expected.float(), atol=1e-5, rtol=1e-4),
                            f"after 2 epochs {name} differs from the recipe's (Adam, OneCycleLR stepped after every "
                            "batch, zero_grad, model.train() at every epoch)")
        with hidden():
            X_all, y_all = _digits()
            for (n, batch, epochs, lr, smoothing, progress), (tr, va), twin, expected in _hidden_trainings():
                what = f"{n} images, batches of {batch}, {epochs} epochs"
                model = student.fixture("bn_net", n)
                loader = student.fixture("loader", X_all[tr], y_all[tr], batch, True, n)
                val = student.fixture("loader", X_all[va], y_all[va], 30)
                if progress:
                    bar = student.fixture("progress_recorder")
                    got = student.train(model, loader, val, epochs, lr, label_smoothing=smoothing, progress=bar)
                    calls, used = student.attribute(bar, "calls"), student.attribute(bar, "yielded")
                    expect_true(calls == [epochs] and used == epochs,
                                f"train must loop over progress(range(epochs)); calls {calls}, items used {used}")
                else:
                    got = student.train(model, loader, val, epochs, lr, label_smoothing=smoothing)
                expect_true(isinstance(got, dict) and all(isinstance(got.get(k), list) and len(got[k]) == epochs
                                                          for k in expected),
                            "train must return a dict of three lists, one value per epoch")
                expect_true(all(isinstance(v, float) for k in expected for v in got[k]),
                            "history values must be Python floats")
                weights = student.fixture("parameter_arrays", model)
                for name, q in twin.named_parameters():
                    p = weights.get(name)
                    expect_true(p is not None and p.shape == tuple(q.shape)
                                and torch.allclose(torch.as_tensor(p), q.detach(), atol=1e-5, rtol=1e-4),
                                f"{what}: weights {name} differ from the recipe (Adam, OneCycleLR stepped after every "
                                "batch, zero_grad, model.train() every epoch)")
                for k in expected:
                    expect_true(np.allclose(got[k], expected[k], rtol=1e-4, atol=1e-6),
                                f"history[{k!r}] is {np.round(got[k], 5).tolist()}, expected "
                                f"{np.round(expected[k], 5).tolist()} (train_loss: averaged over images)")
                running_mean = student.fixture("state_arrays", model).get("norm.running_mean")
                expect_true(running_mean is not None
                            and torch.allclose(torch.as_tensor(running_mean), twin.norm.running_mean,
                                               atol=1e-5, rtol=1e-4),
                            "batch-norm statistics differ: was the model in training mode for every batch?")


# ----------------------------------------------------------------------------- Task 5

@test("test_accuracy", policy="torch", references=["grading.ex04.reference_evaluate"])
def accuracy(student):
    """Task 5: DigitCNN() trained by the student's train: the recipe's weights, 97% of the test images right."""
    with student.replaced("evaluate", "reference_evaluate"):     # this test is about DigitCNN and train
        with visible("the recipe of section 9: DigitCNN() from seed 0 trained by your train to the recipe's weights, "
                     "97% of the 449 test images"):
            r = TASK5_RECIPE
            train_loader = student.fixture("loader", *_part("train"), r["batch"], True, r["seed"])
            val_loader = student.fixture("loader", *_part("val"), r["batch"])
            student.fixture("manual_seed", 0)
            model = _model(student.DigitCNN(), "DigitCNN()")
            _start_from_trusted_weights(student, model)
            shifted = student.fixture("shifted_batches", train_loader, r["max_shift"], r["seed"])
            student.train(model, shifted, val_loader, r["epochs"], r["lr"], label_smoothing=r["smoothing"])
            _check_trained_by_the_recipe(student, model)
            test_images, test_labels = _part("test")
            _check_trained_cnn(student, model, test_images, test_labels, "")
        with hidden():
            # No second training on another split: the start weights are trusted and the test
            # images cross only after training, so a second run would catch nothing the first
            # misses, at the price of half the grading time of a whole submission.
            expect_true(_parameter_count(student, model) == 21386, "DigitCNN() must have the layers of Task 2")
