# Integer arithmetic kept from the input: uint8 differences wrap around (only the hidden
# tests use an 8-bit image), and an integer output array truncates fractional weights.
# scores: {"test_sobel_magnitude": 0, "test_sobel_angle": 2, "test_correlate_separable": 0, "test_separable_factors": 2}

# %% sobel_gradient
def sobel_gradient(image):
    image = np.asarray(image)
    if image.ndim != 2 or min(image.shape) < 3:
        raise ValueError("need a 2-D image of at least 3x3")
    d_col = image[:, 2:] - image[:, :-2]
    d_row = image[2:, :] - image[:-2, :]
    gx = d_col[:-2] + 2 * d_col[1:-1] + d_col[2:]
    gy = d_row[:, :-2] + 2 * d_row[:, 1:-1] + d_row[:, 2:]
    return np.hypot(gx, gy), np.arctan2(gy, gx)

# %% correlate_separable
def correlate_separable(image, column, row):
    image = np.asarray(image)
    H, W = image.shape
    kh, kw = len(column), len(row)
    Z = np.zeros_like(image)[:H - kh + 1]
    for m in range(kh):
        Z += column[m] * image[m:m + H - kh + 1]
    Y = np.zeros_like(Z)[:, :W - kw + 1]
    for n in range(kw):
        Y += row[n] * Z[:, n:n + W - kw + 1]
    return Y

# %% separable_factors
def separable_factors(K, tol=1e-10):
    K = np.asarray(K, dtype=float)
    if K.ndim != 2:
        raise ValueError("separable_factors needs a 2-D kernel")
    U, s, Vt = np.linalg.svd(K)
    if s[0] == 0:
        return np.zeros(K.shape[0]), np.zeros(K.shape[1])
    if s.size > 1 and s[1] > tol * s[0]:
        return None
    return U[:, 0] * np.sqrt(s[0]), Vt[0] * np.sqrt(s[0])
