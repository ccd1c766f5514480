"""Tests of coursepkg.models.torch.densenet: dense blocks grow by L * k channels, transitions halve."""

from __future__ import annotations

import pytest
import torch

from coursepkg.models.torch import DenseBlock, DenseLayer, Transition, count_params, densenet121, stage_shapes


@pytest.mark.parametrize("in_channels, num_layers, growth_rate", [(5, 3, 4), (64, 6, 32), (1, 1, 1)])
def test_dense_block_adds_L_times_growth_channels(in_channels, num_layers, growth_rate):
    block = DenseBlock(in_channels, num_layers, growth_rate=growth_rate, bn_size=2)
    x = torch.randn(2, in_channels, 5, 3)
    out = block(x)
    assert out.shape == (2, in_channels + num_layers * growth_rate, 5, 3) and block.out_channels == out.shape[1]
    torch.testing.assert_close(out[:, :in_channels], x)  # the input is passed on, concatenated


def test_dense_layer_count():
    layer = DenseLayer(64, growth_rate=32, bn_size=4)
    assert layer(torch.randn(2, 64, 4, 4)).shape == (2, 32, 4, 4)
    assert count_params(layer) == 2 * 64 + 64 * 128 + 2 * 128 + 9 * 128 * 32


@pytest.mark.parametrize("h, w", [(8, 8), (7, 9)])
def test_transition_halves_channels_and_size(h, w):
    out = Transition(16, 8)(torch.randn(2, 16, h, w))
    assert out.shape == (2, 8, h // 2, w // 2)


def test_densenet121_transitions():
    with torch.device("meta"):
        model = densenet121()
    names = ["pool0"] + [f"{kind}{i}" for i in range(1, 4) for kind in ("denseblock", "transition")] + ["denseblock4"]
    shapes = stage_shapes(model, [f"features.{n}" for n in names])
    assert [s[1:] for s in shapes.values()] == [
        (64, 56, 56),
        (256, 56, 56), (128, 28, 28),
        (512, 28, 28), (256, 14, 14),
        (1024, 14, 14), (512, 7, 7),
        (1024, 7, 7),
    ]  # fmt: skip


def test_keras_count_explained():
    # keras.applications.DenseNet121(weights=None).count_params() == 8,062,504: the same trainable parameters
    # plus the batch-norm running means and variances, which PyTorch keeps as buffers
    with torch.device("meta"):
        model = densenet121()
    running = sum(b.numel() for name, b in model.named_buffers() if "running" in name)
    assert running == 83_648 and count_params(model) + running == 8_062_504


def test_densenet_options_and_errors():
    with torch.device("meta"):
        model = densenet121(10, growth_rate=12, block_config=(2, 2), num_init_features=16, compression=1.0)
        assert model(torch.empty(1, 3, 32, 32, device="meta")).shape == (1, 10)
    assert model.features.transition1.conv.out_channels == 16 + 2 * 12  # compression 1 keeps every channel
    with pytest.raises(ValueError, match=r"`compression` is the fraction .* in \(0, 1\]. Received: compression=0"):
        densenet121(compression=0)
    with pytest.raises(TypeError, match=r"`block_config` must be a non-empty sequence of layer counts"):
        densenet121(block_config=6)
    with pytest.raises(ValueError, match=r"densenet121: input_size=28 is too small .* at least 29x29"):
        densenet121(input_size=28)
