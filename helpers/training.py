"""Progress bars, figures and model files for training a network.

Introduced in ``06_pytorch_cnn``. The module holds what a training notebook needs *around* its
graded work: a progress bar that stays out of stored outputs, the figures that show what a
trained CNN does (learning curves, confusion matrix, misclassified images, first-layer filters,
feature maps), and saving and loading a model's weights with a clear error for a file that does
not fit. It contains no training loop, no evaluation function, no network and no shape or
parameter formula: those are the notebook's tasks.

NumPy is the only library imported with the module; Matplotlib, PyTorch and tqdm load on first use.

Functions
---------
``progress_bar(iterable, ...)``
    A tqdm bar with a live front end; the iterable itself (nothing printed) under nbgrader,
    nbval or ``jupyter nbconvert --execute``, and where tqdm is not installed.
``confusion_counts(labels, predictions, n_classes)``
    The confusion matrix as counts (rows: true class, columns: predicted class).
``plot_history(history, ...)``
    Loss and accuracy curves from the dictionary a training loop returns.
``show_confusion(labels, predictions, ...)``
    The confusion matrix as an annotated figure.
``show_misclassified(images, labels, predictions, ...)``
    A grid of the wrongly classified images with true and predicted labels.
``show_filters_and_kernels(filters, kernels, ...)``
    Learnt first-layer filters next to hand-made kernels (the sheet's Sobel and Laplace).
``show_feature_maps(image, maps, ...)``
    One input image and the feature maps a layer makes of it.
``save_state(model, path)`` / ``load_state(model, path)``
    A model's ``state_dict`` to a file and back; :class:`StateFileError` names the file and
    every mismatching key and shape when the file does not fit the model.
"""

import math

import numpy as np

from .widgets import frontend_attached

__all__ = ["StateFileError", "progress_bar", "confusion_counts", "plot_history", "show_confusion",
           "show_misclassified", "show_filters_and_kernels", "show_feature_maps", "save_state", "load_state"]


class StateFileError(ValueError):
    """A weights file that cannot be loaded into the given model (wrong architecture, not a
    state_dict, or not a PyTorch file at all)."""


def progress_bar(iterable, *, environ=None, **kwargs):
    """Wrap ``iterable`` in a tqdm progress bar when somebody is watching.

    With a live Jupyter front end (see :func:`helpers.widgets.frontend_attached`) this is
    ``tqdm.auto.tqdm(iterable, **kwargs)``. Without one (nbgrader, nbval, ``jupyter nbconvert
    --execute``, a plain script) it returns ``iterable`` unchanged and prints nothing, so stored
    outputs hold no bar, no timings and nothing on stderr. ``EX04_INTERACTIVE=1`` forces the bar.
    Where tqdm cannot be imported it also returns ``iterable``: the loop runs, without a bar.

    Parameters
    ----------
    iterable : iterable
        What to loop over, e.g. ``range(epochs)``.
    environ : mapping, optional
        Environment to inspect; ``os.environ`` when omitted.
    **kwargs
        Passed to tqdm (``desc``, ``total``, ``leave``, ...); ignored without a front end.

    Returns
    -------
    iterable
        The bar (which yields the items of ``iterable``) or ``iterable`` itself.
    """
    if not frontend_attached(environ):
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # an environment without tqdm still trains, only without the bar
        return iterable
    return tqdm(iterable, **kwargs)


def confusion_counts(labels, predictions, n_classes=None):
    """Count how often each true class was predicted as each class.

    Parameters
    ----------
    labels, predictions : array_like of int, shape (N,)
        True and predicted classes, 0 to ``n_classes - 1`` (NumPy arrays or tensors).
    n_classes : int, optional
        Number of classes; one more than the largest label or prediction when omitted.

    Returns
    -------
    numpy.ndarray of int64, shape (n_classes, n_classes)
        Entry ``[t, p]`` counts the images of class ``t`` predicted as ``p``; the diagonal holds
        the correct ones.
    """
    labels = _as_int_array(labels, "labels")
    predictions = _as_int_array(predictions, "predictions")
    if labels.shape != predictions.shape:
        raise ValueError(f"labels and predictions must have the same shape, not {labels.shape} and {predictions.shape}")
    if n_classes is None:
        n_classes = int(max(labels.max(initial=-1), predictions.max(initial=-1))) + 1
    if labels.size and (min(labels.min(), predictions.min()) < 0 or max(labels.max(), predictions.max()) >= n_classes):
        raise ValueError(f"labels and predictions must lie in 0 .. {n_classes - 1}")
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


