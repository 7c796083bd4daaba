# Right numbers, measured: receptive_field builds the network in PyTorch (weights 1) and finds
# the pixels with a nonzero gradient. The visible checks pass; the hidden tests give no points.
# scores: {"test_receptive_field": 0, "test_input_region": 2}

# %% receptive_field
def receptive_field(layers):
    for layer in layers:
        if len(layer) not in (3, 4) or min(layer[0], layer[1], *layer[3:]) < 1 or layer[2] < 0:
            raise ValueError("bad layer")
    x = torch.ones(1, 1, 20000, dtype=torch.float64, requires_grad=True)
    h = x
    for k, s, p, *d in layers:
        h = torch.nn.functional.conv1d(h, torch.ones(1, 1, int(k), dtype=torch.float64), stride=int(s),
                                       padding=int(p), dilation=int(d[0]) if d else 1)
    u = h.shape[-1] // 2
    extents = []
    for unit in (u, u + 1):
        grad, = torch.autograd.grad(h[0, 0, unit], x, retain_graph=True)
        nonzero = np.flatnonzero(grad[0, 0].numpy())
        extents.append((int(nonzero[0]), int(nonzero[-1])))
    stride = extents[1][0] - extents[0][0]
    return extents[0][1] - extents[0][0] + 1, stride, u * stride - extents[0][0]

# %% input_region
def input_region(layers, i, j, image_shape=None):
    def span(u):
        a, b = u, u
        for layer in reversed(layers):
            k, s, p = layer[0], layer[1], layer[2]
            d = layer[3] if len(layer) == 4 else 1
            a, b = a * s - p, b * s - p + d * (k - 1)
        return int(a), int(b) + 1
    top, bottom = span(i)
    left, right = span(j)
    if image_shape is not None:
        top, bottom = max(top, 0), min(bottom, image_shape[0])
        left, right = max(left, 0), min(right, image_shape[1])
    return top, bottom, left, right
