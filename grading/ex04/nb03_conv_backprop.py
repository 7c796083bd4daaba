"""Trusted tests of notebook 03_conv_backprop: corr2d_backward, conv_forward, conv_backward.

References are PyTorch's conv2d and autograd in float64, computed here on the trusted side, and
the hand-worked one-hot cases of the notebook. The original tests also checked that the
functions do not modify their inputs; across the channel the student's code would get a copy, so
those inputs are kept in the sandbox instead (``student.keep``), passed as handles, and read back
after the call (``student.value``). The references are computed from trusted arrays.
"""

import numpy as np
import torch

from grading.core.testing import Failed, expect_array, expect_true, hidden, test, visible



# ------------------------------------------------------------------ references (trusted side)

def _sheet():
    from helpers.data import sheet_image, sheet_kernels

    return sheet_image(), sheet_kernels()["sobel_x"]


def torch_corr2d_backward(X, K, dY):
    """dX and dK of Y = K ⋆ X (valid) by PyTorch's autograd in float64."""
    X_t = torch.tensor(np.asarray(X, dtype=np.float64), requires_grad=True)
    K_t = torch.tensor(np.asarray(K, dtype=np.float64), requires_grad=True)
    torch.nn.functional.conv2d(X_t[None, None], K_t[None, None])[0, 0].backward(
        torch.tensor(np.asarray(dY, dtype=np.float64)))
    return X_t.grad.numpy(), K_t.grad.numpy()


def torch_conv_forward(X, W, b, stride, padding):
    """PyTorch's conv2d in float64."""
    as_tensor = lambda A: torch.tensor(np.asarray(A, dtype=np.float64))  # noqa: E731
    return torch.nn.functional.conv2d(as_tensor(X), as_tensor(W), as_tensor(b), stride=stride,
                                      padding=padding).numpy()


def torch_conv_backward(dout, X, W, b, stride, padding):
    """dX, dW and db by PyTorch's autograd in float64."""
    tensors = [torch.tensor(np.asarray(A, dtype=np.float64), requires_grad=True) for A in (X, W, b)]
    torch.nn.functional.conv2d(*tensors, stride=stride, padding=padding).backward(
        torch.tensor(np.asarray(dout, dtype=np.float64)))
    return tuple(t.grad.numpy() for t in tensors)


def _parts(result, n, call, what):
    """The student's result as a tuple of n parts, or Failed."""
    if not isinstance(result, (tuple, list)) or len(result) != n:
        text = repr(result)
        raise Failed(f"{call} must return {what}, not {type(result).__name__} {text[:60]}")
    return tuple(result)


def _unchanged(student, kept, originals):
    """True when every kept input still holds what it was given (read back from the sandbox)."""
    return all(np.array_equal(student.value(h), A) for h, A in zip(kept, originals))


def _close(got, expected, name):
    """The hidden tests' comparison: max |got - expected| <= 1e-5 * max(1, max |expected|)."""
    expect_array(got, expected, name, rtol=0.0, atol=1e-5)


# ------------------------------------------------------------------------------------ tests

