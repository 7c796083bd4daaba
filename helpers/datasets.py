"""Real datasets as arrays, tensors and DataLoaders: scikit-learn's handwritten digits.

Introduced in ``05_equivariance``, used again in ``06_pytorch_cnn``.

The digits are the 1797 grey 8 x 8 images of ``sklearn.datasets.load_digits``, which ship inside
the scikit-learn wheel (nothing is downloaded). Their pixels are integers from 0 to 16; here they
become floats in [0, 1], shaped ``(N, 1, 8, 8)`` as a convolution layer expects (one channel).

The split into training, validation and test images is **fixed**: it depends only on its seed
and its fractions, never on the order in which a notebook calls things, and it is
**stratified**: every part holds the same share of every digit as the whole set, up to rounding
(less than one image per class in the validation and test parts, less than two in training). Shuffling the training batches is a separate, seeded choice of
:func:`digits_loaders`.

NumPy is the only library imported with the module; scikit-learn loads on the first call that
needs the images, PyTorch only in :func:`as_tensors` and :func:`digits_loaders`.

Functions
---------
``digits_arrays()``
    All 1797 images and labels, in scikit-learn's order.
``digits_split(seed=0, val_fraction=0.15, test_fraction=0.25)``
    The fixed stratified split: named parts ``train``, ``val`` and ``test``.
``as_tensors(part)``
    One part as a pair of tensors ``(images, labels)``.
``digits_loaders(batch_size=64, seed=0, ...)``
    DataLoaders for the three parts; the training loader shuffles with a seeded generator.
"""

import functools
import numbers
from typing import NamedTuple

import numpy as np

__all__ = ["DIGITS_CLASSES", "DIGITS_SHAPE", "DIGITS_MAX", "DigitsPart", "DigitsSplit", "DigitsLoaders",
           "digits_arrays", "digits_split", "as_tensors", "digits_loaders"]

#: Number of classes (the digits 0 to 9).
DIGITS_CLASSES = 10
#: Height and width of one image.
DIGITS_SHAPE = (8, 8)
#: Largest raw pixel value of ``load_digits``: images are divided by it to land in [0, 1].
DIGITS_MAX = 16.0


class DigitsPart(NamedTuple):
    """One part of the split (training, validation or test images).

    Attributes
    ----------
    images : numpy.ndarray of float, shape (N, 1, 8, 8)
        Grey values in [0, 1]; axis 1 is the single channel.
    labels : numpy.ndarray of int64, shape (N,)
        The digit shown by each image, 0 to 9.
    indices : numpy.ndarray of int64, shape (N,)
        Position of each image in ``sklearn.datasets.load_digits()`` (and in :func:`digits_arrays`).
    """

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray


class DigitsSplit(NamedTuple):
    """The three disjoint parts returned by :func:`digits_split`."""

    train: DigitsPart
    val: DigitsPart
    test: DigitsPart


class DigitsLoaders(NamedTuple):
    """The three DataLoaders returned by :func:`digits_loaders`."""

    train: object
    val: object
    test: object


