"""Activations and their derivatives against PyTorch autograd and TensorFlow; stability at extremes."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from coursepkg.gradcheck import numerical_gradient
from coursepkg.ops import (
    leaky_relu,
    leaky_relu_grad,
    log_softmax,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    softmax_backward,
    softmax_jacobian,
    tanh,
    tanh_grad,
)

from ..frameworks import tf

finite = st.floats(-30, 30, allow_nan=False, width=64)
vectors = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)), elements=finite)

PAIRS = [
    (sigmoid, sigmoid_grad, torch.sigmoid, tf.math.sigmoid),
    (tanh, tanh_grad, torch.tanh, tf.math.tanh),
    (relu, relu_grad, torch.relu, tf.nn.relu),
    (leaky_relu, leaky_relu_grad, lambda t: torch.nn.functional.leaky_relu(t, 0.01), lambda t: tf.nn.leaky_relu(t, 0.01)),
]


@pytest.mark.parametrize("fn, grad, torch_fn, tf_fn", PAIRS, ids=["sigmoid", "tanh", "relu", "leaky_relu"])
@settings(max_examples=40, deadline=None)
@given(x=vectors)
def test_value_and_derivative_match_the_frameworks(fn, grad, torch_fn, tf_fn, x):
    t = torch.tensor(x, requires_grad=True)
    y = torch_fn(t)
    y.sum().backward()
    np.testing.assert_allclose(fn(x), y.detach().numpy(), rtol=1e-12, atol=1e-15)
    # TF keeps leaky_relu's alpha in float32, hence the looser tolerance
    np.testing.assert_allclose(fn(x), tf_fn(tf.constant(x)).numpy(), rtol=1e-7, atol=1e-15)
    np.testing.assert_allclose(grad(x), t.grad.numpy(), rtol=1e-12, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(x=vectors, axis=st.sampled_from([0, -1]))
def test_softmax_and_log_softmax_match_the_frameworks(x, axis):
    np.testing.assert_allclose(softmax(x, axis), torch.softmax(torch.tensor(x), axis).numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(softmax(x, axis), tf.nn.softmax(tf.constant(x), axis=axis).numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(log_softmax(x, axis), torch.log_softmax(torch.tensor(x), axis).numpy(), rtol=1e-10, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(x=vectors, seed=st.integers(0, 1000))
def test_softmax_backward_matches_autograd(x, seed):
    dout = np.random.default_rng(seed).standard_normal(x.shape)
    t = torch.tensor(x, requires_grad=True)
    (torch.softmax(t, -1) * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(softmax_backward(dout, softmax(x)), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_softmax_jacobian_matches_central_differences():
    x = np.array([0.3, -1.2, 2.0, 0.0])
    y = softmax(x)
    numeric = np.stack([numerical_gradient(lambda v: float(softmax(v)[k]), x.copy()) for k in range(4)])
    np.testing.assert_allclose(softmax_jacobian(y), numeric, atol=1e-8)
    np.testing.assert_allclose(softmax_jacobian(y).sum(axis=0), 0, atol=1e-15)


def test_no_overflow_at_extremes():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert sigmoid(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]
        np.testing.assert_allclose(softmax(np.array([1000.0, 1000.0, -1000.0])), [0.5, 0.5, 0.0])
        assert np.isfinite(log_softmax(np.array([1e4, -1e4]))).all()


def test_saturation_is_where_gradients_vanish():
    assert sigmoid_grad(0.0) == 0.25 and tanh_grad(0.0) == 1.0
    assert sigmoid_grad(10.0) < 5e-5 and tanh_grad(10.0) < 1e-8
    assert relu_grad(np.array([-1.0, 0.0, 2.0])).tolist() == [0.0, 0.0, 1.0]


def test_float32_stays_float32():
    x = np.ones(3, dtype=np.float32)
    for fn in (sigmoid, tanh, relu, leaky_relu, softmax, sigmoid_grad, relu_grad):
        assert fn(x).dtype == np.float32, fn.__name__


def test_errors():
    with pytest.raises(TypeError, match=r"sigmoid: `x` must hold real numbers, but its dtype is <U1"):
        sigmoid(np.array(["a"]))
    with pytest.raises(ValueError, match=r"`dout` and `y` must have the same shape; got \(2,\) and \(3,\)"):
        softmax_backward(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"`y` must have shape \(K,\)"):
        softmax_jacobian(np.zeros((2, 2)))
