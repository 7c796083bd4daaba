"""Trusted tests of notebook 05_equivariance: translate and equivariance_error.

References: the worked examples by hand, SciPy's ``scipy.ndimage.shift`` (order 0) for the visible
checks of translate, np.roll and a loop for its hidden tests, all computed here.

equivariance_error takes a *layer*, a callable, which cannot cross the data-only channel: the
layers live in the sandbox as fixtures (``nb05_layer(name)`` of :mod:`grading.ex04.fixtures_torch`, handed
over as handles), and the same functions are defined here for the trusted references. The
hidden test swaps a correct translate (``nb05_translate`` of :mod:`grading.ex04.reference_translate`,
which only that test's sandbox receives) into the student's namespace
while it runs, so that a wrong translate costs Task 1's points only, as the original did.

The original tests also checked that the functions do not modify their input. Across the
channel the student's code would get a copy, so that input is kept in the sandbox instead
(``student.keep``), passed as a handle, and read back after the call (``student.value``); every
reference is computed from trusted arrays.
"""

import numpy as np
import scipy.ndimage

from grading.core.testing import Failed, expect_array, expect_raises, expect_true, hidden, test, visible



# ------------------------------------------------------------------ references (trusted side)

def scipy_translate(X, x, y, mode="circular"):
    """The sheet's T_{x,y} by SciPy (order 0: no interpolation)."""
    if mode == "circular":
        return scipy.ndimage.shift(X, (x, y), order=0, mode="grid-wrap")
    return scipy.ndimage.shift(X, (x, y), order=0, mode="constant", cval=0)


def roll_reference(X, x, y):
    return np.roll(np.asarray(X, dtype=float), (x, y), axis=(0, 1))


def zero_reference(X, x, y):
    X = np.asarray(X, dtype=float)
    out = np.zeros(X.shape)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if 0 <= i - x < X.shape[0] and 0 <= j - y < X.shape[1]:
                out[i, j] = X[i - x, j - y]
    return out


# The layers handed to equivariance_error and a correct translate: the same code builds them in
# the sandbox (as fixtures) and here (for the references).
from grading.ex04.fixtures_numpy import _NB05_LAYERS  # noqa: E402
from grading.ex04.reference_translate import nb05_translate as reference_translate  # noqa: E402

identity, circular_box, vignette, box, ramp, flip, affine, relu = (
    _NB05_LAYERS[name] for name in ("identity", "circular_box", "vignette", "box", "ramp", "flip", "affine", "relu"))


def _expect_ndarray(got, shape, message):
    if not isinstance(got, np.ndarray):
        raise Failed(f"{message}, not {type(got).__name__}")
    expect_true(got.shape == tuple(shape), f"{message}; got shape {got.shape}")


# ------------------------------------------------------------------------------------ tests

