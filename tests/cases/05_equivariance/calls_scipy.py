# Right numbers from SciPy: no points for the functions that delegate.
# scores: {"test_translate": 0, "test_equivariance_error": 0}

# %% translate
import scipy.ndimage
def translate(X, x, y, mode="circular"):
    if mode not in ("circular", "zero"):
        raise ValueError(mode)
    return scipy.ndimage.shift(np.asarray(X), (x, y), order=0,
                               mode="grid-wrap" if mode == "circular" else "constant")

# %% equivariance_error
def equivariance_error(layer, X, x, y, mode="circular"):
    X = np.asarray(X)
    out = np.asarray(layer(X))
    if out.shape != X.shape:
        raise ValueError("layer must keep the shape")
    return np.abs(np.asarray(layer(translate(X, x, y, mode))) - translate(out, x, y, mode))
