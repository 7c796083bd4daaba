# Dilation ignored: a 4-tuple is read as its first three entries. The visible checks with
# dilated layers catch it. input_region is computed on its own, correctly.
# scores: {"test_receptive_field": 0, "test_input_region": 2}

# %% receptive_field
def receptive_field(layers):
    size, stride, padding = 1, 1, 0
    for layer in layers:
        if len(layer) not in (3, 4):
            raise ValueError("a layer is (kernel, stride, padding[, dilation])")
        k, s, p = layer[:3]
        if k < 1 or s < 1 or p < 0 or (len(layer) == 4 and layer[3] < 1):
            raise ValueError("bad layer")
        size += (k - 1) * stride
        padding += p * stride
        stride *= s
    return int(size), int(stride), int(padding)

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
