"""Trusted tests of notebook 04_receptive_field: receptive_field and input_region.

References: hand-worked networks, figures published by Araujo et al. (2019), the span of a unit
followed back layer by layer (NumPy-free brute force), and PyTorch's gradients of networks with
all weights 1, computed here on the trusted side.

The original tests also checked that the functions do not modify their ``layers`` argument.
Across the channel the student's code would get a copy of the list, so the list is kept in the
sandbox instead (``student.keep``), passed as a handle, and read back after the call
(``student.value``); every reference is computed from trusted data.
"""

import numpy as np
import torch
import torch.nn.functional as F

from grading.core.testing import Failed, expect_raises, expect_true, hidden, test, visible



# ------------------------------------------------------------------ references (trusted side)

def span(layers, u):
    """Both ends (inclusive) of the input span of unit u of the last layer, one layer at a time."""
    a, b = u, u
    for layer in list(layers)[::-1]:
        k, s, p = (int(v) for v in layer[:3])
        d = int(layer[3]) if len(layer) == 4 else 1
        a, b = a * s - p, b * s - p + d * (k - 1)
    return a, b


def reference_receptive_field(layers):
    """(size, stride, padding) from the spans of units 0 and 1."""
    a0, b0 = span(layers, 0)
    a1, _ = span(layers, 1)
    return b0 - a0 + 1, a1 - a0, -a0


def torch_receptive_field(layers):
    """(size, stride, padding) measured by PyTorch on a 1-D network with all weights 1."""
    n = 8 * int(np.prod([(d[0] if d else 1) * k + s + p for k, s, p, *d in layers]))   # long enough
    x = torch.ones(1, 1, n, dtype=torch.float64, requires_grad=True)
    h = x
    for k, s, p, *d in layers:
        h = F.conv1d(h, torch.ones(1, 1, k, dtype=torch.float64), stride=s, padding=p, dilation=d[0] if d else 1)
    u = h.shape[-1] // 2
    extents = []
    for unit in (u, u + 1):
        grad, = torch.autograd.grad(h[0, 0, unit], x, retain_graph=True)
        nonzero = np.flatnonzero(grad[0, 0].numpy())
        assert 0 < nonzero[0] and nonzero[-1] < n - 1, "the reference's input is too short"
        extents.append((nonzero[0], nonzero[-1]))
    (first, last), (next_first, _) = extents
    return int(last - first + 1), int(next_first - first), int(u * (next_first - first) - first)


def torch_region(layers, shape, i, j):
    """Half-open bounding box of the pixels with a nonzero gradient of unit (i, j), 2-D, weights 1."""
    x = torch.ones(1, 1, *shape, dtype=torch.float64, requires_grad=True)
    h = x
    for k, s, p, *d in layers:
        h = F.conv2d(h, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s, padding=p, dilation=d[0] if d else 1)
    grad, = torch.autograd.grad(h[0, 0, i, j], x)
    rows, cols = np.nonzero(grad[0, 0].numpy())
    return int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1


