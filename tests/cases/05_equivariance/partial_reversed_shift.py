# The shift runs the wrong way: result[i, j] = X[i + x, j + y] (up and left for positive shifts).
# equivariance_error is right and keeps its points.
# scores: {"test_translate": 0, "test_equivariance_error": 2}

# %% translate
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

# %% equivariance_error
def equivariance_error(layer, X, x, y, mode="circular"):
    X = np.asarray(X)
    out = np.asarray(layer(X))
    if out.shape != X.shape:
        raise ValueError("layer must keep the shape")
    return np.abs(np.asarray(layer(translate(X, x, y, mode))) - translate(out, x, y, mode))
