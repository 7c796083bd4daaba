# The sheet's kernels used for correlation: minus the gradient. The magnitude does not
# care, the angle is off by 180 degrees. separable_factors forgets to check the rank.
# scores: {"test_sobel_magnitude": 1, "test_sobel_angle": 0, "test_correlate_separable": 2, "test_separable_factors": 0}

# %% sobel_gradient
def sobel_gradient(image):
    image = np.asarray(image, dtype=float)
    if image.ndim != 2 or min(image.shape) < 3:
        raise ValueError("need a 2-D image of at least 3x3")
    H, W = image.shape
    gx = np.zeros((H - 2, W - 2))
    gy = np.zeros((H - 2, W - 2))
    for m, n in np.ndindex(3, 3):
        window = image[m:m + H - 2, n:n + W - 2]
        gx += [[1, 0, -1], [2, 0, -2], [1, 0, -1]][m][n] * window
        gy += [[1, 2, 1], [0, 0, 0], [-1, -2, -1]][m][n] * window
    return np.sqrt(gx ** 2 + gy ** 2), np.arctan2(gy, gx)

# %% correlate_separable
def correlate_separable(image, column, row):
    image = np.asarray(image, dtype=float)
    H, W = image.shape
    kh, kw = len(column), len(row)
    Z = sum(column[m] * image[m:m + H - kh + 1] for m in range(kh))
    return sum(row[n] * Z[:, n:n + W - kw + 1] for n in range(kw))

# %% separable_factors
def separable_factors(K, tol=1e-10):
    K = np.asarray(K, dtype=float)
    if K.ndim != 2:
        raise ValueError("K must be 2-D")
    U, s, Vt = np.linalg.svd(K)
    return U[:, 0] * np.sqrt(s[0]), Vt[0] * np.sqrt(s[0])
