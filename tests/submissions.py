"""Crafted submissions for the nbgrader round-trip test (tests/test_roundtrip.py).

For each notebook: named submissions, each a dict of solution-cell sources (keyed by the
cell's grade_id) that replace the student stubs, and the exact score expected for every
autograded test cell. Cells not listed keep the untouched student stub.

The instructor solution, the untouched student version and the version with edited test
cells are built automatically for every notebook; only what needs judgement lives here.
"""

import textwrap


def _code(text):
    return textwrap.dedent(text).strip("\n")


CORRECT_OUTPUT_SIZE = _code(
    """
    def output_size(n, k, stride=1, padding=0):
        if stride < 1 or padding < 0 or k > n + 2 * padding:
            raise ValueError("kernel does not fit, or bad stride/padding")
        return (n + 2 * padding - k) // stride + 1
    """
)

SUBMISSIONS = {
    "01_convolutions": {
        # Valid mode right, stride and padding ignored; conv2d flips one axis only.
        "partial_valid_only": {
            "cells": {
                "corr2d": _code(
                    """
                    def corr2d(X, K, stride=1, padding=0):
                        X = np.asarray(X, dtype=float)
                        K = np.asarray(K, dtype=float)
                        kh, kw = K.shape
                        Y = np.zeros((X.shape[0] - kh + 1, X.shape[1] - kw + 1))
                        for i in range(Y.shape[0]):
                            for j in range(Y.shape[1]):
                                Y[i, j] = (X[i:i + kh, j:j + kw] * K).sum()
                        return Y
                    """
                ),
                "conv2d": _code(
                    """
                    def conv2d(X, K):
                        return corr2d(X, np.asarray(K)[::-1])
                    """
                ),
            },
            "scores": {"test_output_size": 0, "test_corr2d_valid": 3,
                       "test_corr2d_stride_padding": 0, "test_conv2d": 0},
        },
        # The classic dtype bug: np.zeros_like(X) on an integer image truncates fractions. The
        # visible check with a fractional kernel catches it; stride/padding and conv2d are only
        # checked on data where the bug cannot show, so they keep their points.
        "partial_dtype_bug": {
            "cells": {
                "output_size": CORRECT_OUTPUT_SIZE,
                "corr2d": _code(
                    """
                    def corr2d(X, K, stride=1, padding=0):
                        X = np.pad(np.asarray(X), padding)
                        K = np.asarray(K)
                        kh, kw = K.shape
                        rows = output_size(X.shape[0], kh, stride)
                        cols = output_size(X.shape[1], kw, stride)
                        Y = np.zeros_like(X)[:rows, :cols]
                        for i in range(rows):
                            for j in range(cols):
                                Y[i, j] = np.sum(X[i * stride:i * stride + kh, j * stride:j * stride + kw] * K)
                        return Y
                    """
                ),
                "conv2d": _code(
                    """
                    def conv2d(X, K):
                        return corr2d(X, np.flip(K))
                    """
                ),
            },
            "scores": {"test_output_size": 1, "test_corr2d_valid": 0,
                       "test_corr2d_stride_padding": 2, "test_conv2d": 2},
        },
        # Correct results from a library: the hidden tests give no points for delegating.
        "calls_scipy": {
            "cells": {
                "output_size": CORRECT_OUTPUT_SIZE,
                "corr2d": _code(
                    """
                    from scipy.signal import correlate2d as _c2d
                    def corr2d(X, K, stride=1, padding=0):
                        return _c2d(np.pad(np.asarray(X, dtype=float), padding), K, mode="valid")[::stride, ::stride]
                    """
                ),
                "conv2d": _code(
                    """
                    def conv2d(X, K):
                        return torch.nn.functional.conv2d(torch.as_tensor(np.asarray(X, dtype=float))[None, None],
                                                          torch.as_tensor(np.flip(np.asarray(K, dtype=float)).copy())[None, None])[0, 0].numpy()
                    """
                ),
            },
            "scores": {"test_output_size": 1, "test_corr2d_valid": 0,
                       "test_corr2d_stride_padding": 0, "test_conv2d": 0},
        },
        # Right numbers by way of SciPy, hidden from the probe: switching the profiler off, and
        # running the library call in a thread. Both are caught.
        "evades_the_probe": {
            "cells": {
                "output_size": CORRECT_OUTPUT_SIZE,
                "corr2d": _code(
                    """
                    import sys
                    import scipy.signal
                    def corr2d(X, K, stride=1, padding=0):
                        sys.setprofile(None)
                        padded = np.pad(np.asarray(X, dtype=float), padding)
                        return scipy.signal.correlate2d(padded, K, mode="valid")[::stride, ::stride]
                    """
                ),
                "conv2d": _code(
                    """
                    from concurrent.futures import ThreadPoolExecutor
                    def conv2d(X, K):
                        with ThreadPoolExecutor(1) as pool:
                            return pool.submit(scipy.signal.convolve2d, X, K, mode="valid").result()
                    """
                ),
            },
            "scores": {"test_output_size": 1, "test_corr2d_valid": 0,
                       "test_corr2d_stride_padding": 0, "test_conv2d": 0},
        },
        # Correct, just unusual: sliding windows and einsum, float32 results, np.rot90 for the
        # turn, math.floor in output_size. Full marks.
        "unusual_but_correct": {
            "cells": {
                "output_size": _code(
                    """
                    import math
                    def output_size(n, k, stride=1, padding=0):
                        if stride < 1 or padding < 0 or k > n + 2 * padding:
                            raise ValueError(f"no window of {k} fits")
                        return math.floor((n + 2 * padding - k) / stride) + 1
                    """
                ),
                "corr2d": _code(
                    """
                    from numpy.lib.stride_tricks import sliding_window_view
                    def corr2d(X, K, stride=1, padding=0):
                        X = np.pad(np.asarray(X, dtype=np.float32), padding)
                        K = np.asarray(K, dtype=np.float32)
                        windows = sliding_window_view(X, K.shape)[::stride, ::stride]
                        return np.einsum("ijkl,kl->ij", windows, K)
                    """
                ),
                "conv2d": _code(
                    """
                    def conv2d(X, K):
                        return corr2d(X, np.rot90(K, 2))
                    """
                ),
            },
            "scores": {"test_output_size": 1, "test_corr2d_valid": 3,
                       "test_corr2d_stride_padding": 2, "test_conv2d": 2},
        },
        # A syntax error in one answer costs that answer and the ones built on it, nothing else.
        "syntax_error": {
            "cells": {
                "output_size": CORRECT_OUTPUT_SIZE,
                "corr2d": "def corr2d(X, K, stride=1, padding=0)\n    return X",
            },
            "scores": {"test_output_size": 1, "test_corr2d_valid": 0,
                       "test_corr2d_stride_padding": 0, "test_conv2d": 0},
        },
    },
}

# Correct answers that make noise on stderr (a Python warning and a print to stderr) while
# the tests call them. They must still earn full marks. Keyed by notebook, then grade_id; the
# value is code appended to the instructor's solution cell, wrapping the graded function.
NOISY_WRAPPERS = {
    "01_convolutions": {
        "corr2d": _code(
            """
            import sys, warnings, functools
            _quiet_corr2d = corr2d
            @functools.wraps(_quiet_corr2d)
            def corr2d(*args, **kwargs):
                warnings.warn("corr2d: this warning must not cost points", RuntimeWarning)
                print("debug output on stderr", file=sys.stderr)
                print("debug output on stdout")
                return _quiet_corr2d(*args, **kwargs)
            """
        ),
    },
}
