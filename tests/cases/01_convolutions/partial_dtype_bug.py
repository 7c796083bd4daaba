# The classic dtype bug: arrays made with np.zeros_like(X) or dtype=X.dtype are integer
# arrays for an integer image, and assigning floats to them drops the fractions. The
# visible checks with integer inputs and fractional gradients or bias catch it.
# scores: {"test_output_size": 1, "test_corr2d_valid": 0, "test_corr2d_stride_padding": 2, "test_conv2d": 2}

# %% output_size
def output_size(n, k, stride=1, padding=0):
    if stride < 1 or padding < 0 or k > n + 2 * padding:
        raise ValueError("kernel does not fit, or bad stride/padding")
    return (n + 2 * padding - k) // stride + 1

# %% corr2d
def corr2d(X, K, stride=1, padding=0):
    X = np.pad(np.asarray(X), padding)
    K = np.asarray(K)
    kh, kw = K.shape
    rows = output_size(X.shape[0], kh, stride)
    cols = output_size(X.shape[1], kw, stride)
    Y = np.zeros_like(X)[:rows, :cols]
    for i in range(rows):
        for j in range(cols):
            Y[i, j] = np.sum(X[i * stride:i * stride + kh, j * stride:j * stride + kw] * K)
    return Y

# %% conv2d
def conv2d(X, K):
    return corr2d(X, np.flip(K))
