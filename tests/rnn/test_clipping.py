"""Tests of coursepkg.rnn.clipping against torch.nn.utils.clip_grad_norm_ / clip_grad_value_."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from coursepkg.rnn import clip_grad_norm, clip_grad_value, rnn_backward, rnn_forward


def _random_grads(rng, dtype=np.float64):
    shapes = [(3, 4), (5,), (2, 1, 3), ()][: rng.integers(1, 5)]
    return [np.array(rng.standard_normal(s) * rng.uniform(0.1, 3), dtype=dtype) for s in shapes]


def _torch_clip_norm(grads, max_norm, norm_type):
    params = [torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g.copy())
    total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    return float(total), [p.grad.numpy() for p in params]


def test_clip_grad_norm_by_hand():
    g = [np.array([3.0, 0.0]), np.array([[4.0]])]
    assert clip_grad_norm(g, 1.0) == 5.0
    np.testing.assert_allclose(g[0], [3.0 / (5 + 1e-6), 0.0], rtol=1e-15)
    np.testing.assert_allclose(g[1], [[4.0 / (5 + 1e-6)]], rtol=1e-15)
    # below the threshold: returned norm, arrays untouched (scale exactly 1)
    g = [np.array([3.0, 0.0]), np.array([[4.0]])]
    assert clip_grad_norm(g, 10.0) == 5.0
    np.testing.assert_array_equal(g[0], [3.0, 0.0])


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 2.0, 1e3])  # the last one is above every norm: no change
@pytest.mark.parametrize("seed", range(4))
def test_clip_grad_norm_matches_torch(norm_type, max_norm, seed):
    rng = np.random.default_rng(seed)
    grads = _random_grads(rng)
    before = [g.copy() for g in grads]
    expected_total, expected = _torch_clip_norm(grads, max_norm, norm_type)
    ids = [id(g) for g in grads]
    total = clip_grad_norm(grads, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    assert total == pytest.approx(expected_total, rel=1e-12)
    assert [id(g) for g in grads] == ids  # in place
    for g, e, b in zip(grads, expected, before):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=0)
        if max_norm == 1e3:
            np.testing.assert_array_equal(g, b)


@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_clip_grad_norm_float32_matches_torch(norm_type):
    grads = _random_grads(np.random.default_rng(11), np.float32)
    expected_total, expected = _torch_clip_norm(grads, 0.3, norm_type)
    total = clip_grad_norm(grads, 0.3, norm_type=norm_type)
    assert total == pytest.approx(expected_total, rel=1e-6)
    for g, e in zip(grads, expected):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, e, rtol=1e-6)


def test_clip_grad_norm_single_array_empty_list_and_none_entries():
    g = np.array([6.0, 8.0])
    assert clip_grad_norm(g, 5.0) == 10.0
    np.testing.assert_allclose(g, [3.0, 4.0], rtol=1e-6)
    assert clip_grad_norm([], 1.0) == 0.0
    # the gradients of a bias-free layer contain None: skipped, like torch's parameters without .grad
    _, cache = rnn_forward(np.ones((1, 2, 1)), None, np.ones((1, 1)), np.ones((1, 1)))
    grads = rnn_backward(np.ones((1, 2, 1)), cache)
    total = clip_grad_norm(list(grads), 1e-3)
    assert total > 0 and grads.dbias_ih is None
    arrays = [g for g in grads if g is not None]
    assert np.sqrt(sum(np.sum(a * a) for a in arrays)) == pytest.approx(1e-3, rel=1e-5)


@pytest.mark.parametrize("clip_value", [0.1, 1.0, 100.0])
@pytest.mark.parametrize("seed", range(3))
def test_clip_grad_value_matches_torch(clip_value, seed):
    grads = _random_grads(np.random.default_rng(seed))
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g.copy())
    torch.nn.utils.clip_grad_value_(params, clip_value)
    assert clip_grad_value(grads, clip_value) is None
    for g, p in zip(grads, params):
        np.testing.assert_array_equal(g, p.grad.numpy())


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"max_norm": 0.0}, ValueError, r"clip_grad_norm: `max_norm` must be > 0. Received: max_norm=0.0"),
        ({"max_norm": -1}, ValueError, r"`max_norm` must be > 0. Received: max_norm=-1.0"),
        ({"max_norm": float("nan")}, ValueError, r"`max_norm` must be > 0"),
        ({"max_norm": "1"}, TypeError, r"`max_norm` must be a real number. Received: max_norm='1'"),
        ({"max_norm": 1.0, "norm_type": 0}, ValueError, r"`norm_type` must be > 0"),
        ({"max_norm": 1.0, "norm_type": "fro"}, TypeError, r"`norm_type` must be a real number"),
    ],
)
def test_clip_grad_norm_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        clip_grad_norm([np.ones(3)], **kwargs)


def test_clip_errors_on_arrays_that_cannot_change_in_place():
    with pytest.raises(TypeError, match=r"clip_grad_norm: grads\[1\] must have a floating dtype .* int64"):
        clip_grad_norm([np.ones(2), np.ones(2, dtype=np.int64)], 1.0)
    with pytest.raises(TypeError, match=r"clip_grad_value: grads\[0\] must be a NumPy array because it is changed in place"):
        clip_grad_value([[1.0, 2.0]], 1.0)
    with pytest.raises(TypeError, match=r"`grads` must be a list \(or tuple\) of NumPy arrays"):
        clip_grad_norm({"w": np.ones(2)}, 1.0)
    with pytest.raises(ValueError, match=r"clip_grad_value: `clip_value` must be > 0. Received: clip_value=-1.0"):
        clip_grad_value([np.ones(2)], -1.0)
    ro = np.ones(2)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"grads\[0\] is read-only"):
        clip_grad_norm([ro], 1.0)


@pytest.mark.parametrize("bad", [math.inf, math.nan])
@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_clip_grad_norm_non_finite_like_torch(bad, norm_type):
    grads = [np.array([1.0, bad, -2.0]), np.array([3.0])]
    expected_total, expected = _torch_clip_norm(grads, 1.0, norm_type)
    total = clip_grad_norm(grads, 1.0, norm_type=norm_type)
    np.testing.assert_equal(total, expected_total)  # inf or nan, as torch
    for g, e in zip(grads, expected):
        np.testing.assert_array_equal(g, e)  # NaN where torch has NaN
