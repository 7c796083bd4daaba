"""Unit tests for the file-based datasets of helpers.datasets: MNIST, Fashion-MNIST and CIFAR-10.

Nothing is downloaded: every test writes tiny files in the real formats (IDX for MNIST and
Fashion-MNIST, pickled batches for CIFAR-10) into its own temporary folder, with the writers
below, and torchvision is replaced by a stand-in wherever a download is asked for.
"""

import gzip
import os
import pickle
import struct
import sys
import types
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import helpers
from helpers import datasets
from helpers.datasets import (DATASETS, DatasetCorrupt, DatasetUnavailable, DigitsSplit, Split, as_tensors,
                              dataset_loaders, digits_loaders, digits_split, load_split, read_idx)

N_TRAIN, N_TEST = 30, 10  # three training images of every class, one test image of every class
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte")
CIFAR_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)

# ------------------------------------------------------------------ writers of tiny files

IDX_CODES = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C, "float32": 0x0D, "float64": 0x0E}


def idx_bytes(array, code=None):
    """An array in the IDX format: magic number, big-endian dimensions, big-endian values."""
    array = np.asarray(array)
    code = IDX_CODES[array.dtype.name] if code is None else code
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_file(path, data):
    """Write bytes to ``path``, gzip-compressed when its name ends in .gz."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def mnist_arrays(seed=0):
    """Images (uint8, N x 28 x 28) and labels of a tiny MNIST: every class in both parts.

    Row 0 of every image holds its position in its file, row 1 its label, so that a test can see
    that images, labels and indices stay together.
    """
    rng = np.random.default_rng(seed)
    arrays = {}
    for part, n in (("train", N_TRAIN), ("t10k", N_TEST)):
        labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[:, 0] = np.arange(n, dtype=np.uint8)[:, None]
        images[:, 1] = labels[:, None]
        images[0, 2, :2] = (0, 255)  # the full range of values
        arrays[part] = images, labels
    return arrays


def write_mnist(folder, gz=False, seed=0):
    """The four files of a tiny MNIST in ``folder``; returns the arrays written."""
    arrays = mnist_arrays(seed)
    suffix = ".gz" if gz else ""
    for part, (images, labels) in arrays.items():
        write_file(Path(folder) / f"{part}-images-idx3-ubyte{suffix}", idx_bytes(images))
        write_file(Path(folder) / f"{part}-labels-idx1-ubyte{suffix}", idx_bytes(labels))
    return arrays


def cifar_arrays(seed=0):
    """Five training batches of 4 images (two of every class in all) and a test batch of 10."""
    rng = np.random.default_rng(seed)
    train_labels = rng.permutation(np.arange(20) % 10)
    batches = [(rng.integers(0, 256, size=(4, 3072), dtype=np.uint8), [int(v) for v in train_labels[4 * i:4 * i + 4]])
               for i in range(5)]
    batches.append((rng.integers(0, 256, size=(10, 3072), dtype=np.uint8), [int(v) for v in rng.permutation(10)]))
    return batches


def write_cifar(folder, protocol=2, seed=0):
    """The six pickles of a tiny CIFAR-10 in ``folder`` (bytes keys, as the real ones); returns the batches."""
    batches = cifar_arrays(seed)
    for name, (data, labels) in zip(CIFAR_FILES, batches):
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data,
                 b"filenames": [f"{i}.png".encode() for i in range(len(labels))]}
        write_file(Path(folder) / name, pickle.dumps(batch, protocol=protocol))
    return batches


@pytest.fixture
def mnist_root(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw")
    return tmp_path


def check_stratified_split(split, train_labels, val_fraction):
    """Train and val partition the official training set, stratified; test is the official test set."""
    together = np.concatenate([split.train.indices, split.val.indices])
    assert np.array_equal(np.sort(together), np.arange(len(train_labels)))
    whole = np.bincount(train_labels, minlength=10)
    val_counts = np.bincount(split.val.labels, minlength=10)
    assert len(split.val.labels) == round(val_fraction * len(train_labels))
    assert np.all(np.abs(val_counts - val_fraction * whole) < 1)


# ------------------------------------------------------------------ read_idx


@pytest.mark.parametrize("dtype, shape", [("uint8", (3, 4, 5)), ("int8", (7,)), ("int16", (2, 3)),
                                          ("int32", (4, 1)), ("float32", (2, 2, 2, 2)), ("float64", (5,))])
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_reads_every_data_type(tmp_path, dtype, shape, gz):
    rng = np.random.default_rng(1)
    array = (rng.normal(size=shape) * 100).astype(dtype)
    path = write_file(tmp_path / ("x.idx.gz" if gz else "x.idx"), idx_bytes(array))
    read = read_idx(str(path))
    assert read.dtype == np.dtype(dtype) and read.dtype.isnative and read.shape == shape
    assert np.array_equal(read, array)
    read[...] = 0  # a fresh, writable array


def test_read_idx_of_a_missing_file_and_a_bad_argument(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nothing-here")
    with pytest.raises(TypeError, match="path must be a str"):
        read_idx(3)


def test_read_idx_reads_the_mnist_files(tmp_path):
    arrays = write_mnist(tmp_path, gz=True)
    images = read_idx(tmp_path / "train-images-idx3-ubyte.gz")
    assert images.shape == (N_TRAIN, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(images, arrays["train"][0])
    assert np.array_equal(read_idx(tmp_path / "t10k-labels-idx1-ubyte.gz"), arrays["t10k"][1])


# ------------------------------------------------------------------ MNIST and Fashion-MNIST


@pytest.mark.parametrize("name, folder, gz", [
    ("mnist", "MNIST/raw", False), ("mnist", "MNIST/raw", True), ("mnist", "mnist", True),
    ("fashion-mnist", "FashionMNIST/raw", False), ("fashion-mnist", "FashionMNIST/raw", True),
    ("fashion-mnist", "fashion-mnist", False),
])
def test_load_split_reads_both_layouts_plain_and_gz(tmp_path, name, folder, gz):
    arrays = write_mnist(tmp_path / folder, gz=gz)
    split = load_split(name, root=tmp_path)
    assert isinstance(split, DigitsSplit) and Split is DigitsSplit
    (train_images, train_labels), (test_images, test_labels) = arrays["train"], arrays["t10k"]
    for part in split:
        n = len(part.labels)
        assert part.images.shape == (n, 1, 28, 28) and part.images.dtype == np.float32
        assert part.labels.shape == (n,) and part.labels.dtype == np.int64
        assert part.indices.shape == (n,) and part.indices.dtype == np.int64
        assert part.images.min() >= 0.0 and part.images.max() <= 1.0
        assert set(part.labels.tolist()) <= set(range(10))
    assert split.train.images.min() == 0.0 and split.train.images.max() == 1.0
    # The official test set, in its order; train and val from the official training set.
    assert np.array_equal(split.test.indices, np.arange(N_TEST))
    assert np.array_equal(split.test.labels, test_labels)
    assert np.array_equal(split.test.images[:, 0] * 255, test_images)
    for part in (split.train, split.val):
        assert np.array_equal(part.labels, train_labels[part.indices])
        assert np.array_equal(np.round(part.images[:, 0] * 255), train_images[part.indices])
    check_stratified_split(split, train_labels, 0.15)


def test_load_split_is_deterministic_and_depends_on_its_seed(mnist_root):
    first = load_split("mnist", root=mnist_root)
    again = load_split("mnist", root=mnist_root, seed=0)
    for a, b in zip(first, again):
        assert np.array_equal(a.indices, b.indices) and np.array_equal(a.images, b.images)
    others = [load_split("mnist", root=mnist_root, seed=seed).val.indices for seed in (1, 2, 3)]
    assert any(not np.array_equal(first.val.indices, other) for other in others)
    assert all(len(other) == len(first.val.indices) for other in others)


@pytest.mark.parametrize("val_fraction", [0.0, 0.2, 0.5])
def test_load_split_val_fraction_and_dtype(mnist_root, val_fraction):
    split = load_split("mnist", root=mnist_root, val_fraction=val_fraction, dtype=np.float64)
    assert split.train.images.dtype == np.float64
    assert split.val.images.shape == (round(val_fraction * N_TRAIN), 1, 28, 28)  # also when empty
    check_stratified_split(split, mnist_arrays()["train"][1], val_fraction)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"val_fraction": 0.9}, ValueError, "without a training image"),
    ({"val_fraction": 1.0}, ValueError, "val_fraction must be at least 0 and less than 1"),
    ({"test_fraction": 0.2}, ValueError, "test_fraction applies to 'digits' only"),
    ({"seed": -1}, ValueError, "seed must be at least 0"),
    ({"seed": 0.5}, TypeError, "seed must be an integer"),
    ({"dtype": np.uint8}, ValueError, "floating-point"),
    ({"download": "yes"}, TypeError, "download must be True or False"),
    ({"root": 42}, TypeError, "root must be a str"),
])
def test_load_split_rejects_bad_arguments(mnist_root, kwargs, error, message):
    kwargs = {"root": mnist_root, **kwargs}
    with pytest.raises(error, match=message):
        load_split("mnist", **kwargs)


def test_load_split_prefers_torchvisions_layout_and_plain_files(tmp_path):
    write_mnist(tmp_path / "mnist", seed=1)  # another data set, directly in root/mnist
    arrays = write_mnist(tmp_path / "MNIST" / "raw")
    write_file(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte.gz", b"not gzip")  # as torchvision keeps both
    split = load_split("mnist", root=tmp_path)
    assert np.array_equal(split.test.labels, arrays["t10k"][1])


def test_a_folder_with_all_files_wins_over_an_incomplete_one(tmp_path):
    arrays = write_mnist(tmp_path / "mnist")
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    write_file(tmp_path / "MNIST" / "raw" / MNIST_FILES[0], idx_bytes(arrays["train"][0]))
    assert np.array_equal(load_split("mnist", root=tmp_path).test.labels, arrays["t10k"][1])


def test_default_root_is_ex04_data_else_the_repositorys_data_folder(mnist_root, monkeypatch):
    monkeypatch.setenv("EX04_DATA", str(mnist_root))
    assert len(load_split("mnist").test.labels) == N_TEST
    monkeypatch.delenv("EX04_DATA")
    assert datasets._data_root(None) == Path(helpers.__file__).resolve().parent.parent / "data"
    monkeypatch.setenv("EX04_DATA", str(mnist_root / "elsewhere"))
    with pytest.raises(DatasetUnavailable, match="elsewhere"):
        load_split("mnist")


# ------------------------------------------------------------------ loaders


def test_dataset_loaders_yield_the_split_in_batches(mnist_root):
    import torch

    split = load_split("mnist", root=mnist_root)
    loaders = dataset_loaders("mnist", batch_size=8, root=mnist_root)
    for loader, part in zip(loaders, split):
        batches = list(loader)
        n = len(part.labels)
        assert [len(y) for _, y in batches] == [8] * (n // 8) + ([n % 8] if n % 8 else [])
        x, y = batches[0]
        assert x.shape == (min(n, 8), 1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.int64
        assert loader.num_workers == 0
    assert np.array_equal(np.concatenate([y.numpy() for _, y in loaders.test]), split.test.labels)
    seen = np.concatenate([y.numpy() for _, y in loaders.train])
    assert np.array_equal(np.sort(seen), np.sort(split.train.labels))


def test_dataset_loaders_shuffle_deterministically(mnist_root):
    import torch

    def first_pass(seed):
        return torch.cat([x for x, _ in dataset_loaders("mnist", batch_size=4, seed=seed, root=mnist_root).train])

    torch.manual_seed(5)
    a = first_pass(3)
    torch.manual_seed(6)
    assert torch.equal(a, first_pass(3))
    assert not torch.equal(a, first_pass(4))


def test_dataset_loaders_of_the_digits_are_digits_loaders():
    import torch

    ours, theirs = dataset_loaders("digits", batch_size=256, seed=2), digits_loaders(batch_size=256, seed=2)
    for a, b in zip(ours, theirs):
        assert len(a.dataset) == len(b.dataset)
    x_a, y_a = next(iter(ours.train))
    x_b, y_b = next(iter(theirs.train))
    assert torch.equal(x_a, x_b) and torch.equal(y_a, y_b)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"batch_size": 0}, ValueError, "batch_size must be at least 1"),
    ({"seed": "1"}, TypeError, "seed must be an integer"),
    ({"name": "mnsit"}, ValueError, "Did you mean 'mnist'"),
])
def test_dataset_loaders_reject_bad_arguments(mnist_root, kwargs, error, message):
    kwargs = {"name": "mnist", "root": mnist_root, **kwargs}
    with pytest.raises(error, match=message):
        dataset_loaders(**kwargs)


def test_digits_through_load_split_is_digits_split(tmp_path):
    ours, theirs = load_split(root=tmp_path / "ignored", download=True), digits_split()
    for a, b in zip(ours, theirs):
        assert np.array_equal(a.indices, b.indices) and np.array_equal(a.images, b.images)
    assert len(load_split("digits", seed=1, val_fraction=0.1, test_fraction=0.2).test.labels) == round(0.2 * 1797)


def test_as_tensors_takes_the_shapes_of_every_dataset():
    import torch

    for shape in ((1, 8, 8), (1, 28, 28), (3, 32, 32)):
        images, labels = as_tensors((np.zeros((2, *shape), np.float32), np.array([1, 2])))
        assert images.shape == (2, *shape) and labels.dtype == torch.int64
    with pytest.raises(ValueError, match=r"\(N, 3, 32, 32\)"):
        as_tensors((np.zeros((2, 3, 28, 28), np.float32), np.array([1, 2])))


# ------------------------------------------------------------------ names


@pytest.mark.parametrize("name, suggestion", [("mnsit", "mnist"), ("fashion", "fashion-mnist"), ("cifar", "cifar10"),
                                              ("digit", "digits")])
def test_unknown_name_suggests_the_closest(name, suggestion):
    with pytest.raises(ValueError, match=f"Did you mean '{suggestion}'") as caught:
        load_split(name)
    assert all(repr(known) in str(caught.value) for known in DATASETS)


def test_unknown_name_without_a_close_one_lists_them_all():
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'") as caught:
        load_split("imagenet")
    assert "Did you mean" not in str(caught.value) and "'cifar10'" in str(caught.value)
    with pytest.raises(TypeError, match="name must be a string"):
        load_split(None)


def test_names_ignore_case_and_underscores(tmp_path):
    write_mnist(tmp_path / "FashionMNIST" / "raw")
    assert len(load_split("Fashion_MNIST", root=tmp_path).test.labels) == N_TEST
    assert DATASETS == ("digits", "mnist", "fashion-mnist", "cifar10")


# ------------------------------------------------------------------ corrupt files


def corrupt_mnist(folder, kind):
    """Write a tiny MNIST into ``folder`` and damage it; returns (the damaged file, words of the message)."""
    arrays = write_mnist(folder, gz=kind.startswith("gz"))
    images, labels = arrays["train"]
    path = Path(folder) / ("train-images-idx3-ubyte" + (".gz" if kind.startswith("gz") else ""))
    good = idx_bytes(images)
    if kind == "bad magic":
        write_file(path, b"\x12\x34" + good[2:])
        return path, "bad IDX magic number 0x12340803"
    if kind == "unknown dtype code":
        write_file(path, good[:2] + b"\x07" + good[3:])
        return path, "unknown IDX data type code 0x07"
    if kind == "wrong dtype code":
        write_file(path, idx_bytes(images.astype(np.float32)))
        return path, r"0x0D \(float\), but the images .* are unsigned bytes"
    if kind == "truncated data":
        write_file(path, good[:-5])
        return path, "cut short"
    if kind == "extra data":
        write_file(path, good + b"\x00")
        return path, "longer than its header says"
    if kind == "truncated header":
        write_file(path, good[:9])
        return path, "cut short inside its header"
    if kind == "empty":
        write_file(path, b"")
        return path, "too short for an IDX file"
    if kind == "gz truncated":
        path.write_bytes(path.read_bytes()[:-20])
        return path, "not a valid gzip file"
    if kind == "gz not gzip":
        path.write_bytes(good)
        return path, "not a valid gzip file"
    if kind == "plain name, gzip content":
        path.write_bytes(gzip.compress(good))
        return path, "does not end in .gz"
    if kind == "wrong image size":
        write_file(path, idx_bytes(np.zeros((N_TRAIN, 32, 32), np.uint8)))
        return path, r"28 x 28 pixels"
    if kind == "labels in the images' place":
        write_file(path, idx_bytes(labels))
        return path, "is it a label file"
    path = Path(folder) / "train-labels-idx1-ubyte"
    if kind == "label outside 0..9":
        bad = labels.copy()
        bad[7] = 12
        write_file(path, idx_bytes(bad))
        return path, r"label 12 at position 7 is outside 0\.\.9"
    if kind == "labels not 1-d":
        write_file(path, idx_bytes(labels.reshape(3, 10)))
        return path, "is it an image file"
    if kind == "labels of a wrong dtype":
        write_file(path, idx_bytes(labels.astype(np.int32)))
        return path, r"0x0C \(int\)"
    if kind == "counts differ":
        write_file(path, idx_bytes(labels[:-1]))
        return path, f"holds {N_TRAIN} images but .* holds {N_TRAIN - 1} labels"
    raise AssertionError(kind)


CORRUPTIONS = ["bad magic", "unknown dtype code", "wrong dtype code", "truncated data", "extra data",
               "truncated header", "empty", "gz truncated", "gz not gzip", "plain name, gzip content",
               "wrong image size",
               "labels in the images' place", "label outside 0..9", "labels not 1-d", "labels of a wrong dtype",
               "counts differ"]


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_a_corrupt_mnist_file_raises_dataset_corrupt_naming_it(tmp_path, kind):
    path, words = corrupt_mnist(tmp_path / "MNIST" / "raw", kind)
    with pytest.raises(DatasetCorrupt, match=words) as caught:
        load_split("mnist", root=tmp_path)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("kind", ["bad magic", "unknown dtype code", "truncated data", "empty", "gz truncated"])
def test_read_idx_raises_dataset_corrupt_naming_the_file(tmp_path, kind):
    path, words = corrupt_mnist(tmp_path, kind)
    with pytest.raises(DatasetCorrupt, match=words) as caught:
        read_idx(path)
    assert path.name in str(caught.value)


# ------------------------------------------------------------------ missing files and downloads


def test_missing_files_raise_dataset_unavailable_saying_what_to_get(tmp_path):
    with pytest.raises(DatasetUnavailable) as caught:
        load_split("mnist", root=tmp_path)
    message = str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    assert "'mnist'" in message
    assert str(tmp_path / "MNIST" / "raw") in message and str(tmp_path / "mnist") in message
    assert all(name in message for name in MNIST_FILES)
    assert "pip install torchvision" in message and "download=True" in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in message


def test_a_single_missing_file_is_named(tmp_path):
    write_mnist(tmp_path / "FashionMNIST" / "raw", gz=True)
    (tmp_path / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetUnavailable, match=r"FashionMNIST/raw  \(missing: t10k-labels-idx1-ubyte\)") as caught:
        load_split("fashion-mnist", root=tmp_path)
    assert "fashion-mnist.s3-website" in str(caught.value)


def test_missing_cifar_names_its_folder_and_archive(tmp_path):
    with pytest.raises(DatasetUnavailable) as caught:
        load_split("cifar10", root=tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "cifar-10-batches-py") in message and "test_batch" in message
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in message


def test_download_without_torchvision_raises_dataset_unavailable(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # `import torchvision` now fails everywhere
    with pytest.raises(DatasetUnavailable, match="download=True needs torchvision, which does not import") as caught:
        load_split("mnist", root=tmp_path, download=True)
    assert isinstance(caught.value.__cause__, ImportError)
    assert "pip install torchvision" in str(caught.value) and str(tmp_path / "MNIST" / "raw") in str(caught.value)


def fake_torchvision(monkeypatch, **classes):
    module = types.ModuleType("torchvision")
    module.datasets = types.SimpleNamespace(**classes)
    monkeypatch.setitem(sys.modules, "torchvision", module)
    return module


def test_a_failed_download_raises_dataset_unavailable(tmp_path, monkeypatch):
    def offline(root, train, download):
        raise urllib.error.URLError("no network")

    fake_torchvision(monkeypatch, MNIST=offline)
    with pytest.raises(DatasetUnavailable, match="could not download them .*no network") as caught:
        load_split("mnist", root=tmp_path, download=True)
    assert isinstance(caught.value.__cause__, urllib.error.URLError)


def test_a_download_that_leaves_no_files_raises_dataset_unavailable(tmp_path, monkeypatch):
    fake_torchvision(monkeypatch, FashionMNIST=lambda root, train, download: None)
    with pytest.raises(DatasetUnavailable, match="downloaded without error, but the files are still not there"):
        load_split("fashion-mnist", root=tmp_path, download=True)


def test_download_stores_in_torchvisions_layout_and_reads_with_our_readers(tmp_path, monkeypatch):
    calls = []

    def mnist(root, train, download):
        calls.append((root, train, download))
        write_mnist(Path(root) / "MNIST" / "raw", gz=True)

    def cifar(root, train, download):
        calls.append((root, train, download))
        write_cifar(Path(root) / "cifar-10-batches-py")

    fake_torchvision(monkeypatch, MNIST=mnist, CIFAR10=cifar)
    root = tmp_path / "new"
    assert len(load_split("mnist", root=root, download=True).test.labels) == N_TEST
    assert load_split("cifar10", root=root, download=True).test.images.shape == (10, 3, 32, 32)
    assert calls == [(str(root), True, True)] * 2
    load_split("mnist", root=root, download=True)  # the files are there now: no second download
    assert len(calls) == 2


# ------------------------------------------------------------------ CIFAR-10


@pytest.mark.parametrize("folder, protocol", [("cifar-10-batches-py", 2), ("cifar-10-batches-py", 5), ("cifar10", 4)])
def test_load_split_reads_cifar10(tmp_path, folder, protocol):
    batches = write_cifar(tmp_path / folder, protocol=protocol)
    split = load_split("cifar10", root=tmp_path, val_fraction=0.2)
    train_data = np.concatenate([data for data, _ in batches[:5]]).reshape(-1, 3, 32, 32)
    train_labels = np.concatenate([labels for _, labels in batches[:5]])
    assert [len(part.labels) for part in split] == [16, 4, 10]
    for part in split:
        assert part.images.shape == (len(part.labels), 3, 32, 32) and part.images.dtype == np.float32
        assert 0.0 <= part.images.min() and part.images.max() <= 1.0 and part.labels.dtype == np.int64
    for part in (split.train, split.val):
        assert np.array_equal(np.round(part.images * 255), train_data[part.indices])
        assert np.array_equal(part.labels, train_labels[part.indices])
    assert np.array_equal(split.test.labels, batches[5][1])
    assert np.array_equal(np.round(split.test.images * 255), batches[5][0].reshape(-1, 3, 32, 32))
    check_stratified_split(split, train_labels, 0.2)


def test_cifar10_loaders(tmp_path):
    write_cifar(tmp_path / "cifar-10-batches-py")
    loaders = dataset_loaders("cifar10", batch_size=6, root=tmp_path)
    x, y = next(iter(loaders.train))
    assert tuple(x.shape) == (6, 3, 32, 32) and tuple(y.shape) == (6,)


class _Sneaky:
    def __reduce__(self):
        return os.getcwd, ()  # harmless, but no CIFAR-10 batch ever calls a function like it


def cifar_batch(**changes):
    data, labels = cifar_arrays()[0]
    batch = {"labels": labels, "data": data, **changes}  # a change to None removes the key
    return {key.encode(): value for key, value in batch.items() if value is not None}


@pytest.mark.parametrize("content, words", [
    (b"this is not a pickle", "not a valid CIFAR-10 batch pickle"),
    (pickle.dumps(cifar_batch())[:-30], "not a valid CIFAR-10 batch pickle"),
    (b"", "not a valid CIFAR-10 batch pickle"),
    (pickle.dumps({b"data": _Sneaky()}), "refusing to load it"),
    (pickle.dumps([1, 2, 3]), "holds a list"),
    (pickle.dumps(cifar_batch(labels=None)), "no key b'labels'"),
    (pickle.dumps(cifar_batch(data=np.zeros((4, 1000), np.uint8))), r"shape \(N, 3072\)"),
    (pickle.dumps(cifar_batch(data=np.zeros((4, 3072), np.float32))), "uint8 array"),
    (pickle.dumps(cifar_batch(labels=[1, 2, 3])), "holds 4 images but 3 labels"),
    (pickle.dumps(cifar_batch(labels=[1, 2, 3, 10])), r"label 10 at position 3 is outside 0\.\.9"),
    (pickle.dumps(cifar_batch(labels=["a", "b", "c", "d"])), "must be a list of integers"),
])
def test_a_corrupt_cifar_batch_raises_dataset_corrupt_naming_it(tmp_path, content, words):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar(folder)
    write_file(folder / "data_batch_3", content)
    with pytest.raises(DatasetCorrupt, match=words) as caught:
        load_split("cifar10", root=tmp_path)
    assert str(folder / "data_batch_3") in str(caught.value)
