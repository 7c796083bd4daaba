"""Figures of the unit: matrices with their values written in, and correlation diagrams.

Introduced in ``01_convolutions``. Every function draws on Matplotlib axes and returns the
figure or axes it drew on; none of them keeps state between calls.
"""

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

# Colours used throughout the unit, so that "window" and "output cell" look the same everywhere.
WINDOW_COLOUR = "#d62728"
PADDING_COLOUR = "#bbbbbb"


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
    fig, axes = plt.subplots(1, len(kernels), figsize=(2.0 * len(kernels), 2.3), squeeze=False)
    for ax, kernel, title in zip(axes[0], kernels, titles):
        show_matrix(kernel, ax, title=title)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