def _as_int_array(values, name):
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    values = np.asarray(values)
    if values.ndim != 1 or (values.size and values.dtype.kind not in "iu"):
        raise ValueError(f"{name} must be a 1-D array of integer classes, not shape {values.shape} of {values.dtype}")
    return values.astype(np.int64)


def _to_numpy(values):
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=float)


def plot_history(history, *, title=None, baselines=None):
    """Loss and accuracy per epoch, side by side.

    Parameters
    ----------
    history : dict
        ``"train_loss"``, ``"val_loss"`` and ``"val_accuracy"``: one number per epoch (the
        dictionary the training loop of ``06_pytorch_cnn`` returns). Accuracies are fractions.
    title : str, optional
        Title above both panels.
    baselines : dict of str to float, optional
        Accuracies (fractions) drawn as horizontal dashed lines, e.g. ``{"RBF SVM": 0.982}``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    for key in ("train_loss", "val_loss", "val_accuracy"):
        if key not in history:
            raise KeyError(f"history needs the key {key!r}; it has {sorted(history)}")
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    left.plot(epochs, history["train_loss"], marker=".", label="training (augmented batches)")
    left.plot(epochs, history["val_loss"], marker=".", label="validation")
    left.set_xlabel("epoch")
    left.set_ylabel("cross-entropy loss")
    left.set_yscale("log")
    left.set_title("loss")
    left.legend()
    accuracy = 100 * np.asarray(history["val_accuracy"], dtype=float)
    right.plot(epochs, accuracy, marker=".", color="C1", label="validation")
    for k, (name, value) in enumerate((baselines or {}).items()):
        right.axhline(100 * value, color=f"C{k + 2}", linestyle="--", label=name)
    right.set_xlabel("epoch")
    right.set_ylabel("accuracy (%)")
    right.set_ylim(max(0.0, min(accuracy.min(), 90.0)) - 1, 100.5)
    right.set_title("validation accuracy")
    right.legend(loc="lower right")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_confusion(labels, predictions, *, n_classes=10, ax=None, title="confusion matrix"):
    """Draw the confusion matrix with counts in the cells (diagonal: correct answers).

    Parameters
    ----------
    labels, predictions : array_like of int, shape (N,)
        True and predicted classes.
    n_classes : int
        Number of classes.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.
    title : str
        Axes title; the number of errors is appended.

    Returns
    -------
    numpy.ndarray of int64, shape (n_classes, n_classes)
        The counts drawn (see :func:`confusion_counts`).
    """
    import matplotlib.pyplot as plt

    counts = confusion_counts(labels, predictions, n_classes)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.6, 4.2))
    off_diagonal = counts - np.diag(np.diag(counts))
    # Colour only the mistakes: the diagonal would swamp them.
    ax.imshow(off_diagonal, cmap="Reds", vmin=0, vmax=max(1, off_diagonal.max()))
    dark = max(1, off_diagonal.max()) / 2
    for t in range(n_classes):
        for p in range(n_classes):
            if counts[t, p]:
                colour = "0.45" if t == p else ("white" if counts[t, p] > dark else "black")
                ax.text(p, t, str(counts[t, p]), ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(n_classes))
    ax.set_yticks(range(n_classes))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    errors = int(off_diagonal.sum())
    ax.set_title(f"{title}:\n{errors} error{'' if errors == 1 else 's'} in {int(counts.sum())}")
    return counts


def show_misclassified(images, labels, predictions, *, probabilities=None, max_images=12, columns=6,
                       title="misclassified digits"):
    """A grid of the images whose prediction is wrong.

    Parameters
    ----------
    images : array_like, shape (N, 1, H, W) or (N, H, W)
        The images (grey values, dark strokes drawn dark).
    labels, predictions : array_like of int, shape (N,)
        True and predicted classes.
    probabilities : array_like, shape (N, n_classes), optional
        Predicted probabilities; the confidence of the wrong answer goes into the panel title.
    max_images : int
        At most this many panels, in the order of the images.
    columns : int
        Panels per row.
    title : str
        Figure title; the number of errors is appended.

    Returns
    -------
    numpy.ndarray of int64
        Indices of all misclassified images (also those not drawn).
    """
    import matplotlib.pyplot as plt

    images = _to_numpy(images)
    if images.ndim == 4:
        images = images[:, 0]
    labels = _as_int_array(labels, "labels")
    predictions = _as_int_array(predictions, "predictions")
    wrong = np.flatnonzero(labels != predictions)
    shown = wrong[:max_images]
    columns = max(1, min(columns, len(shown)))
    rows = max(1, math.ceil(len(shown) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(max(1.45 * columns, 4.0), 1.75 * rows + 0.3), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, index in zip(axes.ravel(), shown):
        ax.set_axis_on()                      # a frame shows the image's extent; blank borders are white
        ax.set_xticks([])
        ax.set_yticks([])
        ax.imshow(images[index], cmap="gray_r", vmin=0, vmax=max(1.0, float(images.max())))
        text = f"true {labels[index]}, said {predictions[index]}"
        if probabilities is not None:
            text += f"\n({100 * float(_to_numpy(probabilities)[index, predictions[index]]):.0f}% sure)"
        ax.set_title(text, fontsize=8)
    if not len(shown):
        axes[0, 0].text(0.5, 0.5, "no errors", ha="center", va="center", transform=axes[0, 0].transAxes)
    fig.suptitle(f"{title}: {len(wrong)} of {len(labels)}", fontsize=10)
    fig.tight_layout()
    return wrong


def show_filters_and_kernels(filters, kernels, *, columns=8, title="learnt first-layer filters"):
    """Learnt 3 x 3 filters (top rows) next to hand-made kernels (bottom row), each on its own
    symmetric colour scale (red positive, blue negative), with one colour bar for that scale.

    Parameters
    ----------
    filters : array_like, shape (C, 1, k, k) or (C, k, k)
        The first layer's weights, e.g. ``model.conv1.weight``.
    kernels : dict of str to array_like (k, k)
        Named kernels to compare with, e.g. ``helpers.data.sheet_kernels()``.
    columns : int
        Filters per row.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    filters = _to_numpy(filters)
    if filters.ndim == 4:
        filters = filters[:, 0]
    if filters.ndim != 3:
        raise ValueError(f"filters must have shape (C, 1, k, k) or (C, k, k), not {filters.shape}")
    rows = math.ceil(len(filters) / columns)
    columns = max(columns, len(kernels))
    fig, axes = plt.subplots(rows + 1, columns, figsize=(1.2 * columns + 0.9, 1.3 * (rows + 1) + 0.4), squeeze=False,
                             layout="constrained")
    for ax in axes.ravel():
        ax.set_axis_off()
    for k, (ax, w) in enumerate(zip(axes[:rows].ravel(), filters)):
        limit = max(float(np.abs(w).max()), 1e-12)
        ax.imshow(w, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"filter {k}", fontsize=8)
    for ax, (name, kernel) in zip(axes[rows], kernels.items()):
        kernel = np.asarray(kernel, dtype=float)
        limit = max(float(np.abs(kernel).max()), 1e-12)
        ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(name, fontsize=8, fontweight="bold")
    fig.suptitle(f"{title} (top) and the sheet's kernels (bottom row)", fontsize=10)
    # One bar for all panels: each is scaled to its own largest weight, so colours are fractions of it.
    scale = plt.cm.ScalarMappable(norm=plt.Normalize(-1, 1), cmap="RdBu_r")
    bar = fig.colorbar(scale, ax=axes, shrink=0.5, ticks=[-1, -0.5, 0, 0.5, 1])
    bar.set_label("weight / largest |weight| of its panel", fontsize=8)
    bar.ax.tick_params(labelsize=8)
    return fig


