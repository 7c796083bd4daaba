"""Real datasets as arrays, tensors and DataLoaders: scikit-learn's handwritten digits (offline,
the default) and MNIST, Fashion-MNIST and CIFAR-10 read from their files.

Introduced in ``05_equivariance``, used again in ``06_pytorch_cnn``.

The digits are the 1797 grey 8 x 8 images of ``sklearn.datasets.load_digits``, which ship inside
the scikit-learn wheel (nothing is downloaded). Their pixels are integers from 0 to 16; here they
become floats in [0, 1], shaped ``(N, 1, 8, 8)`` as a convolution layer expects (one channel).

The split into training, validation and test images is **fixed**: it depends only on its seed
and its fractions, never on the order in which a notebook calls things, and it is
**stratified**: every part holds the same share of every digit as the whole set, up to rounding
(less than one image per class in the validation and test parts, less than two in training).
Shuffling the training batches is a separate, seeded choice of :func:`digits_loaders`.

The larger datasets go through the same two calls, :func:`load_split` and
:func:`dataset_loaders`, with the name of the dataset (one of :data:`DATASETS`):

========================  ===================  ====================================================
name                      images               files, in torchvision's layout under ``root``
========================  ===================  ====================================================
``"digits"``              (1797, 1, 8, 8)      none: inside scikit-learn
``"mnist"``               (70000, 1, 28, 28)   ``MNIST/raw/``: the four IDX files (``.gz`` or not)
``"fashion-mnist"``       (70000, 1, 28, 28)   ``FashionMNIST/raw/``: the four IDX files
``"cifar10"``             (60000, 3, 32, 32)   ``cifar-10-batches-py/``: ``data_batch_1`` to ``_5``,
                                               ``test_batch``
========================  ===================  ====================================================

MNIST and Fashion-MNIST are also found directly in ``root/mnist`` and ``root/fashion-mnist``
(CIFAR-10 in ``root/cifar10``), for files downloaded by hand. Their test part is the official
test set; the validation part is a stratified, seeded share of the official training set. The
files are read by this module's own readers (:func:`read_idx` and a CIFAR reader that unpickles
NumPy arrays only), so torchvision is needed only to download them (``download=True``, where
torchvision imports); without it, or without a network, a :class:`DatasetUnavailable` says which
files to put where. ``root`` defaults to the environment variable ``EX04_DATA``, else the folder
``data`` of the repository (git-ignored).

NumPy is the only library imported with the module; scikit-learn loads on the first call that
needs the digits, PyTorch only in :func:`as_tensors` and the loaders, torchvision only to download.

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
``load_split(name="digits", root=None, *, download=False, seed=0, ...)``
    The fixed stratified split of any dataset in :data:`DATASETS`.
``dataset_loaders(name="digits", batch_size=64, seed=0, root=None, *, download=False, ...)``
    DataLoaders for the three parts of any dataset, shuffled like :func:`digits_loaders`.
``read_idx(path)``
    One file in the IDX format of MNIST (plain or ``.gz``) as a NumPy array.

Exceptions
----------
``DatasetUnavailable``
    The files of a dataset are not there (a ``FileNotFoundError``); says what to download where.
``DatasetCorrupt``
    A file is there but not valid (a ``ValueError``); says which file and what is wrong.
"""

import difflib
import functools
import gzip
import importlib
import math
import numbers
import os
import pickle
import struct
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = ["DIGITS_CLASSES", "DIGITS_SHAPE", "DIGITS_MAX", "DATASETS", "DigitsPart", "DigitsSplit", "Split",
           "DigitsLoaders", "DatasetUnavailable", "DatasetCorrupt",
           "digits_arrays", "digits_split", "as_tensors", "digits_loaders",
           "read_idx", "load_split", "dataset_loaders"]

#: Number of classes (the digits 0 to 9).
DIGITS_CLASSES = 10
#: Height and width of one image.
DIGITS_SHAPE = (8, 8)
#: Largest raw pixel value of ``load_digits``: images are divided by it to land in [0, 1].
DIGITS_MAX = 16.0
#: Names accepted by :func:`load_split` and :func:`dataset_loaders`.
DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")