@test("test_corr2d_backward", policy="numpy")
def corr2d_backward(student):
    """corr2d_backward: the one-hot case by hand, then autograd on random and integer inputs."""
    HINT = "dX has the shape of X, and dK the shape of K."
    X_sheet, K_sobel = _sheet()
    with visible("corr2d_backward(X, sobel_x, dY) for dY = 1 at [1, 2] only"):
        dY_one = np.zeros((3, 3))
        dY_one[1, 2] = 1.0
        inputs = (X_sheet.astype(float), K_sobel.astype(float), dY_one)
        kept = [student.keep(A) for A in inputs]
        dX, dK = _parts(student.corr2d_backward(*kept), 2, "corr2d_backward(X, sobel_x, dY)", "the pair (dX, dK)")
        expect_true(_unchanged(student, kept, inputs), "corr2d_backward must not modify its inputs")
        expect_array(dK, X_sheet[1:4, 2:5], "dK for dY = 1 at [1, 2] only (the window X[1:4, 2:5])",
                     rtol=1e-6, atol=1e-8, hint=HINT)
        dX_expected = np.zeros((5, 5))
        dX_expected[1:4, 2:5] = K_sobel
        expect_array(dX, dX_expected, "dX for dY = 1 at [1, 2] only (K placed over that window)",
                     rtol=1e-6, atol=1e-8, hint=HINT)
    check_rng = np.random.default_rng(430)
    for shape, kshape in [((6, 8), (3, 2)), ((4, 4), (4, 4)), ((7, 5), (1, 3)), ((5, 6), (2, 2))]:
        X_r, K_r = check_rng.normal(size=shape), check_rng.normal(size=kshape)
        dY_r = check_rng.normal(size=(shape[0] - kshape[0] + 1, shape[1] - kshape[1] + 1))
        with visible(f"corr2d_backward for a {shape} image and a {kshape} kernel against autograd"):
            dX_ref, dK_ref = torch_corr2d_backward(X_r, K_r, dY_r)
            dX, dK = _parts(student.corr2d_backward(X_r, K_r, dY_r), 2, "corr2d_backward", "the pair (dX, dK)")
            expect_array(dX, dX_ref, f"dX for a {shape} image and a {kshape} kernel", rtol=1e-5, atol=1e-5, hint=HINT)
            expect_array(dK, dK_ref, f"dK for a {shape} image and a {kshape} kernel", rtol=1e-5, atol=1e-5, hint=HINT)
    X_i, K_i = check_rng.integers(-5, 6, size=(5, 6)), check_rng.integers(-3, 4, size=(2, 3))
    dY_q = check_rng.integers(-8, 9, size=(4, 4)) / 8
    with visible("corr2d_backward for an integer image and kernel (dY in eighths)"):
        dX_ref, dK_ref = torch_corr2d_backward(X_i, K_i, dY_q)
        dX, dK = _parts(student.corr2d_backward(X_i, K_i, dY_q), 2, "corr2d_backward", "the pair (dX, dK)")
        expect_array(dX, dX_ref, "dX for an integer image and kernel (dY in eighths)", rtol=1e-6, atol=1e-8, hint=HINT)
        expect_array(dK, dK_ref, "dK for an integer image and kernel (dY in eighths)", rtol=1e-6, atol=1e-8, hint=HINT)

    with hidden():
        rng = np.random.default_rng(4301)
        cases = [((6, 9), (2, 4)), ((7, 3), (3, 1)), ((4, 5), (4, 5)), ((1, 8), (1, 3)), ((9, 6), (5, 2)),
                 ((5, 5), (1, 1)), ((3, 7), (2, 7))]
        for shape, kshape in cases:
            X, K = rng.normal(size=shape), rng.normal(size=kshape)
            dY = rng.normal(size=(shape[0] - kshape[0] + 1, shape[1] - kshape[1] + 1))
            kept = [student.keep(A) for A in (X, K, dY)]
            result = student.corr2d_backward(*kept)
            expect_true(_unchanged(student, kept, (X, K, dY)), "corr2d_backward must not modify its inputs")
            result = _parts(result, 2, "corr2d_backward", "the pair (dX, dK)")
            dX_ref, dK_ref = torch_corr2d_backward(X, K, dY)
            case = f"a {shape} image and a {kshape} kernel"
            _close(result[0], dX_ref, f"dX of corr2d_backward for {case}")
            _close(result[1], dK_ref, f"dK of corr2d_backward for {case}")
        # Integer inputs: the upstream gradient's fractions must survive an integer image and kernel.
        X_i, K_i = rng.integers(-9, 10, size=(6, 5)), rng.integers(-3, 4, size=(3, 2))
        dY_q = rng.integers(-4, 5, size=(4, 4)) / 4
        result = _parts(student.corr2d_backward(X_i, K_i, dY_q), 2, "corr2d_backward", "the pair (dX, dK)")
        dX_ref, dK_ref = torch_corr2d_backward(X_i, K_i, dY_q)
        _close(result[0], dX_ref, "dX of corr2d_backward for an integer image and kernel")
        _close(result[1], dK_ref, "dK of corr2d_backward for an integer image and kernel")
        result = _parts(student.corr2d_backward(X_i, K_i, np.ones((4, 4), dtype=int)), 2, "corr2d_backward",
                        "the pair (dX, dK)")
        dX_ref, dK_ref = torch_corr2d_backward(X_i, K_i, np.ones((4, 4)))
        _close(result[0], dX_ref, "dX of corr2d_backward for integer X, K and dY")
        _close(result[1], dK_ref, "dK of corr2d_backward for integer X, K and dY")


