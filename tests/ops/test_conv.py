"""conv2d, conv2d_naive and conv2d_backward: three tiers (hand numbers are in test_worked_examples.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursepkg.gradcheck import assert_grad_close, numerical_gradient
from coursepkg.ops import conv2d, conv2d_backward, conv2d_naive

from ..frameworks import F, tf_conv2d, torch_conv2d, torch_grads
from .strategies import conv_cases, tolerance

SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(conv_cases())
def test_conv2d_matches_pytorch(case):
    x, w, b = case.arrays()
    y = conv2d(x, w, b, case.stride, case.pads, dilation=case.dilation)
    assert y.dtype == case.dtype
    np.testing.assert_allclose(y, torch_conv2d(x, w, b, case.stride, case.pads, case.dilation), **tolerance(case.dtype))


@settings(max_examples=40, deadline=None)
@given(conv_cases())
def test_conv2d_matches_tensorflow(case):
    x, w, b = case.arrays()
    dilation = case.dilation if case.stride == (1, 1) else (1, 1)  # TF: no dilation with stride > 1 on CPU
    y = conv2d(x, w, b, case.stride, case.pads, dilation=dilation)
    np.testing.assert_allclose(y, tf_conv2d(x, w, b, case.stride, case.pads, dilation), **tolerance(case.dtype))


@settings(max_examples=30, deadline=None)
@given(conv_cases(max_size=7))
def test_naive_loops_agree_with_vectorised(case):
    x, w, b = case.arrays()
    np.testing.assert_allclose(
        conv2d_naive(x, w, b, case.stride, case.pads, dilation=case.dilation),
        conv2d(x, w, b, case.stride, case.pads, dilation=case.dilation),
        **tolerance(case.dtype),
    )


@SETTINGS
@given(conv_cases(dtypes=(np.float64,)))
def test_backward_matches_pytorch_autograd(case):
    x, w, b = case.arrays()
    y = conv2d(x, w, b, case.stride, case.pads, dilation=case.dilation)
    dout = np.random.default_rng(case.seed + 1).standard_normal(y.shape)
    (pt, pb), (pl, pr) = case.pads
    _, (tdx, tdw, tdb) = torch_grads(
        lambda tx, tw, tb: F.conv2d(F.pad(tx, (pl, pr, pt, pb)), tw, tb, stride=case.stride, dilation=case.dilation),
        dout,
        x,
        w,
        b,
    )
    dx, dw, db = conv2d_backward(dout, x, w, case.stride, case.pads, dilation=case.dilation)
    for name, ours, theirs in (("x", dx, tdx), ("w", dw, tdw), ("b", db, tdb)):
        assert_grad_close(name, theirs, ours, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    "shape, wshape, stride, padding, dilation",
    [
        ((1, 1, 5, 5), (1, 1, 3, 3), 1, 0, 1),  # batch of one
        ((2, 3, 7, 5), (2, 3, 3, 2), (2, 3), (1, 2), 1),  # non-square, stride that does not divide
        ((1, 2, 4, 6), (3, 2, 1, 1), 2, 0, 1),  # 1x1 kernel
        ((2, 2, 6, 6), (2, 2, 2, 2), 1, "same", 2),  # even kernel, asymmetric "same", dilation
        ((1, 1, 3, 3), (1, 1, 3, 3), 1, 1, 1),  # kernel as large as the input
    ],
)
def test_backward_matches_central_differences(shape, wshape, stride, padding, dilation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    w = rng.standard_normal(wshape)
    b = rng.standard_normal(wshape[0])
    dout = rng.standard_normal(conv2d(x, w, b, stride, padding, dilation=dilation).shape)
    dx, dw, db = conv2d_backward(dout, x, w, stride, padding, dilation=dilation)

    def loss(x_, w_, b_):
        return float(np.sum(dout * conv2d(x_, w_, b_, stride, padding, dilation=dilation)))

    assert_grad_close("x", numerical_gradient(lambda v: loss(v, w, b), x), dx)
    assert_grad_close("w", numerical_gradient(lambda v: loss(x, v, b), w), dw)
    assert_grad_close("b", numerical_gradient(lambda v: loss(x, w, v), b), db)


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
def test_same_padding_keeps_the_size_like_pytorch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 2, 6, 5))
    w = rng.standard_normal((3, 2, 4, 3))  # even kernel height: padding (1, 2)
    y = conv2d(x, w, padding="same")
    assert y.shape == (1, 3, 6, 5)
    import torch

    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding="same").numpy()
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)


def test_integer_inputs_compute_in_float64():
    y = conv2d(np.ones((1, 1, 3, 3), dtype=np.int64), np.ones((1, 1, 2, 2), dtype=np.int32))
    assert y.dtype == np.float64 and y.tolist() == [[[[4.0, 4.0], [4.0, 4.0]]]]


@given(st.integers(1, 4), st.integers(1, 4))
def test_identity_kernel_returns_the_input(h, w):
    x = np.arange(h * w, dtype=np.float64).reshape(1, 1, h, w)
    np.testing.assert_array_equal(conv2d(x, np.ones((1, 1, 1, 1))), x)


# --- bad input gets an error that names the problem and the fix ---------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(x=np.zeros((1, 1, 4, 4)), w=np.zeros((1, 1, 5, 5))), ValueError,
         r"kernel 5x5 is larger than the padded input 4x4; use padding>=1"),
        (dict(x=np.zeros((1, 3, 8, 8)), w=np.zeros((2, 1, 3, 3))), ValueError,
         r"x has C=3 channels but w expects C=1 \(w.shape=\(2, 1, 3, 3\) is \(F, C, KH, KW\)\)"),
        (dict(x=np.zeros((1, 1, 8, 8)), w=np.zeros((1, 1, 3, 3)), stride=0), ValueError,
         r"`stride` must be >= 1. Received: stride=0"),
        (dict(x=np.zeros((1, 1, 8, 8)), w=np.zeros((1, 1, 3, 3)), stride=(1, -2)), ValueError,
         r"`stride` must be >= 1. Received: stride=-2"),
        (dict(x=np.zeros((1, 1, 8, 8)), w=np.zeros((1, 1, 3, 3)), padding=-1), ValueError,
         r"`padding` must be >= 0. Received: padding=-1"),
        (dict(x=np.zeros((8, 8)), w=np.zeros((1, 1, 3, 3))), ValueError,
         r"`x` must have shape \(N, C, H, W\); got shape \(8, 8\). For one grayscale image use x\[None, None\]"),
        (dict(x=np.zeros((1, 8, 8)), w=np.zeros((1, 1, 3, 3))), ValueError, r"For one image use x\[None\]"),
        (dict(x=np.zeros((1, 1, 8, 8)), w=np.zeros((3, 3))), ValueError,
         r"`w` must have shape \(F, C, KH, KW\); got shape \(3, 3\). For a single 2-D kernel use w\[None, None\]"),
        (dict(x=np.zeros((1, 1, 8, 8)), w=np.zeros((2, 1, 3, 3)), b=np.zeros(3)), ValueError,
         r"`b` must have shape \(F,\) = \(2,\), one bias per filter; got shape \(3,\)"),
        (dict(x=np.array([["a"]]), w=np.zeros((1, 1, 1, 1))), TypeError, r"`x` must hold real numbers"),
        (dict(x=np.zeros((1, 1, 8, 8)), w=np.zeros((1, 1, 3, 3), dtype=complex)), TypeError,
         r"`w` must hold real numbers, but its dtype is complex128"),
        (dict(x=np.zeros((1, 1, 8, 8)), w=np.zeros((1, 1, 3, 3)), stride=1.5), TypeError,
         r"`stride` must be an integer. Received: stride=1.5"),
        (dict(x=np.zeros((1, 1, 8, 8)), w=np.zeros((1, 1, 3, 3)), stride=2, padding="same"), ValueError,
         r'padding="same" needs stride 1 \(as in PyTorch\).*same_padding'),
        (dict(x=np.zeros((1, 1, 8, 8)), w=np.zeros((1, 1, 3, 3)), padding="full"), ValueError,
         r'`padding` must be an int, a pair, "valid" or "same". Received: padding=\'full\''),
    ],
)
@pytest.mark.parametrize("fn", [conv2d, conv2d_naive])
def test_bad_input_is_rejected_with_a_helpful_message(fn, kwargs, error, match):
    with pytest.raises(error, match=match):
        fn(**kwargs)


def test_backward_rejects_dout_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"`dout` must have the shape of the forward output \(N, F, OH, OW\) = \(1, 1, 3, 3\); got shape \(1, 1, 4, 4\)"):
        conv2d_backward(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)))
