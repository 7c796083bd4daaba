# Code that kills its own process: os._exit in corr2d, a segmentation fault in conv2d. Each
# costs the tasks that call it; output_size keeps its point.
# scores: {"test_output_size": 1, "test_corr2d_valid": 0, "test_corr2d_stride_padding": 0, "test_conv2d": 0}

# %% output_size
def output_size(n, k, stride=1, padding=0):
    if stride < 1 or padding < 0 or k > n + 2 * padding:
        raise ValueError("kernel does not fit, or bad stride/padding")
    return (n + 2 * padding - k) // stride + 1

# %% corr2d
import os
def corr2d(X, K, stride=1, padding=0):
    os._exit(0)

# %% conv2d
import ctypes
def conv2d(X, K):
    return ctypes.string_at(0)
