"""Unit tests for helpers.course: notebook set-up and the text description of figures."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import course


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


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
