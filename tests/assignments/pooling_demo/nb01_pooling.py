"""Trusted tests of pooling_demo/01_pooling: max_pool2d and avg_pool2d.

The visible checks are the notebook's, on values worked by hand. The hidden ones compare with
NumPy's ``sliding_window_view``, which cuts out every window at once (no loops, nothing shared
with the solution), on arrays of random floats of either sign and of rectangular shape.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from grading.core.testing import expect_array, hidden, test, visible

#: The array of the notebook's section 1.
X_HAND = np.array([[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 3, 2], [6, 2, 1, 1]])

#: (shape, size, stride) of the hidden cases; stride None is the default (= size).
HIDDEN_CASES = [((6, 8), 2, None), ((7, 5), 3, 2), ((5, 9), 2, 1), ((4, 4), 4, None), ((9, 3), 1, 2)]


def _windows(X, size, stride):
    """Every window the pooling keeps: shape (rows, cols, size, size)."""
    stride = size if stride is None else stride
    return sliding_window_view(X, (size, size))[::stride, ::stride]


def _hidden_arrays(seed):
    """(X, size, stride, label) of the hidden cases: standard normal values, about half negative."""
    rng = np.random.default_rng(seed)
    for shape, size, stride in HIDDEN_CASES:
        X = rng.normal(size=shape)
        yield X, size, stride, f"on a {shape} array with size {size} and stride {stride}"


def _call(function, X, size, stride):
    return function(X, size) if stride is None else function(X, size, stride=stride)


@test("test_max_pool2d", policy="numpy")
def max_pool2d(student):
    """max_pool2d against the hand-worked maxima and the maxima of NumPy's windows."""
    with visible("max_pool2d agrees with the hand-worked values"):
        expect_array(student.max_pool2d(X_HAND, 2), [[4, 5], [6, 3]], "max_pool2d(X_hand, 2)")
        expect_array(student.max_pool2d(X_HAND, 3, stride=1), [[4, 5], [6, 5]], "max_pool2d(X_hand, 3, stride=1)")
        expect_array(student.max_pool2d(np.arange(25).reshape(5, 5), 2), [[6, 8], [16, 18]],
                     "max_pool2d(np.arange(25).reshape(5, 5), 2)")
    with hidden():
        for X, size, stride, label in _hidden_arrays(seed=5101):
            expect_array(_call(student.max_pool2d, X, size, stride), _windows(X, size, stride).max(axis=(2, 3)),
                         f"max_pool2d {label}")
        expect_array(student.max_pool2d(-np.ones((4, 6)), 2), -np.ones((2, 3)), "max_pool2d of an array of -1")


@test("test_avg_pool2d", policy="numpy")
def avg_pool2d(student):
    """avg_pool2d against the hand-worked means and the means of NumPy's windows."""
    with visible("avg_pool2d agrees with the hand-worked values"):
        expect_array(student.avg_pool2d(X_HAND, 2), [[2.5, 2.0], [2.25, 1.75]], "avg_pool2d(X_hand, 2)")
        expect_array(student.avg_pool2d(X_HAND, 3, stride=1), np.array([[17, 19], [20, 18]]) / 9,
                     "avg_pool2d(X_hand, 3, stride=1)")
        expect_array(student.avg_pool2d(np.arange(25).reshape(5, 5), 2), [[3.0, 5.0], [13.0, 15.0]],
                     "avg_pool2d(np.arange(25).reshape(5, 5), 2)")
    with hidden():
        for X, size, stride, label in _hidden_arrays(seed=5102):
            expect_array(_call(student.avg_pool2d, X, size, stride), _windows(X, size, stride).mean(axis=(2, 3)),
                         f"avg_pool2d {label}")
