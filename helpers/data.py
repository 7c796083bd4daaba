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
