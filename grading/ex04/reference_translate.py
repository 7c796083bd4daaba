"""A correct translate of notebook 05 (a reference: never in the sandbox of Task 1's test).

The hidden test of equivariance_error puts it under the student's name ``translate``, so that a
wrong translate costs Task 1's points only.
"""

import numpy as np


def nb05_translate(X, x, y, mode="circular"):
    """A correct translate: result[i, j] = X[i - x, j - y], circular or zero-filled."""
    X = np.asarray(X)
    if mode == "circular":
        return np.roll(X, (int(x), int(y)), axis=(0, 1))
    if mode != "zero":
        raise ValueError("mode")
    out = np.zeros(X.shape, dtype=X.dtype)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if 0 <= i - x < X.shape[0] and 0 <= j - y < X.shape[1]:
                out[i, j] = X[i - x, j - y]
    return out
