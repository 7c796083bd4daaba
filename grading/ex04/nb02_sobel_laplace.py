"""Trusted tests of ex04/02_sobel_laplace: sobel_gradient, correlate_separable, separable_factors.

References come from SciPy (``scipy.ndimage.sobel``, ``scipy.signal.correlate2d``), the photos
of scikit-image (through ``helpers.data.photo``) and values worked by hand, all computed here, on
the trusted side. The student's functions run in a sandbox that can import NumPy only, so the
notebook's ``check_numpy_only`` calls and the hidden library probe need no counterpart here.

The original hidden tests also checked that the functions leave their inputs unmodified. Across
the channel the student's function would get a copy, so those inputs are kept in the sandbox
instead (``student.keep``), passed as handles, and read back after the call (``student.value``);
the references are computed from trusted copies.
"""

import numpy as np
import scipy.ndimage
import scipy.signal

from grading.core.testing import Failed, as_array, expect_array, expect_raises, expect_true, hidden, test, visible


INNER = (slice(1, -1), slice(1, -1))  # SciPy keeps the image size; valid mode keeps the inner pixels
SHAPE_HINT = "Valid mode: an H x W image gives (H - 2) x (W - 2) outputs."
SEPARABLE_HINT = "Valid mode with a kh x kw kernel: (H - kh + 1) x (W - kw + 1) outputs."


# ----------------------------------------------------------------------------- references

def _cat():
    from helpers.data import photo

    return photo("chelsea")


def _ramp(d_row, d_col, shape=(6, 7)):
    """Brightness rising by d_row per row (downwards) and d_col per column (to the right)."""
    rows, cols = np.indices(shape)
    return d_row * rows + d_col * cols


def _reference_gradient(image):
    """gx, gy of the valid-mode Sobel responses (SciPy), computed in floats."""
    image = np.asarray(image, dtype=float)
    return scipy.ndimage.sobel(image, axis=1)[INNER], scipy.ndimage.sobel(image, axis=0)[INNER]


def _reference_magnitude(image):
    return np.hypot(*_reference_gradient(image))


def _wrapped(difference):
    """Angles that differ by a whole turn are the same direction: compare on the circle."""
    return np.angle(np.exp(1j * np.asarray(difference, dtype=float)))


def _gradient(student, image, call="sobel_gradient(image)"):
    """The student's (magnitude, angle), or Failed when the result is not a pair."""
    result = student.sobel_gradient(image)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise Failed(f"{call} should return two arrays, (magnitude, angle); got {type(result).__name__}")
    return result


def _angle_error(angle, expected, name):
    """Wrapped difference between the student's angle and the expected one, shapes checked first."""
    angle = as_array(angle, name)
    expected = np.asarray(expected, dtype=float)
    if expected.ndim and angle.shape != expected.shape:
        raise Failed(f"{name}: shape {angle.shape}, expected {expected.shape}. {SHAPE_HINT}")
    return _wrapped(angle.astype(float) - expected)


