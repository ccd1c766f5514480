"""DenseNet-121 in Keras: keras.applications' count and weight order, shapes, dense block properties."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursepkg.models import keras as mk


@pytest.fixture(scope="module")
def densenet121():
    model = mk.densenet121()  # built once for the module
    yield model
    del model
    keras.backend.clear_session()


def test_count_is_keras_applications_and_trainable_is_torchvision(densenet121):
    reference = keras.applications.DenseNet121(weights=None)
    assert mk.count_params(densenet121) == reference.count_params() == 8_062_504
    assert mk.count_params(densenet121, trainable_only=True) == 7_978_856  # torchvision's densenet121
    bn = [layer for layer in densenet121.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bn) == 2 * 58 + 1 + 3 + 1 == 121  # 2 per dense layer; the stem, 3 transitions, the final one
    assert 8_062_504 - 7_978_856 == 2 * sum(layer.gamma.shape[0] for layer in bn) == 83_648
    ours = [(w.path, tuple(w.shape)) for w in densenet121.weights]
    theirs = [(w.path, tuple(w.shape)) for w in reference.weights]
    assert ours == theirs  # names, shapes and order: set_weights(reference.get_weights()) loads them right
    del reference


def test_keras_applications_weights_load_by_order_and_compute_the_same():
    keras.utils.set_random_seed(3)
    reference = keras.applications.DenseNet121(weights=None, include_top=False, input_shape=(32, 32, 3))
    model = mk.densenet121(num_classes=10, input_size=32)
    trunk = keras.Model(model.input, model.get_layer("relu").output)
    trunk.set_weights(reference.get_weights())
    x = np.random.default_rng(0).standard_normal((2, 32, 32, 3)).astype(np.float32)
    expected = np.asarray(reference(x, training=False))  # batch norm epsilon 1.001e-5 there, 1e-5 here
    got = np.asarray(trunk(x, training=False))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_stage_shapes(densenet121):
    names = ["conv1_relu", "pool1", "conv2_block6_concat", "pool2_pool", "conv3_block12_concat", "pool3_pool",
             "conv4_block24_concat", "pool4_pool", "conv5_block16_concat", "avg_pool"]  # fmt: skip
    assert [s[1:] for s in mk.stage_shapes(densenet121, names).values()] == [
        (112, 112, 64), (56, 56, 64), (56, 56, 256), (28, 28, 128), (28, 28, 512), (14, 14, 256),
        (14, 14, 1024), (7, 7, 512), (7, 7, 1024), (1024,),
    ]  # fmt: skip


def test_dense_block_keeps_its_input_and_adds_growth_rate_channels_per_layer():
    inputs = keras.Input((5, 5, 6))
    block = keras.Model(inputs, mk.dense_block(inputs, 3, growth_rate=4, bn_size=2, name="d"))
    x = np.random.default_rng(0).normal(0, 1, (2, 5, 5, 6)).astype(np.float32)
    y = np.asarray(block(x, training=False))
    assert y.shape == (2, 5, 5, 6 + 3 * 4)
    np.testing.assert_array_equal(y[..., :6], x)  # concatenation passes the input through unchanged
    layer1 = keras.Model(inputs, block.get_layer("d_block1_concat").output)
    np.testing.assert_array_equal(y[..., :10], np.asarray(layer1(x, training=False)))  # and every layer's output
    per_layer = [4 * c + c * 8 + 4 * 8 + 9 * 8 * 4 for c in (6, 10, 14)]  # BN, 1x1 (bn_size k), BN, 3x3
    assert mk.count_params(block) == sum(per_layer)


def test_transition_compresses_and_halves():
    inputs = keras.Input((7, 6, 10))
    y = mk.transition_layer(inputs, compression=0.5, name="t")
    assert y.shape == (None, 3, 3, 5)
    assert mk.transition_layer(inputs, compression=0.05, name="u").shape == (None, 3, 3, 1)  # at least one channel


def test_growth_rate_and_block_config():
    model = mk.densenet121(num_classes=5, input_size=32, growth_rate=8, block_config=(2, 3), num_init_features=16,
                           bn_size=2, compression=1.0)  # fmt: skip
    assert model.get_layer("conv2_block2_concat").output.shape == (None, 8, 8, 16 + 2 * 8)
    assert model.get_layer("pool2_pool").output.shape == (None, 4, 4, 32)
    assert model.get_layer("conv3_block3_concat").output.shape == (None, 4, 4, 32 + 3 * 8)


def test_argument_errors():
    with pytest.raises(ValueError, match=r"`compression` is the fraction .* Received: compression=0"):
        mk.densenet121(compression=0)
    with pytest.raises(TypeError, match=r"`compression` must be a float"):
        mk.densenet121(compression="half")
    with pytest.raises(TypeError, match=r"`block_config` must be a non-empty sequence"):
        mk.densenet121(block_config=6)
    with pytest.raises(ValueError, match=r"`block_config\[i\]` must be >= 1"):
        mk.densenet121(block_config=(6, 0))
