# Right numbers by the backward recurrences, but the list is reversed in place and left so.
# The visible checks read the list back after the call (network B is not a palindrome) and say so.
# scores: {"test_receptive_field": 0, "test_input_region": 2}

# %% receptive_field
def receptive_field(layers):
    layers.reverse()
    size, stride, padding = 1, 1, 0
    for layer in layers:
        if len(layer) not in (3, 4):
            raise ValueError("a layer is (kernel, stride, padding[, dilation])")
        k, s, p = layer[:3]
        d = layer[3] if len(layer) == 4 else 1
        if k < 1 or s < 1 or d < 1 or p < 0:
            raise ValueError("bad layer")
        size = s * size + (d * (k - 1) + 1 - s)
        padding = s * padding + p
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
