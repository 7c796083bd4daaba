"""Figures of the unit: matrices with their values written in, and correlation diagrams.

Introduced in ``01_convolutions``. Every function draws on Matplotlib axes and returns the
figure or axes it drew on; none of them keeps state between calls.
"""

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

# The window's colour in every figure of the unit, so that it reads as the same thing everywhere.
WINDOW_COLOUR = "#d62728"


def _default_format(values):
    """A format string that writes every value of ``values`` compactly and exactly enough."""
    if np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.bool_):
        return "{:d}"
    finite = values[np.isfinite(values)]
    if finite.size and np.allclose(finite, np.round(finite)):
        return "{:.0f}"
    return "{:.2f}"


def _colour_limits(values, vmin, vmax):
    """Symmetric limits around zero for signed data, so that 0 always gets the same colour."""
    finite = values[np.isfinite(values)] if values.size else values
    low = float(finite.min()) if finite.size else 0.0
    high = float(finite.max()) if finite.size else 1.0
    if low < 0 < high or (low < 0 and high <= 0):
        bound = max(abs(low), abs(high)) or 1.0
        low, high = -bound, bound
    if low == high:
        # A constant array (a 1 x 1 output, say) takes the colour of its value on a scale from 0,
        # not the palest colour of the map.
        low, high = min(0.0, low), max(0.0, high)
        if low == high:
            high = low + 1.0
    return (low if vmin is None else vmin), (high if vmax is None else vmax)