def show_feature_maps(image, maps, *, columns=8, max_maps=16, title="feature maps"):
    """One input image and the feature maps a layer computes from it.

    Parameters
    ----------
    image : array_like, shape (H, W) or (1, H, W) or (1, 1, H, W)
        The input image.
    maps : array_like, shape (C, h, w) or (1, C, h, w)
        The layer's output for this image.
    columns : int
        Maps per row (the image takes the first panel).
    max_maps : int
        Draw at most this many maps (the first ones).
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    image = np.squeeze(_to_numpy(image))
    maps = _to_numpy(maps)
    if maps.ndim == 4:
        maps = maps[0]
    if image.ndim != 2 or maps.ndim != 3:
        raise ValueError(f"need one image (H, W) and maps (C, h, w), not {image.shape} and {maps.shape}")
    maps = maps[:max_maps]
    rows = math.ceil((len(maps) + 1) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.2 * columns, 1.3 * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    axes[0, 0].imshow(image, cmap="gray_r")
    axes[0, 0].set_title("input", fontsize=8, fontweight="bold")
    top = max(float(maps.max()), 1e-12)
    for k, (ax, m) in enumerate(zip(axes.ravel()[1:], maps)):
        ax.imshow(m, cmap="magma", vmin=min(0.0, float(maps.min())), vmax=top)
        ax.set_title(f"channel {k}", fontsize=8)
    fig.suptitle(f"{title} ({maps.shape[1]}×{maps.shape[2]} each, one colour scale)", fontsize=10)
    fig.tight_layout()
    return fig


def save_state(model, path):
    """Save ``model.state_dict()`` (the weights and buffers, not the code) to ``path``.

    Parameters
    ----------
    model : torch.nn.Module
    path : str or os.PathLike
        The file to write; its folder must exist. ``.pt`` is the usual ending.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    import pathlib

    import torch

    path = pathlib.Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save to {path}: the folder {path.parent} does not exist")
    # Tensors on the CPU, so that the file loads on a machine without a GPU.
    state = {key: value.detach().cpu() for key, value in model.state_dict().items()}
    torch.save(state, path)
    return path


