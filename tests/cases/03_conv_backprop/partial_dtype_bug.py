# The classic dtype bug: np.zeros_like(X) on an integer image truncates fractions. The
# visible check with a fractional kernel catches it; stride/padding and conv2d are only
# checked on data where the bug cannot show, so they keep their points.
# scores: {"test_corr2d_backward": 0, "test_conv_forward": 0, "test_conv_backward": 3}

# %% corr2d_backward
def corr2d_backward(X, K, dY):
    X, K, dY = np.asarray(X), np.asarray(K), np.asarray(dY)
    kh, kw = K.shape
    rows, cols = dY.shape
    dK = np.zeros_like(K)
    for u in range(kh):
        for v in range(kw):
            dK[u, v] = np.sum(X[u:u + rows, v:v + cols] * dY)
    padded = np.pad(dY, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    dX = np.zeros_like(X)
    for a in range(X.shape[0]):
        for b in range(X.shape[1]):
            dX[a, b] = np.sum(padded[a:a + kh, b:b + kw] * K[::-1, ::-1])
    return dX, dK

# %% conv_forward
def conv_forward(X, W, b, stride=1, padding=0):
    X, W, b = np.asarray(X), np.asarray(W), np.asarray(b)
    N, C, H, W_in = X.shape
    n_filters, _, kh, kw = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    H_out = (H + 2 * padding - kh) // stride + 1
    W_out = (W_in + 2 * padding - kw) // stride + 1
    out = np.zeros((N, n_filters, H_out, W_out), dtype=X.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = Xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(window, W, axes=([1, 2, 3], [1, 2, 3])) + b
    return out

# %% conv_backward
def conv_backward(dout, X, W, b, stride=1, padding=0):
    dout = np.asarray(dout, dtype=float)
    X = np.asarray(X, dtype=float)
    W = np.asarray(W, dtype=float)
    N, C, H, W_in = X.shape
    n_filters, _, kh, kw = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dXp = np.zeros(Xp.shape)
    dW = np.zeros(W.shape)
    db = np.zeros(n_filters)
    for n in range(N):
        for f in range(n_filters):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows = slice(i * stride, i * stride + kh)
                    cols = slice(j * stride, j * stride + kw)
                    dW[f] += dout[n, f, i, j] * Xp[n, :, rows, cols]
                    dXp[n, :, rows, cols] += dout[n, f, i, j] * W[f]
                    db[f] += dout[n, f, i, j]
    return dXp[:, :, padding:padding + H, padding:padding + W_in], dW, db
