# Unusual but correct: layer_shapes with a table of functions; the network as two nn.Sequential
# containers of modules; evaluate under torch.inference_mode; train with an nn.CrossEntropyLoss
# module, OneCycleLR given epochs and steps_per_epoch, an explicit iterator and a summed loss.
# scores: {"test_receptive_field": 3, "test_input_region": 2}

# %% receptive_field
def receptive_field(layers):
    table = [tuple(layer) + (1,) * (4 - len(layer)) if len(layer) in (3, 4) else None for layer in layers]
    if any(t is None for t in table):
        raise ValueError("a layer has 3 or 4 entries")
    table = np.array(table, dtype=np.int64).reshape(-1, 4)
    k, s, p, d = table.T
    if np.any(k < 1) or np.any(s < 1) or np.any(d < 1) or np.any(p < 0):
        raise ValueError("kernel, stride, dilation >= 1 and padding >= 0")
    r, P = np.int64(1), np.int64(0)
    for k_, s_, p_, d_ in table[::-1]:
        r = s_ * r + (d_ * (k_ - 1) + 1 - s_)
        P = s_ * P + p_
    return r, np.prod(s, dtype=np.int64), P

# %% input_region
import functools
def input_region(layers, i, j, image_shape=None):
    def back(span, layer):
        k, s, p, d = (tuple(layer) + (1,))[:4]
        return span[0] * s - p, span[1] * s - p + d * (k - 1) + 1 - s
    rows = functools.reduce(back, list(layers)[::-1], (int(i), int(i) + 1))
    cols = functools.reduce(back, list(layers)[::-1], (int(j), int(j) + 1))
    if image_shape is not None:
        rows = tuple(np.clip(rows, 0, image_shape[0]))
        cols = tuple(np.clip(cols, 0, image_shape[1]))
    return rows[0], rows[1], cols[0], cols[1]