class DigitsPart(NamedTuple):
    """One part of the split (training, validation or test images).

    Attributes
    ----------
    images : numpy.ndarray of float, shape (N, C, H, W)
        Grey or colour values in [0, 1]; (N, 1, 8, 8) for the digits, (N, 1, 28, 28) for MNIST
        and Fashion-MNIST, (N, 3, 32, 32) for CIFAR-10. Axis 1 holds the channels.
    labels : numpy.ndarray of int64, shape (N,)
        The class of each image, 0 to 9.
    indices : numpy.ndarray of int64, shape (N,)
        Position of each image in its source: for the digits in ``sklearn.datasets.load_digits()``
        (and in :func:`digits_arrays`); for the other datasets in the official training set (parts
        ``train`` and ``val``) or in the official test set (part ``test``).
    """

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray


class DigitsSplit(NamedTuple):
    """The three disjoint parts returned by :func:`digits_split` and :func:`load_split`."""

    train: DigitsPart
    val: DigitsPart
    test: DigitsPart


#: Another name for :class:`DigitsSplit`, for datasets other than the digits.
Split = DigitsSplit


class DigitsLoaders(NamedTuple):
    """The three DataLoaders returned by :func:`digits_loaders` and :func:`dataset_loaders`."""

    train: object
    val: object
    test: object


class DatasetUnavailable(FileNotFoundError):
    """The files of a dataset are not on this machine (and could not be downloaded).

    The message names the dataset, the folders and files looked for, and how to get them.
    """


class DatasetCorrupt(ValueError):
    """A file of a dataset exists but is not valid; the message names the file and the fault."""


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


def _stratified_indices(labels, seed, val_fraction, test_fraction, too_small):
    # Positions in `labels` of the three parts, each sorted: every class is shuffled on its own by
    # default_rng(seed); its first images go to test, the next to validation, the rest to training.
    # `too_small` is the message of the ValueError raised when a class would keep no training image.
    classes, class_sizes = np.unique(labels, return_counts=True)
    n_test = _stratified_counts(class_sizes, test_fraction)
    n_val = _stratified_counts(class_sizes, val_fraction)
    if np.any(n_test + n_val >= class_sizes):
        raise ValueError(too_small)
    rng = np.random.default_rng(seed)
    parts = {"train": [], "val": [], "test": []}
    for label, k_test, k_val in zip(classes, n_test, n_val):
        members = rng.permutation(np.flatnonzero(labels == label))
        parts["test"].append(members[:k_test])
        parts["val"].append(members[k_test:k_test + k_val])
        parts["train"].append(members[k_test + k_val:])
    return {name: np.sort(np.concatenate(chosen)).astype(np.int64) for name, chosen in parts.items()}


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
    parts = _stratified_indices(labels, seed, val_fraction, test_fraction,
                                f"val_fraction={val_fraction} and test_fraction={test_fraction} leave some class "
                                "without a training image; make them smaller")

    def make(indices):
        return DigitsPart(images=images[indices], labels=labels[indices], indices=indices)

    return DigitsSplit(train=make(parts["train"]), val=make(parts["val"]), test=make(parts["test"]))


#: Shape (C, H, W) of one image of each dataset, in the order of DATASETS.
_IMAGE_SHAPES = {"digits": (1, *DIGITS_SHAPE), "mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28),
                 "cifar10": (3, 32, 32)}


