# Valid mode right, stride and padding ignored; conv2d flips one axis only.
# scores: {"test_output_size": 0, "test_corr2d_valid": 3, "test_corr2d_stride_padding": 0, "test_conv2d": 0}

# %% corr2d
def corr2d(X, K, stride=1, padding=0):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    kh, kw = K.shape
    Y = np.zeros((X.shape[0] - kh + 1, X.shape[1] - kw + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + kh, j:j + kw] * K).sum()
    return Y

# %% conv2d
def conv2d(X, K):
    return corr2d(X, np.asarray(K)[::-1])
