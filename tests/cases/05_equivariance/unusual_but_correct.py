# Correct, just unusual: sliding windows and einsum, float32 results, np.rot90 for the
# turn, math.floor in output_size. Full marks.
# scores: {"test_translate": 3, "test_equivariance_error": 2}

# %% translate
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

# %% equivariance_error
def equivariance_error(layer, X, x, y, mode="circular"):
    results = [np.asarray(layer(Z), dtype=float) for Z in (translate(X, x, y, mode), X)]
    if results[1].shape != np.shape(X):
        raise ValueError("shape changed")
    return abs(results[0] - translate(results[1], x, y, mode))