@test("test_translate", policy="numpy")
def translate(student):
    """translate: the worked example by hand, SciPy's shift, bad modes; hidden: np.roll and a loop."""
    M = np.arange(1, 13).reshape(3, 4)
    for args, expected, name in [
        ((1, -1, "circular"), [[10, 11, 12, 9], [2, 3, 4, 1], [6, 7, 8, 5]], "translate(M, 1, -1, 'circular')"),
        ((1, -1, "zero"), [[0, 0, 0, 0], [2, 3, 4, 0], [6, 7, 8, 0]], "translate(M, 1, -1, 'zero')"),
        ((0, 2, "zero"), [[0, 0, 1, 2], [0, 0, 5, 6], [0, 0, 9, 10]],
         "translate(M, 0, 2, 'zero'): two columns to the right"),
        ((-2, 0, "circular"), [[9, 10, 11, 12], [1, 2, 3, 4], [5, 6, 7, 8]],
         "translate(M, -2, 0, 'circular'): two rows up"),
        ((0, 0, "zero"), M, "translate(M, 0, 0, 'zero'): no shift at all"),
        ((np.int64(1), np.int64(-1), "circular"), [[10, 11, 12, 9], [2, 3, 4, 1], [6, 7, 8, 5]],
         "translate(M, np.int64(1), np.int64(-1), 'circular'): NumPy integers as shifts"),
    ]:
        with visible(name):
            # M is read back after the call: translate must leave it unchanged.
            kept = student.keep(M)
            got = student.translate(kept, *args)
            expect_true(np.array_equal(student.value(kept), M), "translate must not modify its input")
            expect_array(got, expected, name, rtol=1e-6, atol=1e-8,
                         hint="The result has the shape of X.")
    check_rng = np.random.default_rng(53)
    for shape in [(5, 7), (6, 4), (1, 5)]:
        X_r = check_rng.normal(size=shape)
        for x, y in [(2, 3), (-1, 4), (0, -3), (-4, -2), (shape[0], 1), (7, -9), (-13, 15)]:
            for mode in ("circular", "zero"):
                name = f"translate(X, {x}, {y}, '{mode}') for a {shape} image"
                with visible(name):
                    expect_array(student.translate(X_r, x, y, mode), scipy_translate(X_r, x, y, mode), name,
                                 rtol=1e-6, atol=1e-8)
    X_int = check_rng.integers(0, 256, size=(4, 6))
    for mode in ("circular", "zero"):
        name = f"translate of an integer image, mode '{mode}'"
        with visible(name):
            expect_array(student.translate(X_int, 3, -5, mode), scipy_translate(X_int, 3, -5, mode), name)
    for bad_mode in ("reflect", "Circular"):
        with visible(f"translate(M, 1, 1, {bad_mode!r}) raises ValueError"):
            expect_raises("ValueError", lambda: student.translate(M, 1, 1, bad_mode),
                          f"translate(M, 1, 1, {bad_mode!r})")

    with hidden():
        def check_translate(X, x, y, mode):
            kept = student.keep(X)
            got = student.translate(kept, x, y, mode)
            expect_true(np.array_equal(student.value(kept), X), "translate must not modify its input")
            expected = roll_reference(X, x, y) if mode == "circular" else zero_reference(X, x, y)
            if not isinstance(got, np.ndarray):
                raise Failed(f"translate must return a NumPy array, not {type(got).__name__}")
            expect_true(got.shape == expected.shape, f"translate of a {X.shape} image gives shape {got.shape}")
            expect_array(got, expected, f"translate(X, {x}, {y}, {mode!r}) for a {X.shape} image", rtol=0.0, atol=1e-5)

        # Hand-worked: [[1, 2, 3], [4, 5, 6]].
        A = np.array([[1, 2, 3], [4, 5, 6]])
        for args, expected in [((1, 1, "circular"), [[6, 4, 5], [3, 1, 2]]), ((1, 1, "zero"), [[0, 0, 0], [0, 1, 2]]),
                               ((0, -1, "zero"), [[2, 3, 0], [5, 6, 0]]), ((-1, 0, "circular"), [[4, 5, 6], [1, 2, 3]]),
                               ((2, 0, "circular"), [[1, 2, 3], [4, 5, 6]]), ((0, 3, "zero"), [[0, 0, 0], [0, 0, 0]]),
                               ((-5, 7, "circular"), [[6, 4, 5], [3, 1, 2]])]:
            expect_array(student.translate(A, *args), np.array(expected, dtype=float),
                         f"translate([[1, 2, 3], [4, 5, 6]], {', '.join(map(repr, args))})", rtol=0.0, atol=1e-5)
        rng = np.random.default_rng(4305)
        for shape in [(5, 8), (6, 3), (4, 4), (1, 7), (7, 1), (9, 6)]:
            H, W = shape
            X = rng.normal(size=shape)
            for x, y in [(0, 0), (1, 0), (0, -1), (2, -3), (-H + 1, W - 1), (H, -W), (-H - 2, W + 3),
                         (2 * H + 1, -3 * W - 2), (int(rng.integers(-9, 10)), int(rng.integers(-9, 10)))]:
                for mode in ("circular", "zero"):
                    check_translate(X, x, y, mode)
        # Integer images (int64 and uint8) and NumPy integer shifts.
        for X in (rng.integers(-50, 50, size=(6, 5)), rng.integers(0, 256, size=(5, 7)).astype(np.uint8)):
            for x, y in [(2, -1), (np.int64(-3), np.int64(4)), (0, 9)]:
                for mode in ("circular", "zero"):
                    check_translate(X, x, y, mode)
        # A shift by at least the image's size: all zeros, or no shift at all.
        X = rng.normal(size=(4, 6))
        expect_array(student.translate(X, 4, 0, "zero"), np.zeros((4, 6)),
                     "translate(X, 4, 0, 'zero') (a shift by H rows in zero mode must give zeros)", rtol=0.0, atol=1e-5)
        expect_array(student.translate(X, 0, -6, "zero"), np.zeros((4, 6)),
                     "translate(X, 0, -6, 'zero') (a shift by -W columns in zero mode must give zeros)",
                     rtol=0.0, atol=1e-5)
        expect_array(student.translate(X, 8, -12, "circular"), X,
                     "translate(X, 8, -12, 'circular') (a shift by (2H, -2W) in circular mode is no shift)",
                     rtol=0.0, atol=1e-5)
        for bad in ("wrap", "constant", "ZERO"):
            expect_raises("ValueError", lambda: student.translate(X, 1, 1, bad), f"translate(X, 1, 1, {bad!r})")