def _is_integer(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_triple(got, expected, call):
    """The visible check of receptive_field's result."""
    names = ("size", "stride", "padding")
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise Failed(f"{call} must return the tuple (size, stride, padding), not {type(got).__name__} {str(got)[:60]}")
    for name, g, e in zip(names, got, expected):
        if not _is_integer(g):
            raise Failed(f"{call}: {name} must be an integer, got {type(g).__name__} {g!r}")
        if g != e:
            raise Failed(f"{call}: {name} is {g}, expected {e} (the whole result should be {tuple(expected)})")


def check_region(got, expected, call):
    """The visible check of input_region's result."""
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        raise Failed(f"{call} must return the tuple (top, bottom, left, right), "
                     f"not {type(got).__name__} {str(got)[:60]}")
    for name, g in zip(("top", "bottom", "left", "right"), got):
        if not _is_integer(g):
            raise Failed(f"{call}: {name} must be an integer, got {type(g).__name__} {g!r}")
    if tuple(int(g) for g in got) != tuple(expected):
        hint = ""
        if got[1] - got[0] == expected[1] - expected[0] - 1:
            hint = " The region is one pixel short: bottom and right are one past the last row and column (half-open)."
        raise Failed(f"{call} is {tuple(int(g) for g in got)}, expected {tuple(expected)}.{hint}")


def unchanged(kept, original):
    """True when a kept ``layers`` list, read back from the sandbox, still holds the original layers."""
    try:
        return len(kept) == len(original) and [tuple(layer) for layer in kept] == [tuple(layer) for layer in original]
    except TypeError:  # no longer a list of layers at all
        return False


def hidden_check(got, expected, function, what, case):
    """The hidden tests' check of a returned tuple of integers."""
    if not isinstance(got, (tuple, list)) or len(got) != len(expected):
        raise Failed(f"{function} must return {what} ({case})")
    if not all(_is_integer(v) for v in got):
        raise Failed(f"{function} must return integers ({case}), got {got!r}")
    if tuple(int(v) for v in got) != tuple(expected):
        raise Failed(f"{function}({case}) is {tuple(int(v) for v in got)}, expected {tuple(expected)}")


# ------------------------------------------------------------------------------------ tests

@test("test_receptive_field", policy="numpy")
def receptive_field(student):
    """receptive_field: hand-worked networks, published figures, PyTorch's gradients, bad layers."""
    sheet = [(5, 1, 2)] * 10
    network_B = [(3, 2, 1), (3, 2, 1), (3, 1, 1)]
    alexnet_v2 = [(11, 4, 0), (3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 2, 0)]
    vgg_16 = ([(3, 1, 1)] * 2 + [(2, 2, 0)]) * 2 + ([(3, 1, 1)] * 3 + [(2, 2, 0)]) * 3
    # As in the original, the sheet's list is checked to be unchanged before the result is, and
    # network B's after: (layers, expected, call, (when, message) or None).
    watch_sheet = ("before", "receptive_field must not modify its argument")
    watch_B = ("after", "receptive_field must not modify its argument (here: network B)")
    for layers, expected, call, *watch in [
        (sheet, (41, 1, 20), "receptive_field(the sheet's 10 layers (5, 1, 2))", watch_sheet),
        ([], (1, 1, 0), "receptive_field([]) (no layers: every unit sees one pixel)"),
        (network_B, (15, 4, 7), "receptive_field(network B of section 2)", watch_B),
        ([(3, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)], (15, 1, 7),
         "receptive_field(network C of section 2, dilations 1, 2, 4)"),
        ([(5, 2, 1, 3)], (13, 2, 1), "receptive_field([(5, 2, 1, 3)]) (a dilated kernel spans 3·4 + 1)"),
        ([[3, 1, 1], [np.int64(2), np.int64(2), np.int64(0)]], (4, 2, 1),
         "receptive_field([[3, 1, 1], [2, 2, 0]]) (lists and NumPy integers)"),
        (alexnet_v2, (195, 32, 64), "receptive_field(AlexNet v2)"),
        (vgg_16, (212, 32, 90), "receptive_field(VGG-16)"),
    ]:
        with visible(call):
            if not watch:
                check_triple(student.receptive_field(layers), expected, call)
                continue
            (when, message), = watch
            kept = student.keep(layers)
            got = student.receptive_field(kept)
            if when == "before":
                expect_true(student.value(kept) == layers, message)
            check_triple(got, expected, call)
            if when == "after":
                expect_true(student.value(kept) == layers, message)
    for bad in ([(0, 1, 0)], [(3, 1, 1), (3, 0, 1)], [(3, 1, -1)], [(3, 1, 1, 0)], [(3, 1)], [(3, 1, 1, 1, 1)]):
        with visible(f"receptive_field({bad}) raises a ValueError"):
            expect_raises("ValueError", lambda: student.receptive_field(bad), f"receptive_field({bad})")
    check_rng = np.random.default_rng(440)
    for _ in range(8):
        layers = []
        for _ in range(int(check_rng.integers(1, 5))):
            k, s, d = (int(v) for v in check_rng.integers(1, 4, size=3))
            layer = (k, s, int(check_rng.integers(0, d * (k - 1) + 1)))
            layers.append(layer + (d,) if d > 1 else layer)
        call = f"receptive_field({layers}) (reference: PyTorch's gradients)"
        with visible(call):
            check_triple(student.receptive_field(layers), torch_receptive_field(layers), call)

    with hidden():
        def check(layers, expected, case):
            kept = student.keep(layers)
            got = student.receptive_field(kept)
            expect_true(unchanged(student.value(kept), layers), f"receptive_field modified its argument ({case})")
            hidden_check(got, expected, "receptive_field", "(size, stride, padding)", case)

        rng = np.random.default_rng(4401)
        # Random chains of convolutions and poolings, 3- and 4-tuples, tuples and lists, Python and NumPy integers.
        for _trial in range(40):
            layers = []
            for _ in range(int(rng.integers(0, 9))):
                k, s, d = int(rng.integers(1, 8)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
                p = int(rng.integers(0, 5))
                layer = [k, s, p] + ([d] if rng.random() < 0.5 else [])
                if rng.random() < 0.3:
                    layer = [np.int64(v) for v in layer]
                layers.append(tuple(layer) if rng.random() < 0.7 else list(layer))
            check(layers, reference_receptive_field(layers), str(layers))
        # PyTorch's gradients on 1-D chains of convolutions (weights 1) and average poolings.
        for _trial in range(12):
            chain = []
            for _ in range(int(rng.integers(1, 6))):
                pool = rng.random() < 0.35
                k, s = int(rng.integers(1, 6)), int(rng.integers(1, 4))
                d = 1 if pool else int(rng.integers(1, 4))
                p = int(rng.integers(0, k // 2 + 1)) if pool else int(rng.integers(0, d * (k - 1) + 1))
                chain.append(((k, s, p) if d == 1 else (k, s, p, d), pool))
            layers = [layer for layer, _ in chain]
            r, S, P = reference_receptive_field(layers)
            n = 2 * r + 2 * P + 4 * S + 3
            x = torch.ones(1, 1, n, dtype=torch.float64, requires_grad=True)
            h = x
            for layer, pool in chain:
                if pool:
                    h = F.avg_pool1d(h, layer[0], layer[1], layer[2])
                else:
                    h = F.conv1d(h, torch.ones(1, 1, layer[0], dtype=torch.float64), stride=layer[1],
                                 padding=layer[2], dilation=layer[3] if len(layer) == 4 else 1)
            u = -(-P // S)
            assert u + 1 < h.shape[-1]
            ext = []
            for unit in (u, u + 1):
                g, = torch.autograd.grad(h[0, 0, unit], x, retain_graph=True)
                nz = np.flatnonzero(g[0, 0].numpy())
                ext.append((int(nz[0]), int(nz[-1])))
            measured = (ext[0][1] - ext[0][0] + 1, ext[1][0] - ext[0][0], u * (ext[1][0] - ext[0][0]) - ext[0][0])
            check(layers, measured, f"{layers} (pooling: {[q for _, q in chain]}), measured by PyTorch")
        # Invalid layers.
        for bad in ([(0, 1, 0)], [(3, 1, 1), (3, 0, 1)], [(2, 2, 0), (3, 1, -2)], [(3, 1, 1, 0)], [(3, 2, 1), (3,)],
                    [(3, 1, 1, 1, 1)]):
            expect_raises("ValueError", lambda: student.receptive_field(bad), f"receptive_field({bad})")


@test("test_input_region", policy="numpy")
def input_region(student):
    """input_region: the sheet's top-right neuron by hand (clipped and not), then PyTorch's gradients in 2-D."""
    sheet = [(5, 1, 2)] * 10
    network_B = [(3, 2, 1), (3, 2, 1), (3, 1, 1)]
    # As in the original, the sheet's list is checked to be unchanged before the result is, and
    # network B's after: (args, kwargs, expected, call, (when, message) or None).
    watch_sheet = ("before", "input_region must not modify its argument")
    watch_B = ("after", "input_region must not modify its argument (here: network B)")
    for args, kwargs, expected, call, *watch in [
        ((sheet, 0, 639), {}, (-20, 21, 619, 660), "input_region(sheet, 0, 639) (the top-right neuron, not clipped)",
         watch_sheet),
        ((sheet, 0, 639), {"image_shape": (428, 640)}, (0, 21, 619, 640),
         "input_region(sheet, 0, 639, image_shape=(428, 640)) (clipped to the image)"),
        ((sheet, 100, 30), {"image_shape": (428, 640)}, (80, 121, 10, 51),
         "input_region(sheet, 100, 30, image_shape=(428, 640)) (inside the image: nothing to clip)"),
        ((network_B, 3, 1), {}, (5, 20, -3, 12), "input_region(network B, 3, 1) (rows 5..19 as in section 2)", watch_B),
        (([(3, 2, 1), (3, 2, 1), (3, 1, 1)], np.int64(5), np.int64(0)), {"image_shape": (24, 10)}, (13, 24, 0, 8),
         "input_region(network B, 5, 0, image_shape=(24, 10)) (clipped at the bottom and on the left)"),
    ]:
        with visible(call):
            if not watch:
                check_region(student.input_region(*args, **kwargs), expected, call)
                continue
            (when, message), = watch
            layers = args[0]
            kept = student.keep(layers)
            got = student.input_region(kept, *args[1:], **kwargs)
            if when == "before":
                expect_true(student.value(kept) == layers, message)
            check_region(got, expected, call)
            if when == "after":
                expect_true(student.value(kept) == layers, message)
    for layers, shape, (i, j) in [([(3, 1, 1)] * 4, (20, 25), (9, 14)),
                                  ([(3, 2, 1), (2, 2, 0), (3, 1, 2, 2)], (40, 36), (4, 3)),
                                  ([(5, 2, 2), (3, 1, 0, 3), (3, 2, 1)], (45, 50), (3, 5))]:
        call = f"input_region({layers}, {i}, {j}, image_shape={shape}) (reference: PyTorch's gradients)"
        with visible(call):
            check_region(student.input_region(layers, i, j, image_shape=shape), torch_region(layers, shape, i, j), call)

    with hidden():
        def check(layers, i, j, shape, expected, case):
            kept = student.keep(layers)
            got = (student.input_region(kept, i, j) if shape is None
                   else student.input_region(kept, i, j, image_shape=shape))
            expect_true(unchanged(student.value(kept), layers), f"input_region modified its argument ({case})")
            hidden_check(got, expected, "input_region", "(top, bottom, left, right)", case)

        rng = np.random.default_rng(4402)
        for trial in range(40):
            layers = []
            for _ in range(int(rng.integers(0, 7))):
                k, s, d = int(rng.integers(1, 7)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
                p = int(rng.integers(0, d * (k - 1) + 1))
                layers.append((k, s, p, d) if rng.random() < 0.5 else (k, s, p) if d == 1 else (k, s, p, d))
            i, j = int(rng.integers(0, 30)), int(rng.integers(0, 30))
            ri, rj = span(layers, i), span(layers, j)
            args = (layers, np.int64(i) if trial % 3 == 0 else i, j)
            check(*args, None, (ri[0], ri[1] + 1, rj[0], rj[1] + 1), f"{layers}, {i}, {j}")
            # Clipped to an image that the region overlaps (often only in part).
            H = int(rng.integers(max(ri[0], 0) + 1, max(ri[0], 0) + 60))
            W = int(rng.integers(max(rj[0], 0) + 1, max(rj[0], 0) + 60))
            clipped = (max(ri[0], 0), min(ri[1] + 1, H), max(rj[0], 0), min(rj[1] + 1, W))
            check(*args, (H, W), clipped, f"{layers}, {i}, {j}, image_shape={(H, W)}")
        # PyTorch: bounding boxes of nonzero gradients in 2-D, for units inside the image, with max
        # pooling as average pooling (the same window, and a gradient for every pixel of it).
        for chain, shape, (i, j) in [
                ([((3, 2, 1), 0), ((2, 2, 0), 1), ((3, 1, 2, 2), 0)], (40, 52), (4, 6)),
                ([((5, 1, 2), 0), ((3, 3, 1), 1), ((3, 1, 3, 3), 0), ((1, 2, 0), 0)], (60, 45), (4, 3)),
                ([((7, 2, 3), 0), ((3, 2, 1), 1), ((3, 1, 1), 0), ((3, 1, 1), 0)], (48, 64), (5, 9))]:
            x = torch.ones(1, 1, *shape, dtype=torch.float64, requires_grad=True)
            h = x
            for layer, pool in chain:
                if pool:
                    h = F.avg_pool2d(h, layer[0], layer[1], layer[2])
                else:
                    h = F.conv2d(h, torch.ones(1, 1, layer[0], layer[0], dtype=torch.float64), stride=layer[1],
                                 padding=layer[2], dilation=layer[3] if len(layer) == 4 else 1)
            g, = torch.autograd.grad(h[0, 0, i, j], x)
            rows, cols = np.nonzero(g[0, 0].numpy())
            layers = [layer for layer, _ in chain]
            box = (int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1)
            check(layers, i, j, shape, box, f"{layers}, {i}, {j}, image_shape={shape}, measured by PyTorch")