def show_matrix(
    matrix,
    ax=None,
    *,
    title=None,
    fmt=None,
    cmap=None,
    vmin=None,
    vmax=None,
    annotate=True,
    highlight=None,
    shaded=None,
    fontsize=None,
):
    """Draw a 2-D array as coloured cells with each value written in its cell.

    Parameters
    ----------
    matrix : array_like, shape (H, W)
        Values to draw. Signed data gets a diverging colour map centred on zero.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.
    title : str, optional
        Axes title.
    fmt : str, optional
        Format for the written values, e.g. ``"{:.1f}"``; chosen from the dtype when omitted.
    cmap : str, optional
        Colour map; ``"RdBu_r"`` for signed data and ``"Blues"`` otherwise when omitted.
    vmin, vmax : float, optional
        Colour limits; symmetric around zero for signed data when omitted.
    annotate : bool
        Write the values (switch off for large arrays).
    highlight : tuple of int (row, col, height, width), optional
        A rectangle of cells to outline, e.g. the kernel's window.
    shaded : array_like of bool, shape (H, W), optional
        Cells to draw in grey, e.g. zero padding.
    fontsize : float, optional
        Size of the written values; chosen from the array size when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    values = np.asarray(matrix)
    if values.ndim != 2:
        raise ValueError(f"show_matrix draws 2-D arrays; got shape {values.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * values.shape[1] + 1, 0.5 * values.shape[0] + 1))
    numeric = values.astype(float)
    signed = bool(np.nanmin(numeric) < 0) if numeric.size else False
    cmap = cmap or ("RdBu_r" if signed else "Blues")
    low, high = _colour_limits(numeric, vmin, vmax)
    image = ax.imshow(numeric, cmap=cmap, vmin=low, vmax=high)
    if shaded is not None:
        mask = np.asarray(shaded, dtype=bool)
        grey = np.zeros(mask.shape + (4,))
        grey[mask] = (0.73, 0.73, 0.73, 1.0)
        ax.imshow(grey)
    height, width = values.shape
    if annotate:
        fmt = fmt or _default_format(values)
        fontsize = fontsize or (10 if max(height, width) <= 8 else 7)
        norm = image.norm
        colours = image.cmap(norm(numeric))
        for (row, col), value in np.ndenumerate(values):
            # Dark text on light cells, light text on dark cells.
            red, green, blue, _ = colours[row, col]
            light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.55
            if shaded is not None and mask[row, col]:
                light = True
            text = fmt.format(value.item() if hasattr(value, "item") else value)
            ax.text(col, row, text, ha="center", va="center", fontsize=fontsize,
                    color="black" if light else "white")
    if highlight is not None:
        row, col, rows, cols = highlight
        ax.add_patch(Rectangle((col - 0.5, row - 0.5), cols, rows, fill=False,
                               edgecolor=WINDOW_COLOUR, linewidth=2.5, zorder=5))
    ax.set_xticks(range(width))
    ax.set_yticks(range(height))
    ax.tick_params(length=0, labelsize=7)
    # Thin white grid lines between the cells.
    ax.set_xticks(np.arange(-0.5, width, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, height, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=1)
    ax.tick_params(which="minor", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title)
    return ax


def show_correlation(image, kernel, output, *, padding=0, stride=1, position=None,
                     titles=("kernel K", "input X", "output Y"), operator="⋆"):
    """Draw ``kernel  ⋆  input  =  output`` side by side, values written in.

    The order follows the notation ``Y = K ⋆ X`` of the course (cross-correlation is not
    commutative, so the kernel comes first).

    With ``position`` the window that produces one output cell is outlined in the (padded)
    input, and that output cell is outlined too.

    Parameters
    ----------
    image : array_like, shape (H, W)
        Input before padding.
    kernel : array_like, shape (kh, kw)
    output : array_like, shape (H_out, W_out)
        The result to show, computed by the caller (this function computes nothing).
    padding : int
        Zero padding on every side; padded cells are drawn in grey.
    stride : int
        Step of the window, used to place the outline for ``position``.
    position : tuple of int (i, j), optional
        Output cell whose window is outlined.
    titles : tuple of str
        Titles of the three panels: kernel, input, output.
    operator : str
        Symbol drawn between kernel and input (``"⋆"`` correlation, ``"∗"`` convolution).

    Returns
    -------
    matplotlib.figure.Figure
    """
    image = np.asarray(image)
    kernel = np.asarray(kernel)
    output = np.asarray(output)
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    padded = np.pad(image, padding) if padding else image
    shaded = None
    if padding:
        shaded = np.ones(padded.shape, dtype=bool)
        shaded[padding:padding + image.shape[0], padding:padding + image.shape[1]] = False
    widths = [kernel.shape[1], padded.shape[1], max(output.shape[1], 1)]
    height = 0.45 * max(padded.shape[0], kernel.shape[0], output.shape[0]) + 1.0
    fig, axes = plt.subplots(1, 3, figsize=(0.45 * sum(widths) + 3.2, height),
                             gridspec_kw={"width_ratios": widths, "wspace": 0.45})
    window = out_cell = None
    if position is not None:
        i, j = position
        window = (i * stride, j * stride, kernel.shape[0], kernel.shape[1])
        out_cell = (i, j, 1, 1)
    show_matrix(kernel, axes[0], title=titles[0])
    show_matrix(padded, axes[1], title=titles[1], highlight=window, shaded=shaded)
    show_matrix(output, axes[2], title=titles[2], highlight=out_cell)
    # The operator and the equals sign sit halfway between the panels.
    # The star glyph is drawn much smaller than "=" at the same font size.
    for left, right, symbol, size in ((axes[0], axes[1], operator, 34), (axes[1], axes[2], "=", 22)):
        box_left, box_right = left.get_position(), right.get_position()
        fig.text((box_left.x1 + box_right.x0) / 2, (box_left.y0 + box_left.y1) / 2, symbol,
                 ha="center", va="center", fontsize=size)
    return fig


def show_kernels(kernels, *, titles=None, suptitle=None):
    """Draw several small kernels in one row, values written in.

    Parameters
    ----------
    kernels : dict of str to array_like, or sequence of array_like, each shape (kh, kw)
    titles : sequence of str, optional
        Panel titles; the dict keys when ``kernels`` is a dict.
    suptitle : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(kernels, dict):
        titles = titles or list(kernels)
        kernels = list(kernels.values())
    kernels = [np.asarray(k) for k in kernels]
    titles = titles or [""] * len(kernels)
    # Constrained layout keeps a suptitle clear of the panel titles (tight_layout lets them touch).
    fig, axes = plt.subplots(1, len(kernels), figsize=(2.0 * len(kernels), 2.5 if suptitle else 2.3), squeeze=False,
                             layout="constrained")
    for ax, kernel, title in zip(axes[0], kernels, titles):
        show_matrix(kernel, ax, title=title)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def show_images(images, *, signed=None, cmap=None, suptitle=None, width=3.2, height=None, axes=None,
                clip_percentile=99.5, colorbars=True):
    """Draw several images side by side, each with its title.

    Introduced in ``02_sobel_laplace``. Filter responses are signed: they get a diverging colour
    map centred on zero (white = 0, red > 0, blue < 0), so a sign flip is visible at a glance.

    Parameters
    ----------
    images : dict of str to array_like, each shape (H, W) or (H, W, 3)
        Panel title to image.
    signed : bool or sequence of bool, optional
        Whether each image is a signed response (diverging colours, symmetric limits). By
        default an image is signed when it has negative values.
    cmap : str, optional
        Colour map for unsigned grey images; "gray" when omitted.
    suptitle : str, optional
    width, height : float
        Size of one panel in inches; the height follows the first image's aspect when omitted.
    axes : sequence of matplotlib.axes.Axes, optional
        Axes to draw on (one per image); a new figure is made when omitted.
    clip_percentile : float
        Signed images saturate at this percentile of their absolute values, so that a few very
        strong responses do not wash out all the others (100 = no clipping).
    colorbars : bool
        A colour bar under each signed panel, so that its colours read as numbers (arrows at
        its ends where values beyond the limits are clipped).

    Returns
    -------
    matplotlib.figure.Figure
    """
    titles = list(images)
    arrays = [np.asarray(images[t], dtype=float) for t in titles]
    if not arrays:
        raise ValueError("show_images needs at least one image")
    if signed is None or isinstance(signed, bool):
        signed = [bool(a.min() < 0) if signed is None else signed for a in arrays]
    if axes is None:
        first = arrays[0]
        height = height or width * first.shape[0] / first.shape[1] + 0.5
        fig, axes = plt.subplots(1, len(arrays), figsize=(width * len(arrays), height), squeeze=False)
        axes = axes[0]
    else:
        fig = axes[0].figure
    for ax, title, array, is_signed in zip(axes, titles, arrays, signed):
        if array.ndim == 3:
            ax.imshow(np.clip(array, 0, 1))
        elif is_signed:
            bound = float(np.percentile(np.abs(array), clip_percentile)) or float(np.abs(array).max()) or 1.0
            shown = ax.imshow(array, cmap="RdBu_r", vmin=-bound, vmax=bound, interpolation="nearest")
            if colorbars:
                clipped = float(np.abs(array).max()) > bound
                bar = fig.colorbar(shown, ax=ax, orientation="horizontal", fraction=0.05, pad=0.03, shrink=0.8,
                                   ticks=[-bound, 0, bound], extend="both" if clipped else "neither")
                bar.ax.set_xticklabels([f"{-bound:.3g}", "0", f"{bound:.3g}"])
                bar.ax.tick_params(labelsize=8, length=2)
        else:
            ax.imshow(array, cmap=cmap or "gray", interpolation="nearest")
        ax.set_title(title)
        ax.set_axis_off()
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def angle_colours(magnitude, angle, *, clip_percentile=99.0):
    """Colour each pixel by gradient direction (hue), as bright as the gradient is strong.

    Introduced in ``02_sobel_laplace``. Where the image is flat the angle is noise, and the
    brightness (the magnitude) hides it.

    Parameters
    ----------
    magnitude : array_like, shape (H, W)
        Gradient magnitude, at least 0.
    angle : array_like, shape (H, W)
        Gradient direction in radians, in [-pi, pi].
    clip_percentile : float
        Magnitudes above this percentile get full brightness, so a few very strong edges do
        not leave everything else black.

    Returns
    -------
    numpy.ndarray of float, shape (H, W, 3)
        RGB values in [0, 1].
    """
    from matplotlib.colors import hsv_to_rgb

    magnitude = np.asarray(magnitude, dtype=float)
    angle = np.asarray(angle, dtype=float)
    if magnitude.shape != angle.shape or magnitude.ndim != 2:
        raise ValueError(f"magnitude and angle must be 2-D and of one shape, got {magnitude.shape} and {angle.shape}")
    top = float(np.percentile(magnitude, clip_percentile)) or 1.0
    hsv = np.stack([(angle % (2 * np.pi)) / (2 * np.pi),
                    np.ones_like(angle),
                    np.clip(magnitude / top, 0.0, 1.0)], axis=-1)
    return hsv_to_rgb(hsv)


def show_angle_wheel(ax, *, size=101):
    """A legend for :func:`angle_colours`: which hue means which gradient direction.

    Image rows grow downwards, so an angle of +90 degrees means "brighter below".

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    size : int
        Pixels across the wheel.

    Returns
    -------
    matplotlib.axes.Axes
    """
    rows, cols = np.mgrid[-1:1:size * 1j, -1:1:size * 1j]
    radius = np.hypot(rows, cols)
    wheel = angle_colours(np.where(radius <= 1, 1.0, 0.0), np.arctan2(rows, cols), clip_percentile=100)
    wheel[radius > 1] = 1.0  # white outside the disk
    ax.imshow(wheel, extent=(-1, 1, 1, -1))
    labels = {0: ("0°\nbrighter\nto the right", "left"), 90: ("90°: brighter below", "center"),
              180: ("±180°", "right"), -90: ("−90°: brighter above", "center")}
    for degrees, (label, align) in labels.items():
        r = np.deg2rad(degrees)
        ax.text(1.12 * np.cos(r), 1.2 * np.sin(r), label, ha=align, va="center", fontsize=8)
    ax.set_xlim(-1.9, 2.4)
    ax.set_ylim(1.5, -1.5)
    ax.set_axis_off()
    return ax
