"""conv_output_size, same_padding and pad2d."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from coursepkg.ops import conv_output_size, pad2d, same_padding


@given(st.integers(1, 64), st.integers(1, 7), st.integers(0, 3), st.integers(1, 4), st.integers(1, 3))
def test_output_size_matches_pytorch(n, f, p, s, d):
    extent = d * (f - 1) + 1
    if extent > n + 2 * p:
        with pytest.raises(ValueError, match="does not fit"):
            conv_output_size(n, f, p, s, d=d)
        return
    out = torch.nn.functional.conv2d(
        torch.zeros(1, 1, n, 1), torch.zeros(1, 1, f, 1), stride=(s, 1), padding=(p, 0), dilation=(d, 1)
    )
    assert conv_output_size(n, f, p, s, d=d) == out.shape[2]


@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 4))
def test_same_padding_keeps_ceil_n_over_s_outputs_like_keras(n, f, s):
    before, after = same_padding(n, f, s)
    assert after - before in (0, 1)
    assert (n + before + after - f) // s + 1 == -(-n // s)


def test_same_padding_examples():
    assert same_padding(5, 3) == (1, 1)
    assert same_padding(6, 4) == (1, 2)
    assert same_padding(224, 7, 2) == (2, 3)  # ResNet's stem in Keras pads asymmetrically


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((3, 5), ValueError, r"a window of size 5 does not fit in an input of size 3 padded by 0 on each side \(3\); use a smaller kernel or padding >= 1. Received: n=3, f=5, p=0, s=1, d=1"),
        ((0, 3), ValueError, r"`n` must be >= 1. Received: n=0"),
        ((5, 3, -1), ValueError, r"`p` must be >= 0. Received: p=-1"),
        ((5, 3, 0, 0), ValueError, r"`s` must be >= 1. Received: s=0"),
        ((5.5, 3), TypeError, r"`n` must be an integer. Received: n=5.5"),
        ((True, 3), TypeError, r"`n` must be an integer"),
    ],
)
def test_conv_output_size_errors_list_every_input(args, error, match):
    with pytest.raises(error, match=match):
        conv_output_size(*args)


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (2, 2, 3, 4)])
def test_pad2d_pads_only_the_last_two_axes(shape):
    x = np.ones(shape)
    y = pad2d(x, (1, 2))
    assert y.shape == shape[:-2] + (shape[-2] + 2, shape[-1] + 4)
    assert y.sum() == x.sum()
    np.testing.assert_array_equal(y[..., 1:-1, 2:-2], x)


def test_pad2d_asymmetric_and_value():
    y = pad2d(np.zeros((1, 1)), ((0, 1), (2, 0)), value=7)
    np.testing.assert_array_equal(y, [[7, 7, 0], [7, 7, 7]])


def test_pad2d_with_minus_infinity_promotes_integers_to_float():
    y = pad2d(np.array([[1, 2]]), 1, value=-np.inf)
    assert y.dtype == np.float64 and y[1, 1] == 1 and np.isneginf(y[0, 0])


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: pad2d(np.zeros(3), 1), ValueError, r"`x` must have shape \(H, W\), \(C, H, W\) or \(N, C, H, W\); got shape \(3,\)"),
        (lambda: pad2d(np.zeros((2, 2)), -1), ValueError, r"`padding` must be >= 0. Received: padding=-1"),
        (lambda: pad2d(np.zeros((2, 2)), "same"), TypeError, r"`p` must be an int or pairs of ints"),
        (lambda: pad2d(np.zeros((2, 2)), (1, 2, 3)), ValueError, r"must be an int, an \(h, w\) pair"),
    ],
)
def test_pad2d_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