@test("test_conv_forward", policy="numpy")
def conv_forward(student):
    """conv_forward: the sheet's worked example, then PyTorch's conv2d on batches, strides, paddings."""
    SIZE_HINT = "out has shape (N, F, H_out, W_out) with H_out = (H_in + 2p - kh) // s + 1 (and likewise W_out)."
    image, sobel = _sheet()
    X_sheet, W_sobel = image[None, None], sobel[None, None]
    worked = np.array([[11, 0, -11], [10, 0, -10], [11, 0, -11]])
    with visible("conv_forward(sheet image, sobel_x, b=0)"):
        inputs = (X_sheet.astype(float), W_sobel.astype(float), np.array([1.5]))
        kept = [student.keep(A) for A in inputs]
        student.conv_forward(*kept, stride=2, padding=1)
        expect_true(_unchanged(student, kept, inputs), "conv_forward must not modify its inputs")
        expect_array(student.conv_forward(X_sheet, W_sobel, np.zeros(1)), worked[None, None],
                     "conv_forward(sheet image, sobel_x, b=0)", rtol=1e-6, atol=1e-8, hint=SIZE_HINT)
    with visible("conv_forward(sheet image, sobel_x, b=1.5)"):
        expect_array(student.conv_forward(X_sheet, W_sobel, np.array([1.5])), worked[None, None] + 1.5,
                     "conv_forward(sheet image, sobel_x, b=1.5)", rtol=1e-6, atol=1e-8, hint=SIZE_HINT)
    check_rng = np.random.default_rng(431)
    for (N, C, H, W_in), (F, kh, kw), stride, padding in [
            ((2, 3, 7, 6), (4, 3, 2), 1, 0), ((2, 3, 7, 6), (4, 3, 3), 2, 1),
            ((1, 2, 5, 8), (3, 1, 3), 3, 2), ((3, 1, 4, 4), (2, 4, 4), 1, 1)]:
        X_r, W_r = check_rng.normal(size=(N, C, H, W_in)), check_rng.normal(size=(F, C, kh, kw))
        b_r = check_rng.normal(size=F)
        name = f"conv_forward(X {X_r.shape}, W {W_r.shape}, stride={stride}, padding={padding})"
        with visible(name + " against PyTorch's conv2d"):
            expect_array(student.conv_forward(X_r, W_r, b_r, stride=stride, padding=padding),
                         torch_conv_forward(X_r, W_r, b_r, stride, padding), name, rtol=1e-5, atol=1e-5, hint=SIZE_HINT)
    X_i, W_i = check_rng.integers(0, 10, size=(2, 2, 5, 5)), check_rng.integers(-2, 3, size=(3, 2, 3, 3))
    b_q = np.array([0.25, -0.5, 0.75])
    with visible("conv_forward on integer X and W, stride=2, padding=1"):
        expect_array(student.conv_forward(X_i, W_i, b_q, stride=2, padding=1), torch_conv_forward(X_i, W_i, b_q, 2, 1),
                     "conv_forward on integer X and W, stride=2, padding=1", rtol=1e-6, atol=1e-8, hint=SIZE_HINT)

    with hidden():
        rng = np.random.default_rng(4302)
        configs = []
        for _ in range(10):
            configs.append(tuple(int(v) for v in (*rng.integers(1, 4, size=3), *rng.integers(3, 10, size=2),
                                                  *rng.integers(1, 4, size=2), rng.integers(1, 4), rng.integers(0, 3))))
        # A kernel larger than the unpadded input, a 1x1 kernel with stride 2, a stride that leaves rows unused.
        configs += [(1, 2, 2, 2, 3, 4, 3, 1, 1), (2, 3, 2, 5, 6, 1, 1, 2, 0), (1, 1, 3, 8, 9, 3, 2, 3, 0)]
        for N, C, F, H, Wd, kh, kw, s, p in configs:
            X, W, b = rng.normal(size=(N, C, H, Wd)), rng.normal(size=(F, C, kh, kw)), rng.normal(size=F)
            kept = [student.keep(A) for A in (X, W, b)]
            got = student.conv_forward(*kept, stride=s, padding=p)
            expect_true(_unchanged(student, kept, (X, W, b)), "conv_forward must not modify its inputs")
            _close(got, torch_conv_forward(X, W, b, s, p),
                   f"conv_forward for X {X.shape}, W {W.shape}, stride {s}, padding {p}")
        X_i, W_i = rng.integers(0, 256, size=(2, 3, 6, 5)), rng.integers(-3, 4, size=(2, 3, 2, 2))
        b_q = np.array([0.5, -0.25])
        _close(student.conv_forward(X_i, W_i, b_q, stride=2, padding=1), torch_conv_forward(X_i, W_i, b_q, 2, 1),
               "conv_forward for integer X and W with a fractional bias")
        _close(student.conv_forward(X_i, W_i, np.array([1, -1])), torch_conv_forward(X_i, W_i, np.array([1, -1]), 1, 0),
               "conv_forward when X, W and b are all integers")