def _factors(got, call):
    """np.outer of the student's (column, row), or Failed when the result is not such a pair."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Failed(f"{call} should return (column, row) or None; got {type(got).__name__}")
    column, row = (as_array(v, call) for v in got)
    return np.outer(column, row)


# ----------------------------------------------------------------------------- tests

@test("test_sobel_magnitude", policy="numpy")
def sobel_magnitude(student):
    """sobel_gradient's magnitude: ramps by hand, the cat and an 8-bit crop against SciPy, bad shapes."""
    with visible("sobel_gradient's magnitude matches the hand-worked ramps and SciPy"):
        image = _ramp(3, 4).astype(float)
        kept = student.keep(image)
        student.sobel_gradient(kept)
        expect_true(np.array_equal(student.value(kept), image), "sobel_gradient must not modify its input")
        magnitude, _ = _gradient(student, _ramp(0, 1))
        expect_array(magnitude, np.full((4, 5), 8.0), name="magnitude on a ramp rising 1 per column", hint=SHAPE_HINT)
        magnitude, _ = _gradient(student, _ramp(3, 4))
        expect_array(magnitude, np.full((4, 5), 40.0),
                     name="magnitude on a ramp rising 3 per row and 4 per column (8 · 5)")
        # The tolerances allow float32 arithmetic, not mistakes.
        cat = _cat()
        magnitude, _ = _gradient(student, cat)
        expect_array(magnitude, _reference_magnitude(cat), name="magnitude on the cat (vs SciPy's Sobel)",
                     hint=SHAPE_HINT, rtol=1e-5, atol=1e-5)
        # An 8-bit image: differences of uint8 arrays wrap around unless you compute in floats.
        import skimage.data

        camera8 = skimage.data.camera()[200:210, 200:212]
        magnitude, _ = _gradient(student, camera8)
        expect_array(magnitude, _reference_magnitude(camera8),
                     name="magnitude on an 8-bit (uint8) crop of the camera photo", rtol=1e-5, atol=1e-4)
        for bad in (np.zeros((2, 5)), np.zeros(9)):
            expect_raises("ValueError", lambda: student.sobel_gradient(bad),
                          f"sobel_gradient of an image of shape {bad.shape}")

    with hidden():
        rng = np.random.default_rng(4211)
        for shape in [(3, 3), (5, 9), (12, 4), (20, 17)]:
            image = rng.normal(size=shape)
            kept = student.keep(image)
            magnitude, _ = _gradient(student, kept)
            expect_array(magnitude, _reference_magnitude(image), f"magnitude of a random {shape} image",
                         rtol=1e-5, atol=1e-5)
            expect_true(np.array_equal(student.value(kept), image), "sobel_gradient must not modify its input")
        # 8-bit images: negative differences must not wrap around.
        image8 = rng.integers(0, 256, size=(9, 11)).astype(np.uint8)
        magnitude, _ = _gradient(student, image8)
        expect_array(magnitude, _reference_magnitude(image8),
                     "magnitude of a uint8 image (integer arithmetic wrapping around?)", rtol=1e-5, atol=1e-4)
        for bad in (np.zeros((2, 8)), np.zeros((8, 2)), np.zeros((3, 3, 3))):
            expect_raises("ValueError", lambda: student.sobel_gradient(bad), f"sobel_gradient of shape {bad.shape}")


@test("test_sobel_angle", policy="numpy")
def sobel_angle(student):
    """sobel_gradient's angle: ramps in known directions, the cat and random images against SciPy."""
    with visible("sobel_gradient's angle matches the hand-worked ramps and SciPy"):
        # A ramp per direction, brightness rising towards: right, below, left, above, below-right.
        for (d_row, d_col), expected, label in [((0, 1), 0.0, "right"), ((1, 0), np.pi / 2, "below"),
                                                 ((0, -1), np.pi, "left"), ((-1, 0), -np.pi / 2, "above"),
                                                 ((2, 2), np.pi / 4, "below-right")]:
            _, angle = _gradient(student, _ramp(d_row, d_col))
            name = f"angle error on a ramp brighter towards the {label}"
            angle = as_array(angle, name).astype(float)
            expect_true(not angle.size or np.abs(angle).max() <= np.pi + 1e-6,
                        f"angles must be in radians, in [-pi, pi]; got up to {np.abs(angle).max():.3f} (degrees?)")
            error = _angle_error(angle, expected, name)
            expect_true(not (error.size and np.allclose(np.abs(error), np.pi)),
                        f"on a ramp that gets brighter towards the {label}, your angle is off by 180°: gx or gy has "
                        "the wrong sign (the sheet's kernels used for correlation compute left minus right and top "
                        "minus bottom)")
            expect_array(error, np.zeros((4, 5)), name=name, atol=1e-5)
        # On the cat, wherever the gradient is clearly non-zero: where it is ~0 the direction means
        # nothing, and rounding alone can turn it around.
        cat = _cat()
        gx, gy = _reference_gradient(cat)
        _, angle = _gradient(student, cat)
        strong = np.hypot(gx, gy) > 1e-2
        error = _angle_error(angle, np.arctan2(gy, gx), "angle on the cat")
        expect_array(error[strong], np.zeros(strong.sum()), name="angle error on the cat (vs SciPy's Sobel)", atol=1e-3)

    with hidden():
        rng = np.random.default_rng(4212)
        for shape in [(3, 3), (6, 10), (15, 8)]:
            image = rng.normal(size=shape)
            gx, gy = _reference_gradient(image)
            _, angle = _gradient(student, image)
            error = _angle_error(angle, np.arctan2(gy, gx), f"angle of a {shape} image")
            expect_true(np.all(np.abs(as_array(angle, "angle")) <= np.pi + 1e-9), "angles must lie in [-pi, pi]")
            strong = np.hypot(gx, gy) > 1e-2  # float32 rounding may turn around the direction of a ~0 gradient
            expect_array(error[strong], np.zeros(strong.sum()), f"angle for a random {shape} image", rtol=0, atol=1e-3)
        # Ramps in 16 directions, with integer and float slopes.
        rows, cols = np.indices((7, 9))
        for k in range(16):
            theta = 2 * np.pi * k / 16
            _, angle = _gradient(student, np.sin(theta) * rows + np.cos(theta) * cols)
            name = f"angle for a ramp rising at {np.degrees(theta):.1f}°"
            expect_array(_angle_error(angle, theta, name), np.zeros((5, 7)), name, rtol=0, atol=1e-5)
        _, angle = _gradient(student, (3 * rows - 2 * cols).astype(np.int16))
        name = "angle on an integer (int16) image"
        expect_array(_angle_error(angle, np.arctan2(3, -2), name), np.zeros((5, 7)), name, rtol=0, atol=1e-5)


