# Unusual but correct: translation as a product of permutation (or partial permutation)
# matrices, P_rows @ X @ P_cols.T, and an error map built without calling layer on a copy.
# scores: {"test_corr2d_backward": 3, "test_conv_forward": 2, "test_conv_backward": 3}

# %% corr2d_backward
from numpy.lib.stride_tricks import sliding_window_view
def corr2d_backward(X, K, dY):
    X, K, dY = (np.asarray(A, dtype=np.float32) for A in (X, K, dY))
    kh, kw = K.shape
    dK = np.einsum("ijuv,ij->uv", sliding_window_view(X, K.shape), dY)
    padded = np.pad(dY, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    dX = np.einsum("abuv,uv->ab", sliding_window_view(padded, K.shape), np.rot90(K, 2))
    return dX, dK

# %% conv_forward
from numpy.lib.stride_tricks import sliding_window_view
def conv_forward(X, W, b, stride=1, padding=0):
    X = np.pad(np.asarray(X, dtype=np.float32), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    W = np.asarray(W, dtype=np.float32)
    n_filters, C, kh, kw = W.shape
    patches = sliding_window_view(X, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    N, _, H_out, W_out = patches.shape[:4]
    columns = patches.transpose(0, 2, 3, 1, 4, 5).reshape(N * H_out * W_out, C * kh * kw)
    out = columns @ W.reshape(n_filters, -1).T + np.asarray(b, dtype=np.float32)
    return out.reshape(N, H_out, W_out, n_filters).transpose(0, 3, 1, 2)

# %% conv_backward
from numpy.lib.stride_tricks import sliding_window_view
def conv_backward(dout, X, W, b, stride=1, padding=0):
    dout, X, W = (np.asarray(A, dtype=np.float32) for A in (dout, X, W))
    N, C, H, W_in = X.shape
    n_filters, _, kh, kw = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    H_out, W_out = dout.shape[2:]
    patches = sliding_window_view(Xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    dW = np.einsum("nfhw,nchwuv->fcuv", dout, patches)
    db = dout.sum(axis=(0, 2, 3))
    dpatches = np.einsum("nfhw,fcuv->nchwuv", dout, W)
    rows = (np.arange(H_out) * stride)[:, None] + np.arange(kh)
    cols = (np.arange(W_out) * stride)[:, None] + np.arange(kw)
    dXp = np.zeros_like(Xp)
    np.add.at(dXp, (slice(None), slice(None), rows[:, None, :, None], cols[None, :, None, :]), dpatches)
    return dXp[:, :, padding:padding + H, padding:padding + W_in], dW, db
