"""The preamble that every notebook of the unit runs first.

Introduced in ``01_convolutions`` and used unchanged in every later notebook, so that each
one starts from the same seeds, print options and figure style.
"""

import os
import random

import numpy as np

#: Seed used by every notebook unless it says otherwise.
DEFAULT_SEED = 4


def setup_notebook(seed=DEFAULT_SEED, *, use_torch=True):
    """Make a notebook reproducible and give it the course's look.

    Seeds Python's ``random``, NumPy's global generator and, if ``use_torch``, PyTorch; asks
    PyTorch for deterministic algorithms on one CPU thread; sets NumPy's print
    options and Matplotlib's figure defaults.

    Parameters
    ----------
    seed : int
        Seed for every random number generator.
    use_torch : bool
        Also seed and configure PyTorch (imports it, which takes about a second).

    Returns
    -------
    numpy.random.Generator
        A fresh generator seeded with ``seed``; notebooks draw their random numbers from it.
    """
    random.seed(seed)
    np.random.seed(seed)
    # Short, stable array printouts: stored outputs must not change with float noise.
    np.set_printoptions(precision=4, suppress=True, linewidth=100)

    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.dpi": 100,
            "figure.figsize": (7.0, 3.2),
            "axes.titlesize": 11,
            "image.interpolation": "nearest",
            "font.size": 10,
        }
    )
    if use_torch:
        import torch

        # cuBLAS needs this to be deterministic on a GPU; harmless on the CPU.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.manual_seed(seed)
        # Same numbers on every run, whatever the number of cores: one CPU thread (the order of a
        # sum then does not depend on it) and deterministic kernels. The course's networks
        # are small: a second thread saves little on an idle machine, and on a busy one (a grading
        # server, a shared hub) two threads waiting for each other at every layer ran 10 epochs of
        # notebook 06 in 64 s instead of 1 s.
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True, warn_only=True)
    _show_checks_without_helper_frames()
    _store_photos_as_jpeg()
    return np.random.default_rng(seed)


#: A figure whose images hold at least this many pixels in all is a photo: stored as JPEG.
PHOTO_PIXELS = 50_000
#: JPEG quality of photo figures (Pillow's scale): sharp to the eye, a fifth of the PNG's size.
JPEG_QUALITY = 88


def is_photo_figure(fig):
    """True for a Matplotlib figure that mostly shows photographs (many image pixels)."""
    pixels = 0
    for ax in fig.axes:
        for image in ax.get_images():
            array = image.get_array()
            if array is not None and np.ndim(array) >= 2:
                pixels += int(np.shape(array)[0]) * int(np.shape(array)[1])
    return pixels >= PHOTO_PIXELS


def _plain(text):
    """A Matplotlib label as words: mathtext keeps its letters, not its dollar signs."""
    return " ".join(text.replace("$", "").replace("\\", "").split())


def _panel_description(ax):
    title = _plain(ax.get_title())
    if ax.get_images():
        kind = "image"
    elif ax.lines or ax.collections:
        kind = "plot"
    elif ax.patches:
        kind = "bar chart"
    else:
        kind = "panel"
    words = f"{kind} '{title}'" if title else kind
    xlabel, ylabel = _plain(ax.get_xlabel()), _plain(ax.get_ylabel())
    if ylabel and xlabel:
        words += f" of {ylabel} against {xlabel}"
    elif xlabel or ylabel:
        words += f" ({xlabel or ylabel})"
    entries = _legend_entries([ax.get_legend()] if ax.get_legend() is not None else [])
    return words + (f", curves: {entries}" if entries else "")


def _legend_entries(legends):
    return ", ".join(_plain(t.get_text()) for legend in legends for t in legend.get_texts() if t.get_text())


#: A figure with more panels than this is described by its first and last ones.
MAX_PANELS_DESCRIBED = 8


def figure_description(fig):
    """A short text alternative for a Matplotlib figure, read off its titles, labels and legends.

    Screen readers, and HTML exports of the notebooks (nbconvert, nbgrader's feedback and
    Formgrader), show it as the figure's ``alt`` text.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    str
        For example ``"Figure 'Sobel responses', 2 panels: image 'G_x'; image 'G_y'."``.
    """
    # Colour bars and hidden axes say nothing on their own.
    panels = [ax for ax in fig.axes if ax.get_visible() and getattr(ax, "_colorbar", None) is None
              and (ax.axison or ax.get_images() or ax.get_title())]
    suptitle = getattr(fig, "_suptitle", None)
    heading = _plain(suptitle.get_text()) if suptitle is not None else ""
    words = f"Figure '{heading}'" if heading else "Figure"
    entries = _legend_entries(fig.legends)
    ending = f"; curves: {entries}." if entries else "."
    if not panels:
        return words + ending
    # Runs of alike panels read once ("image 'shifted' (8 times)"); a long list keeps its ends.
    runs = []
    for text in map(_panel_description, panels):
        if runs and runs[-1][0] == text:
            runs[-1][1] += 1
        else:
            runs.append([text, 1])
    parts = [text if times == 1 else f"{text} ({times} times)" for text, times in runs]
    if len(parts) > MAX_PANELS_DESCRIBED:
        parts = parts[:MAX_PANELS_DESCRIBED - 2] + ["…"] + parts[-2:]
    count = f"{len(panels)} panels" if len(panels) > 1 else "1 panel"
    return f"{words}, {count}: {'; '.join(parts)}{ending}"


