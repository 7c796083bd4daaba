"""Data of the unit: the exercise sheet's image and filters.

Introduced in ``01_convolutions``. Every function returns a fresh array, so a notebook that
modifies what it got cannot change what the next call returns.
"""

import numpy as np

# The sheet's 5x5 single-channel image. Its printed table starts with 3, but its worked
# example (Y[0,0] = 11) needs a 5 in that corner: both readings are kept, see sheet_image().
_SHEET_ROWS = (
    (5, 5, 2, 5, 5),
    (5, 5, 2, 5, 5),
    (7, 7, 5, 7, 7),
    (5, 5, 2, 5, 5),
    (5, 5, 2, 5, 5),
)

SHEET_READINGS = ("worked", "printed")

# The three 3x3 filters of Exercise 4-1, in the orientation the sheet prints them.
_SHEET_KERNELS = {
    # Difference left minus right, smoothed 1-2-1 down the rows: responds to vertical edges.
    "sobel_x": ((1, 0, -1), (2, 0, -2), (1, 0, -1)),
    # Difference top minus bottom, smoothed 1-2-1 along the columns: responds to horizontal edges.
    "sobel_y": ((1, 2, 1), (0, 0, 0), (-1, -2, -1)),
    # Four-neighbour Laplace operator: responds to change in every direction.
    "laplace": ((0, 1, 0), (1, -4, 1), (0, 1, 0)),
}


def sheet_image(reading="worked"):
    """The 5x5 input image of Exercise 4-1.

    The sheet contradicts itself about one pixel. Its table prints ``X[0, 0] = 3``, while its
    worked example ``Y[0, 0] = 1*5 + ... = 11`` multiplies that pixel as a 5. With a 5 the image
    is a clean cross (a bright row 2 and a dark column 2); with a 3 the corner is darker.

    Parameters
    ----------
    reading : {"worked", "printed"}
        ``"worked"`` (the default, the reading the notebooks use) puts 5 in the corner, so the
        sheet's worked example holds; ``"printed"`` puts 3 there, as the table shows.

    Returns
    -------
    numpy.ndarray of int64, shape (5, 5)
    """
    if reading not in SHEET_READINGS:
        raise ValueError(f"reading must be one of {SHEET_READINGS}, not {reading!r}")
    image = np.array(_SHEET_ROWS, dtype=np.int64)
    if reading == "printed":
        image[0, 0] = 3
    return image


def sheet_kernels():
    """The three 3x3 filters of Exercise 4-1, as the sheet prints them.

    Returns
    -------
    dict of str to numpy.ndarray of int64, shape (3, 3)
        ``"sobel_x"`` (vertical edges), ``"sobel_y"`` (horizontal edges) and ``"laplace"``
        (the four-neighbour Laplace operator), in that order.
    """
    return {name: np.array(rows, dtype=np.int64) for name, rows in _SHEET_KERNELS.items()}


# Photographs that ship inside scikit-image's wheel, so the unit never downloads anything.
PHOTOS = ("chelsea", "camera")


def photo(name="chelsea"):
    """A real photograph in grey scale, as floats in [0, 1].

    Introduced in ``02_sobel_laplace``. Both photos ship with scikit-image, so they work offline.

    Parameters
    ----------
    name : {"chelsea", "camera"}
        ``"chelsea"``: scikit-image's cat (300 x 451 pixels; the colour photo converted with
        ``skimage.color.rgb2gray``, which weights red, green and blue as 0.2125, 0.7154 and
        0.0721). ``"camera"``: the classic cameraman (512 x 512, already grey; divided by 255).

    Returns
    -------
    numpy.ndarray of float64, shape (H, W)
        A fresh array with values in [0, 1].
    """
    if name not in PHOTOS:
        raise ValueError(f"photo name must be one of {PHOTOS}, not {name!r}")
    try:
        from skimage import color
        from skimage import data as skimage_data
    except ImportError as error:  # pragma: no cover - scikit-image is pinned in requirements.txt
        raise ImportError("photo() needs scikit-image: run `make venv` (or pip install scikit-image)") from error
    if name == "chelsea":
        return color.rgb2gray(skimage_data.chelsea()).astype(np.float64)
    return skimage_data.camera().astype(np.float64) / 255.0


