"""Tests for coursepkg.data.digits: the scikit-learn digits and the stratified split."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursepkg.data.digits import DataSplit, load_digits, load_digits_split, train_test_split


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_default_shapes_dtypes_and_range(digits):
    x, y = digits
    assert x.shape == (1797, 1, 8, 8) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_values_are_sklearn_grey_levels_over_16(digits):
    from sklearn.datasets import load_digits as sk_load

    bunch = sk_load()
    np.testing.assert_array_equal(digits[0][:, 0], (bunch.images / 16).astype(np.float32))
    np.testing.assert_array_equal(digits[1], bunch.target)


@pytest.mark.parametrize("size", [4, 5, 8, 16, 28])
@pytest.mark.parametrize("channels_last", [False, True])
def test_sizes_and_layouts(size, channels_last):
    x, y = load_digits(size=size, channels_last=channels_last)
    expected = (1797, size, size, 1) if channels_last else (1797, 1, size, size)
    assert x.shape == expected and x.dtype == np.float32 and x.flags.c_contiguous
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert y.shape == (1797,)


def test_resizing_keeps_the_picture(digits):
    x8 = digits[0][:, 0]
    x28 = load_digits(size=28)[0][:, 0]
    # the mean grey level of every digit survives bilinear upsampling
    np.testing.assert_allclose(x28.mean(axis=(1, 2)), x8.mean(axis=(1, 2)), atol=0.03)
    # sampled where the original pixel centres land, (j + 0.5) * 28 / 8 - 0.5, the picture is the original
    centres = np.round((np.arange(8) + 0.5) * 3.5 - 0.5).astype(int)  # [1, 5, 8, 12, 15, 19, 22, 26]
    assert np.abs(x28[:, centres][:, :, centres] - x8).mean() < 0.05


def test_dtype_float64():
    assert load_digits(dtype=np.float64)[0].dtype == np.float64


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"size": 3}, ValueError, r"`size` must be >= 4. Received: size=3"),
        ({"size": 8.0}, TypeError, r"`size` must be an integer"),
        ({"size": True}, TypeError, r"`size` must be an integer"),
        ({"dtype": np.int32}, TypeError, r"`dtype` must be a floating dtype.*Received: dtype=int32"),
    ],
)
def test_load_digits_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_digits(**kwargs)


def test_split_is_a_stratified_partition(digits):
    x, y = digits
    idx = np.arange(len(y))
    split = train_test_split(idx, y, test_fraction=0.25, rng=0)
    assert isinstance(split, DataSplit)
    tr, y_tr, te, y_te = split
    assert sorted(np.concatenate([tr, te]).tolist()) == idx.tolist()
    np.testing.assert_array_equal(y[tr], y_tr)
    np.testing.assert_array_equal(y[te], y_te)
    expected_test = [round(0.25 * c) for c in np.bincount(y)]
    assert np.bincount(y_te).tolist() == expected_test
    assert y_tr.dtype == y_te.dtype == np.int64


def test_split_is_deterministic_per_seed_and_shuffled(digits):
    x, y = digits
    a = train_test_split(x, y, rng=3)
    b = train_test_split(x, y, rng=3)
    c = train_test_split(x, y, rng=4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a.y_test, c.y_test)
    assert not np.all(np.diff(a.y_train) >= 0)  # not left sorted by class
    g = np.random.default_rng(0)
    assert not np.array_equal(train_test_split(x, y, rng=g).y_test, train_test_split(x, y, rng=g).y_test)


def test_load_digits_split_defaults():
    x_tr, y_tr, x_te, y_te = load_digits_split(size=28, channels_last=True)
    assert x_tr.shape == (1347, 28, 28, 1) and x_te.shape == (450, 28, 28, 1)
    assert y_tr.shape == (1347,) and y_te.shape == (450,)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    counts=st.lists(st.integers(2, 30), min_size=1, max_size=6),
    fraction=st.floats(0.01, 0.99),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_property(counts, fraction, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    tr, y_tr, te, y_te = train_test_split(np.arange(y.size), y, test_fraction=fraction, rng=seed)
    assert sorted(np.concatenate([tr, te]).tolist()) == list(range(y.size))
    for cls, n_cls in enumerate(counts):
        n_test = int((y_te == cls).sum())
        assert 1 <= n_test <= n_cls - 1
        assert n_test == min(max(round(fraction * n_cls), 1), n_cls - 1)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((np.zeros((4, 2)), np.array([0, 0, 1, 1])), {"test_fraction": 0.0}, ValueError, r"strictly between 0 and 1"),
        ((np.zeros((4, 2)), np.array([0, 0, 1, 1])), {"test_fraction": 1}, ValueError, r"Received: test_fraction=1"),
        ((np.zeros((4, 2)), np.array([0, 0, 1, 1])), {"test_fraction": "0.5"}, TypeError, r"must be a float"),
        ((np.zeros((4, 2)), np.array([0, 0, 1])), {}, ValueError, r"same length N.*images.shape=\(4, 2\)"),
        ((np.zeros((4, 2)), np.zeros((4, 1), dtype=int)), {}, ValueError, r"must be 1-D.*labels.ravel\(\)"),
        ((np.zeros((4, 2)), np.array([0.0, 0, 1, 1])), {}, TypeError, r"integer class labels.*float64"),
        ((np.zeros((1, 2)), np.array([0])), {}, ValueError, r"empty test set.*at least two samples"),
        ((np.zeros((4, 2)), np.array([0, 0, 1, 1])), {"rng": "seed"}, TypeError, r"`rng` must be None"),
    ],
)
def test_split_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        train_test_split(*args, **kwargs)
