"""Unit tests for helpers.widgets: sliders and kernel editors with and without a front end."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import widgets


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


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
