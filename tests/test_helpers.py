"""Unit tests for helpers.course, helpers.data, helpers.plotting and helpers.widgets."""


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.signal  # noqa: E402

from nbtools import heavy_modules_loaded_by  # noqa: E402
import helpers  # noqa: E402
from helpers import course, data, plotting, widgets  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------ package


def test_import_helpers_loads_no_heavy_library():
    # `import helpers` must stay cheap: heavy libraries load only when a submodule needs them.
    assert heavy_modules_loaded_by("helpers") == []


def test_submodules_load_on_first_use():
    assert helpers.data is data
    assert helpers.setup_notebook is course.setup_notebook
    with pytest.raises(AttributeError, match="no attribute 'solutions'"):
        helpers.solutions  # noqa: B018


# ------------------------------------------------------------------ data


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


# ------------------------------------------------------------------ course


def test_setup_notebook_is_reproducible():
    first = course.setup_notebook(seed=7, use_torch=False).normal(size=3)
    legacy_first = np.random.rand()
    second = course.setup_notebook(seed=7, use_torch=False).normal(size=3)
    assert np.array_equal(first, second) and np.random.rand() == pytest.approx(legacy_first)
    assert matplotlib.rcParams["image.interpolation"] == "nearest"


def test_setup_notebook_seeds_torch_and_picks_a_device():
    torch = pytest.importorskip("torch")
    course.setup_notebook(seed=3)
    a = torch.rand(2)
    course.setup_notebook(seed=3)
    assert torch.equal(a, torch.rand(2))
    assert torch.are_deterministic_algorithms_enabled()
    assert course.pick_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


# ------------------------------------------------------------------ plotting


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


# ------------------------------------------------------------------ widgets


@pytest.mark.parametrize("environ, attached", [
    ({}, False),
    ({"JPY_SESSION_NAME": "/home/student/01_convolutions.ipynb"}, True),
    ({"JPY_SESSION_NAME": "x.ipynb", "NBGRADER_EXECUTION": "autograde"}, False),
    ({"EX04_INTERACTIVE": "1"}, True),
    ({"JPY_SESSION_NAME": "x.ipynb", "EX04_INTERACTIVE": "0"}, False),
])
def test_frontend_attached(environ, attached):
    assert widgets.frontend_attached(environ) is attached


def test_interactive_or_static_draws_the_static_figure_without_front_end():
    calls = []
    result = widgets.interactive_or_static(lambda **kw: calls.append(kw), static={"a": 1}, environ={}, a=(0, 3))
    assert result is None and calls == [{"a": 1}]


def test_interactive_or_static_builds_sliders_with_a_front_end():
    calls = []
    widget = widgets.interactive_or_static(lambda a=0: calls.append(a), static={"a": 1},
                                           environ={"EX04_INTERACTIVE": "1"}, a=(0, 3))
    slider = widget.children[0]
    assert (slider.min, slider.max) == (0, 3)
    slider.value = 2
    assert calls[-1] == 2


def test_sliders_start_at_the_static_setting_not_mid_range():
    # 05's error map started at x = y = 0 (all black) while the text described x = -12, y = 20.
    widget = widgets.interactive_or_static(lambda x=0, y=0, mode="circular": None,
                                           static={"x": -12, "y": 20, "mode": "zero"},
                                           environ={"EX04_INTERACTIVE": "1"}, x=(-32, 32), y=(-32, 32),
                                           mode=["circular", "zero"])
    assert widget.kwargs == {"x": -12, "y": 20, "mode": "zero"}


def test_kernel_editor_draws_the_initial_kernel_without_front_end():
    calls = []
    result = widgets.kernel_editor(calls.append, [[0, 1, 0], [1, -4, 1], [0, 1, 0]], environ={})
    assert result is None and len(calls) == 1
    assert calls[0].dtype == float and calls[0][1, 1] == -4


def test_kernel_editor_redraws_on_every_edit_and_once_per_preset():
    calls = []
    editor = widgets.kernel_editor(calls.append, np.zeros((3, 3)), presets={"box": np.ones((3, 3))},
                                   environ={"EX04_INTERACTIVE": "1"})
    grid, menu = editor.children[0].children
    assert len(grid.children) == 9 and len(calls) == 1
    grid.children[4].value = 2.5
    assert calls[-1][1, 1] == 2.5 and len(calls) == 2
    menu.value = "box"
    assert len(calls) == 3 and np.array_equal(calls[-1], np.ones((3, 3)))


def test_kernel_editor_rejects_mismatched_presets():
    with pytest.raises(ValueError, match="preset 'big' has shape"):
        widgets.kernel_editor(print, np.zeros((3, 3)), presets={"big": np.zeros((5, 5))}, environ={})
    with pytest.raises(ValueError, match="non-empty 2-D"):
        widgets.kernel_editor(print, np.zeros(3), environ={})


def test_figure_description_reads_titles_labels_and_legends_and_skips_colour_bars():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2)
    fig.suptitle("Sobel $G_x$")
    shown = left.imshow(np.zeros((3, 3)))
    left.set_title("input")
    fig.colorbar(shown, ax=left, label="value")
    right.plot([0, 1], label="train")
    right.plot([1, 0], label="test")
    right.legend()
    right.set_xlabel("epoch")
    right.set_ylabel("loss")
    assert course.figure_description(fig) == (
        "Figure 'Sobel G_x', 2 panels: image 'input'; plot of loss against epoch, curves: train, test.")
    plt.close(fig)
    empty = plt.figure()
    assert course.figure_description(empty) == "Figure."
    plt.close(empty)


def test_slider_ranges_follow_the_other_settings():
    # 01's row and column sliders ran to 6 whatever the output size, and were clamped silently.
    calls = []

    def size(stride, row):
        return {"row": (0, 8 // stride - 1)}

    widget = widgets.interactive_or_static(lambda stride=1, row=0: calls.append((stride, row)),
                                           static={"stride": 1, "row": 6}, limits=size,
                                           environ={"EX04_INTERACTIVE": "1"}, stride=(1, 4), row=(0, 6))
    stride, row = widget.children[0], widget.children[1]
    assert (row.min, row.max, row.value) == (0, 7, 6)
    stride.value = 4
    assert (row.max, row.value) == (1, 1) and calls[-1] == (4, 1)
    stride.value = 1
    assert row.max == 7 and row.value == 1


def test_the_preset_menu_names_the_kernel_shown():
    # 02's editor started with the sharpen kernel while its menu said "(custom)".
    box = np.ones((3, 3))
    editor = widgets.kernel_editor(lambda k: None, box, presets={"zero": np.zeros((3, 3)), "box": box},
                                   environ={"EX04_INTERACTIVE": "1"})
    grid, menu = editor.children[0].children
    assert menu.value == "box"
    grid.children[0].value = 3.0
    assert menu.value == "(custom)"
    grid.children[0].value = 1.0
    assert menu.value == "box"
    menu.value = "zero"
    assert all(b.value == 0 for b in grid.children) and menu.value == "zero"


def test_figure_description_folds_alike_panels_and_shortens_long_lists():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 12)
    for k, ax in enumerate(axes):
        ax.imshow(np.zeros((2, 2)))
        ax.set_title("same" if k < 3 else f"p{k}")
    line, = axes[0].plot([0, 1])
    fig.legend([line], ["a line"])
    text = course.figure_description(fig)
    assert text.startswith("Figure, 12 panels: image 'same' (3 times); image 'p3'; ")
    assert "…; image 'p10'; image 'p11'; curves: a line." in text and "p8" not in text
    plt.close(fig)


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
