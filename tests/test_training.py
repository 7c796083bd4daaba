"""Unit tests for helpers.training (progress bars, figures and weight files of 06_pytorch_cnn)."""


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from nbtools import heavy_modules_loaded_by
from helpers import training
from helpers.training import (StateFileError, confusion_counts, load_state, plot_history, progress_bar,
                              save_state, show_confusion, show_feature_maps, show_filters_and_kernels,
                              show_misclassified)

LIVE = {"JPY_SESSION_NAME": "notebook.ipynb"}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def small_model(channels=4):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, channels, 3), nn.ReLU(), nn.Flatten(), nn.Linear(channels * 36, 10))


def test_importing_the_module_loads_no_heavy_library():
    assert heavy_modules_loaded_by("helpers.training") == []


def test_helpers_loads_the_module_lazily():
    import helpers

    assert helpers.training is training


def test_progress_bar_is_the_plain_iterable_without_a_front_end(capsys):
    items = range(5)
    for environ in ({}, {"NBGRADER_EXECUTION": "autograde", **LIVE}, {"EX04_INTERACTIVE": "0", **LIVE}):
        assert progress_bar(items, environ=environ, desc="training") is items
    captured = capsys.readouterr()
    assert captured.out == captured.err == ""


def test_progress_bar_is_a_tqdm_bar_with_a_front_end():
    from tqdm.auto import tqdm

    bar = progress_bar(range(3), environ=LIVE, disable=True)
    assert isinstance(bar, tqdm)
    assert list(bar) == [0, 1, 2]


def test_confusion_counts_by_hand():
    counts = confusion_counts([0, 0, 1, 2, 2, 2], np.array([0, 1, 1, 2, 0, 2]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert confusion_counts(torch.tensor([1, 0]), torch.tensor([1, 1])).tolist() == [[0, 1], [0, 1]]
    with pytest.raises(ValueError):
        confusion_counts([0, 1], [0], 2)
    with pytest.raises(ValueError):
        confusion_counts([0, 3], [0, 1], 3)
    with pytest.raises(ValueError):
        confusion_counts([0.5, 1.0], [0, 1], 2)


def test_figures_draw():
    history = {"train_loss": [2.0, 1.0, 0.5], "val_loss": [1.5, 0.8, 0.6], "val_accuracy": [0.5, 0.9, 0.95]}
    assert plot_history(history, title="t", baselines={"SVM": 0.98}) is not None
    with pytest.raises(KeyError):
        plot_history({"train_loss": [1.0]})
    labels, predictions = np.array([0, 1, 2, 3]), np.array([0, 2, 2, 1])
    assert show_confusion(labels, predictions, n_classes=4).sum() == 4
    images = np.random.default_rng(0).random((4, 1, 8, 8))
    wrong = show_misclassified(images, labels, predictions, probabilities=np.full((4, 4), 0.25))
    assert wrong.tolist() == [1, 3]
    assert show_misclassified(images, labels, labels).tolist() == []
    assert show_filters_and_kernels(torch.randn(10, 1, 3, 3), {"a": np.eye(3), "b": -np.eye(3)}) is not None
    with pytest.raises(ValueError):
        show_filters_and_kernels(np.zeros((2, 2, 3, 3, 1)), {})
    assert show_feature_maps(images[0], torch.rand(1, 20, 4, 4), max_maps=6) is not None
    with pytest.raises(ValueError):
        show_feature_maps(images[:2], np.zeros((3, 4, 4)))


def test_save_and_load_round_trip(tmp_path):
    model = small_model()
    path = save_state(model, tmp_path / "model.pt")
    other = small_model()
    with torch.no_grad():
        for p in other.parameters():
            p.add_(1.0)
    assert load_state(other, path) is other
    for a, b in zip(model.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)


def test_load_refuses_another_architecture_and_names_the_mismatch(tmp_path):
    path = save_state(small_model(4), tmp_path / "four.pt")
    target = small_model(6)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(StateFileError) as caught:
        load_state(target, path)
    message = str(caught.value)
    assert str(path) in message and "0.weight" in message and "(4, 1, 3, 3)" in message and "(6, 1, 3, 3)" in message
    unchanged = all(torch.equal(before[k], v) for k, v in target.state_dict().items())
    assert unchanged, "a refused file must not change the model"
    with pytest.raises(StateFileError, match="missing in the file"):
        longer = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 10), nn.Linear(10, 2))
        load_state(longer, path)
    assert issubclass(StateFileError, ValueError)


def test_load_reports_missing_and_broken_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.pt"):
        load_state(small_model(), tmp_path / "nothing.pt")
    broken = tmp_path / "broken.pt"
    broken.write_text("not a tensor file")
    with pytest.raises(StateFileError, match="broken.pt"):
        load_state(small_model(), broken)
    not_a_state = tmp_path / "list.pt"
    torch.save([torch.zeros(2)], not_a_state)
    with pytest.raises(StateFileError, match="state_dict"):
        load_state(small_model(), not_a_state)
    with pytest.raises(FileNotFoundError):
        save_state(small_model(), tmp_path / "no" / "such" / "folder.pt")


def test_module_holds_no_graded_answer():
    # The notebook's tasks (a CNN class, a training loop, evaluation, shape formulas) stay out of helpers.
    names = set(dir(training))
    for forbidden in ("train", "evaluate", "DigitCNN", "layer_shapes", "count_parameters", "fit"):
        assert forbidden not in names