@test("test_conv_backward", policy="numpy")
def conv_backward(student):
    """conv_backward: one upstream 1 by hand (with and without padding), then autograd."""
    HINT = "dX has the shape of X, dW the shape of W and db the shape of b."
    image, sobel = _sheet()
    X_sheet, W_sobel = image[None, None].astype(float), sobel[None, None].astype(float)
    triple = "the triple (dX, dW, db)"
    with visible("conv_backward for dout = 1 at output (1, 2)"):
        dout_one = np.zeros((1, 1, 3, 3))
        dout_one[0, 0, 1, 2] = 1.0
        inputs = (dout_one, X_sheet, W_sobel, np.zeros(1))
        kept = [student.keep(A) for A in inputs]
        dX, dW, db = _parts(student.conv_backward(*kept), 3, "conv_backward", triple)
        expect_true(_unchanged(student, kept, inputs), "conv_backward must not modify its inputs")
        expect_array(dW, X_sheet[:, :, 1:4, 2:5], "dW for dout = 1 at output (1, 2)", rtol=1e-6, atol=1e-8, hint=HINT)
        dX_expected = np.zeros((1, 1, 5, 5))
        dX_expected[0, 0, 1:4, 2:5] = W_sobel[0, 0]
        expect_array(dX, dX_expected, "dX for dout = 1 at output (1, 2)", rtol=1e-6, atol=1e-8, hint=HINT)
        expect_array(db, np.ones(1), "db for dout = 1 at output (1, 2)", rtol=1e-6, atol=1e-8, hint=HINT)
    with visible("conv_backward for stride=2, padding=1, dout = 1 at output (0, 0)"):
        dout_corner = np.zeros((1, 1, 3, 3))
        dout_corner[0, 0, 0, 0] = 1.0
        dX, dW, db = _parts(student.conv_backward(dout_corner, X_sheet, W_sobel, np.zeros(1), stride=2, padding=1), 3,
                            "conv_backward", triple)
        expect_array(dW, np.pad(X_sheet, ((0, 0), (0, 0), (1, 1), (1, 1)))[:, :, 0:3, 0:3],
                     "dW for stride=2, padding=1, dout = 1 at output (0, 0) (the padded corner window)",
                     rtol=1e-6, atol=1e-8, hint=HINT)
        dX_expected = np.zeros((1, 1, 5, 5))
        dX_expected[0, 0, 0:2, 0:2] = W_sobel[0, 0, 1:3, 1:3]
        expect_array(dX, dX_expected, "dX for stride=2, padding=1, dout = 1 at output (0, 0) (padding cut off)",
                     rtol=1e-6, atol=1e-8, hint=HINT)
    check_rng = np.random.default_rng(432)
    for (N, C, H, W_in), (F, kh, kw), stride, padding in [
            ((2, 3, 7, 6), (4, 3, 2), 1, 0), ((2, 3, 7, 6), (4, 3, 3), 2, 1),
            ((1, 2, 8, 7), (3, 2, 3), 3, 0), ((3, 1, 4, 4), (2, 3, 3), 1, 2)]:
        X_r, W_r = check_rng.normal(size=(N, C, H, W_in)), check_rng.normal(size=(F, C, kh, kw))
        b_r = check_rng.normal(size=F)
        H_out, W_out = (H + 2 * padding - kh) // stride + 1, (W_in + 2 * padding - kw) // stride + 1
        dout_r = check_rng.normal(size=(N, F, H_out, W_out))
        case = f"X {X_r.shape}, W {W_r.shape}, stride={stride}, padding={padding}"
        with visible(f"conv_backward for {case} against autograd"):
            expected = torch_conv_backward(dout_r, X_r, W_r, b_r, stride, padding)
            got = _parts(student.conv_backward(dout_r, X_r, W_r, b_r, stride=stride, padding=padding), 3,
                         "conv_backward", triple)
            for name, g, e in zip(("dX", "dW", "db"), got, expected):
                expect_array(g, e, f"{name} for {case}", rtol=1e-5, atol=1e-5, hint=HINT)
    X_i, W_i = check_rng.integers(0, 10, size=(2, 2, 5, 5)), check_rng.integers(-2, 3, size=(3, 2, 3, 3))
    dout_q = check_rng.integers(-4, 5, size=(2, 3, 3, 3)) / 4
    with visible("conv_backward for integer X and W (dout in quarters), stride=2, padding=1"):
        expected = torch_conv_backward(dout_q, X_i, W_i, np.zeros(3), 2, 1)
        got = _parts(student.conv_backward(dout_q, X_i, W_i, np.zeros(3), stride=2, padding=1), 3, "conv_backward",
                     triple)
        for name, g, e in zip(("dX", "dW", "db"), got, expected):
            expect_array(g, e, f"{name} for integer X and W (dout in quarters), stride=2, padding=1",
                         rtol=1e-6, atol=1e-8, hint=HINT)

    with hidden():
        rng = np.random.default_rng(4303)
        configs = []
        for _ in range(10):
            configs.append(tuple(int(v) for v in (*rng.integers(1, 4, size=3), *rng.integers(3, 10, size=2),
                                                  *rng.integers(1, 4, size=2), rng.integers(1, 4), rng.integers(0, 3))))
        configs += [(1, 2, 2, 2, 3, 4, 3, 1, 1), (2, 3, 2, 5, 6, 1, 1, 2, 0), (1, 1, 3, 8, 9, 3, 2, 3, 0),
                    (2, 2, 1, 6, 6, 2, 2, 4, 2)]
        for N, C, F, H, Wd, kh, kw, s, p in configs:
            X, W, b = rng.normal(size=(N, C, H, Wd)), rng.normal(size=(F, C, kh, kw)), rng.normal(size=F)
            dout = rng.normal(size=(N, F, (H + 2 * p - kh) // s + 1, (Wd + 2 * p - kw) // s + 1))
            kept = [student.keep(A) for A in (dout, X, W, b)]
            result = student.conv_backward(*kept, stride=s, padding=p)
            expect_true(_unchanged(student, kept, (dout, X, W, b)), "conv_backward must not modify its inputs")
            result = _parts(result, 3, "conv_backward", triple)
            case = f"X {X.shape}, W {W.shape}, stride {s}, padding {p}"
            for name, got, expected in zip(("dX", "dW", "db"), result, torch_conv_backward(dout, X, W, b, s, p)):
                _close(got, expected, f"{name} of conv_backward for {case}")
        X_i, W_i = rng.integers(0, 256, size=(2, 3, 6, 5)), rng.integers(-3, 4, size=(2, 3, 2, 2))
        dout_i = rng.integers(-2, 3, size=(2, 2, 4, 3))
        result = _parts(student.conv_backward(dout_i / 4, X_i, W_i, np.zeros(2), stride=2, padding=1), 3,
                        "conv_backward", triple)
        for name, got, expected in zip(("dX", "dW", "db"), result,
                                       torch_conv_backward(dout_i / 4, X_i, W_i, np.zeros(2), 2, 1)):
            _close(got, expected, f"{name} of conv_backward for integer X and W")
        result = _parts(student.conv_backward(dout_i, X_i, W_i, np.array([1, 2]), stride=2, padding=1), 3,
                        "conv_backward", triple)
        for name, got, expected in zip(("dX", "dW", "db"), result,
                                       torch_conv_backward(dout_i, X_i, W_i, np.array([1, 2]), 2, 1)):
            _close(got, expected, f"{name} of conv_backward when every input is an integer array")