def _store_photos_as_jpeg():
    """In IPython, show photo figures as JPEG and every other figure as PNG, each with alt text.

    Photos in PNG make a notebook of figures several MB; as JPEG they keep their look at a
    fraction of the size. Line plots, small arrays and text stay PNG, where JPEG would blur them.
    The same figure always gives the same bytes, so regenerated notebooks do not change. Each
    image carries :func:`figure_description` as its ``alt`` metadata.
    """
    shell = _ipython_shell()
    if shell is None:
        return
    from IPython.core.pylabtools import print_figure
    from matplotlib.figure import Figure

    formatters = shell.display_formatter.formatters
    png, jpeg = formatters["image/png"], formatters["image/jpeg"]
    try:
        as_png = png.lookup_by_type(Figure)
    except KeyError:
        return  # not the inline backend: nothing is stored
    if getattr(as_png, "_ex04", False):
        return  # set up already (the preamble ran twice)

    # A formatter that returns (data, metadata) gives the image its metadata in the notebook.
    def png_unless_photo(fig):
        if is_photo_figure(fig):
            return None
        data = as_png(fig)
        return None if data is None else (data, {"alt": figure_description(fig)})

    def jpeg_if_photo(fig):
        if not is_photo_figure(fig):
            return None
        data = print_figure(fig, "jpeg", bbox_inches="tight", pil_kwargs={"quality": JPEG_QUALITY, "optimize": True})
        return data, {"alt": figure_description(fig)}

    png_unless_photo._ex04 = True
    png.for_type(Figure, png_unless_photo)
    jpeg.for_type(Figure, jpeg_if_photo)
    jpeg.enabled = True


_HELPERS_DIR = os.path.dirname(os.path.abspath(__file__))


def _ipython_shell():
    """The running IPython shell (a notebook's kernel), or None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _without_helper_frames(tb):
    """The traceback ``tb`` without the frames of this package (rebuilt; the original is kept)."""
    import types

    kept = []
    while tb is not None:
        if not os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(_HELPERS_DIR + os.sep):
            kept.append(tb)
        tb = tb.tb_next
    trimmed = None
    for entry in reversed(kept):
        trimmed = types.TracebackType(trimmed, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return trimmed


#: The last line of a solution cell's stub in the student version (nbgrader's ``code_stub``).
STUB_LINE = "raise NotImplementedError()"


def stub_message(tb):
    """The grader's words for a stub that was called, or None when ``tb`` did not end in one.

    Parameters
    ----------
    tb : traceback
        Of a ``NotImplementedError``. It ended in a stub when its innermost line is the stub's
        ``raise NotImplementedError()`` (not a library's NotImplementedError).

    Returns
    -------
    str or None
        For example ``"output_size: the solution cell still holds the stub ..."``.
    """
    import linecache

    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    if linecache.getline(code.co_filename, tb.tb_lineno).strip() != STUB_LINE:
        return None
    # A method's stub names its class ("DigitCNN"), a function's stub the function.
    name = getattr(code, "co_qualname", code.co_name).split(".")[0]
    return (f"{name}: the solution cell still holds the stub ({STUB_LINE}). Write your code there, in place "
            f"of '# YOUR CODE HERE' and that line, run that cell, then run this one again.")


def _show_checks_without_helper_frames():
    """In IPython, a failed visible check shows the student's call and the message, no helper code.

    IPython always prints the innermost frame, so ``__tracebackhide__`` alone would still show the
    line of ``helpers/checking.py`` that raised. Only AssertionErrors raised inside this package
    are shortened. A NotImplementedError raised by a solution cell's stub is shown without this
    package's frames and with the grader's own words (:func:`stub_message`) instead of a bare
    ``NotImplementedError:``. Every other error keeps its whole traceback.
    """
    shell = _ipython_shell()
    if shell is None:
        return

    def show(shell, etype, value, tb, tb_offset=None):
        last = tb
        while last is not None and last.tb_next is not None:
            last = last.tb_next
        inside = (last is not None
                  and os.path.abspath(last.tb_frame.f_code.co_filename).startswith(_HELPERS_DIR + os.sep))
        stub = stub_message(tb) if issubclass(etype, NotImplementedError) and not str(value) else None
        if stub:
            value = NotImplementedError(stub)
        shell.showtraceback((etype, value, _without_helper_frames(tb) if inside or stub else tb), tb_offset=tb_offset)

    shell.set_custom_exc((AssertionError, NotImplementedError), show)


def pick_device():
    """Return the device to train on: CUDA when present, else the CPU.

    Returns
    -------
    torch.device
    """
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
