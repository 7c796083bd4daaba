"""Trusted tests of ex04/01_convolutions: output_size, corr2d (valid; stride and padding), conv2d.

References come from SciPy (``correlate2d``, ``convolve2d``), PyTorch (``F.conv2d``) and values
worked by hand, all computed here, on the trusted side. The student's functions run in a sandbox
that can import NumPy only, so the library rule needs no check of its own.

The original hidden tests also checked that corr2d and conv2d leave their inputs unmodified.
Across the channel the student's function would get a copy, so those inputs are kept in the
sandbox instead (``student.keep``), passed as handles, and read back after the call
(``student.value``); the references are computed from trusted copies.
"""

import numpy as np
import scipy.signal

from grading.core.testing import expect_array, expect_raises, expect_scalar, expect_true, hidden, test, visible


VALID_HINT = "Valid mode keeps only windows that fit: the output has H - kh + 1 rows and W - kw + 1 columns."
STRIDE_PADDING_HINT = "With padding p and stride s the output has (H + 2p - kh) // s + 1 rows (and likewise columns)."


# ----------------------------------------------------------------------------- references

def _sheet():
    from helpers.data import sheet_image, sheet_kernels

    return sheet_image(), sheet_kernels()


def _reference_corr2d(X, K, stride=1, padding=0):
    """Pad, correlate in valid mode, keep every stride-th value (SciPy)."""
    return scipy.signal.correlate2d(np.pad(X, padding), K, mode="valid")[::stride, ::stride]


def _torch_corr2d(X, K, stride, padding):
    """PyTorch's conv2d is a cross-correlation with the same stride and padding semantics."""
    import torch
    import torch.nn.functional as F

    as_4d = lambda A: torch.as_tensor(np.asarray(A, dtype=np.float64))[None, None]  # noqa: E731
    return F.conv2d(as_4d(X), as_4d(K), stride=stride, padding=padding)[0, 0].numpy()


def _output_size(n, k, stride, padding):
    """What PyTorch's conv2d gives along one axis: floor((n + 2p - k) / s) + 1."""
    return (n + 2 * padding - k) // stride + 1


def _expect_unchanged(student, function, arrays, **kwargs):
    """Call the student's function on inputs kept in the sandbox; fail if it changed any of them."""
    kept = [student.keep(A) for A in arrays]
    getattr(student, function)(*kept, **kwargs)
    expect_true(all(np.array_equal(student.value(h), A) for h, A in zip(kept, arrays)),
                f"{function} must not modify its inputs")


# ----------------------------------------------------------------------------- tests

@test("test_output_size", policy="numpy")
def output_size(student):
    """output_size against hand-worked values, PyTorch's output sizes and bad arguments."""
    with visible("output_size agrees with the hand-worked values"):
        for args, kwargs, expected, label in [
            ((5, 3), {}, 3, "output_size(5, 3)  (the sheet: valid, stride 1)"),
            ((5, 3), {"padding": 1}, 5, "output_size(5, 3, padding=1)  ('same' padding)"),
            ((7, 3), {"stride": 2}, 3, "output_size(7, 3, stride=2)"),
            ((6, 3), {"stride": 2}, 2, "output_size(6, 3, stride=2)  (the floor matters)"),
            ((4, 1), {}, 4, "output_size(4, 1)"),
        ]:
            expect_scalar(student.output_size(*args, **kwargs), expected, label)
        got = student.output_size(5, 3)
        expect_true(isinstance(got, int), f"output_size should return an int, not {type(got).__name__}")
        for args, kwargs, why in [((2, 3), {}, "a 3-pixel kernel does not fit into 2 pixels"),
                                  ((5, 3), {"stride": 0}, "the stride must be at least 1"),
                                  ((5, 3), {"padding": -1}, "the padding must be at least 0")]:
            call = f"output_size({', '.join([*map(str, args), *(f'{k}={v}' for k, v in kwargs.items())])})"
            expect_raises("ValueError", lambda: student.output_size(*args, **kwargs), f"{call} ({why})")

    with hidden():
        rng = np.random.default_rng(2024)
        for _ in range(40):
            n, k = int(rng.integers(1, 12)), int(rng.integers(1, 6))
            s, p = int(rng.integers(1, 4)), int(rng.integers(0, 3))
            call = f"output_size({n}, {k}, stride={s}, padding={p})"
            if k > n + 2 * p:
                expect_raises("ValueError", lambda: student.output_size(n, k, stride=s, padding=p), call)
                continue
            got = student.output_size(n, k, stride=s, padding=p)
            expect_scalar(got, _output_size(n, k, s, p), call, kind="int")
        for bad in ({"stride": -1}, {"padding": -2}, {"stride": 0, "padding": 1}):
            expect_raises("ValueError", lambda: student.output_size(7, 2, **bad), f"output_size(7, 2, {bad})")


