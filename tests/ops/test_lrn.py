"""Local response normalisation: a loop over channels, hand-computed values, torch.nn.LocalResponseNorm,
tf.nn.local_response_normalization (with the parameter mapping), autograd and central differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from coursepkg.gradcheck import assert_grad_close, numerical_gradient
from coursepkg.ops import local_response_norm, local_response_norm_backward, nchw_to_nhwc, nhwc_to_nchw

from ..frameworks import tf, torch_grads


def lrn_loop(a: np.ndarray, size: int, alpha: float, beta: float, k: float) -> np.ndarray:
    """The formula, one channel at a time, with PyTorch's window and its division by size."""
    out = np.empty_like(a, dtype=np.float64)
    channels = a.shape[1]
    for c in range(channels):
        lo, hi = max(0, c - size // 2), min(channels - 1, c + (size - 1) // 2)
        total = (a[:, lo : hi + 1].astype(np.float64) ** 2).sum(axis=1)
        out[:, c] = a[:, c] / (k + alpha / size * total) ** beta
    return out


@st.composite
def lrn_cases(draw, *, odd=False):
    ndim = draw(st.integers(3, 5))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 9))) + tuple(
        draw(st.integers(1, 4)) for _ in range(ndim - 2)
    )
    size = draw(st.integers(0, 4).map(lambda r: 2 * r + 1) if odd else st.integers(1, 9))
    alpha = draw(st.floats(1e-4, 2.0))
    beta = draw(st.floats(0.0, 1.5))
    k = draw(st.floats(0.5, 3.0))
    seed = draw(st.integers(0, 2**32 - 1))
    x = np.random.default_rng(seed).standard_normal(shape) * draw(st.sampled_from([1.0, 30.0]))
    return x, size, alpha, beta, k


def test_hand_computed_values():
    # three channels of ones, a window of three: the middle channel sees three squares, the edges two
    a = np.ones((1, 3, 1, 1))
    out = local_response_norm(a, 3, alpha=3.0, beta=1.0, k=1.0)
    np.testing.assert_allclose(out.ravel(), [1 / 3, 1 / 4, 1 / 3])
    # AlexNet's parameters in PyTorch's convention: alpha = 5 * 1e-4; one channel of 10 among zeros
    a = np.zeros((1, 5, 1, 1))
    a[0, 2] = 10.0
    out = local_response_norm(a, 5, alpha=5e-4, beta=0.75, k=2.0)
    np.testing.assert_allclose(out.ravel(), [0, 0, 10 / (2 + 1e-4 * 100) ** 0.75, 0, 0])


def test_even_size_takes_one_more_channel_before():
    # size 2: channel c sums c - 1 and c, as torch.nn.LocalResponseNorm does
    a = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    out = local_response_norm(a, 2, alpha=2.0, beta=1.0, k=1.0)  # alpha / size = 1
    np.testing.assert_allclose(out.ravel(), [1 / (1 + 1), 2 / (1 + 1 + 4), 3 / (1 + 4 + 9)])


