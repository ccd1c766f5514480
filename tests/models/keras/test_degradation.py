"""Tests of coursepkg.models.keras.degradation: the plain block is basic_block minus its shortcut, and the twins
of the PyTorch degradation networks have the same layers, counts, depth and outputs."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

from coursepkg.models import keras as mk
from coursepkg.models import torch as mt
from coursepkg.models.transfer_weights import torch_to_keras
from coursepkg.ops import nchw_to_nhwc


def test_plain_block_is_basic_block_without_the_shortcut():
    x = keras.Input((6, 6, 8))
    plain = keras.Model(x, mk.plain_block(x, 8, name="b"))
    residual = keras.Model(x, mk.basic_block(x, 8, name="b"))
    names = {layer.name for layer in residual.layers} - {layer.name for layer in plain.layers}
    assert names == {"b_add"}  # identity shortcut: the same layers and the Add
    assert mk.count_params(plain) == mk.count_params(residual) == 2 * (9 * 8 * 8 + 8) + 2 * 4 * 8
    residual.set_weights(plain.get_weights())
    a = np.random.default_rng(0).standard_normal((2, 6, 6, 8)).astype(np.float32)
    f = keras.Model(residual.input, residual.get_layer("b_2_bn").output)(a, training=False)
    np.testing.assert_allclose(plain(a, training=False), np.maximum(f, 0), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(residual(a, training=False), np.maximum(f + a, 0), rtol=1e-6, atol=1e-6)
    strided = mk.plain_block(keras.Input((7, 6, 3)), 5, strides=2, conv_bias=False, name="s")
    assert tuple(strided.shape) == (None, 4, 3, 5)


@pytest.mark.parametrize(("blocks", "residual"), [(0, True), (2, False), (2, True), (10, False), (10, True)])
def test_twin_of_the_pytorch_network(blocks, residual):
    torch.manual_seed(blocks)
    tmodel = mt.degradation_net(blocks=blocks, residual=residual).eval()
    kmodel = mk.degradation_net(blocks=blocks, residual=residual)
    assert kmodel.output_shape == (None, 10)
    assert mk.count_params(kmodel, trainable_only=True) == mt.count_params(tmodel)
    assert mk.count_params(kmodel) - mk.count_params(kmodel, trainable_only=True) == 2 * 16 * (2 * blocks + 1)
    assert mk.model_depth(kmodel) == mt.model_depth(tmodel) == 2 * blocks + 2
    torch_to_keras(tmodel, kmodel)
    x = np.random.default_rng(1).standard_normal((3, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        expected = tmodel(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(np.asarray(kmodel(nchw_to_nhwc(x), training=False)), expected, rtol=1e-4, atol=1e-5)


def test_docstring_counts():
    doc = " ".join(mk.degradation_net.__doc__.split())
    model = mk.degradation_net()
    total, trainable = mk.count_params(model), mk.count_params(model, trainable_only=True)
    assert f"Parameters with the defaults: {total:,}, of which {trainable:,} trainable" in doc
    assert f"and {total - trainable:,} batch-norm moving statistics" in doc
    shapes = mk.stage_shapes(model, ["conv1_relu", "block10_out", "avg_pool", "predictions"])
    assert list(shapes.values()) == [(None, 8, 8, 16), (None, 8, 8, 16), (None, 16), (None, 10)]


def test_errors():
    with pytest.raises(ValueError, match=r"degradation_net: `blocks` must be >= 0. Received: blocks=-1"):
        mk.degradation_net(blocks=-1)
    with pytest.raises(TypeError, match=r"degradation_net: `residual` must be True or False. Received: residual=1"):
        mk.degradation_net(residual=1)
