# The first solution cell (output_size) calls os._exit(0) at its top level, before two honest
# cells (which do not use output_size): the set-up runs again without that cell, corr2d and conv2d
# keep their points.
# faulty: {"output_size": "crashed"}
# scores: {"test_output_size": 0, "test_corr2d_valid": 3, "test_corr2d_stride_padding": 2, "test_conv2d": 2}

# %% output_size
def output_size(n, k, stride=1, padding=0):
    return (n + 2 * padding - k) // stride + 1

import os
os._exit(0)

# %% corr2d
def corr2d(X, K, stride=1, padding=0):
    X = np.pad(np.asarray(X, dtype=float), padding)
    K = np.asarray(K, dtype=float)
    if stride < 1 or padding < 0 or K.shape[0] > X.shape[0] or K.shape[1] > X.shape[1]:
        raise ValueError("kernel does not fit, or bad stride/padding")
    rows, cols = (X.shape[0] - K.shape[0]) // stride + 1, (X.shape[1] - K.shape[1]) // stride + 1
    Y = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            Y[i, j] = np.sum(X[i * stride:i * stride + K.shape[0], j * stride:j * stride + K.shape[1]] * K)
    return Y

# %% conv2d
def conv2d(X, K):
    return corr2d(X, np.flip(np.asarray(K, dtype=float)))

