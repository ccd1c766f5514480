"""ResNets in Keras: keras.applications' count and weight order, stage shapes, residual block properties."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursepkg.models import keras as mk


@pytest.fixture(scope="module")
def resnet50():
    model = mk.resnet50()  # built once for the module
    yield model
    del model
    keras.backend.clear_session()


def test_resnet50_count_is_keras_applications(resnet50):
    assert mk.count_params(resnet50) == 25_636_712
    assert mk.count_params(resnet50, trainable_only=True) == 25_583_592
    bn_channels = sum(layer.weights[0].shape[0] for layer in resnet50.layers if "_bn" in layer.name)
    assert 25_636_712 - 25_583_592 == 2 * bn_channels == 53_120  # moving mean and variance


def test_resnet50_weights_line_up_with_keras_applications(resnet50):
    reference = keras.applications.ResNet50(weights=None)
    assert reference.count_params() == mk.count_params(resnet50)
    ours = [(w.path, tuple(w.shape)) for w in resnet50.weights]
    theirs = [(w.path, tuple(w.shape)) for w in reference.weights]
    assert ours == theirs  # names, shapes and order: set_weights(reference.get_weights()) loads them right
    del reference


def test_keras_applications_weights_load_by_order_and_compute_the_same():
    keras.utils.set_random_seed(2)
    reference = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
    model = mk.resnet50(num_classes=10, input_size=32)
    trunk = keras.Model(model.input, model.get_layer("conv5_block3_out").output)
    trunk.set_weights(reference.get_weights())
    x = np.random.default_rng(0).standard_normal((2, 32, 32, 3)).astype(np.float32)
    expected = np.asarray(reference(x, training=False))  # batch norm epsilon 1.001e-5 there, 1e-5 here
    got = np.asarray(trunk(x, training=False))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_resnet50_stage_shapes(resnet50):
    names = ["conv1_relu", "pool1_pool", "conv2_block3_out", "conv3_block4_out", "conv4_block6_out", "conv5_block3_out"]
    assert [s[1:] for s in mk.stage_shapes(resnet50, names).values()] == [
        (112, 112, 64), (56, 56, 64), (56, 56, 256), (28, 28, 512), (14, 14, 1024), (7, 7, 2048),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "conv_bias", "with_bias", "without_bias", "torchvision"),
    [
        ("resnet18", True, 11_703_912, 11_699_112, 11_689_512),
        ("resnet34", False, 21_823_208, 21_814_696, 21_797_672),
        ("resnet50", False, 25_636_712, 25_610_152, 25_557_032),
        ("resnet101", True, 44_707_176, 44_654_504, 44_549_160),  # with bias: keras.applications.ResNet101
        ("resnet152", False, 60_419_944, 60_344_232, 60_192_808),  # with bias: keras.applications.ResNet152
    ],
)
def test_counts_with_and_without_conv_bias(name, conv_bias, with_bias, without_bias, torchvision):
    """The docstrings' counts. One build per depth: the other count differs by one bias per conv filter."""
    # Global average pooling: the count does not depend on the input size, so a 32x32 build is counted.
    model = getattr(mk, name)(input_size=32, conv_bias=conv_bias)
    biases = sum(layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    count, trainable = mk.count_params(model), mk.count_params(model, trainable_only=True)
    if conv_bias:
        count, trainable = count - biases, trainable - biases
    assert (count + biases, count, trainable) == (with_bias, without_bias, torchvision)


def test_resnet18_stage_shapes():
    model = mk.resnet18(input_size=(64, 96))
    names = ["pool1_pool", "conv2_block2_out", "conv3_block2_out", "conv4_block2_out", "conv5_block2_out"]
    assert [s[1:] for s in mk.stage_shapes(model, names).values()] == [
        (16, 24, 64), (16, 24, 64), (8, 12, 128), (4, 6, 256), (2, 3, 512),
    ]  # fmt: skip
    assert "conv2_block1_0_conv" not in [layer.name for layer in model.layers]  # 64 -> 64, stride 1: identity
    assert model.get_layer("conv3_block1_0_conv").kernel.shape == (1, 1, 64, 128)  # projection


def _block_model(block, channels: int, size: int = 6, **kwargs):
    inputs = keras.Input((size, size, channels))
    return keras.Model(inputs, block(inputs, name="b", **kwargs))


def _silence_residual(model, bn_name: str):
    """Set the last batch norm of F to output 0, so that the block computes relu(shortcut(x))."""
    bn = model.get_layer(bn_name)
    bn.gamma.assign(np.zeros(bn.gamma.shape, dtype=np.float32))
    bn.beta.assign(np.zeros(bn.beta.shape, dtype=np.float32))


@pytest.mark.parametrize(("block", "kwargs", "bn"), [
    (mk.identity_block, dict(filters=4), "b_3_bn"), (mk.basic_block, dict(filters=16), "b_2_bn"),
])  # fmt: skip
def test_identity_shortcut_passes_nonnegative_input_through(block, kwargs, bn):
    model = _block_model(block, 16, **kwargs)
    _silence_residual(model, bn)
    x = np.random.default_rng(0).uniform(0, 2, (2, 6, 6, 16)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(model(x, training=False)), x, rtol=1e-6)


def test_residual_adds_to_the_shortcut():
    """The block outputs relu(F(x) + x): the residual and the shortcut add before the last ReLU."""
    model = _block_model(mk.identity_block, 16, filters=4)
    x = np.random.default_rng(1).normal(0, 1, (2, 6, 6, 16)).astype(np.float32)
    f = keras.Model(model.input, model.get_layer("b_3_bn").output)
    expected = np.maximum(np.asarray(f(x, training=False)) + x, 0)
    np.testing.assert_allclose(np.asarray(model(x, training=False)), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("stride_on", ["1x1", "3x3"])
def test_conv_block_shapes_and_stride_placement(stride_on):
    model = _block_model(mk.conv_block, 8, size=7, filters=4, strides=2, stride_on=stride_on)
    assert model.output_shape == (None, 4, 4, 16)
    assert model.get_layer("b_0_conv").strides == (2, 2)
    strided = [name for name in ("b_1_conv", "b_2_conv") if model.get_layer(name).strides == (2, 2)]
    assert strided == (["b_1_conv"] if stride_on == "1x1" else ["b_2_conv"])
    convs = (8 * 4 + 4) + (9 * 4 * 4 + 4) + (4 * 16 + 16) + (8 * 16 + 16)  # 1x1, 3x3, 1x1, projection
    assert mk.count_params(model, trainable_only=True) == convs + 2 * (4 + 4 + 16 + 16)  # + BN gamma and beta


def test_stride_on_changes_the_function_not_the_weights():
    a = mk.resnet50(num_classes=3, input_size=32, stride_on="1x1")
    b = mk.resnet50(num_classes=3, input_size=32, stride_on="3x3")
    assert [w.shape for w in a.weights] == [w.shape for w in b.weights]
    b.set_weights(a.get_weights())
    x = np.random.default_rng(0).standard_normal((1, 32, 32, 3)).astype(np.float32)
    assert not np.allclose(np.asarray(a(x, training=False)), np.asarray(b(x, training=False)))


def test_block_errors():
    x = keras.Input((6, 6, 12))
    with pytest.raises(ValueError, match=r"identity_block: the input has 12 channels .* filters=3"):
        mk.identity_block(x, 4, name="b")
    with pytest.raises(ValueError, match=r"conv_block: `stride_on` must be '1x1' .* Received: stride_on='2x2'"):
        mk.conv_block(x, 4, stride_on="2x2", name="b")
    with pytest.raises(ValueError, match=r"resnet50: `stride_on` must be"):
        mk.resnet50(stride_on=3)
    with pytest.raises(TypeError, match="`conv_bias` must be True or False"):
        mk.resnet18(conv_bias=None)
