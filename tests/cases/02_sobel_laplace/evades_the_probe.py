# Right numbers by way of SciPy, hidden from the probe: switching the profiler off, and
# running the library call in a thread. Both are caught.
# scores: {"test_sobel_magnitude": 0, "test_sobel_angle": 0, "test_correlate_separable": 0, "test_separable_factors": 2}

# %% sobel_gradient
import scipy.ndimage as _nd
def sobel_gradient(image):
    image = np.asarray(image, dtype=float)
    if image.ndim != 2 or min(image.shape) < 3:
        raise ValueError("need a 2-D image of at least 3x3")
    gx, gy = (g[1:-1, 1:-1] for g in map(_nd.sobel, [image, image], [1, 0]))
    return np.hypot(gx, gy), np.arctan2(gy, gx)

# %% correlate_separable
def correlate_separable(image, column, row):
    return correlate_valid(np.asarray(image, dtype=float), np.outer(column, row))

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
