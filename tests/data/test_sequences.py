"""Tests for coursepkg.data.sequences: the sequence tasks, the sunspots and windowing."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursepkg.data.sequences import (
    adding_problem,
    binary_sequences,
    copy_task,
    load_sunspots,
    sine_waves,
    windowed,
)

# --- sine waves ------------------------------------------------------------------------------------


def test_sine_waves_shapes_and_determinism():
    x, y = sine_waves(16, length=30, rng=0)
    assert x.shape == (16, 30, 1) and y.shape == (16, 1)
    assert x.dtype == y.dtype == np.float32
    x2, y2 = sine_waves(16, length=30, rng=0)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(x, sine_waves(16, length=30, rng=1)[0])


@pytest.mark.parametrize("horizon", [1, 3])
def test_sine_targets_continue_the_wave(horizon):
    """A pure sinusoid obeys s[t+1] = 2 cos(w) s[t] - s[t-1]; fit cos(w) on x and extrapolate."""
    x, y = sine_waves(64, length=40, horizon=horizon, noise=0.0, rng=2, dtype=np.float64)
    s = np.concatenate([x[:, :, 0], y], axis=1)  # (N, T + H)
    mid, around = s[:, 1:-1], s[:, 2:] + s[:, :-2]
    two_cos = (around * mid).sum(1) / (mid * mid).sum(1)  # least squares, (N,)
    np.testing.assert_allclose(around, two_cos[:, None] * mid, atol=1e-9)
    freq = np.arccos(two_cos / 2) / (2 * np.pi)
    assert np.all((0.02 - 1e-9 <= freq) & (freq <= 0.1 + 1e-9))
    assert np.all(np.abs(s).max(1) <= 1.0)


def test_sine_noise_level():
    x, _ = sine_waves(200, length=50, noise=0.2, rng=3, dtype=np.float64)
    clean, _ = sine_waves(200, length=50, noise=0.0, rng=3, dtype=np.float64)
    assert (x - clean).std() == pytest.approx(0.2, rel=0.05)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"frequency": (0.1, 0.6)}, ValueError, r"`frequency` must satisfy 0.0 <= low <= high <= 0.5"),
        ({"frequency": (0.2, 0.1)}, ValueError, r"`frequency` must satisfy"),
        ({"amplitude": 1.0}, TypeError, r"`amplitude` must be a \(low, high\) pair"),
        ({"noise": -1.0}, ValueError, r"`noise` is a standard deviation"),
        ({"length": 1}, ValueError, r"`length` must be >= 2"),
        ({"horizon": 0}, ValueError, r"`horizon` must be >= 1"),
    ],
)
def test_sine_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        sine_waves(4, **kwargs)


# --- adding problem --------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [2, 3, 50, 101])
def test_adding_problem_layout_and_target(length):
    x, y = adding_problem(500, length=length, rng=4)
    assert x.shape == (500, length, 2) and y.shape == (500,)
    assert x.dtype == y.dtype == np.float32
    values, markers = x[..., 0], x[..., 1]
    assert np.all((0 <= values) & (values < 1))
    assert set(np.unique(markers)) <= {0.0, 1.0}
    assert np.all(markers.sum(1) == 2)  # exactly two markers
    half = length // 2
    assert np.all(markers[:, :half].sum(1) == 1) and np.all(markers[:, half:].sum(1) == 1)
    np.testing.assert_array_equal(y, (values * markers).sum(1, dtype=np.float32))


def test_adding_problem_statistics_and_determinism():
    _, y = adding_problem(20000, length=20, rng=5, dtype=np.float64)
    assert y.mean() == pytest.approx(1.0, abs=0.02)
    assert ((y - 1.0) ** 2).mean() == pytest.approx(1 / 6, rel=0.05)  # the constant-1 baseline MSE
    a, b = adding_problem(10, rng=6), adding_problem(10, rng=6)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], adding_problem(10, rng=7)[0])


def test_adding_problem_errors():
    with pytest.raises(ValueError, match=r"`length` must be >= 2. Received: length=1"):
        adding_problem(3, length=1)
    with pytest.raises(TypeError, match=r"`n` must be an integer"):
        adding_problem(3.0)


# --- copy task -------------------------------------------------------------------------------------


def test_copy_task_hand_example():
    x, y = copy_task(1, length=3, n_symbols=4, delay=2, rng=0)
    blank, delim = 4, 5
    inputs = x[0].argmax(-1)
    s = inputs[:3].tolist()
    assert inputs.tolist() == s + [blank, delim] + [blank] * 3
    assert y[0].tolist() == [blank] * 5 + s


@pytest.mark.parametrize(("length", "n_symbols", "delay"), [(10, 8, 10), (1, 1, 1), (5, 3, 1), (4, 10, 20)])
def test_copy_task_layout(length, n_symbols, delay):
    n = 50
    x, y = copy_task(n, length=length, n_symbols=n_symbols, delay=delay, rng=1)
    total = 2 * length + delay
    assert x.shape == (n, total, n_symbols + 2) and x.dtype == np.float32
    assert y.shape == (n, total) and y.dtype == np.int64
    np.testing.assert_array_equal(x.sum(-1), 1.0)  # one-hot
    inputs = x.argmax(-1)
    blank, delim = n_symbols, n_symbols + 1
    assert np.all(inputs[:, :length] < n_symbols)
    assert np.all(inputs[:, length : length + delay - 1] == blank)
    assert np.all(inputs[:, length + delay - 1] == delim)
    assert np.all(inputs[:, length + delay :] == blank)
    assert np.all(y[:, : length + delay] == blank)
    np.testing.assert_array_equal(y[:, length + delay :], inputs[:, :length])


def test_copy_task_uses_all_symbols_and_is_seeded():
    x, y = copy_task(200, rng=2)
    assert set(np.unique(y[:, -10:])) == set(range(8))
    np.testing.assert_array_equal(y, copy_task(200, rng=2)[1])
    assert not np.array_equal(y, copy_task(200, rng=3)[1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"length": 0}, r"`length` must be >= 1"),
        ({"n_symbols": 0}, r"`n_symbols` must be >= 1"),
        ({"delay": 0}, r"`delay` must be >= 1"),
    ],
)
def test_copy_task_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        copy_task(2, **kwargs)


# --- binary sequences ------------------------------------------------------------------------------


def test_binary_sequences_rule_and_balance():
    x, y = binary_sequences(4000, rng=8)
    assert x.shape == (4000, 10, 1) and x.dtype == np.float32
    assert y.shape == (4000,) and y.dtype == np.int64
    np.testing.assert_array_equal(y, (x.sum(axis=(1, 2), dtype=np.float64) > 5).astype(np.int64))
    assert 0.47 < y.mean() < 0.53
    np.testing.assert_array_equal(x, binary_sequences(4000, rng=8)[0])
    assert binary_sequences(3, length=7, rng=0)[0].shape == (3, 7, 1)


def test_binary_sequences_documented_baselines():
    """The docstring's numbers: 61% from the last step alone, 89% from all steps but the last."""
    x, y = binary_sequences(200_000, rng=9, dtype=np.float64)
    last_only = ((x[:, -1, 0] > 0.5) == y).mean()
    all_but_last = ((x[:, :-1, 0].sum(1) > 4.5) == y).mean()
    assert last_only == pytest.approx(0.61, abs=0.01)
    assert all_but_last == pytest.approx(0.89, abs=0.01)


