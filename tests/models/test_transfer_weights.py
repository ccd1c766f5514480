"""Weights copied between the PyTorch and Keras twins give the same outputs, and mismatches are named."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402

from coursepkg.models import keras as mk  # noqa: E402
from coursepkg.models import torch as mt  # noqa: E402
from coursepkg.models.transfer_weights import keras_to_torch, pair_layers, torch_to_keras  # noqa: E402
from coursepkg.ops import nchw_to_nhwc, nhwc_to_nchw  # noqa: E402

torch.set_num_threads(1)
try:
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
except RuntimeError:  # TensorFlow already started by another test module of this session
    pass

# case -> (builder, arguments given to both frameworks' builder). Inputs are chosen so that every Flatten sees a
# map larger than 1x1 and not square, which exercises the (C, H, W) -> (H, W, C) permutation of the dense layer;
# resnet18 takes torchvision's defaults (conv_bias=False), resnet50 keras.applications' (conv_bias=True, "1x1").
CASES = {
    "simple_cnn": ("simple_cnn", dict(num_classes=10, in_channels=1, input_size=(28, 30))),
    "lenet5": ("lenet5", dict(num_classes=10, in_channels=1, input_size=(36, 40))),  # C5 maps 2x3
    "alexnet": ("alexnet", dict(num_classes=10, in_channels=3, input_size=(99, 131))),  # pool5 2x3
    "vgg11": ("vgg11", dict(num_classes=10, in_channels=3, input_size=(64, 96))),  # block5 2x3
    "vgg11_bn": ("vgg11", dict(num_classes=10, in_channels=1, input_size=32, batch_norm=True)),
    "resnet18": ("resnet18", dict(num_classes=10, in_channels=1, input_size=32, conv_bias=False)),
    "resnet50": ("resnet50", dict(num_classes=10, in_channels=3, input_size=32, conv_bias=True, stride_on="1x1")),
    "resnet50_v1.5": ("resnet50", dict(num_classes=10, in_channels=3, input_size=33, conv_bias=False, stride_on="3x3")),
    "densenet121": ("densenet121", dict(num_classes=10, in_channels=3, input_size=32)),
    "googlenet": ("googlenet", dict(num_classes=10, in_channels=3, input_size=33)),  # odd sizes: ceil-mode pools
    "pixelnet": ("pixelnet", dict(num_classes=4, in_channels=1, input_size=(20, 24))),
}


def _randomise_batch_norm(module: torch.nn.Module, seed: int) -> None:
    """Give every batch norm non-trivial statistics and affine parameters, as after training."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.rand(c, generator=gen) - 0.5)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.rand(c, generator=gen) - 0.5)


def _input(torch_model: torch.nn.Module) -> np.ndarray:
    h, w = torch_model.input_size
    return np.random.default_rng(0).standard_normal((2, torch_model.in_channels, h, w)).astype(np.float32)


def _outputs(torch_model, keras_model, x):
    """Both models' outputs on the same NCHW batch, in eval mode, in PyTorch's layout."""
    with torch.no_grad():
        expected = torch_model.eval()(torch.from_numpy(x)).numpy()
    got = np.asarray(keras_model(nchw_to_nhwc(x), training=False))
    return (nhwc_to_nchw(got) if got.ndim == 4 else got), expected


def _build(case: str):
    name, kwargs = CASES[case]
    torch.manual_seed(0)
    keras.utils.set_random_seed(0)
    return getattr(mt, name)(**kwargs), getattr(mk, name)(**kwargs)


@pytest.mark.parametrize("case", list(CASES))
def test_torch_to_keras_gives_the_same_outputs(case):
    torch_model, keras_model = _build(case)
    _randomise_batch_norm(torch_model, seed=1)
    assert torch_to_keras(torch_model, keras_model) is keras_model
    got, expected = _outputs(torch_model, keras_model, _input(torch_model))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(expected).max()))


@pytest.mark.parametrize("case", ["simple_cnn", "lenet5", "resnet18", "googlenet"])
def test_keras_to_torch_gives_the_same_outputs(case):
    torch_model, keras_model = _build(case)
    rng = np.random.default_rng(2)
    for layer in keras_model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.uniform(-0.5, 0.5, c), rng.uniform(-0.5, 0.5, c),
                               rng.uniform(0.5, 1.5, c)])  # fmt: skip
    assert keras_to_torch(keras_model, torch_model) is torch_model
    got, expected = _outputs(torch_model, keras_model, _input(torch_model))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(expected).max()))


def test_round_trip_restores_every_weight():
    torch_model, keras_model = _build("resnet18")
    _randomise_batch_norm(torch_model, seed=3)
    before = {k: v.clone() for k, v in torch_model.state_dict().items()}
    torch_to_keras(torch_model, keras_model)
    torch.manual_seed(9)
    fresh = mt.resnet18(**CASES["resnet18"][1])
    keras_to_torch(keras_model, fresh)
    for key, value in fresh.state_dict().items():
        if not key.endswith("num_batches_tracked"):
            torch.testing.assert_close(value, before[key], rtol=0, atol=0, msg=key)