@test("test_corr2d_valid", policy="numpy")
def corr2d_valid(student):
    """corr2d in valid mode, stride 1: the sheet, hand-worked values, random and integer images."""
    X_sheet, kernels = _sheet()
    with visible("corr2d (valid, stride 1) matches SciPy and the hand-worked values"):
        _expect_unchanged(student, "corr2d", [np.arange(12.0).reshape(3, 4), np.array([[1.0, -1.0]])])
        for name, K in kernels.items():
            expect_array(student.corr2d(X_sheet, K), scipy.signal.correlate2d(X_sheet, K, mode="valid"),
                         name=f"corr2d(X, {name})", hint=VALID_HINT)
        for (i, j), value in [((0, 0), 11), ((1, 1), 0)]:
            expect_scalar(student.corr2d(X_sheet, kernels["sobel_x"])[i, j], value,
                          f"corr2d(X, sobel_x)[{i}, {j}] (worked by hand)")
        ramp = np.arange(12).reshape(3, 4)
        expect_array(student.corr2d(ramp, np.array([[1, -1]])), -np.ones((3, 3)),
                     name="corr2d(3x4 ramp, [[1, -1]])", hint=VALID_HINT)
        # An integer image with a fractional kernel: the result must keep the fractions.
        expect_array(student.corr2d(ramp, np.array([[0.5, 0.25]])),
                     scipy.signal.correlate2d(np.arange(12.0).reshape(3, 4), [[0.5, 0.25]], mode="valid"),
                     name="corr2d(3x4 integer ramp, [[0.5, 0.25]])")
        expect_array(student.corr2d(ramp, np.ones((3, 4))), [[66.0]],
                     name="corr2d(3x4 ramp, 3x4 ones) (a kernel as large as the image)", hint=VALID_HINT)

    with hidden():
        X = np.array([[5, 5, 2, 5, 5], [5, 5, 2, 5, 5], [7, 7, 5, 7, 7], [5, 5, 2, 5, 5], [5, 5, 2, 5, 5]])
        sobel_x = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
        worked = np.array([[11, 0, -11], [10, 0, -10], [11, 0, -11]])  # by hand
        expect_array(student.corr2d(X, sobel_x), worked, "corr2d(X, sobel_x) on the sheet's image", exact=True)
        rng = np.random.default_rng(4101)
        for shape, kshape in [((6, 9), (2, 4)), ((7, 3), (3, 1)), ((4, 5), (4, 5)), ((1, 8), (1, 3)), ((9, 6), (5, 2))]:
            X = rng.normal(size=shape)
            K = rng.normal(size=kshape)
            kept = student.keep(X)
            # float32 results are fine: the tolerance allows their rounding.
            expect_array(student.corr2d(kept, K), scipy.signal.correlate2d(X, K, mode="valid"),
                         f"corr2d on a {shape} image with a {kshape} kernel", rtol=1e-5, atol=1e-5)
            expect_true(np.array_equal(student.value(kept), X), "corr2d must not modify its input")
        # Integer images: exact results, and fractions from the kernel must survive.
        Xi = rng.integers(-9, 10, size=(5, 7))
        Ki = rng.integers(-3, 4, size=(2, 3))
        expect_array(student.corr2d(Xi, Ki), scipy.signal.correlate2d(Xi, Ki, mode="valid"),
                     "corr2d on integer input", exact=True)
        Kf = np.array([[0.25, -0.5], [0.125, 1.0]])
        expect_array(student.corr2d(Xi, Kf), scipy.signal.correlate2d(Xi.astype(float), Kf, mode="valid"),
                     "corr2d on an integer image with a fractional kernel (integer output array?)",
                     rtol=1e-5, atol=1e-8)