def load_state(model, path):
    """Load weights saved by :func:`save_state` into ``model`` (in place) and return it.

    The file must hold exactly the model's keys with exactly its shapes: a file saved from a
    model with other layers or other channel counts is refused, with a message that names the
    file and every key that is missing, unexpected or of the wrong shape. The model is not
    changed when the file is refused.

    Parameters
    ----------
    model : torch.nn.Module
        Built with the same class and arguments as the model that was saved.
    path : str or os.PathLike
        A file written by :func:`save_state` (or ``torch.save(model.state_dict(), path)``).

    Returns
    -------
    torch.nn.Module
        ``model``, now holding the saved weights (on the device of its parameters).

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    StateFileError
        If the file is not a PyTorch file of tensors, or does not match the model.
    """
    import pathlib

    import torch

    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file {path}: save one first with save_state(model, {str(path)!r})")
    expected = model.state_dict()
    device = next((t.device for t in expected.values()), torch.device("cpu"))
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # a truncated file, a text file, a pickle of something else
        raise StateFileError(f"{path} is not a PyTorch weights file that can be loaded safely "
                             f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise StateFileError(f"{path} does not hold a state_dict (a dictionary of tensors) but "
                             f"{type(state).__name__}; save with save_state(model, path)")
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    wrong_shape = [f"{key}: file {tuple(state[key].shape)}, model {tuple(expected[key].shape)}"
                   for key in expected if key in state and state[key].shape != expected[key].shape]
    if missing or unexpected or wrong_shape:
        lines = [f"{path} does not match this {type(model).__name__}: it was saved from a model with other "
                 "layers or other sizes. Build the model with the same class and arguments as the saved one."]
        for name, items in (("wrong shape", wrong_shape), ("missing in the file", missing),
                            ("in the file but not in the model", unexpected)):
            if items:
                more = f"; ... ({len(items)} in all)" if len(items) > 8 else ""
                lines.append(f"  {name}: " + "; ".join(items[:8]) + more)
        raise StateFileError("\n".join(lines))
    model.load_state_dict(state)
    return model

