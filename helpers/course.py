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


def _store_photos_as_jpeg():
    """In IPython, show photo figures as JPEG and every other figure as PNG, as before.

    Photos in PNG make a notebook of figures several MB; as JPEG they keep their look at a
    fraction of the size. Line plots, small arrays and text stay PNG, where JPEG would blur them.
    The same figure always gives the same bytes, so regenerated notebooks do not change.
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

    def png_unless_photo(fig):
        return None if is_photo_figure(fig) else as_png(fig)

    def jpeg_if_photo(fig):
        if not is_photo_figure(fig):
            return None
        return print_figure(fig, "jpeg", bbox_inches="tight", pil_kwargs={"quality": JPEG_QUALITY, "optimize": True})

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


def _show_checks_without_helper_frames():
    """In IPython, a failed visible check shows the student's call and the message, no helper code.

    IPython always prints the innermost frame, so ``__tracebackhide__`` alone would still show the
    line of ``helpers/checking.py`` that raised. Only AssertionErrors raised inside this package
    are shortened; every other error keeps its whole traceback.
    """
    shell = _ipython_shell()
    if shell is None:
        return

    def show(shell, etype, value, tb, tb_offset=None):
        last = tb
        while last is not None and last.tb_next is not None:
            last = last.tb_next
        inside = last is not None and os.path.abspath(last.tb_frame.f_code.co_filename).startswith(_HELPERS_DIR + os.sep)
        shell.showtraceback((etype, value, _without_helper_frames(tb) if inside else tb), tb_offset=tb_offset)

    shell.set_custom_exc((AssertionError,), show)


def pick_device():
    """Return the device to train on: CUDA when present, else the CPU.

    Returns
    -------
    torch.device
    """
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
