"""Pooling forward and backward against PyTorch, TensorFlow and central differences, padding included."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from coursepkg.gradcheck import assert_grad_close, numerical_gradient
from coursepkg.ops import (
    avg_pool2d,
    avg_pool2d_backward,
    global_avg_pool2d,
    global_max_pool2d,
    lp_pool2d,
    max_pool2d,
    max_pool2d_backward,
    stochastic_pool2d,
    sum_pool2d,
)

from ..frameworks import F, tf, tf_pool, torch_grads
from .strategies import pool_cases, tolerance

SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(pool_cases())
def test_max_pool_matches_pytorch_and_tensorflow(case):
    x = case.array()
    y = max_pool2d(x, case.size, case.stride, case.padding)
    assert y.dtype == case.dtype
    np.testing.assert_array_equal(y, F.max_pool2d(torch.from_numpy(x), case.size, case.stride, case.padding).numpy())
    np.testing.assert_array_equal(y, tf_pool(x, "max", case.size, case.stride, case.padding))


@SETTINGS
@given(pool_cases(), st.booleans())
def test_avg_pool_matches_pytorch_in_both_padding_modes(case, count_include_pad):
    x = case.array()
    y = avg_pool2d(x, case.size, case.stride, case.padding, count_include_pad=count_include_pad)
    expected = F.avg_pool2d(
        torch.from_numpy(x), case.size, case.stride, case.padding, count_include_pad=count_include_pad
    ).numpy()
    np.testing.assert_allclose(y, expected, **tolerance(case.dtype))


@settings(max_examples=30, deadline=None)
@given(pool_cases())
def test_avg_pool_counting_padding_matches_tensorflow(case):
    x = case.array()
    y = avg_pool2d(x, case.size, case.stride, case.padding, count_include_pad=True)
    np.testing.assert_allclose(y, tf_pool(x, "avg", case.size, case.stride, case.padding), **tolerance(case.dtype))


def test_avg_pool_excluding_padding_is_keras_same_padding():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    # For a 3x3 window with stride 1 on 6x6, Keras "same" pads one cell on every side and excludes it.
    keras_same = tf.nn.avg_pool2d(x.transpose(0, 2, 3, 1), 3, 1, "SAME").numpy().transpose(0, 3, 1, 2)
    np.testing.assert_allclose(avg_pool2d(x, 3, 1, 1, count_include_pad=False), keras_same, rtol=1e-12)
    assert not np.allclose(avg_pool2d(x, 3, 1, 1, count_include_pad=True), keras_same)


@SETTINGS
@given(pool_cases(dtypes=(np.float64,)))
def test_max_pool_backward_matches_pytorch(case):
    x = case.array()
    dout = np.random.default_rng(case.seed + 1).standard_normal(max_pool2d(x, case.size, case.stride, case.padding).shape)
    _, (expected,) = torch_grads(lambda t: F.max_pool2d(t, case.size, case.stride, case.padding), dout, x)
    assert_grad_close("x", expected, max_pool2d_backward(dout, x, case.size, case.stride, case.padding))


@SETTINGS
@given(pool_cases(dtypes=(np.float64,)), st.booleans())
def test_avg_pool_backward_matches_pytorch(case, cip):
    x = case.array()
    y = avg_pool2d(x, case.size, case.stride, case.padding, count_include_pad=cip)
    dout = np.random.default_rng(case.seed + 1).standard_normal(y.shape)
    _, (expected,) = torch_grads(
        lambda t: F.avg_pool2d(t, case.size, case.stride, case.padding, count_include_pad=cip), dout, x
    )
    received = avg_pool2d_backward(dout, x, case.size, case.stride, case.padding, count_include_pad=cip)
    assert_grad_close("x", expected, received)


@pytest.mark.parametrize(
    "shape, size, stride, padding",
    [((1, 1, 4, 4), 2, None, 0), ((2, 2, 5, 7), (3, 2), (2, 3), (1, 1)), ((1, 3, 3, 3), 3, 1, 1), ((1, 1, 6, 5), 1, 2, 0)],
)
@pytest.mark.parametrize("mode", ["max", "avg", "avg-exclude"])
def test_backward_matches_central_differences(shape, size, stride, padding, mode):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    if mode == "max":
        fwd = lambda v: max_pool2d(v, size, stride, padding)  # noqa: E731
        bwd = lambda d: max_pool2d_backward(d, x, size, stride, padding)  # noqa: E731
    else:
        cip = mode == "avg"
        fwd = lambda v: avg_pool2d(v, size, stride, padding, count_include_pad=cip)  # noqa: E731
        bwd = lambda d: avg_pool2d_backward(d, x, size, stride, padding, count_include_pad=cip)  # noqa: E731
    dout = rng.standard_normal(fwd(x).shape)
    assert_grad_close("x", numerical_gradient(lambda v: float(np.sum(dout * fwd(v))), x), bwd(dout))


def test_overlapping_max_windows_add_their_gradients():
    x = np.array([[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]])
    # the centre wins all four 2x2 windows (stride 1)
    np.testing.assert_array_equal(max_pool2d_backward(np.ones((2, 2)), x, 2, 1), [[0, 0, 0], [0, 4, 0], [0, 0, 0]])


def test_max_pool_ties_send_the_gradient_to_the_first_maximum_like_pytorch():
    x = np.ones((1, 1, 2, 2))
    np.testing.assert_array_equal(max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)[0, 0], [[1, 0], [0, 0]])
    _, (expected,) = torch_grads(lambda t: F.max_pool2d(t, 2), np.ones((1, 1, 1, 1)), x)
    np.testing.assert_array_equal(expected, [[[[1, 0], [0, 0]]]])


@SETTINGS
@given(pool_cases())
def test_sum_pool_is_avg_pool_times_window(case):
    x = case.array()
    np.testing.assert_allclose(
        sum_pool2d(x, case.size, case.stride, case.padding),
        avg_pool2d(x, case.size, case.stride, case.padding) * case.size[0] * case.size[1],
        **tolerance(case.dtype),
    )


@settings(max_examples=40, deadline=None)
@given(pool_cases(padding=False), st.sampled_from([1.0, 2.0, 3.0, 4.5]))
def test_lp_pool_matches_pytorch_on_non_negative_input(case, p):
    x = np.abs(case.array())
    expected = F.lp_pool2d(torch.from_numpy(x), p, case.size, case.stride).numpy()
    np.testing.assert_allclose(lp_pool2d(x, case.size, case.stride, p=p), expected, rtol=1e-3 if case.dtype == np.float32 else 1e-9, atol=1e-5)


def test_lp_pool_uses_magnitudes_and_tends_to_max():
    x = np.array([[-3.0, 1.0], [2.0, 0.5]])
    assert lp_pool2d(x, 2, p=1.0).item() == pytest.approx(6.5)
    assert lp_pool2d(x, 2, p=2.0).item() == pytest.approx(np.sqrt(9 + 1 + 4 + 0.25))
    assert lp_pool2d(x, 2, p=200.0).item() == pytest.approx(3.0, rel=1e-2)


def test_stochastic_pooling_samples_in_proportion_and_averages_at_inference():
    x = np.array([[1.0, 3.0], [0.0, 0.0]])
    draws = np.array([stochastic_pool2d(x, 2, rng=seed).item() for seed in range(4000)])
    assert set(np.unique(draws)) == {1.0, 3.0}  # zero cells are never picked
    assert np.mean(draws == 3.0) == pytest.approx(0.75, abs=0.03)
    assert stochastic_pool2d(x, 2, training=False).item() == pytest.approx((1 + 9) / 4)
    assert stochastic_pool2d(np.zeros((2, 2)), 2, rng=0).item() == 0.0
    with pytest.raises(ValueError, match=r"activations must be non-negative.*Apply a ReLU first"):
        stochastic_pool2d(-x, 2)


def test_stochastic_pooling_is_repeatable_for_a_seed():
    x = np.abs(np.random.default_rng(0).standard_normal((2, 3, 8, 8)))
    np.testing.assert_array_equal(stochastic_pool2d(x, 2, rng=7), stochastic_pool2d(x, 2, rng=7))


def test_global_pooling_matches_the_frameworks():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4)).astype(np.float32)
    gap = global_avg_pool2d(x)
    assert gap.shape == (2, 3) and global_avg_pool2d(x, keepdims=True).shape == (2, 3, 1, 1)
    np.testing.assert_allclose(gap, F.adaptive_avg_pool2d(torch.from_numpy(x), 1).numpy()[:, :, 0, 0], rtol=1e-6)
    np.testing.assert_allclose(
        global_max_pool2d(x), tf.reduce_max(x.transpose(0, 2, 3, 1), axis=(1, 2)).numpy(), rtol=1e-6
    )


def test_pooling_accepts_2d_and_3d_input():
    x = np.arange(16.0).reshape(4, 4)
    assert max_pool2d(x, 2).shape == (2, 2)
    assert max_pool2d(x[None], 2).shape == (1, 2, 2)
    assert max_pool2d_backward(np.ones((2, 2)), x, 2).shape == (4, 4)


def test_max_pool_padding_is_minus_infinity():
    x = -np.ones((1, 1, 2, 2))
    # with zero padding the corners would be 0; with -inf they stay -1
    np.testing.assert_array_equal(max_pool2d(x, 2, 1, 1), -np.ones((1, 1, 3, 3)))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: max_pool2d(np.zeros((4, 4)), 3, padding=2), r"padding 2 along the height is more than half the window size 3.*use padding <= 1"),
        (lambda: max_pool2d(np.zeros((2, 2)), 3), r"window 3x3 is larger than the padded input 2x2"),
        (lambda: max_pool2d(np.zeros((4, 4)), 2, stride=0), r"`stride` must be >= 1. Received: stride=0"),
        (lambda: avg_pool2d(np.zeros((4, 4)), 2, padding=-1), r"`padding` must be >= 0. Received: padding=-1"),
        (lambda: avg_pool2d(np.zeros((4,)), 2), r"`x` must have shape \(H, W\), \(C, H, W\) or \(N, C, H, W\); got shape \(4,\)"),
        (lambda: max_pool2d(np.zeros((4, 4)), 2, padding="same"), r'`padding` must be an int, an \(h, w\) pair or "valid".*same_padding'),
        (lambda: lp_pool2d(np.zeros((4, 4)), 2, p=0), r"`p` must be a finite number > 0"),
        (lambda: max_pool2d_backward(np.zeros((3, 3)), np.zeros((4, 4)), 2), r"`dout` must have the shape of the forward output \(2, 2\); got shape \(3, 3\)"),
        (lambda: max_pool2d(np.array(["a", "b"]), 1), r"`x` must hold real numbers"),
        (lambda: global_avg_pool2d(np.zeros((3, 4, 4))), r"`x` must have shape \(N, C, H, W\)"),
    ],
)
def test_bad_input_is_rejected_with_a_helpful_message(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