# --- sunspots and windowing ------------------------------------------------------------------------


def test_load_sunspots():
    years, values = load_sunspots()
    assert years.shape == values.shape == (309,)
    assert years.dtype == values.dtype == np.float64
    np.testing.assert_array_equal(years, np.arange(1700.0, 2009.0))
    assert values[:5].tolist() == [5.0, 11.0, 16.0, 23.0, 36.0]  # 1700-1704
    assert values.min() >= 0 and 150 < values.max() < 200
    assert load_sunspots(dtype=np.float32)[1].dtype == np.float32


def test_windowed_hand_example():
    x, y = windowed(np.arange(6), window=3, horizon=2)
    assert x.shape == (2, 3, 1) and y.shape == (2, 2) and x.dtype == np.float64
    assert x[:, :, 0].tolist() == [[0, 1, 2], [1, 2, 3]]
    assert y.tolist() == [[3, 4], [4, 5]]
    assert windowed(np.zeros(5, dtype=np.float32), 2)[0].dtype == np.float32


@settings(max_examples=50, deadline=None, derandomize=True)
@given(length=st.integers(2, 40), window=st.integers(1, 20), horizon=st.integers(1, 5))
def test_windowed_property(length, window, horizon):
    s = np.random.default_rng(length).normal(size=length)
    if window + horizon > length:
        with pytest.raises(ValueError, match=r"too short"):
            windowed(s, window, horizon)
        return
    x, y = windowed(s, window, horizon)
    n = length - window - horizon + 1
    assert x.shape == (n, window, 1) and y.shape == (n, horizon)
    for i in range(n):
        np.testing.assert_array_equal(x[i, :, 0], s[i : i + window])
        np.testing.assert_array_equal(y[i], s[i + window : i + window + horizon])
    x[0, 0, 0] = np.nan  # a copy, not a view
    assert not np.isnan(s).any()


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((np.zeros((5, 1)), 2), ValueError, r"must be 1-D of shape \(T,\), got shape \(5, 1\).*ravel"),
        ((np.zeros(5), 5), ValueError, r"length 5 is too short for window=5 and horizon=1.*at least .* = 6"),
        ((np.zeros(5), 0), ValueError, r"`window` must be >= 1"),
        ((np.zeros(5), 2, 0), ValueError, r"`horizon` must be >= 1"),
        ((["a", "b"], 1), TypeError, r"`series` must hold real numbers"),
    ],
)
def test_windowed_errors(args, error, match):
    with pytest.raises(error, match=match):
        windowed(*args)