@test("test_corr2d_stride_padding", policy="numpy")
def corr2d_stride_padding(student):
    """corr2d with stride and padding against SciPy and PyTorch."""
    X_sheet, kernels = _sheet()
    with visible("corr2d with padding and stride matches SciPy and PyTorch"):
        _expect_unchanged(student, "corr2d", [X_sheet.astype(float), kernels["laplace"].astype(float)],
                          stride=2, padding=1)
        for stride, padding in [(1, 1), (2, 0), (2, 1), (3, 2)]:
            for name, K in kernels.items():
                label = f"corr2d(X, {name}, stride={stride}, padding={padding})"
                got = student.corr2d(X_sheet, K, stride=stride, padding=padding)
                expect_array(got, _reference_corr2d(X_sheet, K, stride, padding), name=label, hint=STRIDE_PADDING_HINT)
                expect_array(got, _torch_corr2d(X_sheet, K, stride, padding), name=label + " vs PyTorch")

    with hidden():
        rng = np.random.default_rng(4102)
        for _ in range(12):
            H, W = int(rng.integers(3, 10)), int(rng.integers(3, 10))
            kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
            s, p = int(rng.integers(1, 4)), int(rng.integers(0, 3))
            X = rng.normal(size=(H, W))
            K = rng.normal(size=(kh, kw))
            case = f"a {(H, W)} image, a {(kh, kw)} kernel, stride {s}, padding {p}"
            kept = student.keep(X)
            expect_array(student.corr2d(kept, K, stride=s, padding=p), _reference_corr2d(X, K, s, p),
                         f"corr2d on {case}", rtol=1e-5, atol=1e-5)
            expect_true(np.array_equal(student.value(kept), X), "corr2d must not modify its input")
        Xi = rng.integers(0, 256, size=(6, 8))
        Ki = np.ones((3, 3), dtype=int)
        expect_array(student.corr2d(Xi, Ki, stride=2, padding=1), _reference_corr2d(Xi, Ki, 2, 1),
                     "corr2d on an integer image with stride 2 and padding 1", exact=True)


@test("test_conv2d", policy="numpy")
def conv2d(student):
    """conv2d against SciPy's convolve2d, with kernels that show a missing or partial flip."""
    X_sheet, kernels = _sheet()
    with visible("conv2d matches SciPy's convolve2d"):
        # A kernel without any symmetry on an image without a pattern: no flip, or a flip of one
        # axis only, each gives a result of its own, named in the message.
        X_test = np.array([[3, 1, 4, 1], [5, 9, 2, 6], [5, 3, 5, 8]])
        K_asym = np.array([[1, 2], [3, 4]])
        _expect_unchanged(student, "conv2d", [X_test.astype(float), K_asym.astype(float)])
        flip_mistakes = {
            "the correlation with the kernel as given: the kernel was not flipped":
                scipy.signal.correlate2d(X_test, K_asym, mode="valid"),
            "the correlation with the kernel flipped upside down only: flip it left to right as well":
                scipy.signal.correlate2d(X_test, K_asym[::-1], mode="valid"),
            "the correlation with the kernel flipped left to right only: flip it upside down as well":
                scipy.signal.correlate2d(X_test, K_asym[:, ::-1], mode="valid"),
        }
        expect_array(student.conv2d(X_test, K_asym), scipy.signal.convolve2d(X_test, K_asym, mode="valid"),
                     name="conv2d(X_test, [[1, 2], [3, 4]])", likely_mistakes=flip_mistakes,
                     hint="conv2d is valid mode with stride 1, like corr2d.")
        for name, K in kernels.items():
            expect_array(student.conv2d(X_sheet, K), scipy.signal.convolve2d(X_sheet, K, mode="valid"),
                         name=f"conv2d(X, {name})")

    with hidden():
        rng = np.random.default_rng(4103)
        for shape, kshape in [((6, 9), (2, 4)), ((7, 5), (3, 1)), ((5, 4), (5, 4)), ((8, 6), (3, 3))]:
            X = rng.normal(size=shape)
            K = rng.normal(size=kshape)
            kept = student.keep(K)
            expect_array(student.conv2d(X, kept), scipy.signal.convolve2d(X, K, mode="valid"),
                         f"conv2d on a {shape} image with a {kshape} kernel", rtol=1e-5, atol=1e-5)
            expect_true(np.array_equal(student.value(kept), K), "conv2d must not modify the kernel")
        Xi = rng.integers(-5, 6, size=(4, 6))
        Ki = rng.integers(-2, 3, size=(2, 3))
        expect_array(student.conv2d(Xi, Ki), scipy.signal.convolve2d(Xi, Ki, mode="valid"),
                     "conv2d on integer input", exact=True)
