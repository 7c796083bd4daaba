# A syntax error in train: train does not exist, so neither its test nor the accuracy test can pass.
# scores: {"test_output_size": 1, "test_corr2d_valid": 0, "test_corr2d_stride_padding": 0, "test_conv2d": 0}

# %% output_size
def output_size(n, k, stride=1, padding=0):
    if stride < 1 or padding < 0 or k > n + 2 * padding:
        raise ValueError("kernel does not fit, or bad stride/padding")
    return (n + 2 * padding - k) // stride + 1

# %% corr2d
def corr2d(X, K, stride=1, padding=0)
    return X