@test("test_correlate_separable", policy="numpy")
def correlate_separable(student):
    """correlate_separable against SciPy's 2-D correlation with the outer product."""
    with visible("correlate_separable matches the 2-D correlation with the outer product"):
        cat = _cat()
        gauss5 = np.array([1, 4, 6, 4, 1]) / 16
        image = cat[:20, :30].copy()
        kept = student.keep(image)
        student.correlate_separable(kept, [1, 2, 1], [1, 0, -1])
        expect_true(np.array_equal(student.value(kept), image), "correlate_separable must not modify its input")
        for label, column, row in [("sobel_x = [1, 2, 1] ⊗ [1, 0, -1]", [1, 2, 1], [1, 0, -1]),
                                   ("5×5 binomial blur", gauss5, gauss5),
                                   ("3×7 box", np.ones(3), np.ones(7) / 7)]:
            expect_array(student.correlate_separable(cat, column, row),
                         scipy.signal.correlate2d(cat, np.outer(column, row), mode="valid"),
                         name=f"correlate_separable(cat, {label})", hint=SEPARABLE_HINT, rtol=1e-5, atol=1e-6)
        expect_array(student.correlate_separable(np.arange(20).reshape(4, 5), [1, -1], [0.5, 0.25, 0.125]),
                     scipy.signal.correlate2d(np.arange(20.0).reshape(4, 5), np.outer([1, -1], [0.5, 0.25, 0.125]),
                                              mode="valid"),
                     name="correlate_separable on a 4×5 integer image with fractional weights", hint=SEPARABLE_HINT)
        import skimage.data

        camera8 = skimage.data.camera()[200:210, 200:212]
        expect_array(student.correlate_separable(camera8, [1, 0, -1], [1, 2, 1]),
                     scipy.signal.correlate2d(camera8.astype(float), np.outer([1, 0, -1], [1, 2, 1]), mode="valid"),
                     name="correlate_separable on an 8-bit (uint8) crop of the camera photo", hint=SEPARABLE_HINT)

    with hidden():
        rng = np.random.default_rng(4213)
        for shape, kh, kw in [((6, 9), 2, 4), ((9, 5), 5, 1), ((4, 4), 4, 4), ((1, 7), 1, 3), ((11, 13), 3, 3)]:
            image = rng.normal(size=shape)
            column, row = rng.normal(size=kh), rng.normal(size=kw)
            kept = student.keep(image)
            expect_array(student.correlate_separable(kept, column, row),
                         scipy.signal.correlate2d(image, np.outer(column, row), mode="valid"),
                         f"correlate_separable on a {shape} image with a {kh}x{kw} kernel", rtol=1e-5, atol=1e-5)
            expect_true(np.array_equal(student.value(kept), image), "correlate_separable must not modify its input")
        image8 = rng.integers(0, 256, size=(7, 8)).astype(np.uint8)
        expect_array(student.correlate_separable(image8, [1, 0, -1], [1, 2, 1]),
                     scipy.signal.correlate2d(image8.astype(float), np.outer([1, 0, -1], [1, 2, 1]), mode="valid"),
                     "correlate_separable on a uint8 image (integer arithmetic wrapping around?)", rtol=1e-5, atol=1e-8)