def as_tensors(part):
    """One part of a split as PyTorch tensors.

    Parameters
    ----------
    part : DigitsPart or tuple (images, labels[, indices])
        For example ``digits_split().test`` or ``load_split("mnist").val``.

    Returns
    -------
    images : torch.Tensor, shape (N, C, H, W)
        The images, with the dtype of ``part.images`` (float32 by default); a copy. (N, 1, 8, 8)
        for the digits, (N, 1, 28, 28) for MNIST and Fashion-MNIST, (N, 3, 32, 32) for CIFAR-10.
    labels : torch.Tensor of int64, shape (N,)

    Raises
    ------
    ValueError
        If the images are not of one of those shapes or the labels not of shape (N,).
    """
    import torch

    images, labels = np.asarray(part[0]), np.asarray(part[1])
    if images.ndim != 4 or images.shape[1:] not in _IMAGE_SHAPES.values():
        raise ValueError(f"images must have shape (N, 1, 8, 8) (digits), (N, 1, 28, 28) (MNIST, Fashion-MNIST) "
                         f"or (N, 3, 32, 32) (CIFAR-10), not {images.shape}")
    if labels.shape != (images.shape[0],):
        raise ValueError(f"labels must have shape ({images.shape[0]},) to match the images, not {labels.shape}")
    return torch.tensor(images), torch.tensor(labels, dtype=torch.int64)


