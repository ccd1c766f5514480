"""GoogLeNet in Keras: the paper's Inception channel numbers, count, shapes, auxiliary heads."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursepkg.models import keras as mk


@pytest.fixture(scope="module")
def googlenet():
    model = mk.googlenet()
    yield model
    del model
    keras.backend.clear_session()


def test_count(googlenet):
    assert mk.count_params(googlenet) == 6_998_552
    biases = sum(layer.bias.shape[0] for layer in googlenet.layers if getattr(layer, "bias", None) is not None)
    assert biases == 8_280 and mk.count_params(googlenet) - biases == 6_990_272


def test_inception_output_channels(googlenet):
    names = [f"inception{n}" for n in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b")]
    shapes = mk.stage_shapes(googlenet, names)
    assert [s[-1] for s in shapes.values()] == [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    assert [s[1] for s in shapes.values()] == [28, 28, 14, 14, 14, 14, 14, 7, 7]


def test_stem_shapes(googlenet):
    names = ["conv1", "pool1", "conv2", "conv3", "pool2", "pool3", "pool4", "avgpool", "fc"]
    assert [s[1:] for s in mk.stage_shapes(googlenet, names).values()] == [
        (112, 112, 64), (56, 56, 64), (56, 56, 64), (56, 56, 192), (28, 28, 192), (14, 14, 480), (7, 7, 832),
        (1024,), (1000,),
    ]  # fmt: skip


def test_inception_module_branches():
    x = keras.Input((28, 28, 192))
    y = mk.inception_module(x, name="m", **mk.GOOGLENET_TABLE["inception3a"]._asdict())
    model = keras.Model(x, y)
    assert model.output_shape == (None, 28, 28, 256)
    weights = 192 * (64 + 96 + 16 + 32) + 9 * 96 * 128 + 25 * 16 * 32
    assert mk.count_params(model) == 163_696 == weights + (64 + 96 + 128 + 16 + 32 + 32)  # + one bias per channel
    # the four branches, concatenated in order: 1x1 | 3x3 | 5x5 | pool projection
    inputs = np.random.default_rng(0).normal(0, 1, (1, 28, 28, 192)).astype(np.float32)
    out = np.asarray(model(inputs))
    channels = {"m_branch1": (0, 64), "m_branch2": (64, 192), "m_branch3": (192, 224), "m_branch4": (224, 256)}
    for branch, (lo, hi) in channels.items():
        part = keras.Model(x, model.get_layer(branch).output)
        np.testing.assert_allclose(out[..., lo:hi], np.asarray(part(inputs)), rtol=1e-6)
    with pytest.raises(ValueError, match=r"`ch5x5` must be >= 1"):
        mk.inception_module(x, ch1x1=1, ch3x3red=1, ch3x3=1, ch5x5red=1, ch5x5=0, pool_proj=1, name="n")


def test_aux_logits():
    model = mk.googlenet(num_classes=10, input_size=79, aux_logits=True)
    assert [tuple(o.shape) for o in model.outputs] == [(None, 10)] * 3
    assert model.get_layer("aux1_pool").output.shape == (None, 1, 1, 512)
    assert model.get_layer("aux2_pool").output.shape == (None, 1, 1, 528)
    x = np.zeros((1, 79, 79, 3), dtype=np.float32)
    assert [np.asarray(y).shape for y in model(x, training=False)] == [(1, 10)] * 3
    full_aux = mk.googlenet(aux_logits=True)
    assert mk.count_params(full_aux) == 13_378_280 == 6_998_552 + 3_188_840 + 3_190_888
