# Correct, just unusual: float32 throughout, sliding windows and einsum for the single
# channel, im2col with a matrix product for the forward pass, col2im with np.add.at for
# the backward pass. Full marks.
# scores: {"test_output_size": 1, "test_corr2d_valid": 3, "test_corr2d_stride_padding": 2, "test_conv2d": 2}

# %% output_size
import math
def output_size(n, k, stride=1, padding=0):
    if stride < 1 or padding < 0 or k > n + 2 * padding:
        raise ValueError(f"no window of {k} fits")
    return math.floor((n + 2 * padding - k) / stride) + 1

# %% corr2d
from numpy.lib.stride_tricks import sliding_window_view
def corr2d(X, K, stride=1, padding=0):
    X = np.pad(np.asarray(X, dtype=np.float32), padding)
    K = np.asarray(K, dtype=np.float32)
    windows = sliding_window_view(X, K.shape)[::stride, ::stride]
    return np.einsum("ijkl,kl->ij", windows, K)

# %% conv2d
def conv2d(X, K):
    return corr2d(X, np.rot90(K, 2))
