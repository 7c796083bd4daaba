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

CORRECT_CORRELATE_SEPARABLE = _code(
    """
    def correlate_separable(image, column, row):
        image = np.asarray(image, dtype=float)
        H, W = image.shape
        kh, kw = len(column), len(row)
        Z = sum(column[m] * image[m:m + H - kh + 1] for m in range(kh))
        return sum(row[n] * Z[:, n:n + W - kw + 1] for n in range(kw))
    """
)

CORRECT_SEPARABLE_FACTORS = _code(
    """
    def separable_factors(K, tol=1e-10):
        K = np.asarray(K, dtype=float)
        if K.ndim != 2:
            raise ValueError("separable_factors needs a 2-D kernel")
        U, s, Vt = np.linalg.svd(K)
        if s[0] == 0:
            return np.zeros(K.shape[0]), np.zeros(K.shape[1])
        if s.size > 1 and s[1] > tol * s[0]:
            return None
        return U[:, 0] * np.sqrt(s[0]), Vt[0] * np.sqrt(s[0])
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
    "02_sobel_laplace": {
        # The sheet's kernels used for correlation: minus the gradient. The magnitude does not
        # care, the angle is off by 180 degrees. separable_factors forgets to check the rank.
        "swapped_signs": {
            "cells": {
                "sobel_gradient": _code(
                    """
                    def sobel_gradient(image):
                        image = np.asarray(image, dtype=float)
                        if image.ndim != 2 or min(image.shape) < 3:
                            raise ValueError("need a 2-D image of at least 3x3")
                        H, W = image.shape
                        gx = np.zeros((H - 2, W - 2))
                        gy = np.zeros((H - 2, W - 2))
                        for m, n in np.ndindex(3, 3):
                            window = image[m:m + H - 2, n:n + W - 2]
                            gx += [[1, 0, -1], [2, 0, -2], [1, 0, -1]][m][n] * window
                            gy += [[1, 2, 1], [0, 0, 0], [-1, -2, -1]][m][n] * window
                        return np.sqrt(gx ** 2 + gy ** 2), np.arctan2(gy, gx)
                    """
                ),
                "correlate_separable": CORRECT_CORRELATE_SEPARABLE,
                "separable_factors": _code(
                    """
                    def separable_factors(K, tol=1e-10):
                        K = np.asarray(K, dtype=float)
                        if K.ndim != 2:
                            raise ValueError("K must be 2-D")
                        U, s, Vt = np.linalg.svd(K)
                        return U[:, 0] * np.sqrt(s[0]), Vt[0] * np.sqrt(s[0])
                    """
                ),
            },
            "scores": {"test_sobel_magnitude": 1, "test_sobel_angle": 0,
                       "test_correlate_separable": 2, "test_separable_factors": 0},
        },
        # Integer arithmetic kept from the input: uint8 differences wrap around (only the hidden
        # tests use an 8-bit image), and an integer output array truncates fractional weights.
        "integer_arithmetic": {
            "cells": {
                "sobel_gradient": _code(
                    """
                    def sobel_gradient(image):
                        image = np.asarray(image)
                        if image.ndim != 2 or min(image.shape) < 3:
                            raise ValueError("need a 2-D image of at least 3x3")
                        d_col = image[:, 2:] - image[:, :-2]
                        d_row = image[2:, :] - image[:-2, :]
                        gx = d_col[:-2] + 2 * d_col[1:-1] + d_col[2:]
                        gy = d_row[:, :-2] + 2 * d_row[:, 1:-1] + d_row[:, 2:]
                        return np.hypot(gx, gy), np.arctan2(gy, gx)
                    """
                ),
                "correlate_separable": _code(
                    """
                    def correlate_separable(image, column, row):
                        image = np.asarray(image)
                        H, W = image.shape
                        kh, kw = len(column), len(row)
                        Z = np.zeros_like(image)[:H - kh + 1]
                        for m in range(kh):
                            Z += column[m] * image[m:m + H - kh + 1]
                        Y = np.zeros_like(Z)[:, :W - kw + 1]
                        for n in range(kw):
                            Y += row[n] * Z[:, n:n + W - kw + 1]
                        return Y
                    """
                ),
                "separable_factors": CORRECT_SEPARABLE_FACTORS,
            },
            "scores": {"test_sobel_magnitude": 0, "test_sobel_angle": 2,
                       "test_correlate_separable": 0, "test_separable_factors": 2},
        },
        # Right numbers from SciPy: no points for the functions that delegate.
        "calls_scipy": {
            "cells": {
                "sobel_gradient": _code(
                    """
                    import scipy.ndimage
                    def sobel_gradient(image):
                        image = np.asarray(image, dtype=float)
                        gx = scipy.ndimage.sobel(image, axis=1)[1:-1, 1:-1]
                        gy = scipy.ndimage.sobel(image, axis=0)[1:-1, 1:-1]
                        if image.ndim != 2 or min(image.shape) < 3:
                            raise ValueError("need a 2-D image of at least 3x3")
                        return np.hypot(gx, gy), np.arctan2(gy, gx)
                    """
                ),
                "correlate_separable": _code(
                    """
                    from scipy.signal import correlate2d
                    def correlate_separable(image, column, row):
                        return correlate2d(np.asarray(image, dtype=float), np.outer(column, row), mode="valid")
                    """
                ),
                "separable_factors": CORRECT_SEPARABLE_FACTORS,
            },
            "scores": {"test_sobel_magnitude": 0, "test_sobel_angle": 0,
                       "test_correlate_separable": 0, "test_separable_factors": 2},
        },
        # SciPy reached from C, where a profiler sees no call: map() calls the library for it, and a
        # helper function of the notebook (correlate_valid is SciPy) does the 1-D passes. Caught.
        "evades_the_probe": {
            "cells": {
                "sobel_gradient": _code(
                    """
                    import scipy.ndimage as _nd
                    def sobel_gradient(image):
                        image = np.asarray(image, dtype=float)
                        if image.ndim != 2 or min(image.shape) < 3:
                            raise ValueError("need a 2-D image of at least 3x3")
                        gx, gy = (g[1:-1, 1:-1] for g in map(_nd.sobel, [image, image], [1, 0]))
                        return np.hypot(gx, gy), np.arctan2(gy, gx)
                    """
                ),
                "correlate_separable": _code(
                    """
                    def correlate_separable(image, column, row):
                        return correlate_valid(np.asarray(image, dtype=float), np.outer(column, row))
                    """
                ),
                "separable_factors": CORRECT_SEPARABLE_FACTORS,
            },
            "scores": {"test_sobel_magnitude": 0, "test_sobel_angle": 0,
                       "test_correlate_separable": 0, "test_separable_factors": 2},
        },
        # Correct, just unusual: float32 sliding windows and einsum, np.correlate row by row,
        # and factors read off the largest row instead of the SVD's vectors. Full marks.
        "unusual_but_correct": {
            "cells": {
                "sobel_gradient": _code(
                    """
                    from numpy.lib.stride_tricks import sliding_window_view
                    def sobel_gradient(image):
                        image = np.asarray(image, dtype=np.float32)
                        if image.ndim != 2 or image.shape[0] < 3 or image.shape[1] < 3:
                            raise ValueError(f"image of shape {image.shape} is too small or not 2-D")
                        windows = sliding_window_view(image, (3, 3))
                        kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
                        gx = np.einsum("ijkl,kl->ij", windows, kx)
                        gy = np.einsum("ijkl,kl->ij", windows, kx.T)
                        return np.sqrt(gx * gx + gy * gy), np.arctan2(gy, gx)
                    """
                ),
                "correlate_separable": _code(
                    """
                    def correlate_separable(image, column, row):
                        image = np.asarray(image, dtype=float)
                        Z = np.array([np.correlate(col, np.asarray(column, dtype=float), mode="valid") for col in image.T]).T
                        return np.array([np.correlate(r, np.asarray(row, dtype=float), mode="valid") for r in Z])
                    """
                ),
                "separable_factors": _code(
                    """
                    def separable_factors(K, tol=1e-10):
                        K = np.asarray(K, dtype=float)
                        if K.ndim != 2:
                            raise ValueError("K must be 2-D")
                        s = np.linalg.svd(K, compute_uv=False)
                        if s[0] > 0 and s.size > 1 and s[1] > tol * s[0]:
                            return None
                        row = K[np.argmax((K ** 2).sum(axis=1))]
                        norm = row @ row
                        column = K @ row / norm if norm > 0 else np.zeros(K.shape[0])
                        return column, row
                    """
                ),
            },
            "scores": {"test_sobel_magnitude": 1, "test_sobel_angle": 2,
                       "test_correlate_separable": 2, "test_separable_factors": 2},
        },
    },
}

# Correct answers that make noise on stderr (a Python warning and a print to stderr) while
# the tests call them. They must still earn full marks. Keyed by notebook, then grade_id; the
# value is code appended to the instructor's solution cell, wrapping the graded function.
def noisy_wrapper(name):
    """Code that wraps the graded function `name` so that it warns on stderr, prints to stderr
    and to stdout, and otherwise returns what the original returns: it must keep full marks."""
    return _code(
        f"""
        import sys, warnings, functools
        _quiet_{name} = {name}
        @functools.wraps(_quiet_{name})
        def {name}(*args, **kwargs):
            warnings.warn("{name}: this warning must not cost points", RuntimeWarning)
            print("debug output on stderr", file=sys.stderr)
            print("debug output on stdout")
            return _quiet_{name}(*args, **kwargs)
        """
    )


NOISY_WRAPPERS = {
    "02_sobel_laplace": {
        "correlate_separable": _code(
            """
            import sys, warnings, functools
            _quiet_correlate_separable = correlate_separable
            @functools.wraps(_quiet_correlate_separable)
            def correlate_separable(*args, **kwargs):
                warnings.warn("correlate_separable: this warning must not cost points", UserWarning)
                print("debug output on stderr", file=sys.stderr)
                return _quiet_correlate_separable(*args, **kwargs)
            """
        ),
    },
    "01_convolutions": {"corr2d": noisy_wrapper("corr2d")},
}


# ---------------------------------------------------------------- 03_conv_backprop


# One loop per output pixel: each output hands dY[i, j] times its window to dK and dY[i, j]
# times K to its window's place in dX. The slowest sensible answer, used for the timing of
# the learning demo too.
CORR2D_BACKWARD_LOOPS_03 = _code(
    """
    def corr2d_backward(X, K, dY):
        X = np.asarray(X, dtype=float)
        K = np.asarray(K, dtype=float)
        dY = np.asarray(dY, dtype=float)
        kh, kw = K.shape
        dX = np.zeros(X.shape)
        dK = np.zeros(K.shape)
        for i in range(dY.shape[0]):
            for j in range(dY.shape[1]):
                dK += dY[i, j] * X[i:i + kh, j:j + kw]
                dX[i:i + kh, j:j + kw] += dY[i, j] * K
        return dX, dK
    """
)

# Four nested loops over (n, f, i, j), correct.
CONV_FORWARD_LOOPS_03 = _code(
    """
    def conv_forward(X, W, b, stride=1, padding=0):
        X = np.asarray(X, dtype=float)
        W = np.asarray(W, dtype=float)
        b = np.asarray(b, dtype=float)
        N, C, H, W_in = X.shape
        n_filters, _, kh, kw = W.shape
        Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        H_out = (H + 2 * padding - kh) // stride + 1
        W_out = (W_in + 2 * padding - kw) // stride + 1
        out = np.zeros((N, n_filters, H_out, W_out))
        for n in range(N):
            for f in range(n_filters):
                for i in range(H_out):
                    for j in range(W_out):
                        window = Xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                        out[n, f, i, j] = np.sum(window * W[f]) + b[f]
        return out
    """
)

# Loops over (n, f, i, j), correct.
CONV_BACKWARD_LOOPS_03 = _code(
    """
    def conv_backward(dout, X, W, b, stride=1, padding=0):
        dout = np.asarray(dout, dtype=float)
        X = np.asarray(X, dtype=float)
        W = np.asarray(W, dtype=float)
        N, C, H, W_in = X.shape
        n_filters, _, kh, kw = W.shape
        Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        dXp = np.zeros(Xp.shape)
        dW = np.zeros(W.shape)
        db = np.zeros(n_filters)
        for n in range(N):
            for f in range(n_filters):
                for i in range(dout.shape[2]):
                    for j in range(dout.shape[3]):
                        rows = slice(i * stride, i * stride + kh)
                        cols = slice(j * stride, j * stride + kw)
                        dW[f] += dout[n, f, i, j] * Xp[n, :, rows, cols]
                        dXp[n, :, rows, cols] += dout[n, f, i, j] * W[f]
                        db[f] += dout[n, f, i, j]
        return dXp[:, :, padding:padding + H, padding:padding + W_in], dW, db
    """
)

SUBMISSIONS_03 = {
    # dK right but dX correlates the padded dY with K instead of K turned by 180° (the Sobel
    # kernel of the visible check is antisymmetric, so the sign is off); the forward pass is
    # right; the backward pass of the layer ignores the stride inside the loop.
    "partial_no_flip_no_stride": {
        "cells": {
            "corr2d_backward": _code(
                """
                def corr2d_backward(X, K, dY):
                    X = np.asarray(X, dtype=float)
                    K = np.asarray(K, dtype=float)
                    dY = np.asarray(dY, dtype=float)
                    kh, kw = K.shape
                    rows, cols = dY.shape
                    dK = np.zeros((kh, kw))
                    for u in range(kh):
                        for v in range(kw):
                            dK[u, v] = np.sum(X[u:u + rows, v:v + cols] * dY)
                    padded = np.pad(dY, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
                    dX = np.zeros(X.shape)
                    for a in range(X.shape[0]):
                        for b in range(X.shape[1]):
                            dX[a, b] = np.sum(padded[a:a + kh, b:b + kw] * K)
                    return dX, dK
                """
            ),
            "conv_forward": CONV_FORWARD_LOOPS_03,
            "conv_backward": _code(
                """
                def conv_backward(dout, X, W, b, stride=1, padding=0):
                    dout = np.asarray(dout, dtype=float)
                    X = np.asarray(X, dtype=float)
                    W = np.asarray(W, dtype=float)
                    N, C, H, W_in = X.shape
                    n_filters, _, kh, kw = W.shape
                    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
                    dXp = np.zeros(Xp.shape)
                    dW = np.zeros(W.shape)
                    for i in range(dout.shape[2]):
                        for j in range(dout.shape[3]):
                            g = dout[:, :, i, j]
                            dW += np.tensordot(g, Xp[:, :, i:i + kh, j:j + kw], axes=([0], [0]))
                            dXp[:, :, i:i + kh, j:j + kw] += np.tensordot(g, W, axes=([1], [0]))
                    return dXp[:, :, padding:padding + H, padding:padding + W_in], dW, dout.sum(axis=(0, 2, 3))
                """
            ),
        },
        "scores": {"test_corr2d_backward": 0, "test_conv_forward": 2, "test_conv_backward": 0},
    },
    # The classic dtype bug: arrays made with np.zeros_like(X) or dtype=X.dtype are integer
    # arrays for an integer image, and assigning floats to them drops the fractions. The
    # visible checks with integer inputs and fractional gradients or bias catch it.
    "partial_dtype_bug": {
        "cells": {
            "corr2d_backward": _code(
                """
                def corr2d_backward(X, K, dY):
                    X, K, dY = np.asarray(X), np.asarray(K), np.asarray(dY)
                    kh, kw = K.shape
                    rows, cols = dY.shape
                    dK = np.zeros_like(K)
                    for u in range(kh):
                        for v in range(kw):
                            dK[u, v] = np.sum(X[u:u + rows, v:v + cols] * dY)
                    padded = np.pad(dY, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
                    dX = np.zeros_like(X)
                    for a in range(X.shape[0]):
                        for b in range(X.shape[1]):
                            dX[a, b] = np.sum(padded[a:a + kh, b:b + kw] * K[::-1, ::-1])
                    return dX, dK
                """
            ),
            "conv_forward": _code(
                """
                def conv_forward(X, W, b, stride=1, padding=0):
                    X, W, b = np.asarray(X), np.asarray(W), np.asarray(b)
                    N, C, H, W_in = X.shape
                    n_filters, _, kh, kw = W.shape
                    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
                    H_out = (H + 2 * padding - kh) // stride + 1
                    W_out = (W_in + 2 * padding - kw) // stride + 1
                    out = np.zeros((N, n_filters, H_out, W_out), dtype=X.dtype)
                    for i in range(H_out):
                        for j in range(W_out):
                            window = Xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                            out[:, :, i, j] = np.tensordot(window, W, axes=([1, 2, 3], [1, 2, 3])) + b
                    return out
                """
            ),
            "conv_backward": CONV_BACKWARD_LOOPS_03,
        },
        "scores": {"test_corr2d_backward": 0, "test_conv_forward": 0, "test_conv_backward": 3},
    },
    # Right single-channel gradients; the forward pass forgets the bias; the backward pass
    # of the layer forgets to cut the padding off dX (right whenever padding is 0).
    "partial_bias_and_padding": {
        "cells": {
            "corr2d_backward": CORR2D_BACKWARD_LOOPS_03,
            "conv_forward": _code(
                """
                def conv_forward(X, W, b, stride=1, padding=0):
                    X = np.asarray(X, dtype=float)
                    W = np.asarray(W, dtype=float)
                    N, C, H, W_in = X.shape
                    n_filters, _, kh, kw = W.shape
                    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
                    H_out = (H + 2 * padding - kh) // stride + 1
                    W_out = (W_in + 2 * padding - kw) // stride + 1
                    out = np.zeros((N, n_filters, H_out, W_out))
                    for i in range(H_out):
                        for j in range(W_out):
                            window = Xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                            out[:, :, i, j] = np.tensordot(window, W, axes=([1, 2, 3], [1, 2, 3]))
                    return out
                """
            ),
            "conv_backward": _code(
                """
                def conv_backward(dout, X, W, b, stride=1, padding=0):
                    dout = np.asarray(dout, dtype=float)
                    X = np.asarray(X, dtype=float)
                    W = np.asarray(W, dtype=float)
                    n_filters, _, kh, kw = W.shape
                    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
                    dXp = np.zeros(Xp.shape)
                    dW = np.zeros(W.shape)
                    for i in range(dout.shape[2]):
                        for j in range(dout.shape[3]):
                            rows = slice(i * stride, i * stride + kh)
                            cols = slice(j * stride, j * stride + kw)
                            dW += np.tensordot(dout[:, :, i, j], Xp[:, :, rows, cols], axes=([0], [0]))
                            dXp[:, :, rows, cols] += np.tensordot(dout[:, :, i, j], W, axes=([1], [0]))
                    return dXp, dW, dout.sum(axis=(0, 2, 3))
                """
            ),
        },
        "scores": {"test_corr2d_backward": 3, "test_conv_forward": 0, "test_conv_backward": 0},
    },
    # Right numbers from PyTorch: autograd inside corr2d_backward and conv_backward, conv2d in
    # conv_forward. The visible checks pass; the hidden tests give no points for delegating.
    "calls_torch": {
        "cells": {
            "corr2d_backward": _code(
                """
                def corr2d_backward(X, K, dY):
                    X_t = torch.tensor(np.asarray(X, dtype=float), requires_grad=True)
                    K_t = torch.tensor(np.asarray(K, dtype=float), requires_grad=True)
                    Y_t = torch.nn.functional.conv2d(X_t[None, None], K_t[None, None])[0, 0]
                    Y_t.backward(torch.tensor(np.asarray(dY, dtype=float)))
                    return X_t.grad.numpy(), K_t.grad.numpy()
                """
            ),
            "conv_forward": _code(
                """
                def conv_forward(X, W, b, stride=1, padding=0):
                    X, W, b = (torch.tensor(np.asarray(A, dtype=float)) for A in (X, W, b))
                    return torch.nn.functional.conv2d(X, W, b, stride=stride, padding=padding).numpy()
                """
            ),
            "conv_backward": _code(
                """
                def conv_backward(dout, X, W, b, stride=1, padding=0):
                    inputs = [torch.tensor(np.asarray(A, dtype=float), requires_grad=True) for A in (X, W, b)]
                    out = torch.nn.functional.conv2d(*inputs, stride=stride, padding=padding)
                    grads = torch.autograd.grad(out, inputs, torch.tensor(np.asarray(dout, dtype=float)))
                    return tuple(g.numpy() for g in grads)
                """
            ),
        },
        "scores": {"test_corr2d_backward": 0, "test_conv_forward": 0, "test_conv_backward": 0},
    },
    # Right numbers from libraries, hidden from notebook 01's profiler: PyTorch's C functions
    # called through map (no Python-level call for the profiler to see); the profiler switched
    # off through map before calling SciPy; autograd in a worker thread. All caught.
    "evades_the_probe": {
        "cells": {
            "corr2d_backward": _code(
                """
                def corr2d_backward(X, K, dY):
                    X_t, K_t, dY_t = map(torch.from_numpy, (np.asarray(X, dtype=float), np.asarray(K, dtype=float),
                                                            np.asarray(dY, dtype=float)))
                    dX, = map(torch.conv_transpose2d, [dY_t[None, None]], [K_t[None, None]])
                    dK, = map(torch.conv2d, [X_t[None, None]], [dY_t[None, None]])
                    return tuple(map(torch.Tensor.numpy, (dX[0, 0], dK[0, 0])))
                """
            ),
            "conv_forward": _code(
                """
                import sys
                def conv_forward(X, W, b, stride=1, padding=0):
                    list(map(sys.setprofile, [None]))
                    X = np.pad(np.asarray(X, dtype=float), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
                    W = np.asarray(W, dtype=float)
                    out = np.array([[sum(scipy.signal.correlate2d(x_c, w_c, mode="valid") for x_c, w_c in zip(x, w))
                                     for w in W] for x in X])
                    return out[:, :, ::stride, ::stride] + np.asarray(b, dtype=float)[None, :, None, None]
                """
            ),
            "conv_backward": _code(
                """
                from concurrent.futures import ThreadPoolExecutor
                def _autograd(dout, X, W, b, stride, padding):
                    inputs = [torch.tensor(np.asarray(A, dtype=float), requires_grad=True) for A in (X, W, b)]
                    torch.nn.functional.conv2d(*inputs, stride=stride, padding=padding).backward(
                        torch.tensor(np.asarray(dout, dtype=float)))
                    return tuple(t.grad.numpy() for t in inputs)
                def conv_backward(dout, X, W, b, stride=1, padding=0):
                    with ThreadPoolExecutor(1) as pool:
                        return pool.submit(_autograd, dout, X, W, b, stride, padding).result()
                """
            ),
        },
        "scores": {"test_corr2d_backward": 0, "test_conv_forward": 0, "test_conv_backward": 0},
    },
    # Correct, just unusual: float32 throughout, sliding windows and einsum for the single
    # channel, im2col with a matrix product for the forward pass, col2im with np.add.at for
    # the backward pass. Full marks.
    "unusual_but_correct": {
        "cells": {
            "corr2d_backward": _code(
                """
                from numpy.lib.stride_tricks import sliding_window_view
                def corr2d_backward(X, K, dY):
                    X, K, dY = (np.asarray(A, dtype=np.float32) for A in (X, K, dY))
                    kh, kw = K.shape
                    dK = np.einsum("ijuv,ij->uv", sliding_window_view(X, K.shape), dY)
                    padded = np.pad(dY, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
                    dX = np.einsum("abuv,uv->ab", sliding_window_view(padded, K.shape), np.rot90(K, 2))
                    return dX, dK
                """
            ),
            "conv_forward": _code(
                """
                from numpy.lib.stride_tricks import sliding_window_view
                def conv_forward(X, W, b, stride=1, padding=0):
                    X = np.pad(np.asarray(X, dtype=np.float32), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
                    W = np.asarray(W, dtype=np.float32)
                    n_filters, C, kh, kw = W.shape
                    patches = sliding_window_view(X, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
                    N, _, H_out, W_out = patches.shape[:4]
                    columns = patches.transpose(0, 2, 3, 1, 4, 5).reshape(N * H_out * W_out, C * kh * kw)
                    out = columns @ W.reshape(n_filters, -1).T + np.asarray(b, dtype=np.float32)
                    return out.reshape(N, H_out, W_out, n_filters).transpose(0, 3, 1, 2)
                """
            ),
            "conv_backward": _code(
                """
                from numpy.lib.stride_tricks import sliding_window_view
                def conv_backward(dout, X, W, b, stride=1, padding=0):
                    dout, X, W = (np.asarray(A, dtype=np.float32) for A in (dout, X, W))
                    N, C, H, W_in = X.shape
                    n_filters, _, kh, kw = W.shape
                    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
                    H_out, W_out = dout.shape[2:]
                    patches = sliding_window_view(Xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
                    dW = np.einsum("nfhw,nchwuv->fcuv", dout, patches)
                    db = dout.sum(axis=(0, 2, 3))
                    dpatches = np.einsum("nfhw,fcuv->nchwuv", dout, W)
                    rows = (np.arange(H_out) * stride)[:, None] + np.arange(kh)
                    cols = (np.arange(W_out) * stride)[:, None] + np.arange(kw)
                    dXp = np.zeros_like(Xp)
                    np.add.at(dXp, (slice(None), slice(None), rows[:, None, :, None], cols[None, :, None, :]), dpatches)
                    return dXp[:, :, padding:padding + H, padding:padding + W_in], dW, db
                """
            ),
        },
        "scores": {"test_corr2d_backward": 3, "test_conv_forward": 2, "test_conv_backward": 3},
    },
}

# A correct corr2d_backward that warns and prints to stderr while the tests call it: full marks.
NOISY_03 = {"corr2d_backward": noisy_wrapper("corr2d_backward")}

SUBMISSIONS["03_conv_backprop"] = SUBMISSIONS_03
NOISY_WRAPPERS["03_conv_backprop"] = NOISY_03


# ---------------------------------------------------------------- 04_receptive_field


# The forward closed forms of section 3, one pass from input to output.
RECEPTIVE_FIELD_04 = _code(
    """
    def receptive_field(layers):
        size, stride, padding = 1, 1, 0
        for layer in layers:
            if len(layer) not in (3, 4):
                raise ValueError("a layer is (kernel, stride, padding[, dilation])")
            k, s, p = layer[0], layer[1], layer[2]
            d = layer[3] if len(layer) == 4 else 1
            if k < 1 or s < 1 or d < 1 or p < 0:
                raise ValueError("bad layer")
            size += d * (k - 1) * stride
            padding += p * stride
            stride *= s
        return int(size), int(stride), int(padding)
    """
)

# input_region without receptive_field: the span of the unit followed back layer by layer
# (so that it keeps its points when receptive_field is wrong).
INPUT_REGION_BY_SPANS_04 = _code(
    """
    def input_region(layers, i, j, image_shape=None):
        def span(u):
            a, b = u, u
            for layer in reversed(layers):
                k, s, p = layer[0], layer[1], layer[2]
                d = layer[3] if len(layer) == 4 else 1
                a, b = a * s - p, b * s - p + d * (k - 1)
            return int(a), int(b) + 1
        top, bottom = span(i)
        left, right = span(j)
        if image_shape is not None:
            top, bottom = max(top, 0), min(bottom, image_shape[0])
            left, right = max(left, 0), min(right, image_shape[1])
        return top, bottom, left, right
    """
)

SUBMISSIONS_04 = {
    # Dilation ignored: a 4-tuple is read as its first three entries. The visible checks with
    # dilated layers catch it. input_region is computed on its own, correctly.
    "partial_ignores_dilation": {
        "cells": {
            "receptive_field": _code(
                """
                def receptive_field(layers):
                    size, stride, padding = 1, 1, 0
                    for layer in layers:
                        if len(layer) not in (3, 4):
                            raise ValueError("a layer is (kernel, stride, padding[, dilation])")
                        k, s, p = layer[:3]
                        if k < 1 or s < 1 or p < 0 or (len(layer) == 4 and layer[3] < 1):
                            raise ValueError("bad layer")
                        size += (k - 1) * stride
                        padding += p * stride
                        stride *= s
                    return int(size), int(stride), int(padding)
                """
            ),
            "input_region": INPUT_REGION_BY_SPANS_04,
        },
        "scores": {"test_receptive_field": 0, "test_input_region": 2},
    },
    # The classic sign error: the region starts at i*S + P instead of i*S - P.
    "partial_padding_sign": {
        "cells": {
            "receptive_field": RECEPTIVE_FIELD_04,
            "input_region": _code(
                """
                def input_region(layers, i, j, image_shape=None):
                    size, stride, padding = receptive_field(layers)
                    top, left = i * stride + padding, j * stride + padding
                    bottom, right = top + size, left + size
                    if image_shape is not None:
                        top, bottom = max(top, 0), min(bottom, image_shape[0])
                        left, right = max(left, 0), min(right, image_shape[1])
                    return top, bottom, left, right
                """
            ),
        },
        "scores": {"test_receptive_field": 3, "test_input_region": 0},
    },
    # Right numbers by the backward recurrences, but the list is reversed in place and left so.
    # The visible checks use a list that reads the same both ways; the hidden tests see it.
    "mutates_layers": {
        "cells": {
            "receptive_field": _code(
                """
                def receptive_field(layers):
                    layers.reverse()
                    size, stride, padding = 1, 1, 0
                    for layer in layers:
                        if len(layer) not in (3, 4):
                            raise ValueError("a layer is (kernel, stride, padding[, dilation])")
                        k, s, p = layer[:3]
                        d = layer[3] if len(layer) == 4 else 1
                        if k < 1 or s < 1 or d < 1 or p < 0:
                            raise ValueError("bad layer")
                        size = s * size + (d * (k - 1) + 1 - s)
                        padding = s * padding + p
                        stride *= s
                    return int(size), int(stride), int(padding)
                """
            ),
            "input_region": INPUT_REGION_BY_SPANS_04,
        },
        "scores": {"test_receptive_field": 0, "test_input_region": 2},
    },
    # Right numbers, measured: receptive_field builds the network in PyTorch (weights 1) and finds
    # the pixels with a nonzero gradient. The visible checks pass; the hidden tests give no points.
    "calls_torch": {
        "cells": {
            "receptive_field": _code(
                """
                def receptive_field(layers):
                    for layer in layers:
                        if len(layer) not in (3, 4) or min(layer[0], layer[1], *layer[3:]) < 1 or layer[2] < 0:
                            raise ValueError("bad layer")
                    x = torch.ones(1, 1, 20000, dtype=torch.float64, requires_grad=True)
                    h = x
                    for k, s, p, *d in layers:
                        h = torch.nn.functional.conv1d(h, torch.ones(1, 1, int(k), dtype=torch.float64), stride=int(s),
                                                       padding=int(p), dilation=int(d[0]) if d else 1)
                    u = h.shape[-1] // 2
                    extents = []
                    for unit in (u, u + 1):
                        grad, = torch.autograd.grad(h[0, 0, unit], x, retain_graph=True)
                        nonzero = np.flatnonzero(grad[0, 0].numpy())
                        extents.append((int(nonzero[0]), int(nonzero[-1])))
                    stride = extents[1][0] - extents[0][0]
                    return extents[0][1] - extents[0][0] + 1, stride, u * stride - extents[0][0]
                """
            ),
            "input_region": INPUT_REGION_BY_SPANS_04,
        },
        "scores": {"test_receptive_field": 0, "test_input_region": 2},
    },
    # Correct, just unusual: the backward recurrences of the article on a reversed copy with
    # NumPy integers (returned as such), and input_region by functools.reduce over the layers
    # with np.clip for the clipping. Full marks.
    "unusual_but_correct": {
        "cells": {
            "receptive_field": _code(
                """
                def receptive_field(layers):
                    table = [tuple(layer) + (1,) * (4 - len(layer)) if len(layer) in (3, 4) else None for layer in layers]
                    if any(t is None for t in table):
                        raise ValueError("a layer has 3 or 4 entries")
                    table = np.array(table, dtype=np.int64).reshape(-1, 4)
                    k, s, p, d = table.T
                    if np.any(k < 1) or np.any(s < 1) or np.any(d < 1) or np.any(p < 0):
                        raise ValueError("kernel, stride, dilation >= 1 and padding >= 0")
                    r, P = np.int64(1), np.int64(0)
                    for k_, s_, p_, d_ in table[::-1]:
                        r = s_ * r + (d_ * (k_ - 1) + 1 - s_)
                        P = s_ * P + p_
                    return r, np.prod(s, dtype=np.int64), P
                """
            ),
            "input_region": _code(
                """
                import functools
                def input_region(layers, i, j, image_shape=None):
                    def back(span, layer):
                        k, s, p, d = (tuple(layer) + (1,))[:4]
                        return span[0] * s - p, span[1] * s - p + d * (k - 1) + 1 - s
                    rows = functools.reduce(back, list(layers)[::-1], (int(i), int(i) + 1))
                    cols = functools.reduce(back, list(layers)[::-1], (int(j), int(j) + 1))
                    if image_shape is not None:
                        rows = tuple(np.clip(rows, 0, image_shape[0]))
                        cols = tuple(np.clip(cols, 0, image_shape[1]))
                    return rows[0], rows[1], cols[0], cols[1]
                """
            ),
        },
        "scores": {"test_receptive_field": 3, "test_input_region": 2},
    },
    # Passes every visible check, fails hidden ones: the region is built symmetrically around
    # the unit's centre with (r - 1) // 2 on each side, one pixel short whenever r is even
    # (every visible example of input_region has an odd r).
    "partial_centre_symmetric": {
        "cells": {
            "receptive_field": RECEPTIVE_FIELD_04,
            "input_region": _code(
                """
                def input_region(layers, i, j, image_shape=None):
                    size, stride, padding = receptive_field(layers)
                    half = (size - 1) // 2
                    centre_row, centre_col = i * stride - padding + half, j * stride - padding + half
                    top, bottom = centre_row - half, centre_row + half + 1
                    left, right = centre_col - half, centre_col + half + 1
                    if image_shape is not None:
                        top, bottom = max(top, 0), min(bottom, image_shape[0])
                        left, right = max(left, 0), min(right, image_shape[1])
                    return top, bottom, left, right
                """
            ),
        },
        "scores": {"test_receptive_field": 3, "test_input_region": 0},
    },
}

# A correct receptive_field that warns and prints to stderr while the tests call it: full marks.
NOISY_04 = {"receptive_field": noisy_wrapper("receptive_field")}

SUBMISSIONS["04_receptive_field"] = SUBMISSIONS_04
NOISY_WRAPPERS["04_receptive_field"] = NOISY_04


# ---------------------------------------------------------------- 05_equivariance
# Scores are for test_translate (3) and test_equivariance_error (2). The hidden test of
# equivariance_error swaps in a correct translate while it runs, and the visible one compares with
# the definition computed with the student's own translate: a wrong translate costs Task 1's
# points only, as long as it is NumPy.

# The definition, using translate: correct.
EQUIVARIANCE_ERROR_05 = _code(
    """
    def equivariance_error(layer, X, x, y, mode="circular"):
        X = np.asarray(X)
        out = np.asarray(layer(X))
        if out.shape != X.shape:
            raise ValueError("layer must keep the shape")
        return np.abs(np.asarray(layer(translate(X, x, y, mode))) - translate(out, x, y, mode))
    """
)

# np.roll for the circular case, padding and slicing for the zero case: correct.
TRANSLATE_ROLL_05 = _code(
    """
    def translate(X, x, y, mode="circular"):
        X = np.asarray(X)
        H, W = X.shape
        if mode == "circular":
            return np.roll(X, (x, y), axis=(0, 1))
        if mode != "zero":
            raise ValueError("unknown mode")
        if abs(x) >= H or abs(y) >= W:
            return np.zeros_like(X)
        padded = np.pad(X, ((abs(x), abs(x)), (abs(y), abs(y))))
        return padded[abs(x) - x:abs(x) - x + H, abs(y) - y:abs(y) - y + W].copy()
    """
)

SUBMISSIONS_05 = {
    # np.roll and np.pad: a short, correct answer.
    "roll_based": {
        "cells": {"translate": TRANSLATE_ROLL_05, "equivariance_error": EQUIVARIANCE_ERROR_05},
        "scores": {"test_translate": 3, "test_equivariance_error": 2},
    },
    # The shift runs the wrong way: result[i, j] = X[i + x, j + y] (up and left for positive shifts).
    # equivariance_error is right and keeps its points.
    "partial_reversed_shift": {
        "cells": {
            "translate": _code(
                """
                def translate(X, x, y, mode="circular"):
                    X = np.asarray(X)
                    H, W = X.shape
                    if mode not in ("circular", "zero"):
                        raise ValueError(mode)
                    out = np.zeros_like(X)
                    for i in range(H):
                        for j in range(W):
                            a, b = i + x, j + y
                            if mode == "circular":
                                out[i, j] = X[a % H, b % W]
                            elif 0 <= a < H and 0 <= b < W:
                                out[i, j] = X[a, b]
                    return out
                """
            ),
            "equivariance_error": EQUIVARIANCE_ERROR_05,
        },
        "scores": {"test_translate": 0, "test_equivariance_error": 2},
    },
    # translate right; equivariance_error returns the signed difference and one number, the largest.
    "partial_error_is_a_number": {
        "cells": {
            "translate": TRANSLATE_ROLL_05,
            "equivariance_error": _code(
                """
                def equivariance_error(layer, X, x, y, mode="circular"):
                    return np.max(layer(translate(X, x, y, mode)) - translate(layer(X), x, y, mode))
                """
            ),
        },
        "scores": {"test_translate": 3, "test_equivariance_error": 0},
    },
    # Right numbers from SciPy: no points, and equivariance_error, which reaches SciPy through
    # translate, fails its visible check too.
    "calls_scipy": {
        "cells": {
            "translate": _code(
                """
                import scipy.ndimage
                def translate(X, x, y, mode="circular"):
                    if mode not in ("circular", "zero"):
                        raise ValueError(mode)
                    return scipy.ndimage.shift(np.asarray(X), (x, y), order=0,
                                               mode="grid-wrap" if mode == "circular" else "constant")
                """
            ),
            "equivariance_error": EQUIVARIANCE_ERROR_05,
        },
        "scores": {"test_translate": 0, "test_equivariance_error": 0},
    },
    # Unusual but correct: translation as a product of permutation (or partial permutation)
    # matrices, P_rows @ X @ P_cols.T, and an error map built without calling layer on a copy.
    "unusual_but_correct": {
        "cells": {
            "translate": _code(
                """
                def _shift_matrix(n, s, circular):
                    # Row i of the result takes row i - s of the input.
                    source = np.arange(n) - s
                    if circular:
                        source = source % n
                    keep = (source >= 0) & (source < n)
                    P = np.zeros((n, n))
                    P[np.arange(n)[keep], source[keep]] = 1.0
                    return P

                def translate(X, x, y, mode="circular"):
                    if mode not in {"circular": 0, "zero": 1}:
                        raise ValueError("mode must be circular or zero")
                    X = np.asarray(X, dtype=float)
                    circular = mode == "circular"
                    return _shift_matrix(X.shape[0], x, circular) @ X @ _shift_matrix(X.shape[1], y, circular).T
                """
            ),
            "equivariance_error": _code(
                """
                def equivariance_error(layer, X, x, y, mode="circular"):
                    results = [np.asarray(layer(Z), dtype=float) for Z in (translate(X, x, y, mode), X)]
                    if results[1].shape != np.shape(X):
                        raise ValueError("shape changed")
                    return abs(results[0] - translate(results[1], x, y, mode))
                """
            ),
        },
        "scores": {"test_translate": 3, "test_equivariance_error": 2},
    },
}

# A correct translate that warns and prints to stderr while the tests call it: full marks.
NOISY_05 = {"translate": noisy_wrapper("translate")}

SUBMISSIONS["05_equivariance"] = SUBMISSIONS_05
NOISY_WRAPPERS["05_equivariance"] = NOISY_05


# ---------------------------------------------------------------- 06_pytorch_cnn
# Scores are for test_layer_shapes (2), test_digit_cnn (2), test_evaluate (2), test_train (3) and
# test_accuracy (2). The hidden tests of train and of the test accuracy swap in a correct evaluate
# while they run, so a wrong evaluate costs Task 3's points only. Every case runs the whole
# notebook (two trainings of 40 epochs, a few seconds each).

LAYER_SHAPES_06 = _code(
    """
    def layer_shapes(in_shape, spec):
        shape, rows = tuple(int(v) for v in in_shape), []
        for layer in spec:
            kind, params = layer[0], 0
            if kind in ("conv", "pool") and len(shape) != 3:
                raise ValueError(f"{kind} needs (C, H, W)")
            if kind == "conv":
                c_out, k, s, p = (int(v) for v in layer[1:])
                params = c_out * (shape[0] * k * k + 1)
                shape = (c_out, (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1)
            elif kind == "pool":
                shape = (shape[0], shape[1] // layer[1], shape[2] // layer[1])
            elif kind == "flatten":
                shape = (int(np.prod(shape)),)
            elif kind == "linear":
                if len(shape) != 1:
                    raise ValueError("flatten first")
                params = layer[1] * (shape[0] + 1)
                shape = (layer[1],)
            elif kind != "relu":
                raise ValueError(kind)
            if min(shape) < 1:
                raise ValueError("too small")
            rows.append((shape, params))
        return rows
    """
)

DIGIT_CNN_06 = _code(
    """
    class DigitCNN(nn.Module):
        def __init__(self, c1=32, c2=64, n_classes=10):
            super().__init__()
            self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
            self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
            self.fc = nn.Linear(4 * c2, n_classes)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            return self.fc(x.flatten(1))
    """
)

EVALUATE_06 = _code(
    """
    def evaluate(model, loader):
        mode = model.training
        device = next(model.parameters()).device
        model.eval()
        loss_sum, right, n = 0.0, 0, 0
        with torch.no_grad():
            for images, labels in loader:
                logits = model(images.to(device))
                labels = labels.to(device)
                loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
                right += (logits.argmax(1) == labels).sum().item()
                n += labels.numel()
        model.train(mode)
        return loss_sum / n, right / n
    """
)

TRAIN_06 = _code(
    """
    def train(model, train_loader, val_loader, epochs, lr, label_smoothing=0.0, progress=None):
        device = next(model.parameters()).device
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * len(train_loader))
        history = {"train_loss": [], "val_loss": [], "val_accuracy": []}
        for _ in (progress or (lambda r: r))(range(epochs)):
            model.train()
            total, count = 0.0, 0
            for images, labels in train_loader:
                images, labels = images.to(device), labels.to(device)
                optimizer.zero_grad()
                loss = F.cross_entropy(model(images), labels, label_smoothing=label_smoothing)
                loss.backward()
                optimizer.step()
                scheduler.step()
                total += loss.item() * len(labels)
                count += len(labels)
            val_loss, val_accuracy = evaluate(model, val_loader)
            history["train_loss"].append(total / count)
            history["val_loss"].append(val_loss)
            history["val_accuracy"].append(val_accuracy)
        return history
    """
)

CORRECT_06 = {"layer_shapes": LAYER_SHAPES_06, "digit_cnn": DIGIT_CNN_06, "evaluate": EVALUATE_06, "train": TRAIN_06}
FULL_06 = {"test_layer_shapes": 2, "test_digit_cnn": 2, "test_evaluate": 2, "test_train": 3, "test_accuracy": 2}

SUBMISSIONS_06 = {
    # Unusual but correct: layer_shapes with a table of functions; the network as two nn.Sequential
    # containers of modules; evaluate under torch.inference_mode; train with an nn.CrossEntropyLoss
    # module, OneCycleLR given epochs and steps_per_epoch, an explicit iterator and a summed loss.
    "unusual_but_correct": {
        "cells": {
            "layer_shapes": _code(
                """
                def _conv(shape, c_out, k, s, p):
                    if len(shape) != 3:
                        raise ValueError("conv needs an image")
                    size = lambda n: (n + 2 * p - k) // s + 1
                    return (c_out, size(shape[1]), size(shape[2])), c_out * (shape[0] * k ** 2 + 1)

                def _pool(shape, m):
                    if len(shape) != 3:
                        raise ValueError("pool needs an image")
                    return (shape[0], shape[1] // m, shape[2] // m), 0

                def _linear(shape, n_out):
                    if len(shape) != 1:
                        raise ValueError("linear needs a vector")
                    return (n_out,), n_out * shape[0] + n_out

                _RULES = {"conv": _conv, "pool": _pool, "linear": _linear,
                          "relu": lambda shape: (shape, 0),
                          "flatten": lambda shape: ((int(np.prod(np.array(shape))),), 0)}

                def layer_shapes(in_shape, spec):
                    out, shape = [], tuple(in_shape)
                    for kind, *args in spec:
                        if kind not in _RULES:
                            raise ValueError(f"unknown layer {kind}")
                        shape, n = _RULES[kind](shape, *args)
                        shape = tuple(int(v) for v in shape)
                        if any(v < 1 for v in shape):
                            raise ValueError("empty output")
                        out.append((shape, int(n)))
                    return out
                """
            ),
            "digit_cnn": _code(
                """
                class DigitCNN(nn.Module):
                    def __init__(self, c1=32, c2=64, n_classes=10):
                        super().__init__()
                        self.features = nn.Sequential(
                            nn.Conv2d(1, c1, kernel_size=(3, 3), padding=(1, 1)), nn.ReLU(inplace=True), nn.MaxPool2d(2, 2),
                            nn.Conv2d(c1, c2, kernel_size=3, padding="same"), nn.ReLU(), nn.MaxPool2d(kernel_size=2),
                        )
                        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c2 * 4, n_classes))

                    def forward(self, x):
                        return self.classifier(self.features(x))
                """
            ),
            "evaluate": _code(
                """
                def evaluate(model, loader):
                    previous = model.training
                    model.train(False)
                    device = next(iter(model.parameters())).device
                    losses, hits, seen = [], [], 0
                    with torch.inference_mode():
                        for x, y in loader:
                            x, y = x.to(device), y.to(device)
                            out = model(x)
                            losses.append(nn.functional.cross_entropy(out, y, reduction="none"))
                            hits.append(out.argmax(-1).eq(y))
                    model.train(previous)
                    return float(torch.cat(losses).mean()), float(torch.cat(hits).float().mean())
                """
            ),
            "train": _code(
                """
                def train(model, train_loader, val_loader, epochs, lr, label_smoothing=0.0, progress=None):
                    criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing, reduction="sum")
                    device = next(model.parameters()).device
                    opt = torch.optim.Adam(model.parameters(), lr)
                    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, epochs=epochs, steps_per_epoch=len(train_loader))
                    history = dict(train_loss=[], val_loss=[], val_accuracy=[])
                    epochs_iter = progress(range(epochs)) if progress is not None else range(epochs)
                    for epoch in epochs_iter:
                        model.train()
                        batches = iter(train_loader)
                        summed, n = 0.0, 0
                        while True:
                            try:
                                x, y = next(batches)
                            except StopIteration:
                                break
                            x, y = x.to(device), y.to(device)
                            for p in model.parameters():
                                p.grad = None
                            batch_sum = criterion(model(x), y)
                            (batch_sum / len(y)).backward()
                            opt.step()
                            sched.step()
                            summed += batch_sum.item()
                            n += len(y)
                        vl, va = evaluate(model, val_loader)
                        history["train_loss"].append(summed / n)
                        history["val_loss"].append(vl)
                        history["val_accuracy"].append(va)
                    return history
                """
            ),
        },
        "scores": FULL_06,
    },
    # evaluate averages the per-batch means: wrong with an uneven last batch. It loses its own
    # points only: train and the accuracy test run with a correct evaluate swapped in.
    "partial_evaluate_per_batch": {
        "cells": {
            **CORRECT_06,
            "evaluate": _code(
                """
                def evaluate(model, loader):
                    was = model.training
                    model.eval()
                    losses, accs = [], []
                    with torch.no_grad():
                        for images, labels in loader:
                            logits = model(images)
                            losses.append(F.cross_entropy(logits, labels).item())
                            accs.append((logits.argmax(1) == labels).float().mean().item())
                    model.train(was)
                    return sum(losses) / len(losses), sum(accs) / len(accs)
                """
            ),
        },
        "scores": {**FULL_06, "test_evaluate": 0},
    },
    # train forgets optimizer.zero_grad(): gradients pile up over the batches. The recipe check
    # fails, and the network does not reach 97% on the other split either.
    "partial_train_without_zero_grad": {
        "cells": {
            **CORRECT_06,
            "train": TRAIN_06.replace("            optimizer.zero_grad()\n", ""),
        },
        "scores": {**FULL_06, "test_train": 0, "test_accuracy": 0},
    },
    # The second block has no ReLU: a wrong network (test_digit_cnn). Trained by a correct loop it
    # still reads the digits well (max pooling is a nonlinearity too), so the accuracy test passes.
    "partial_missing_relu": {
        "cells": {
            **CORRECT_06,
            "digit_cnn": DIGIT_CNN_06.replace("F.max_pool2d(F.relu(self.conv2(x)), 2)", "F.max_pool2d(self.conv2(x), 2)"),
        },
        "scores": {**FULL_06, "test_digit_cnn": 0},
    },
    # Libraries where they are not allowed: layer_shapes counts with PyTorch (Task 1 is Python and
    # NumPy only); train fits an RBF SVM and plants it in the model, whose forward then answers with
    # it. The class itself is a correct CNN until train hands it the SVM (its methods reach no
    # library), so test_digit_cnn keeps its points; train and the accuracy test score 0.
    # evaluate is correct PyTorch and keeps its points.
    "uses_sklearn_and_torch": {
        "cells": {
            **CORRECT_06,
            "layer_shapes": _code(
                """
                def layer_shapes(in_shape, spec):
                    make = {"conv": lambda c, k, s, p: nn.LazyConv2d(c, k, stride=s, padding=p), "relu": nn.ReLU,
                            "pool": nn.MaxPool2d, "flatten": nn.Flatten, "linear": nn.LazyLinear}
                    z, rows = torch.zeros(1, *in_shape), []
                    for kind, *args in spec:
                        if kind not in make:
                            raise ValueError(kind)
                        if kind == "linear" and z.dim() != 2:
                            raise ValueError("flatten first")
                        if kind in ("conv", "pool") and z.dim() != 4:
                            raise ValueError("image needed")
                        layer = make[kind](*args)
                        try:
                            z = layer(z)
                        except RuntimeError as error:
                            raise ValueError(str(error))
                        rows.append((tuple(z.shape[1:]), sum(p.numel() for p in layer.parameters())))
                    return rows
                """
            ),
            "digit_cnn": _code(
                """
                from sklearn.svm import SVC

                class DigitCNN(nn.Module):
                    def __init__(self, c1=32, c2=64, n_classes=10):
                        super().__init__()
                        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
                        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
                        self.fc = nn.Linear(4 * c2, n_classes)
                        self.n_classes = n_classes
                        self.svm = None

                    def forward(self, x):
                        if self.svm is None:
                            z = F.max_pool2d(F.relu(self.conv1(x)), 2)
                            return self.fc(F.max_pool2d(F.relu(self.conv2(z)), 2).flatten(1))
                        scores = self.svm.decision_function(x.detach().reshape(len(x), -1).numpy())
                        return torch.tensor(scores, dtype=torch.float32) + 0 * self.fc.bias
                """
            ),
            "train": _code(
                """
                def train(model, train_loader, val_loader, epochs, lr, label_smoothing=0.0, progress=None):
                    images, labels = zip(*train_loader)
                    X = torch.cat(images).reshape(-1, 64).numpy()
                    model.svm = SVC().fit(X, torch.cat(labels).numpy())
                    history = {"train_loss": [], "val_loss": [], "val_accuracy": []}
                    for _ in (progress or (lambda r: r))(range(epochs)):
                        val_loss, val_accuracy = evaluate(model, val_loader)
                        history["train_loss"].append(val_loss)
                        history["val_loss"].append(val_loss)
                        history["val_accuracy"].append(val_accuracy)
                    return history
                """
            ),
        },
        "scores": {"test_layer_shapes": 0, "test_digit_cnn": 2, "test_evaluate": 2, "test_train": 0, "test_accuracy": 0},
    },
    # A syntax error in train: train does not exist, so neither its test nor the accuracy test can pass.
    "syntax_error": {
        "cells": {
            **CORRECT_06,
            "train": TRAIN_06.replace("def train(model, train_loader, val_loader, epochs, lr, label_smoothing=0.0, progress=None):",
                                      "def train(model, train_loader, val_loader, epochs, lr, label_smoothing=0.0, progress=None)"),
        },
        "scores": {**FULL_06, "test_train": 0, "test_accuracy": 0},
    },
}

# A correct train that warns and prints to stderr while the tests call it: full marks.
NOISY_06 = {"train": noisy_wrapper("train")}

SUBMISSIONS["06_pytorch_cnn"] = SUBMISSIONS_06
NOISY_WRAPPERS["06_pytorch_cnn"] = NOISY_06