def test_batch_norm_epsilon_and_momentum_travel_with_the_weights():
    torch_model, keras_model = _build("resnet18")
    for m in torch_model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eps, m.momentum = 1e-3, 0.2
    torch_to_keras(torch_model, keras_model)
    bn = [layer for layer in keras_model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert all(layer.epsilon == 1e-3 and np.isclose(layer.momentum, 0.8) for layer in bn)


def test_pairs_follow_the_code_order_not_model_layers():
    torch_model, keras_model = _build("resnet50")
    pairs = [(t, k.name) for t, _, k in pair_layers(torch_model, keras_model)]
    block = [p for p in pairs if p[0].startswith("layer1.0.")]
    assert block == [
        ("layer1.0.conv1", "conv2_block1_1_conv"), ("layer1.0.bn1", "conv2_block1_1_bn"),
        ("layer1.0.conv2", "conv2_block1_2_conv"), ("layer1.0.bn2", "conv2_block1_2_bn"),
        ("layer1.0.conv3", "conv2_block1_3_conv"), ("layer1.0.bn3", "conv2_block1_3_bn"),
        ("layer1.0.downsample.0", "conv2_block1_0_conv"), ("layer1.0.downsample.1", "conv2_block1_0_bn"),
    ]  # fmt: skip
    assert pairs[-1] == ("fc", "predictions")


def test_a_missing_bias_is_named_with_a_hint():
    torch_model = mt.resnet18(num_classes=10, in_channels=1, input_size=32)  # conv_bias=False, torchvision's default
    keras_model = mk.resnet18(num_classes=10, in_channels=1, input_size=32)  # conv_bias=True, keras.applications'
    with pytest.raises(ValueError, match=r"layer #0 does not line up: PyTorch 'conv1' .*'conv1_conv'.*same conv_bias"):
        torch_to_keras(torch_model, keras_model)


def test_a_different_head_is_named_with_its_shapes():
    torch_model = mt.simple_cnn(num_classes=10)
    keras_model = mk.simple_cnn(num_classes=7)
    with pytest.raises(ValueError, match=r"layer #2 does not line up: PyTorch 'fc2' \(Linear, weight \(10, 128\)\).*"
                                         r"'fc2' \(Dense, kernel \(128, 7\)"):  # fmt: skip
        torch_to_keras(torch_model, keras_model)
    keras_before = [w.numpy().copy() for w in keras_model.weights]
    with pytest.raises(ValueError):
        torch_to_keras(torch_model, keras_model)
    for w, before in zip(keras_model.weights, keras_before):  # nothing was copied
        np.testing.assert_array_equal(w.numpy(), before)


def test_a_different_input_size_is_named():
    torch_model = mt.simple_cnn(num_classes=10, input_size=28)
    keras_model = mk.simple_cnn(num_classes=10, input_size=30)
    with pytest.raises(ValueError, match=r"layer #1 does not line up: PyTorch 'fc1' \(Linear, weight \(128, 5408\)\).*"
                                         r"'fc1' \(Dense, kernel \(6272, 128\)"):  # fmt: skip
        torch_to_keras(torch_model, keras_model)


def test_a_different_depth_is_named():
    torch_model = mt.resnet18(num_classes=10, input_size=32)
    keras_model = mk.resnet34(num_classes=10, input_size=32, conv_bias=False)
    with pytest.raises(ValueError, match=r"layer #10 does not line up: PyTorch 'layer2.0.conv1' \(Conv2d, weight "
                                         r"\(128, 64, 3, 3\)\).*but Keras 'conv2_block3_1_conv'"):  # fmt: skip
        keras_to_torch(keras_model, torch_model)
    lenet_t, lenet_k = mt.lenet5(), mk.lenet5()
    lenet_k_short = keras.Model(lenet_k.input, lenet_k.get_layer("f6").output)
    with pytest.raises(ValueError, match=r"PyTorch model has 5 weighted layers .* Keras model has 4; "
                                         r"the first unpaired one is PyTorch 'output'"):  # fmt: skip
        torch_to_keras(lenet_t, lenet_k_short)


def test_googlenet_aux_heads_are_not_supported():
    torch_model = mt.googlenet(num_classes=3, input_size=79, aux_logits=True)
    keras_model = mk.googlenet(num_classes=3, input_size=79, aux_logits=True)
    with pytest.raises(ValueError, match=r"PyTorch 'aux1.conv' \(Conv2d.* paired with Keras 'fc' \(Dense"):
        torch_to_keras(torch_model, keras_model)


def test_unsupported_layers_and_arguments():
    with pytest.raises(TypeError, match=r"PyTorch module 'rnn' \(LSTM\) has weights, but only Conv2d"):
        torch_to_keras(torch.nn.ModuleDict({"rnn": torch.nn.LSTM(3, 4)}), mk.lenet5())
    with pytest.raises(TypeError, match="`keras_model` must be a functional keras.Model"):
        torch_to_keras(mt.lenet5(), "lenet5")
    with pytest.raises(TypeError, match="`torch_module` must be a torch.nn.Module"):
        keras_to_torch(mk.lenet5(), mk.lenet5())
