# Right single-channel gradients; the forward pass forgets the bias; the backward pass
# of the layer forgets to cut the padding off dX (right whenever padding is 0).
# scores: {"test_corr2d_backward": 3, "test_conv_forward": 0, "test_conv_backward": 0}

# %% corr2d_backward
def corr2d_backward(X, K, dY):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    dY = np.asarray(dY, dtype=float)
    kh, kw = K.shape
    dX = np.zeros(X.shape)
    dK = np.zeros(K.shape)
    for i in range(dY.shape[0]):
        for j in range(dY.shape[1]):
            dK += dY[i, j] * X[i:i + kh, j:j + kw]
            dX[i:i + kh, j:j + kw] += dY[i, j] * K
    return dX, dK

# %% conv_forward
def conv_forward(X, W, b, stride=1, padding=0):
    X = np.asarray(X, dtype=float)
    W = np.asarray(W, dtype=float)
    N, C, H, W_in = X.shape
    n_filters, _, kh, kw = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    H_out = (H + 2 * padding - kh) // stride + 1
    W_out = (W_in + 2 * padding - kw) // stride + 1
    out = np.zeros((N, n_filters, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = Xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(window, W, axes=([1, 2, 3], [1, 2, 3]))
    return out

# %% conv_backward
def conv_backward(dout, X, W, b, stride=1, padding=0):
    dout = np.asarray(dout, dtype=float)
    X = np.asarray(X, dtype=float)
    W = np.asarray(W, dtype=float)
    n_filters, _, kh, kw = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dXp = np.zeros(Xp.shape)
    dW = np.zeros(W.shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows = slice(i * stride, i * stride + kh)
            cols = slice(j * stride, j * stride + kw)
            dW += np.tensordot(dout[:, :, i, j], Xp[:, :, rows, cols], axes=([0], [0]))
            dXp[:, :, rows, cols] += np.tensordot(dout[:, :, i, j], W, axes=([1], [0]))
    return dXp, dW, dout.sum(axis=(0, 2, 3))