@settings(max_examples=60, deadline=None)
@given(lrn_cases())
def test_vectorised_equals_the_loop(case):
    x, size, alpha, beta, k = case
    np.testing.assert_allclose(local_response_norm(x, size, alpha=alpha, beta=beta, k=k),
                               lrn_loop(x, size, alpha, beta, k), rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(lrn_cases())
def test_matches_torch_local_response_norm(case):
    x, size, alpha, beta, k = case
    expected = torch.nn.LocalResponseNorm(size, alpha=alpha, beta=beta, k=k)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(local_response_norm(x, size, alpha=alpha, beta=beta, k=k), expected,
                               rtol=1e-10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(lrn_cases(odd=True))
def test_matches_tensorflow_with_the_mapped_parameters(case):
    x, size, alpha, beta, k = case
    # tf computes in float32 only, on 4-D channels-last input: (N, C, H, 1) -> (N, H, 1, C)
    x4 = x.reshape(x.shape[:2] + (-1, 1)).astype(np.float32)
    y = tf.nn.local_response_normalization(
        tf.constant(nchw_to_nhwc(x4)), depth_radius=(size - 1) // 2, bias=k, alpha=alpha / size, beta=beta
    )
    np.testing.assert_allclose(local_response_norm(x4, size, alpha=alpha, beta=beta, k=k),
                               nhwc_to_nchw(y.numpy()), rtol=1e-4, atol=1e-6)  # TF accumulates in float32


def test_float32_in_float32_out():
    x = np.random.default_rng(0).standard_normal((2, 6, 3, 3)).astype(np.float32)
    out = local_response_norm(x, 5)
    assert out.dtype == np.float32
    expected = F.local_response_norm(torch.from_numpy(x), 5).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert local_response_norm(x.astype(np.float64), 5).dtype == np.float64


@settings(max_examples=40, deadline=None)
@given(lrn_cases())
def test_backward_matches_pytorch_autograd(case):
    x, size, alpha, beta, k = case
    dout = np.random.default_rng(1).standard_normal(x.shape)
    _, (expected,) = torch_grads(lambda t: F.local_response_norm(t, size, alpha=alpha, beta=beta, k=k), dout, x)
    received = local_response_norm_backward(dout, x, size, alpha=alpha, beta=beta, k=k)
    assert_grad_close("x", expected, received, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_backward_matches_central_differences(size):
    rng = np.random.default_rng(size)
    x = rng.standard_normal((2, 6, 2, 3)) * 3
    dout = rng.standard_normal(x.shape)
    hp = dict(alpha=0.8, beta=0.75, k=2.0)  # a large alpha, so that the divisor matters
    dx = local_response_norm_backward(dout, x, size, **hp)
    numeric = numerical_gradient(lambda v: float(np.sum(dout * local_response_norm(v, size, **hp))), x)
    assert_grad_close("x", numeric, dx, rtol=1e-6, atol=1e-8)


def test_the_model_layers_are_this_function_with_the_papers_alpha():
    from coursepkg.models import keras as km
    from coursepkg.models import torch as tm

    x = np.maximum(np.random.default_rng(0).normal(0, 60, (2, 96, 5, 5)), 0).astype(np.float32)
    expected = local_response_norm(x.astype(np.float64), 5, alpha=5 * 1e-4, beta=0.75, k=2.0)
    np.testing.assert_allclose(tm.LRN()(torch.from_numpy(x)).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(nhwc_to_nchw(np.asarray(km.LRN()(nchw_to_nhwc(x)))), expected, rtol=1e-5)


def test_errors():
    x = np.ones((2, 4, 3, 3))
    with pytest.raises(ValueError, match=r"local_response_norm: `x` must have shape \(N, C, \.\.\.\).*"
                                         r"got shape \(4, 3\)\. Add a batch axis with x\[None\]\."):
        local_response_norm(np.ones((4, 3)), 3)
    with pytest.raises(ValueError, match=r"`size` must be >= 1. Received: size=0"):
        local_response_norm(x, 0)
    with pytest.raises(TypeError, match=r"`size` must be an integer. Received: size=5.0"):
        local_response_norm(x, 5.0)
    with pytest.raises(ValueError, match=r"`k` must be > 0 \(it keeps the divisor away from zero\). Received: k=0"):
        local_response_norm(x, 3, k=0)
    with pytest.raises(ValueError, match=r"`alpha` must be >= 0. Received: alpha=-1"):
        local_response_norm(x, 3, alpha=-1)
    with pytest.raises(TypeError, match=r"`beta` must be a finite real number. Received: beta=nan"):
        local_response_norm(x, 3, beta=float("nan"))
    with pytest.raises(TypeError, match=r"`x` must hold real numbers"):
        local_response_norm(np.array([["a"]]), 3)
    with pytest.raises(ValueError, match=r"local_response_norm_backward: `dout` has shape \(2, 4, 3\) but `x` has "
                                         r"shape \(2, 4, 3, 3\)"):
        local_response_norm_backward(np.ones((2, 4, 3)), x, 3)


NUMPY_DEFAULT_PRINTOPTIONS = dict(
    precision=8, threshold=1000, edgeitems=3, linewidth=75, suppress=False, nanstr="nan", infstr="inf", sign="-",
    floatmode="maxprec", legacy=False,
)


def test_docstring_example():
    import doctest

    from coursepkg.ops import lrn

    with np.printoptions(**NUMPY_DEFAULT_PRINTOPTIONS):  # whatever an earlier test in this process set
        result = doctest.testmod(lrn, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
