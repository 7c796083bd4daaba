"""Unit tests for the helpers added with notebook 04_receptive_field (helpers.data.cat_image and its constants)."""

import numpy as np
import pytest

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
