"""Test furniture for sandboxes of the "numpy" policy (NumPy and the standard library only).

The trusted side asks for these by name (``student.fixture("nb05_layer", "box")``); they are built
inside the sandbox and cross as handles. The trusted tests import the same definitions for
their references, so each is written once.
"""

import numpy as np


# ---------------------------------------------------------------- 05_equivariance
# Layers handed to the student's equivariance_error (as handles), and a correct translate that
# the hidden test of equivariance_error swaps in. NumPy only: they run in a "numpy" sandbox.
# grading/ex04/nb05_equivariance.py holds the same definitions for its trusted references.

def identity(Z):
    return Z.copy()


def circular_box(Z):
    padded = np.pad(Z, 1, mode="wrap")
    return sum(padded[a:a + Z.shape[0], b:b + Z.shape[1]] for a in range(3) for b in range(3))


def vignette(Z):
    rows, cols = np.indices(Z.shape)
    return Z / (1.0 + rows + 2 * cols)


def box(Z):
    return sum(np.roll(Z, (a, b), axis=(0, 1)) for a in (-1, 0, 1) for b in (-1, 0, 1))


def ramp(Z):
    return Z * (1.0 + np.arange(Z.shape[0])[:, None] + 3.0 * np.arange(Z.shape[1])[None, :])


def flip(Z):
    return Z[::-1, :].copy()


def affine(Z):
    return 2 * Z + 1


def relu(Z):
    return np.maximum(Z, 0)


_NB05_LAYERS = {
    "identity": identity, "circular_box": circular_box, "vignette": vignette,
    "box": box, "ramp": ramp, "flip": flip, "affine": affine, "relu": relu,
    "stride_2": lambda Z: Z[::2, ::2], "crop": lambda Z: Z[1:-1, 1:-1], "transpose": lambda Z: Z.T.copy(),
}


def nb05_layer(name):
    """One of notebook 05's test layers, by name (it crosses as a handle)."""
    return _NB05_LAYERS[name]
