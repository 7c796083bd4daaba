# The classic sign error: the region starts at i*S + P instead of i*S - P.
# scores: {"test_receptive_field": 3, "test_input_region": 0}

# %% receptive_field
def receptive_field(layers):
    size, stride, padding = 1, 1, 0
    for layer in layers:
        if len(layer) not in (3, 4):
            raise ValueError("a layer is (kernel, stride, padding[, dilation])")
        k, s, p = layer[0], layer[1], layer[2]
        d = layer[3] if len(layer) == 4 else 1
        if k < 1 or s < 1 or d < 1 or p < 0:
            raise ValueError("bad layer")
        size += d * (k - 1) * stride
        padding += p * stride
        stride *= s
    return int(size), int(stride), int(padding)

# %% input_region
def input_region(layers, i, j, image_shape=None):
    size, stride, padding = receptive_field(layers)
    top, left = i * stride + padding, j * stride + padding
    bottom, right = top + size, left + size
    if image_shape is not None:
        top, bottom = max(top, 0), min(bottom, image_shape[0])
        left, right = max(left, 0), min(right, image_shape[1])
    return top, bottom, left, right
