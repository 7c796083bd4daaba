# A solution cell that never finishes running (a top-level endless loop): it is set aside after
# its own time, once for the whole notebook, and corr2d's tests name it. output_size (before it)
# is graded and fails on its own merits (no ValueError); conv2d is still the stub.
# faulty: {"corr2d": "timeout"}
# scores: {"test_output_size": 0, "test_corr2d_valid": 0, "test_corr2d_stride_padding": 0, "test_conv2d": 0}

# %% output_size
def output_size(n, k, stride=1, padding=0):
    return (n + 2 * padding - k) // stride + 1

# %% corr2d
while True:
    pass