@functools.lru_cache(maxsize=1)
def _raw_digits():
    # Read the CSV inside scikit-learn once per process; callers get copies.
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float64)
    labels = np.asarray(bunch.target, dtype=np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _check_dtype(dtype):
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise ValueError(f"dtype must be a floating-point type such as np.float32, not {dtype!r}") from error
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating-point type such as np.float32, not {dtype}")
    return dtype


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return int(value)


def _check_fraction(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number between 0 and 1, not {type(value).__name__} {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be at least 0 and less than 1, not {value}")
    return float(value)


def digits_arrays(dtype=np.float32):
    """All 1797 digit images and their labels, in scikit-learn's order.

    Parameters
    ----------
    dtype : numpy float dtype, optional
        Type of the images; ``np.float32`` (PyTorch's default) unless given.

    Returns
    -------
    images : numpy.ndarray of ``dtype``, shape (1797, 1, 8, 8)
        Grey values in [0, 1]: the raw values 0 to 16 divided by 16.
    labels : numpy.ndarray of int64, shape (1797,)
        The digit in each image, 0 to 9.

    Raises
    ------
    ValueError
        If ``dtype`` is not a floating-point type.
    """
    dtype = _check_dtype(dtype)
    images, labels = _raw_digits()
    return (images / DIGITS_MAX).astype(dtype)[:, None], labels.copy()


def _stratified_counts(class_sizes, fraction):
    # How many images of each class go into a part of `fraction` of the whole: the total is
    # round(fraction * N), shared out by largest remainder so every class gets its share up to one.
    class_sizes = np.asarray(class_sizes)
    total = int(round(fraction * class_sizes.sum()))
    exact = fraction * class_sizes
    counts = np.floor(exact).astype(np.int64)
    # Ties broken by class index (a stable sort), so the counts never depend on anything else.
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:total - counts.sum()]] += 1
    return counts


def digits_split(seed=0, val_fraction=0.15, test_fraction=0.25, dtype=np.float32):
    """A fixed, stratified split of the digits into training, validation and test images.

    Each class is shuffled on its own by ``np.random.default_rng(seed)``; the first images of the
    shuffled class go to the test part, the next to the validation part, the rest to training.
    The numbers per class are chosen so that the test part has ``round(test_fraction * 1797)``
    images and the validation part ``round(val_fraction * 1797)``, with every class represented
    in proportion (off by less than one image per class in those two parts, less than two in
    the training part, which gets the rest). The same arguments always give the same split.

    Parameters
    ----------
    seed : int, optional
        Seed of the shuffle (non-negative). The default split of the unit uses 0.
    val_fraction : float, optional
        Share of the images for validation, in [0, 1).
    test_fraction : float, optional
        Share of the images for testing, in [0, 1).
    dtype : numpy float dtype, optional
        Type of the images; ``np.float32`` unless given.

    Returns
    -------
    DigitsSplit
        Named parts ``train``, ``val`` and ``test``, each a :class:`DigitsPart` with ``images``
        of shape (N, 1, 8, 8) in [0, 1], ``labels`` of shape (N,) and ``indices`` of shape (N,)
        into :func:`digits_arrays` (sorted, disjoint, together covering all 1797 images).

    Raises
    ------
    TypeError
        If ``seed`` is not an integer or a fraction is not a number.
    ValueError
        If ``seed`` is negative, a fraction lies outside [0, 1), or the fractions leave some
        class without a training image.

    Examples
    --------
    >>> split = digits_split()
    >>> split.train.images.shape, split.val.images.shape, split.test.images.shape
    ((1078, 1, 8, 8), (270, 1, 8, 8), (449, 1, 8, 8))
    """
    seed = _check_int(seed, "seed", 0)
    val_fraction = _check_fraction(val_fraction, "val_fraction")
    test_fraction = _check_fraction(test_fraction, "test_fraction")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"val_fraction + test_fraction must be less than 1 (training needs images), "
                         f"not {val_fraction} + {test_fraction}")
    images, labels = digits_arrays(dtype)
    classes, class_sizes = np.unique(labels, return_counts=True)
    n_test = _stratified_counts(class_sizes, test_fraction)
    n_val = _stratified_counts(class_sizes, val_fraction)
    if np.any(n_test + n_val >= class_sizes):
        raise ValueError(f"val_fraction={val_fraction} and test_fraction={test_fraction} leave some class "
                         "without a training image; make them smaller")
    rng = np.random.default_rng(seed)
    parts = {"train": [], "val": [], "test": []}
    for digit, k_test, k_val in zip(classes, n_test, n_val):
        members = rng.permutation(np.flatnonzero(labels == digit))
        parts["test"].append(members[:k_test])
        parts["val"].append(members[k_test:k_test + k_val])
        parts["train"].append(members[k_test + k_val:])

    def make(chosen):
        indices = np.sort(np.concatenate(chosen)).astype(np.int64)
        return DigitsPart(images=images[indices], labels=labels[indices], indices=indices)

    return DigitsSplit(train=make(parts["train"]), val=make(parts["val"]), test=make(parts["test"]))


def as_tensors(part):
    """One part of the split as PyTorch tensors.

    Parameters
    ----------
    part : DigitsPart or tuple (images, labels[, indices])
        For example ``digits_split().test``.

    Returns
    -------
    images : torch.Tensor, shape (N, 1, 8, 8)
        The images, with the dtype of ``part.images`` (float32 by default); a copy.
    labels : torch.Tensor of int64, shape (N,)

    Raises
    ------
    ValueError
        If the images are not of shape (N, 1, 8, 8) or the labels not of shape (N,).
    """
    import torch

    images, labels = np.asarray(part[0]), np.asarray(part[1])
    if images.ndim != 4 or images.shape[1:] != (1, *DIGITS_SHAPE):
        raise ValueError(f"images must have shape (N, 1, 8, 8), not {images.shape}")
    if labels.shape != (images.shape[0],):
        raise ValueError(f"labels must have shape ({images.shape[0]},) to match the images, not {labels.shape}")
    return torch.tensor(images), torch.tensor(labels, dtype=torch.int64)


def digits_loaders(batch_size=64, seed=0, *, split_seed=0, val_fraction=0.15, test_fraction=0.25):
    """DataLoaders of the fixed digits split, with reproducible shuffling.

    The training loader reshuffles its images at every pass (epoch) with a ``torch.Generator``
    seeded by ``seed``, so a training run sees the same batches in the same order every time it
    is repeated with the same seed. The validation and test loaders keep the order of the split.
    All three load in the main process (``num_workers=0``): nothing to start, nothing to seed.

    Parameters
    ----------
    batch_size : int, optional
        Images per batch (at least 1); the last batch of a pass may be smaller.
    seed : int, optional
        Seed of the training loader's shuffle (non-negative).
    split_seed, val_fraction, test_fraction : optional
        Passed to :func:`digits_split` as ``seed``, ``val_fraction`` and ``test_fraction``: keep
        the defaults to use the unit's split.

    Returns
    -------
    DigitsLoaders
        Named ``train``, ``val`` and ``test``; each yields pairs ``(images, labels)`` of a float32
        tensor of shape (B, 1, 8, 8) and an int64 tensor of shape (B,).

    Raises
    ------
    TypeError
        If ``batch_size`` or a seed is not an integer.
    ValueError
        If ``batch_size`` is less than 1, a seed is negative, or the fractions are invalid
        (see :func:`digits_split`).
    """
    batch_size = _check_int(batch_size, "batch_size", 1)
    seed = _check_int(seed, "seed", 0)
    split = digits_split(split_seed, val_fraction, test_fraction)
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    def loader(part, shuffle):
        generator = torch.Generator().manual_seed(seed) if shuffle else None
        return DataLoader(TensorDataset(*as_tensors(part)), batch_size=batch_size, shuffle=shuffle,
                          generator=generator, num_workers=0)

    return DigitsLoaders(train=loader(split.train, True), val=loader(split.val, False), test=loader(split.test, False))
