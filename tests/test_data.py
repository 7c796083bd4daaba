"""Unit tests for helpers.data: the sheet's images and kernels, the photo, the shapes and the cat."""

import numpy as np
import pytest
import scipy.signal

from helpers import data


def test_cat_image_has_the_sheets_size_in_colour_and_grey():
    colour = data.cat_image()
    grey = data.cat_image(grey=True)
    # The sheet's photo is 640 wide and 428 high: NumPy shape (rows, columns) = (428, 640).
    assert data.SHEET_CAT_SIZE == (428, 640)
    assert colour.shape == (428, 640, 3) and colour.dtype == np.float64
    assert grey.shape == (428, 640) and grey.dtype == np.float64
    assert 0.0 <= colour.min() and colour.max() <= 1.0
    assert 0.0 <= grey.min() and grey.max() <= 1.0
    # Grey is the luminance of the colour image (rgb2gray weights).
    assert np.allclose(grey, colour @ np.array([0.2125, 0.7154, 0.0721]))


def test_cat_image_other_sizes_and_fresh_arrays():
    small = data.cat_image((30, 45))
    assert small.shape == (30, 45, 3)
    assert data.cat_image([20, 10], grey=True).shape == (20, 10)
    first = data.cat_image()
    first[:] = 0.0
    assert data.cat_image().max() > 0  # a fresh array each call


@pytest.mark.parametrize("size", [(0, 10), (10, -1), (10.5, 20), (428,)])
def test_cat_image_rejects_bad_sizes(size):
    with pytest.raises((ValueError, TypeError)):
        data.cat_image(size)


def test_cat_eyes_are_dark_pupils_inside_their_boxes():
    grey = data.cat_image(grey=True)
    assert set(data.CAT_EYES_XY) == set(data.CAT_EYE_BOXES) == {"left", "right"}
    for name, (x, y) in data.CAT_EYES_XY.items():
        top, bottom, left, right = data.CAT_EYE_BOXES[name]
        assert 0 <= top < bottom <= 428 and 0 <= left < right <= 640
        assert top <= y < bottom and left <= x < right, f"the {name} pupil lies outside its eye box"
        # A pupil is much darker than the photo as a whole.
        assert grey[y - 3:y + 4, x - 3:x + 4].mean() < 0.5 * grey.mean(), f"the {name} pupil is not dark"
    # The left eye is the one on the left of the picture.
    assert data.CAT_EYES_XY["left"][0] < data.CAT_EYES_XY["right"][0]


def test_sheet_eye_pixel_is_inside_the_photo_in_both_readings():
    a, b = data.SHEET_EYE_PIXEL
    assert (a, b) == (255, 210)
    height, width = data.SHEET_CAT_SIZE
    assert a < width and b < height  # (x, y): column a, row b
    assert a < height and b < width  # (row, column): row a, column b


def test_sheet_image_worked_reading_reproduces_the_sheets_example():
    X = data.sheet_image()
    assert X.shape == (5, 5) and X.dtype == np.int64
    sobel_x = data.sheet_kernels()["sobel_x"]
    # The sheet's worked values, Y[0,0] = 11 and Y[1,1] = 0, computed here by SciPy.
    Y = scipy.signal.correlate2d(X, sobel_x, mode="valid")
    assert Y[0, 0] == 11 and Y[1, 1] == 0


def test_sheet_image_printed_reading_differs_in_the_corner_only():
    worked, printed = data.sheet_image("worked"), data.sheet_image("printed")
    assert printed[0, 0] == 3 and worked[0, 0] == 5
    assert np.argwhere(worked != printed).tolist() == [[0, 0]]


def test_sheet_image_rejects_an_unknown_reading():
    with pytest.raises(ValueError, match="reading must be one of"):
        data.sheet_image("scanned")


def test_sheet_kernels_are_the_printed_filters_and_fresh_copies():
    kernels = data.sheet_kernels()
    assert list(kernels) == ["sobel_x", "sobel_y", "laplace"]
    assert kernels["sobel_x"].tolist() == [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
    assert np.array_equal(kernels["sobel_y"], kernels["sobel_x"].T)
    assert kernels["laplace"].sum() == 0 and kernels["laplace"][1, 1] == -4
    kernels["laplace"][1, 1] = 99  # a notebook changing its copy ...
    assert data.sheet_kernels()["laplace"][1, 1] == -4  # ... changes nothing for the next caller
    X = data.sheet_image()
    X[:] = 0
    assert data.sheet_image().sum() > 0


def test_photo_is_grey_float_in_unit_range():
    for name, shape in (("chelsea", (300, 451)), ("camera", (512, 512))):
        image = data.photo(name)
        assert image.shape == shape and image.dtype == np.float64
        assert 0.0 <= image.min() < image.max() <= 1.0
    first = data.photo()
    first[:] = 0
    assert data.photo().max() > 0  # a fresh array each call
    with pytest.raises(ValueError, match="photo name must be one of"):
        data.photo("dog")


def test_shapes_image_has_square_disk_and_ramp():
    image = data.shapes_image(64)
    assert image.shape == (64, 64) and image.min() == 0.0 and image.max() == 1.0
    assert np.allclose(np.diff(image[-1]), 1 / 63)  # the ramp rises evenly to the right
    assert image[8:24, 8:24].min() == 1.0            # the square
    assert image[16, 40] == 1.0                      # inside the disk
    with pytest.raises(ValueError, match="at least 16"):
        data.shapes_image(8)
