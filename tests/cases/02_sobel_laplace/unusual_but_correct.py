# Correct, just unusual: the backward recurrences of the article on a reversed copy with
# NumPy integers (returned as such), and input_region by functools.reduce over the layers
# with np.clip for the clipping. Full marks.
# scores: {"test_sobel_magnitude": 1, "test_sobel_angle": 2, "test_correlate_separable": 2, "test_separable_factors": 2}

# %% sobel_gradient
from numpy.lib.stride_tricks import sliding_window_view
def sobel_gradient(image):
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 2 or image.shape[0] < 3 or image.shape[1] < 3:
        raise ValueError(f"image of shape {image.shape} is too small or not 2-D")
    windows = sliding_window_view(image, (3, 3))
    kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
    gx = np.einsum("ijkl,kl->ij", windows, kx)
    gy = np.einsum("ijkl,kl->ij", windows, kx.T)
    return np.sqrt(gx * gx + gy * gy), np.arctan2(gy, gx)

# %% correlate_separable
def correlate_separable(image, column, row):
    image = np.asarray(image, dtype=float)
    Z = np.array([np.correlate(col, np.asarray(column, dtype=float), mode="valid") for col in image.T]).T
    return np.array([np.correlate(r, np.asarray(row, dtype=float), mode="valid") for r in Z])

# %% separable_factors
def separable_factors(K, tol=1e-10):
    K = np.asarray(K, dtype=float)
    if K.ndim != 2:
        raise ValueError("K must be 2-D")
    s = np.linalg.svd(K, compute_uv=False)
    if s[0] > 0 and s.size > 1 and s[1] > tol * s[0]:
        return None
    row = K[np.argmax((K ** 2).sum(axis=1))]
    norm = row @ row
    column = K @ row / norm if norm > 0 else np.zeros(K.shape[0])
    return column, row