@test("test_equivariance_error", policy="numpy", references=["grading.ex04.reference_translate"])
def equivariance_error(student):
    """equivariance_error: layers with known answers and the student's translate; hidden: a correct translate."""
    handles = {}

    def layer(name):
        # The sandbox's copy of the layer, as a handle the student's function can call.
        if name not in handles:
            handles[name] = student.fixture("nb05_layer", name)
        return handles[name]

    check_rng = np.random.default_rng(55)
    X_check = check_rng.normal(size=(6, 8))
    with visible("equivariance_error(identity, X, 2, -3)"):
        kept = student.keep(X_check)
        got = student.equivariance_error(layer("identity"), kept, 2, -3)
        expect_true(np.array_equal(student.value(kept), X_check), "equivariance_error must not modify X")
        expect_array(got, np.zeros((6, 8)),
                     "equivariance_error(identity, X, 2, -3)", rtol=1e-6, atol=1e-8, hint="The map has the shape of X.")
    with visible("equivariance_error of a circular 3x3 box filter (equivariant: zeros)"):
        expect_array(student.equivariance_error(layer("circular_box"), X_check, -1, 5, "circular"), np.zeros((6, 8)),
                     "equivariance_error of a circular 3x3 box filter (equivariant: zeros)", rtol=1e-6, atol=1e-12)
    for function in (vignette, circular_box):
        for (x, y), mode in [((2, -3), "circular"), ((-1, 4), "zero"), ((3, 0), "zero")]:
            name = (f"equivariance_error({function.__name__}, X, {x}, {y}, '{mode}') "
                    "(the definition, with your translate)")
            with visible(name):
                translated = student.translate(X_check, x, y, mode)
                shifted_output = student.translate(function(X_check.copy()), x, y, mode)
                expected = np.abs(function(np.asarray(translated)) - np.asarray(shifted_output))
                expect_array(student.equivariance_error(layer(function.__name__), X_check, x, y, mode), expected, name,
                             rtol=1e-6, atol=1e-8)
    with visible("equivariance_error raises ValueError for a layer that changes the shape (stride 2)"):
        expect_raises("ValueError", lambda: student.equivariance_error(layer("stride_2"), X_check, 2, 2),
                      "equivariance_error(lambda Z: Z[::2, ::2], X, 2, 2)")

    with hidden(), student.replaced("translate", "nb05_translate"):
        rng = np.random.default_rng(4306)
        for shape in [(5, 7), (8, 4), (6, 6)]:
            X = rng.normal(size=shape)
            for function in (box, ramp, flip, affine, relu):
                for x, y, mode in [(1, -2, "circular"), (-3, 2, "zero"), (0, 0, "zero"), (shape[0] + 1, -1, "circular"),
                                   (2, shape[1], "zero")]:
                    kept = student.keep(X)
                    got = student.equivariance_error(layer(function.__name__), kept, x, y, mode)
                    expect_true(np.array_equal(student.value(kept), X), "equivariance_error must not modify X")
                    expected = np.abs(function(reference_translate(X, x, y, mode))
                                      - reference_translate(function(X), x, y, mode)).astype(float)
                    _expect_ndarray(got, expected.shape,
                                    f"equivariance_error must return a NumPy array of X's shape {expected.shape}")
                    expect_array(got, expected, f"equivariance_error({function.__name__}, X, {x}, {y}, {mode!r}) "
                                 f"for a {shape} image", rtol=0.0, atol=1e-5)
        # Equivariant layers give zeros; an integer image and layer give exact integers.
        X = rng.normal(size=(7, 5))
        expect_array(student.equivariance_error(layer("box"), X, 3, -4, "circular"), np.zeros((7, 5)),
                     "equivariance_error(box, X, 3, -4, 'circular') (a circular box filter is equivariant: "
                     "its error map must be 0)", rtol=0.0, atol=1e-5)
        X_i = rng.integers(-5, 6, size=(4, 6))
        got = student.equivariance_error(layer("affine"), X_i, 1, 2, "zero")
        expected = np.abs(affine(reference_translate(X_i, 1, 2, "zero"))
                          - reference_translate(affine(X_i), 1, 2, "zero")).astype(float)
        expect_array(got, expected, "equivariance_error for an integer image", rtol=0.0, atol=1e-5)
        expect_true(np.max(got) == 1 and np.count_nonzero(got) == 4 * 6 - 3 * 4,
                    "equivariance_error is wrong for an integer image")
        for shrink, text in [("stride_2", "Z[::2, ::2]"), ("crop", "Z[1:-1, 1:-1]"), ("transpose", "Z.T")]:
            expect_raises("ValueError",
                          lambda: student.equivariance_error(layer(shrink), rng.normal(size=(6, 4)), 2, 0),
                          f"equivariance_error for a layer that changes the shape ({text})")
