"""Unit tests for helpers.datasets (the digits of 05_equivariance and 06_pytorch_cnn)."""


import numpy as np
import pytest

from nbtools import heavy_modules_loaded_by
from helpers import datasets
from helpers.datasets import as_tensors, digits_arrays, digits_loaders, digits_split

N_DIGITS = 1797


@pytest.fixture(scope="module")
def split():
    return digits_split()


def test_importing_the_module_loads_no_heavy_library():
    assert heavy_modules_loaded_by("helpers.datasets") == []


def test_helpers_loads_the_module_lazily():
    import helpers

    assert helpers.datasets is datasets


# ------------------------------------------------------------------ arrays


def test_digits_arrays_shapes_types_and_range():
    images, labels = digits_arrays()
    assert images.shape == (N_DIGITS, 1, 8, 8) and images.dtype == np.float32
    assert labels.shape == (N_DIGITS,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(np.unique(labels)) == set(range(10))
    # The raw values are the integers 0..16: scaled by 1/16 exactly.
    assert np.array_equal(images * 16, np.round(images * 16))


def test_digits_arrays_match_scikit_learn():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images, labels = digits_arrays(np.float64)
    assert images.dtype == np.float64
    assert np.array_equal(images[:, 0] * 16, bunch.images)
    assert np.array_equal(labels, bunch.target)


def test_digits_arrays_are_fresh_copies():
    images, labels = digits_arrays()
    images[:] = -1
    labels[:] = -1
    again_images, again_labels = digits_arrays()
    assert again_images.min() == 0.0 and again_labels.min() == 0


@pytest.mark.parametrize("bad", [np.int64, "int32", bool, "not a dtype"])
def test_digits_arrays_rejects_a_non_float_dtype(bad):
    with pytest.raises(ValueError, match="floating-point"):
        digits_arrays(bad)


# ------------------------------------------------------------------ split


def test_split_sizes(split):
    assert [len(part.labels) for part in split] == [1078, 270, 449]
    for part in split:
        n = len(part.labels)
        assert part.images.shape == (n, 1, 8, 8) and part.images.dtype == np.float32
        assert part.labels.shape == (n,) and part.indices.shape == (n,)
    assert round(0.25 * N_DIGITS) == 449 and round(0.15 * N_DIGITS) == 270


@pytest.mark.parametrize("val_fraction, test_fraction",
                         [(0.15, 0.25), (0.1, 0.2), (0.0, 0.3), (0.2, 0.0), (0.33, 0.33)])
def test_split_sizes_follow_the_fractions(val_fraction, test_fraction):
    parts = digits_split(seed=3, val_fraction=val_fraction, test_fraction=test_fraction)
    assert len(parts.test.labels) == round(test_fraction * N_DIGITS)
    assert len(parts.val.labels) == round(val_fraction * N_DIGITS)
    assert sum(len(part.labels) for part in parts) == N_DIGITS
    assert parts.val.images.shape[1:] == (1, 8, 8)  # also when a part is empty


def test_split_is_stratified(split):
    _, labels = digits_arrays()
    whole = np.bincount(labels, minlength=10)
    for part, fraction, rounding in zip(split, (0.6, 0.15, 0.25), (2, 1, 1)):
        counts = np.bincount(part.labels, minlength=10)
        # Every class gets its share of the part, up to rounding: less than one image in the
        # validation and test parts, less than two in training (which gets what is left).
        assert np.all(np.abs(counts - fraction * whole) < rounding), (counts, fraction * whole)
        assert np.allclose(counts / counts.sum(), whole / whole.sum(), atol=0.01)


def test_split_parts_are_disjoint_and_cover_everything(split):
    everything = np.concatenate([part.indices for part in split])
    assert len(np.unique(everything)) == N_DIGITS == len(everything)
    for part in split:
        assert np.all(np.diff(part.indices) > 0)  # sorted, no repeats


def test_split_parts_hold_the_images_they_index(split):
    images, labels = digits_arrays()
    for part in split:
        assert np.array_equal(part.images, images[part.indices])
        assert np.array_equal(part.labels, labels[part.indices])


def test_split_is_deterministic_and_depends_on_its_seed(split):
    again = digits_split(seed=0)
    for a, b in zip(split, again):
        assert np.array_equal(a.indices, b.indices) and np.array_equal(a.images, b.images)
    other = digits_split(seed=1)
    assert not np.array_equal(split.test.indices, other.test.indices)
    assert len(other.test.indices) == len(split.test.indices)


def test_split_does_not_depend_on_numpys_global_state():
    np.random.seed(123)
    first = digits_split().test.indices
    np.random.seed(456)
    np.random.random(10)
    assert np.array_equal(first, digits_split().test.indices)


def test_split_returns_fresh_arrays(split):
    part = digits_split().train
    part.images[:] = 5.0
    assert digits_split().train.images.max() == 1.0


@pytest.mark.parametrize("kwargs, error, message", [
    ({"seed": -1}, ValueError, "seed must be at least 0"),
    ({"seed": 1.5}, TypeError, "seed must be an integer"),
    ({"seed": True}, TypeError, "seed must be an integer"),
    ({"val_fraction": 1.0}, ValueError, "val_fraction must be at least 0 and less than 1"),
    ({"test_fraction": -0.1}, ValueError, "test_fraction must be at least 0"),
    ({"test_fraction": "0.2"}, TypeError, "test_fraction must be a number"),
    ({"val_fraction": 0.5, "test_fraction": 0.5}, ValueError, "must be less than 1"),
    ({"val_fraction": 0.5, "test_fraction": 0.499}, ValueError, "without a training image"),
])
def test_split_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        digits_split(**kwargs)


# ------------------------------------------------------------------ tensors and loaders


def test_as_tensors(split):
    import torch

    images, labels = as_tensors(split.test)
    assert images.shape == (449, 1, 8, 8) and images.dtype == torch.float32
    assert labels.shape == (449,) and labels.dtype == torch.int64
    assert np.array_equal(images.numpy(), split.test.images)
    images[0] = 7.0  # a copy: the split's arrays do not change
    assert split.test.images.max() <= 1.0


def test_as_tensors_rejects_bad_shapes(split):
    with pytest.raises(ValueError, match=r"shape \(N, 1, 8, 8\)"):
        as_tensors((split.test.images[:, 0], split.test.labels))
    with pytest.raises(ValueError, match="labels must have shape"):
        as_tensors((split.test.images, split.test.labels[:-1]))


def test_loaders_batch_shapes_and_sizes():
    import torch

    loaders = digits_loaders(batch_size=100)
    for loader, n in zip(loaders, (1078, 270, 449)):
        shapes = [(tuple(x.shape), tuple(y.shape)) for x, y in loader]
        assert shapes[0] == ((100, 1, 8, 8), (100,))
        assert shapes[-1] == ((n % 100 or 100, 1, 8, 8), (n % 100 or 100,))
        assert sum(s[1][0] for s in shapes) == n
    x, y = next(iter(loaders.train))
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0


def test_loaders_cover_their_part_once_per_pass(split):
    loaders = digits_loaders(batch_size=64)
    seen = np.concatenate([y.numpy() for _, y in loaders.train])
    assert np.array_equal(np.sort(seen), np.sort(split.train.labels))
    test_labels = np.concatenate([y.numpy() for _, y in loaders.test])
    assert np.array_equal(test_labels, split.test.labels)  # evaluation keeps the split's order


def test_loaders_shuffle_deterministically():
    import torch

    def first_pass(seed):
        return torch.cat([x for x, _ in digits_loaders(batch_size=32, seed=seed).train])

    torch.manual_seed(999)  # the global generator plays no part
    a = first_pass(7)
    torch.manual_seed(1)
    b = first_pass(7)
    assert torch.equal(a, b)
    assert not torch.equal(a, first_pass(8))
    # The training loader reshuffles at every pass, reproducibly.
    loader = digits_loaders(batch_size=32, seed=7).train
    pass_1 = torch.cat([x for x, _ in loader])
    pass_2 = torch.cat([x for x, _ in loader])
    assert torch.equal(pass_1, a) and not torch.equal(pass_1, pass_2)


def test_loaders_use_the_main_process():
    loaders = digits_loaders()
    assert all(loader.num_workers == 0 for loader in loaders)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"batch_size": 0}, ValueError, "batch_size must be at least 1"),
    ({"batch_size": 8.0}, TypeError, "batch_size must be an integer"),
    ({"seed": -3}, ValueError, "seed must be at least 0"),
    ({"split_seed": "0"}, TypeError, "seed must be an integer"),
    ({"test_fraction": 1.2}, ValueError, "test_fraction"),
])
def test_loaders_reject_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        digits_loaders(**kwargs)
