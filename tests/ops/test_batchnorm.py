"""Batch normalisation against torch.nn.functional.batch_norm, tf.nn.batch_normalization and
central differences."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from coursepkg.gradcheck import assert_grad_close, numerical_gradient
from coursepkg.ops import batch_norm, batch_norm_backward

from ..frameworks import tf, torch_grads

shapes = st.one_of(
    st.tuples(st.integers(2, 5), st.integers(1, 4)),
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)),
).filter(lambda s: np.prod(s) // s[1] >= 2)


def _params(shape, seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    return (
        rng.standard_normal(shape) * 3 + 1,
        rng.standard_normal(c),
        rng.standard_normal(c),
        rng.standard_normal(c),
        rng.random(c) + 0.5,
    )


@settings(max_examples=40, deadline=None)
@given(shapes, st.integers(0, 10_000), st.floats(0.0, 1.0))
def test_training_matches_pytorch_including_running_statistics(shape, seed, momentum):
    x, gamma, beta, rm, rv = _params(shape, seed)
    out, new_mean, new_var = batch_norm(x, gamma, beta, rm, rv, training=True, momentum=momentum)
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    expected = torch.nn.functional.batch_norm(
        torch.tensor(x), trm, trv, torch.tensor(gamma), torch.tensor(beta), training=True, momentum=momentum
    )
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(new_mean, trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(new_var, trv.numpy(), rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(shapes, st.integers(0, 10_000))
def test_inference_matches_tensorflow(shape, seed):
    x, gamma, beta, rm, rv = _params(shape, seed)
    out, _, _ = batch_norm(x, gamma, beta, rm, rv, training=False)
    bshape = (1, -1) + (1,) * (len(shape) - 2)
    expected = tf.nn.batch_normalization(
        tf.constant(x), rm.reshape(bshape), rv.reshape(bshape), beta.reshape(bshape), gamma.reshape(bshape), 1e-5
    ).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(shapes, st.integers(0, 10_000))
def test_backward_matches_pytorch_autograd(shape, seed):
    x, gamma, beta, _, _ = _params(shape, seed)
    dout = np.random.default_rng(seed + 1).standard_normal(shape)
    _, (dx, dg, db) = torch_grads(
        lambda t, g, b: torch.nn.functional.batch_norm(t, None, None, g, b, training=True), dout, x, gamma, beta
    )
    ours = batch_norm_backward(dout, x, gamma)
    for name, e, r in zip(("x", "gamma", "beta"), (dx, dg, db), ours):
        assert_grad_close(name, e, r, rtol=1e-7, atol=1e-9)


def test_backward_matches_central_differences():
    x, gamma, beta, _, _ = _params((3, 2, 2, 3), 0)
    dout = np.random.default_rng(1).standard_normal(x.shape)
    dx, dg, db = batch_norm_backward(dout, x, gamma)
    loss = lambda x_, g_, b_: float(np.sum(dout * batch_norm(x_, g_, b_)[0]))  # noqa: E731
    assert_grad_close("x", numerical_gradient(lambda v: loss(v, gamma, beta), x), dx, rtol=1e-5, atol=1e-6)
    assert_grad_close("gamma", numerical_gradient(lambda v: loss(x, v, beta), gamma), dg, rtol=1e-5, atol=1e-6)
    assert_grad_close("beta", numerical_gradient(lambda v: loss(x, gamma, v), beta), db, rtol=1e-5, atol=1e-6)


def test_training_output_has_zero_mean_unit_variance_per_channel():
    x = np.random.default_rng(0).standard_normal((8, 3, 5, 5)) * 4 + 2
    out, m, v = batch_norm(x, np.ones(3), np.zeros(3))
    assert m is None and v is None
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-3)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: batch_norm(np.ones((4, 3)), np.ones(2), np.zeros(3)), r"`gamma` must have shape \(3,\), one value per channel; got shape \(2,\)"),
        (lambda: batch_norm(np.ones((4, 3)), np.ones(3), np.zeros(3), training=False), r"pass `running_mean` and `running_var`"),
        (lambda: batch_norm(np.ones((1, 3)), np.ones(3), np.zeros(3)), r"more than one value per channel"),
        (lambda: batch_norm(np.ones((4, 3, 2)), np.ones(3), np.zeros(3)), r"`x` must have shape \(N, D\) or \(N, C, H, W\); got shape \(4, 3, 2\)"),
        (lambda: batch_norm(np.ones((4, 3)), np.ones(3), np.zeros(3), np.zeros(3)), r"pass both `running_mean` and `running_var`, or neither"),
        (lambda: batch_norm(np.ones((4, 3)), np.ones(3), np.zeros(3), momentum=1.5), r"`momentum` must be in \[0, 1\]"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