def shapes_image(size=64):
    """A synthetic test image: a bright square, a bright disk and a horizontal ramp.

    Introduced in ``02_sobel_laplace``: its edges point in known directions (the square's are
    vertical and horizontal, the disk's point every way, the ramp has no edge at all but a
    constant slope), so one can read off what a filter responds to.

    Parameters
    ----------
    size : int
        Height and width in pixels, at least 16.

    Returns
    -------
    numpy.ndarray of float64, shape (size, size)
        Background 0, shapes 1, the ramp (bottom quarter) rising from 0 to 1 left to right.
    """
    if int(size) != size or size < 16:
        raise ValueError(f"size must be an integer of at least 16, got {size!r}")
    size = int(size)
    image = np.zeros((size, size))
    q = size // 4
    image[q // 2:q // 2 + q, q // 2:q // 2 + q] = 1.0  # square, top left
    rows, cols = np.mgrid[0:size, 0:size]
    centre_r, centre_c, radius = q, size - q - q // 2, q * 0.6
    image[(rows - centre_r) ** 2 + (cols - centre_c) ** 2 <= radius ** 2] = 1.0  # disk, top right
    image[size - q:, :] = np.linspace(0.0, 1.0, size)[None, :]  # ramp, bottom quarter
    return image


# The photo of Exercise 4-2 (b): the sheet says it is 640x428 pixels, i.e. 640 wide and 428 high.
SHEET_CAT_SIZE = (428, 640)
# The sheet's "pixel 255x210", as printed. It belongs to the sheet's own photo, and the sheet
# does not say which number is the column: see cat_image() for the two readings.
SHEET_EYE_PIXEL = (255, 210)
# Centres of the cat's pupils in cat_image() at its default size, as (x, y) = (column, row),
# located by looking at the picture (to a few pixels): "left" is the eye on the left of the
# picture (the cat's right eye). CAT_EYE_BOXES are the eyes' extents as half-open
# (top, bottom, left, right) pixel ranges, rows top:bottom and columns left:right.
CAT_EYES_XY = {"left": (243, 160), "right": (455, 190)}
CAT_EYE_BOXES = {"left": (125, 207, 195, 297), "right": (158, 238, 413, 502)}


def cat_image(size=SHEET_CAT_SIZE, grey=False):
    """scikit-image's cat ``chelsea``, resized to the size of the sheet's photo.

    Introduced in ``04_receptive_field``. The sheet's photo is 640 pixels wide and 428 high;
    ``chelsea`` (451 x 300) is resized to that with anti-aliasing, which stretches it by
    1.42 horizontally and 1.43 vertically (almost the same aspect ratio). The eyes of this
    photo are at :data:`CAT_EYES_XY` (default size only). The sheet's eye position
    :data:`SHEET_EYE_PIXEL` = (255, 210) belongs to the sheet's photo: read as (x, y) it is
    column 255, row 210; read as (row, column) it is row 255, column 210.

    Parameters
    ----------
    size : tuple of int (height, width)
        Size in NumPy order, rows first: the default (428, 640) is 428 high and 640 wide.
    grey : bool
        Grey scale (``skimage.color.rgb2gray`` weights) instead of colour.

    Returns
    -------
    numpy.ndarray of float64, shape (height, width, 3), or (height, width) when ``grey``
        A fresh array with values in [0, 1].
    """
    height, width = (int(n) for n in size)
    if (height, width) != tuple(size) or height < 1 or width < 1:
        raise ValueError(f"size must be two positive integers (height, width), got {size!r}")
    try:
        from skimage import color, transform
        from skimage import data as skimage_data
    except ImportError as error:  # pragma: no cover - scikit-image is pinned in requirements.txt
        raise ImportError("cat_image() needs scikit-image: run `make venv` (or pip install scikit-image)") from error
    image = transform.resize(skimage_data.chelsea() / 255.0, (height, width), anti_aliasing=True)
    image = np.clip(image, 0.0, 1.0).astype(np.float64)
    return color.rgb2gray(image) if grey else image
