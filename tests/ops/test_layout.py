"""Layout conversions between PyTorch and Keras, checked by running the same weights in both."""

import numpy as np
import pytest
import torch

from coursepkg.ops import (
    conv_weight_from_keras,
    conv_weight_to_keras,
    dense_weight_from_keras,
    dense_weight_to_keras,
    flatten_dense_weight_to_keras,
    nchw_to_nhwc,
    nhwc_to_nchw,
)

from ..frameworks import tf


def test_round_trips():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5))
    w = rng.standard_normal((6, 3, 2, 3))
    d = rng.standard_normal((7, 4))
    np.testing.assert_array_equal(nhwc_to_nchw(nchw_to_nhwc(x)), x)
    np.testing.assert_array_equal(conv_weight_from_keras(conv_weight_to_keras(w)), w)
    np.testing.assert_array_equal(dense_weight_from_keras(dense_weight_to_keras(d)), d)
    assert conv_weight_to_keras(w).shape == (2, 3, 3, 6)


def test_flatten_then_dense_gives_the_same_logits_in_both_frameworks():
    rng = np.random.default_rng(1)
    fmap = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)  # (N, C, H, W)
    w = rng.standard_normal((7, 3 * 4 * 5)).astype(np.float32)  # (out, C*H*W) for PyTorch's flatten
    torch_logits = torch.nn.functional.linear(torch.from_numpy(fmap).flatten(1), torch.from_numpy(w)).numpy()
    keras_w = flatten_dense_weight_to_keras(w, (3, 4, 5))
    keras_logits = tf.matmul(tf.reshape(nchw_to_nhwc(fmap), (2, -1)), keras_w).numpy()
    np.testing.assert_allclose(keras_logits, torch_logits, rtol=1e-5, atol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match=r"`x` must have shape \(N, C, H, W\); got shape \(3, 4\)"):
        nchw_to_nhwc(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"`w` has 10 inputs but chw=\(3, 4, 5\) gives 60"):
        flatten_dense_weight_to_keras(np.zeros((2, 10)), (3, 4, 5))
