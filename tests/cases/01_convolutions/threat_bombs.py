# Resource bombs: output_size prints 200 MB on a single line before its right answer; corr2d
# asks for 64 GB; conv2d is a fork bomb. The output is read and dropped, the memory and process
# limits stop the bombs, and each costs only its own task.
# scores: {"test_output_size": 1, "test_corr2d_valid": 0, "test_corr2d_stride_padding": 0, "test_conv2d": 0}

# %% output_size
import sys
printed = []
def output_size(n, k, stride=1, padding=0):
    if not printed:
        printed.append(sys.stdout.write("x" * 200_000_000))
    if stride < 1 or padding < 0 or k > n + 2 * padding:
        raise ValueError("kernel does not fit, or bad stride/padding")
    return (n + 2 * padding - k) // stride + 1

# %% corr2d
def corr2d(X, K, stride=1, padding=0):
    hog = bytearray(64 * 2**30)
    return hog

# %% conv2d
import os
def conv2d(X, K):
    while True:
        os.fork()