@test("test_separable_factors", policy="numpy")
def separable_factors(student):
    """separable_factors splits rank-1 kernels, rejects the others, and its tolerance is relative."""
    from helpers.data import sheet_kernels

    kernels = sheet_kernels()

    with visible("separable_factors splits the separable kernels and rejects the others"):
        K = kernels["sobel_x"].astype(float)
        kept = student.keep(K)
        student.separable_factors(kept)
        expect_true(np.array_equal(student.value(kept), K), "separable_factors must not modify K")
        for K, label in [(kernels["sobel_x"], "sobel_x"), (kernels["sobel_y"], "sobel_y"),
                         (np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256, "5×5 binomial blur"),
                         (np.ones((3, 5)), "3×5 box"), (np.zeros((3, 3)), "the zero kernel"),
                         (np.array([[1.0, -2.0, 1.0]]), "a single row"),
                         (np.array([[1.0], [-2.0], [1.0]]), "a single column")]:
            factors = student.separable_factors(K)
            expect_true(factors is not None, f"separable_factors({label}) returned None, but {label} is separable")
            call = f"np.outer(*separable_factors({label}))"
            expect_array(_factors(factors, f"separable_factors({label})"), np.asarray(K, dtype=float), name=call)
        for K, label in [(kernels["laplace"], "laplace"), (np.eye(3), "the 3×3 identity matrix"),
                         (np.array([[1, 2], [3, 4]]), "[[1, 2], [3, 4]]")]:
            expect_true(student.separable_factors(K) is None,
                        f"separable_factors({label}) should be None: {label} has rank 2 or more")
        near = np.outer([1, 2, 1], [1, 0, -1]) + 1e-3 * np.outer([1, -1, 1], [0, 1, 0])
        expect_true(student.separable_factors(near) is None,
                    "separable_factors(near) should be None: its second singular value is 5e-4 of the first")
        expect_true(student.separable_factors(near, tol=1e-2) is not None,
                    "separable_factors(near, tol=1e-2) should split it: with tol=1e-2 a second singular value of "
                    "5e-4 of the first counts as 0")
        expect_true(student.separable_factors(1e-12 * near) is None,
                    "separable_factors(1e-12 * near) should be None, like near: compare the second singular value "
                    "with tol times the first")
        expect_raises("ValueError", lambda: student.separable_factors(np.ones(3)), "separable_factors(a 1-D array)")

    with hidden():
        rng = np.random.default_rng(4214)
        for kh, kw in [(3, 3), (5, 2), (1, 6), (7, 1), (4, 9)]:
            K = np.outer(rng.normal(size=kh), rng.normal(size=kw))
            kept = student.keep(K)
            factors = student.separable_factors(kept)
            expect_true(factors is not None, f"a random {kh}x{kw} rank-1 kernel was called not separable")
            expect_array(_factors(factors, "separable_factors(K)"), K,
                         f"factors of a random {kh}x{kw} rank-1 kernel", rtol=1e-7, atol=1e-9)
            expect_true(np.array_equal(student.value(kept), K), "separable_factors must not modify its input")
            # Rounding noise far below the tolerance does not make a kernel non-separable.
            factors = student.separable_factors(K + 1e-14 * rng.normal(size=K.shape))
            expect_true(factors is not None, "a rank-1 kernel with 1e-14 of noise was called not separable")
        # Integer and scaled kernels, and rank 2 with a small but real second singular value.
        K_int = np.array([[2, 4, 2], [0, 0, 0], [-2, -4, -2]])
        factors = student.separable_factors(K_int)
        expect_true(factors is not None, "an integer rank-1 kernel was called not separable")
        expect_array(_factors(factors, "separable_factors(K)"), K_int, "factors of an integer kernel",
                     rtol=1e-5, atol=1e-8)
        K_small = 1e-6 * np.outer([1, 2, 1], [1, 0, -1])
        factors = student.separable_factors(K_small)
        message = ("a small but separable kernel must be separable: the tolerance is relative to the largest "
                   "singular value")
        expect_true(factors is not None, message)
        expect_array(_factors(factors, "separable_factors(K)"), K_small, message, rtol=1e-5, atol=1e-15)
        near = np.outer([1, 2, 1], [1, 0, -1]) + 1e-3 * np.outer([1, -1, 1], [0, 1, 0])
        expect_true(student.separable_factors(near) is None,
                    "a rank-2 kernel (second singular value 5e-4 of the first) was called separable")
        expect_true(student.separable_factors(near, tol=1e-2) is not None, "separable_factors ignores its tol argument")
        # Relative, not absolute: scaling must not change the verdict.
        expect_true(student.separable_factors(1e-12 * near) is None,
                    "a tiny rank-2 kernel was called separable: compare the second singular value with the first, "
                    "not with tol alone")
        big = 1e8 * np.outer([1, 2, 1], [1, 0, -1]) + 1e-6 * rng.normal(size=(3, 3))
        expect_true(student.separable_factors(big) is not None,
                    "a large rank-1 kernel with 1e-6 of noise was called not separable: the tolerance must be "
                    "relative to the first singular value")
        expect_true(student.separable_factors(np.array([[0, 1, 0], [1, -8, 1], [0, 1, 0]])) is None,
                    "a Laplace kernel was called separable")
        for bad in (np.ones(4), np.ones((2, 2, 2))):
            expect_raises("ValueError", lambda: student.separable_factors(bad),
                          f"separable_factors of shape {bad.shape}")
