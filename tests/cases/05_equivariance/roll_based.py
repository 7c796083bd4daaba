# np.roll and np.pad: a short, correct answer.
# scores: {"test_translate": 3, "test_equivariance_error": 2}

# %% translate
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

# %% equivariance_error
def equivariance_error(layer, X, x, y, mode="circular"):
    X = np.asarray(X)
    out = np.asarray(layer(X))
    if out.shape != X.shape:
        raise ValueError("layer must keep the shape")
    return np.abs(np.asarray(layer(translate(X, x, y, mode))) - translate(out, x, y, mode))
