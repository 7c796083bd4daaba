# A solution cell that never finishes running (a top-level endless loop): no function of the
# notebook gets defined, every test scores 0, and the whole notebook costs one start-up time
# limit, not one per test.
# scores: {"test_output_size": 0, "test_corr2d_valid": 0, "test_corr2d_stride_padding": 0, "test_conv2d": 0}

# %% output_size
def output_size(n, k, stride=1, padding=0):
    return (n + 2 * padding - k) // stride + 1

# %% corr2d
while True:
    pass