def _make_loaders(split, batch_size, seed):
    # The three DataLoaders of a split: only the training one shuffles, with its own seeded generator.
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    def loader(part, shuffle):
        generator = torch.Generator().manual_seed(seed) if shuffle else None
        return DataLoader(TensorDataset(*as_tensors(part)), batch_size=batch_size, shuffle=shuffle,
                          generator=generator, num_workers=0)

    return DigitsLoaders(train=loader(split.train, True), val=loader(split.val, False), test=loader(split.test, False))


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

    See Also
    --------
    dataset_loaders : the same for MNIST, Fashion-MNIST and CIFAR-10.
    """
    batch_size = _check_int(batch_size, "batch_size", 1)
    seed = _check_int(seed, "seed", 0)
    split = digits_split(split_seed, val_fraction, test_fraction)
    return _make_loaders(split, batch_size, seed)


# ---------------------------------------------------------------------------- files on disk

#: IDX data type codes (third byte of the magic number): name and big-endian NumPy type.
_IDX_TYPES = {0x08: ("unsigned byte", ">u1"), 0x09: ("signed byte", ">i1"), 0x0B: ("short", ">i2"),
              0x0C: ("int", ">i4"), 0x0D: ("float", ">f4"), 0x0E: ("double", ">f8")}
_IDX_CODE_LIST = ", ".join(f"0x{code:02X} ({kind})" for code, (kind, _) in _IDX_TYPES.items())


def _as_path(path, what="path"):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be a str or a pathlib.Path, not {type(path).__name__} {path!r}")
    return Path(path).expanduser()


def _read_file_bytes(path):
    # The bytes of a file, gunzipped when its name ends in .gz. A missing file raises the usual
    # FileNotFoundError; a damaged gzip stream raises DatasetCorrupt.
    with open(path, "rb") as file:
        if path.suffix != ".gz":
            return file.read()
        try:
            with gzip.GzipFile(fileobj=file, mode="rb") as unzipped:
                return unzipped.read()
        except (OSError, EOFError, zlib.error) as error:
            raise DatasetCorrupt(f"{path}: not a valid gzip file ({type(error).__name__}: {error}); it may be "
                                 "cut short by an interrupted download: delete it and download it again") from error


def read_idx(path):
    """Read one file in the IDX format of MNIST, plain or gzip-compressed.

    An IDX file starts with a big-endian magic number: two zero bytes, a data type code
    (``0x08`` unsigned byte, ``0x09`` signed byte, ``0x0B`` short, ``0x0C`` int, ``0x0D`` float,
    ``0x0E`` double) and the number of dimensions ``ndim``; then ``ndim`` sizes as big-endian
    unsigned 32-bit integers; then the values, big-endian, in C order. MNIST's image files have
    the magic number ``0x00000803`` (unsigned bytes, three dimensions), its label files
    ``0x00000801``.

    Parameters
    ----------
    path : str or pathlib.Path
        The file; a name ending in ``.gz`` is decompressed while reading.

    Returns
    -------
    numpy.ndarray, shape given by the header
        The values in native byte order (``uint8`` for MNIST's files); a fresh, writable array.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    DatasetCorrupt
        If the file is not valid: not gzip although named ``.gz`` (or cut short), gzip-compressed
        although not named ``.gz``, a bad magic number, an unknown data type code, or a size that
        does not match the header. The message names the file and the fault.

    Examples
    --------
    >>> images = read_idx("data/MNIST/raw/train-images-idx3-ubyte.gz")  # doctest: +SKIP
    >>> images.shape, images.dtype  # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    path = _as_path(path)
    raw = _read_file_bytes(path)
    if len(raw) < 4:
        raise DatasetCorrupt(f"{path}: only {len(raw)} bytes, too short for an IDX file (its magic number alone "
                             "takes 4 bytes); it may be cut short: delete it and download it again")
    magic = int.from_bytes(raw[:4], "big")
    if raw[:2] == b"\x1f\x8b":
        raise DatasetCorrupt(f"{path}: gzip-compressed, but its name does not end in .gz; rename it to "
                             f"{path.name}.gz or unpack it (gunzip)")
    if raw[0] != 0 or raw[1] != 0:
        raise DatasetCorrupt(f"{path}: bad IDX magic number 0x{magic:08X}; an IDX file starts with two zero bytes, "
                             "a data type code and the number of dimensions (0x00000803 for MNIST's images, "
                             "0x00000801 for its labels)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise DatasetCorrupt(f"{path}: unknown IDX data type code 0x{code:02X} in the magic number 0x{magic:08X}; "
                             f"the codes are {_IDX_CODE_LIST}")
    if ndim == 0:
        raise DatasetCorrupt(f"{path}: the magic number 0x{magic:08X} declares 0 dimensions; "
                             "an IDX file has at least one")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetCorrupt(f"{path}: cut short inside its header: {len(raw)} bytes, but the header of an IDX file "
                             f"with {ndim} dimensions takes {header}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    kind, fmt = _IDX_TYPES[code]
    dtype = np.dtype(fmt)
    count = math.prod(dims)
    expected, actual = count * dtype.itemsize, len(raw) - header
    if actual != expected:
        shape = " x ".join(map(str, dims))
        problem = "cut short" if actual < expected else "longer than its header says"
        raise DatasetCorrupt(f"{path}: {problem}: the header announces {shape} values of type {kind} "
                             f"({expected} bytes after the header), but the file holds {actual}")
    return np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _idx_code(dtype):
    # The IDX code of a native dtype read by read_idx, for messages.
    for code, (kind, fmt) in _IDX_TYPES.items():
        if np.dtype(fmt).newbyteorder("=") == dtype:
            return f"0x{code:02X} ({kind})"
    return str(dtype)


def _check_labels(labels, path):
    bad = np.flatnonzero((labels < 0) | (labels >= DIGITS_CLASSES))
    if bad.size:
        raise DatasetCorrupt(f"{path}: label {labels[bad[0]]} at position {bad[0]} is outside 0..9 "
                             f"({bad.size} such label{'s' if bad.size > 1 else ''}); the file may be damaged")


def _read_mnist_pair(images_path, labels_path, image_shape):
    # Images (N, 1, H, W) as uint8 and labels (N,) as int64 from one image file and one label file.
    images = read_idx(images_path)
    if images.dtype != np.uint8:
        raise DatasetCorrupt(f"{images_path}: IDX data type code {_idx_code(images.dtype)}, but the images of MNIST "
                             "and Fashion-MNIST are unsigned bytes, code 0x08 (magic number 0x00000803)")
    height, width = image_shape[1:]
    if images.ndim != 3 or images.shape[1:] != (height, width):
        hint = "; is it a label file?" if images.ndim == 1 else ""
        raise DatasetCorrupt(f"{images_path}: holds an array of shape {images.shape}, but an image file holds N images "
                             f"of {height} x {width} pixels, shape (N, {height}, {width}){hint}")
    labels = read_idx(labels_path)
    if labels.dtype != np.uint8:
        raise DatasetCorrupt(f"{labels_path}: IDX data type code {_idx_code(labels.dtype)}, but the labels of MNIST "
                             "and Fashion-MNIST are unsigned bytes, code 0x08 (magic number 0x00000801)")
    if labels.ndim != 1:
        raise DatasetCorrupt(f"{labels_path}: holds an array of shape {labels.shape}, but a label file holds N labels, "
                             "shape (N,); is it an image file?")
    _check_labels(labels, labels_path)
    if len(images) != len(labels):
        raise DatasetCorrupt(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels; "
                             "the two files must come from the same download")
    return images[:, None], labels.astype(np.int64)


#: The only globals a CIFAR-10 batch pickle refers to (a dict of NumPy arrays, lists and bytes).
_PICKLE_GLOBALS = frozenset({("_codecs", "encode"), ("numpy", "ndarray"), ("numpy", "dtype"),
                             ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                             ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
                             ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer")})


class _ArrayUnpickler(pickle.Unpickler):
    # Unpickles NumPy arrays and plain Python data only: a pickle can run any code while it loads,
    # and a CIFAR-10 batch never needs more than these few globals.

    def find_class(self, module, name):
        if (module, name) not in _PICKLE_GLOBALS:
            raise pickle.UnpicklingError(f"it refers to {module}.{name}, which a CIFAR-10 batch never does; "
                                         "refusing to load it")
        if module.startswith(("numpy.core.", "numpy._core.")):
            # numpy.core was renamed numpy._core in NumPy 2; pickles name either.
            tail = module.split(".", 2)[2]
            for package in ("numpy._core", "numpy.core"):
                try:
                    return getattr(importlib.import_module(f"{package}.{tail}"), name)
                except (ImportError, AttributeError):
                    continue
        return super().find_class(module, name)


def _read_cifar_batch(path):
    # Images (N, 3, 32, 32) as uint8 and labels (N,) as int64 from one CIFAR-10 batch pickle.
    with open(path, "rb") as file:
        try:
            batch = _ArrayUnpickler(file, encoding="bytes").load()
        except Exception as error:  # a damaged pickle fails in many ways: report them all alike
            raise DatasetCorrupt(f"{path}: not a valid CIFAR-10 batch pickle "
                                 f"({type(error).__name__}: {error})") from error
    if not isinstance(batch, dict):
        raise DatasetCorrupt(f"{path}: holds a {type(batch).__name__}, but a CIFAR-10 batch is a dict with the keys "
                             "b'data' and b'labels'")
    batch = {key.decode("latin-1") if isinstance(key, bytes) else key: value for key, value in batch.items()}
    for key in ("data", "labels"):
        if key not in batch:
            raise DatasetCorrupt(f"{path}: no key b'{key}' in the CIFAR-10 batch (its keys: "
                                 f"{', '.join(sorted(map(str, batch)))})")
    data = batch["data"]
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2 and data.shape[1] == 3072):
        found = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DatasetCorrupt(f"{path}: b'data' must be a uint8 array of shape (N, 3072) (N images of 3 x 32 x 32 "
                             f"values), not a {found}")
    try:
        labels = np.asarray(batch["labels"])
    except Exception as error:
        raise DatasetCorrupt(f"{path}: b'labels' is not a list of integers ({error})") from error
    if labels.size == 0:
        labels = labels.astype(np.int64)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DatasetCorrupt(f"{path}: b'labels' must be a list of integers, not {labels.dtype} values of shape "
                             f"{labels.shape}")
    _check_labels(labels, path)
    if len(labels) != len(data):
        raise DatasetCorrupt(f"{path}: holds {len(data)} images but {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


# ---------------------------------------------------------------------------- the datasets

_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_CIFAR_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


class _Source(NamedTuple):
    # Where the files of one dataset lie and how to get them.
    title: str  # the dataset's usual name
    folders: tuple  # folders under root looked in, in this order; the first is torchvision's
    files: tuple
    gz: bool  # whether each file may also be name + ".gz"
    torchvision: str  # class in torchvision.datasets that downloads them
    by_hand: str  # how to download them by hand; {folder} and {root} are filled in
    urls: tuple  # what to download by hand


_MNIST_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_FASHION_MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

_SOURCES = {
    "mnist": _Source(
        "MNIST", ("MNIST/raw", "mnist"), _MNIST_FILES, True, "MNIST",
        "download by hand these four files (torchvision's mirror of http://yann.lecun.com/exdb/mnist/) and put them, "
        "compressed or unpacked, in {folder}:",
        tuple(f"{_MNIST_MIRROR}{file}.gz" for file in _MNIST_FILES)),
    "fashion-mnist": _Source(
        "Fashion-MNIST", ("FashionMNIST/raw", "fashion-mnist"), _MNIST_FILES, True, "FashionMNIST",
        "download by hand these four files (see https://github.com/zalandoresearch/fashion-mnist) and put them, "
        "compressed or unpacked, in {folder}:",
        tuple(f"{_FASHION_MIRROR}{file}.gz" for file in _MNIST_FILES)),
    "cifar10": _Source(
        "CIFAR-10", ("cifar-10-batches-py", "cifar10"), _CIFAR_FILES, False, "CIFAR10",
        "download by hand the python version of CIFAR-10 (163 MB) and unpack it in {root} "
        "(tar -xzf cifar-10-python.tar.gz -C {root}), which creates {folder}:",
        ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",)),
}

_ALIASES = {"fashionmnist": "fashion-mnist", "cifar-10": "cifar10"}


def _dataset_name(name):
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, one of {', '.join(map(repr, DATASETS))}, "
                        f"not {type(name).__name__} {name!r}")
    key = name.strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key in DATASETS:
        return key
    close = difflib.get_close_matches(key, DATASETS, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown dataset {name!r}.{hint} The datasets are {', '.join(map(repr, DATASETS))}.")


def _data_root(root):
    # The folder under which the datasets' files lie: root, else $EX04_DATA, else <repo>/data.
    if root is None:
        root = os.environ.get("EX04_DATA", "").strip() or Path(__file__).resolve().parent.parent / "data"
    return _as_path(root, "root").absolute()


def _find_files(source, root):
    # The paths of all the files of a dataset, from the first folder that holds them all (plain
    # preferred to .gz), else None; and one line per folder looked in, saying what is missing.
    report = []
    for relative in source.folders:
        folder = root / relative
        if not folder.is_dir():
            report.append(f"  {folder}  (no such folder)")
            continue
        found, missing = {}, []
        for name in source.files:
            candidates = [folder / name, folder / f"{name}.gz"] if source.gz else [folder / name]
            existing = [path for path in candidates if path.is_file()]
            if existing:
                found[name] = existing[0]
            else:
                missing.append(name)
        if not missing:
            return found, report
        report.append(f"  {folder}  (missing: {', '.join(missing)})")
    return None, report


def _unavailable(name, source, root, report, reason=None):
    files = ", ".join(source.files) + (" (each plain or gzip-compressed as .gz)" if source.gz else "")
    folder = root / source.folders[0]
    lines = [f"The files of the dataset {name!r} ({source.title}) are not on this machine.", "Looked in:", *report,
             f"for the files {files}."]
    if reason:
        lines.append(reason)
    lines += ["To get them, either",
              f"  - where torchvision imports (pip install torchvision) and the network is reachable, call "
              f"load_split({name!r}, root={str(root)!r}, download=True), which stores them in {folder}, or",
              "  - " + source.by_hand.format(folder=folder, root=root),
              *(f"      {url}" for url in source.urls),
              "The data folder is the argument root, else the environment variable EX04_DATA, else the folder data "
              "of the repository; nothing else is read."]
    return DatasetUnavailable("\n".join(lines))


def _download(name, source, root):
    # Fetch the files with torchvision into its own layout under root; DatasetUnavailable if that fails.
    try:
        torchvision = importlib.import_module("torchvision")
    except Exception as error:  # not installed, or its compiled part fails to load (e.g. no CUDA)
        _, report = _find_files(source, root)
        raise _unavailable(name, source, root, report,
                           f"download=True needs torchvision, which does not import here ({type(error).__name__}: "
                           f"{error}).") from error
    dataset_class = getattr(torchvision.datasets, source.torchvision)
    try:
        root.mkdir(parents=True, exist_ok=True)
        dataset_class(str(root), train=True, download=True)
    except Exception as error:  # no network, a mirror down, a full disk, ...
        _, report = _find_files(source, root)
        raise _unavailable(name, source, root, report,
                           f"download=True failed: torchvision.datasets.{source.torchvision} could not download them "
                           f"({type(error).__name__}: {error}). Is the network reachable?") from error
    found, report = _find_files(source, root)
    if found is None:
        raise _unavailable(name, source, root, report,
                           f"torchvision.datasets.{source.torchvision} downloaded without error, but the files are "
                           "still not there.")
    return found


def _read_dataset(name, root, download):
    # ((train images, train labels), (test images, test labels)): uint8 (N, C, H, W) and int64 (N,).
    source = _SOURCES[name]
    found, report = _find_files(source, root)
    if found is None:
        if not download:
            raise _unavailable(name, source, root, report)
        found = _download(name, source, root)
    if name == "cifar10":
        batches = [_read_cifar_batch(found[file]) for file in _CIFAR_FILES[:5]]
        train = (np.concatenate([images for images, _ in batches]), np.concatenate([labels for _, labels in batches]))
        return train, _read_cifar_batch(found["test_batch"])
    shape = _IMAGE_SHAPES[name]
    train = _read_mnist_pair(found[_MNIST_FILES[0]], found[_MNIST_FILES[1]], shape)
    test = _read_mnist_pair(found[_MNIST_FILES[2]], found[_MNIST_FILES[3]], shape)
    return train, test


def load_split(name="digits", root=None, *, download=False, seed=0, val_fraction=0.15, test_fraction=None,
               dtype=np.float32):
    """A fixed, stratified split of a dataset into training, validation and test images.

    ``"digits"`` is :func:`digits_split` (offline, nothing read from disk). For ``"mnist"``,
    ``"fashion-mnist"`` and ``"cifar10"`` the files are read from ``root`` (see the module's
    table; torchvision's layout, or directly ``root/<name>``); the test part is the official test
    set, in its order, and the validation part a stratified share ``val_fraction`` of the official
    training set, chosen per class by ``np.random.default_rng(seed)`` as in :func:`digits_split`.
    The training part is the rest of the official training set. Pixels are divided by 255.

    Parameters
    ----------
    name : str, optional
        One of :data:`DATASETS` (case and ``_`` for ``-`` do not matter).
    root : str or pathlib.Path, optional
        Folder holding the files; default: the environment variable ``EX04_DATA``, else the
        folder ``data`` of the repository. Ignored for ``"digits"``.
    download : bool, optional
        If the files are missing, fetch them with torchvision (where it imports and the network
        is reachable) into ``root``, in torchvision's layout, then read them. Ignored for
        ``"digits"``.
    seed : int, optional
        Seed of the split (non-negative).
    val_fraction : float, optional
        Share for validation, in [0, 1): of all 1797 digits, or of the official training set of
        the other datasets (0.15 of MNIST's 60000 is 9000).
    test_fraction : float, optional
        Share of the digits for testing (default 0.25); only for ``"digits"``, whose test part is
        not given. The other datasets use their official test set.
    dtype : numpy float dtype, optional
        Type of the images; ``np.float32`` unless given.

    Returns
    -------
    DigitsSplit
        Named parts ``train``, ``val`` and ``test`` (:class:`DigitsPart`): ``images`` of shape
        (N, 1, 8, 8) for the digits, (N, 1, 28, 28) for MNIST and Fashion-MNIST, (N, 3, 32, 32)
        for CIFAR-10, in [0, 1]; ``labels`` (N,) int64 in 0..9; ``indices`` (N,) into the source
        (see :class:`DigitsPart`).

    Raises
    ------
    ValueError
        If ``name`` is not a known dataset (the message suggests the closest name), an argument
        is out of range, or ``test_fraction`` is given for a dataset other than the digits.
    TypeError
        If an argument has the wrong type.
    DatasetUnavailable
        If the files are missing (and ``download`` is false, torchvision does not import, or the
        download fails): the message names the folders and files looked for and how to get them.
    DatasetCorrupt
        If a file is there but not valid: the message names the file and the fault.

    Examples
    --------
    >>> split = load_split("digits")
    >>> split.test.images.shape
    (449, 1, 8, 8)
    >>> mnist = load_split("mnist", download=True)  # doctest: +SKIP
    >>> [len(part.labels) for part in mnist]  # doctest: +SKIP
    [51000, 9000, 10000]
    """
    name = _dataset_name(name)
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, not {type(download).__name__} {download!r}")
    if name == "digits":
        return digits_split(seed, val_fraction, 0.25 if test_fraction is None else test_fraction, dtype)
    if test_fraction is not None:
        raise ValueError(f"test_fraction applies to 'digits' only: the test part of {name!r} is its official "
                         "test set")
    seed = _check_int(seed, "seed", 0)
    val_fraction = _check_fraction(val_fraction, "val_fraction")
    dtype = _check_dtype(dtype)
    root = _data_root(root)
    (train_images, train_labels), (test_images, test_labels) = _read_dataset(name, root, download)
    parts = _stratified_indices(train_labels, seed, val_fraction, 0.0,
                                f"val_fraction={val_fraction} leaves some class of {name!r} without a training "
                                "image; make it smaller")

    def make(images, labels, indices):
        scaled = images[indices].astype(dtype)  # index first: only the chosen images become floats
        scaled /= 255
        return DigitsPart(images=scaled, labels=labels[indices], indices=indices)

    return DigitsSplit(train=make(train_images, train_labels, parts["train"]),
                       val=make(train_images, train_labels, parts["val"]),
                       test=make(test_images, test_labels, np.arange(len(test_labels), dtype=np.int64)))


def dataset_loaders(name="digits", batch_size=64, seed=0, root=None, *, download=False, split_seed=0,
                    val_fraction=0.15, test_fraction=None):
    """DataLoaders of the fixed split of a dataset, with reproducible shuffling.

    The same as :func:`digits_loaders` for any dataset of :data:`DATASETS`:
    ``dataset_loaders("digits")`` gives exactly the batches of ``digits_loaders()``. The
    training loader reshuffles at every pass with a ``torch.Generator`` seeded by ``seed``; the
    validation and test loaders keep the order of the split; all load in the main process.

    Parameters
    ----------
    name : str, optional
        One of :data:`DATASETS`.
    batch_size : int, optional
        Images per batch (at least 1); the last batch of a pass may be smaller.
    seed : int, optional
        Seed of the training loader's shuffle (non-negative).
    root, download : optional
        Where the files lie and whether to download missing ones: see :func:`load_split`.
    split_seed, val_fraction, test_fraction : optional
        Passed to :func:`load_split` as ``seed``, ``val_fraction`` and ``test_fraction``.

    Returns
    -------
    DigitsLoaders
        Named ``train``, ``val`` and ``test``; each yields pairs ``(images, labels)`` of a float32
        tensor of shape (B, C, H, W) and an int64 tensor of shape (B,).

    Raises
    ------
    TypeError, ValueError, DatasetUnavailable, DatasetCorrupt
        As :func:`load_split`; also if ``batch_size`` is not an integer of at least 1 or ``seed``
        not a non-negative integer.
    """
    batch_size = _check_int(batch_size, "batch_size", 1)
    seed = _check_int(seed, "seed", 0)
    split = load_split(name, root, download=download, seed=split_seed, val_fraction=val_fraction,
                       test_fraction=test_fraction)
    return _make_loaders(split, batch_size, seed)
