"""Unit tests for helpers.plotting: matrices, correlations, kernels, images and angle colours."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

import scipy.signal

from helpers import data, plotting


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_show_matrix_writes_every_value():
    ax = plotting.show_matrix(np.array([[1, -2], [3, 4]]), title="M")
    assert _texts(ax) == ["1", "-2", "3", "4"]
    assert ax.get_title() == "M"
    low, high = ax.images[0].get_clim()
    assert low == -high == -4  # signed data: colours symmetric around zero


def test_show_matrix_formats_floats_and_outlines_a_window():
    ax = plotting.show_matrix(np.array([[0.5, 1.25], [2.0, 3.0]]), highlight=(0, 1, 2, 1))
    assert _texts(ax) == ["0.50", "1.25", "2.00", "3.00"]
    (patch,) = ax.patches
    assert (patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()) == (0.5, -0.5, 1, 2)


def test_show_matrix_rejects_other_than_2d():
    with pytest.raises(ValueError, match="2-D"):
        plotting.show_matrix(np.zeros(3))


def test_show_correlation_draws_padding_window_and_output():
    X, K = data.sheet_image(), data.sheet_kernels()["sobel_x"]
    Y = scipy.signal.correlate2d(np.pad(X, 1), K, mode="valid")[::2, ::2]
    fig = plotting.show_correlation(X, K, Y, padding=1, stride=2, position=(1, 2))
    kernel_ax, padded_ax, output_ax = fig.axes  # K ⋆ X = Y
    assert len(kernel_ax.texts) == 9
    assert len(padded_ax.texts) == 49 and len(output_ax.texts) == Y.size
    (window,) = padded_ax.patches
    assert (window.get_x(), window.get_y()) == (4 - 0.5, 2 - 0.5)  # row 1*2, column 2*2
    assert {"⋆", "="} <= {t.get_text() for t in fig.texts}


def test_show_correlation_rejects_bad_settings():
    with pytest.raises(ValueError):
        plotting.show_correlation(np.ones((3, 3)), np.ones((2, 2)), np.ones((2, 2)), stride=0)


def test_show_kernels_one_panel_each():
    fig = plotting.show_kernels(data.sheet_kernels(), suptitle="filters")
    assert [ax.get_title() for ax in fig.axes] == ["sobel_x", "sobel_y", "laplace"]


def test_show_images_centres_signed_images_on_zero_and_clips_outliers():
    response = np.linspace(-1.0, 3.0, 1000).reshape(20, 50)
    response[0, 0] = 100.0  # one extreme pixel must not wash out the others
    fig = plotting.show_images({"grey": np.ones((20, 50)), "response": response})
    panels, bars = fig.axes[:2], fig.axes[2:]
    grey, signed = (ax.images[0] for ax in panels)
    assert grey.get_cmap().name == "gray"
    low, high = signed.get_clim()
    assert low == -high and 2.9 < high < 3.1
    assert [ax.get_title() for ax in panels] == ["grey", "response"]
    # One colour bar, under the signed panel, with arrows for the clipped pixel.
    assert len(bars) == 1 and bars[0]._colorbar.mappable is signed and bars[0]._colorbar.extend == "both"
    plain = plotting.show_images({"response": response}, colorbars=False)
    assert len(plain.axes) == 1


def test_show_images_needs_an_image():
    with pytest.raises(ValueError, match="at least one image"):
        plotting.show_images({})


def test_angle_colours_hue_follows_the_angle_and_brightness_the_magnitude():
    angle = np.array([[0.0, np.pi / 2, np.pi, -np.pi / 2]])
    rgb = plotting.angle_colours(np.ones((1, 4)), angle, clip_percentile=100)
    assert rgb.shape == (1, 4, 3)
    assert np.allclose(rgb[0, 0], [1, 0, 0])          # hue 0: red
    assert np.allclose(rgb[0, 2], [0, 1, 1])          # opposite direction: cyan
    dark = plotting.angle_colours(np.array([[0.0, 1.0]]), np.zeros((1, 2)), clip_percentile=100)
    assert np.allclose(dark[0, 0], 0) and np.allclose(dark[0, 1], [1, 0, 0])
    with pytest.raises(ValueError, match="one shape"):
        plotting.angle_colours(np.ones((2, 2)), np.ones((2, 3)))


def test_show_angle_wheel_labels_the_directions():
    fig, ax = plt.subplots()
    plotting.show_angle_wheel(ax)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "brighter below" in texts and "brighter above" in texts


def test_a_constant_matrix_is_coloured_by_its_value_not_drawn_pale():
    # 01's 1 x 1 output (11) was drawn almost white: a constant array had the limits (11, 12).
    import matplotlib

    matplotlib.use("Agg")
    ax = plotting.show_matrix(np.array([[11.0]]))
    assert ax.images[0].get_clim() == (0.0, 11.0)
    ax = plotting.show_matrix(np.zeros((2, 2)))
    assert ax.images[0].get_clim() == (0.0, 1.0)
    ax = plotting.show_matrix(np.array([[2.0, 7.0]]))
    assert ax.images[0].get_clim() == (2.0, 7.0)
