# dK right but dX correlates the padded dY with K instead of K turned by 180° (the Sobel
# kernel of the visible check is antisymmetric, so the sign is off); the forward pass is
# right; the backward pass of the layer ignores the stride inside the loop.
# scores: {"test_corr2d_backward": 0, "test_conv_forward": 2, "test_conv_backward": 0}

# %% corr2d_backward
def corr2d_backward(X, K, dY):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    dY = np.asarray(dY, dtype=float)
    kh, kw = K.shape
    rows, cols = dY.shape
    dK = np.zeros((kh, kw))
    for u in range(kh):
        for v in range(kw):
            dK[u, v] = np.sum(X[u:u + rows, v:v + cols] * dY)
    padded = np.pad(dY, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    dX = np.zeros(X.shape)
    for a in range(X.shape[0]):
        for b in range(X.shape[1]):
            dX[a, b] = np.sum(padded[a:a + kh, b:b + kw] * K)
    return dX, dK

# %% conv_forward
def conv_forward(X, W, b, stride=1, padding=0):
    X = np.asarray(X, dtype=float)
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    N, C, H, W_in = X.shape
    n_filters, _, kh, kw = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    H_out = (H + 2 * padding - kh) // stride + 1
    W_out = (W_in + 2 * padding - kw) // stride + 1
    out = np.zeros((N, n_filters, H_out, W_out))
    for n in range(N):
        for f in range(n_filters):
            for i in range(H_out):
                for j in range(W_out):
                    window = Xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[n, f, i, j] = np.sum(window * W[f]) + b[f]
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
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            g = dout[:, :, i, j]
            dW += np.tensordot(g, Xp[:, :, i:i + kh, j:j + kw], axes=([0], [0]))
            dXp[:, :, i:i + kh, j:j + kw] += np.tensordot(g, W, axes=([1], [0]))
    return dXp[:, :, padding:padding + H, padding:padding + W_in], dW, dout.sum(axis=(0, 2, 3))
