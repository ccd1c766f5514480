"""Tests of coursepkg.models.torch.googlenet: Inception shapes, the parameter count explained, auxiliary heads."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from coursepkg.models.torch import GOOGLENET_TABLE, InceptionModule, count_params, googlenet, stage_shapes


def test_inception_module_channels_and_count():
    module = InceptionModule(192, 64, 96, 128, 16, 32, 32)  # 3a
    assert module(torch.zeros(2, 192, 5, 7)).shape == (2, 256, 5, 7)
    weights = 192 * (64 + 96 + 16 + 32) + 9 * 96 * 128 + 25 * 16 * 32
    assert count_params(module) == weights + (64 + 96 + 128 + 16 + 32 + 32) == 163_696
    with pytest.raises(ValueError, match=r"InceptionModule: `pool_proj` must be >= 1. Received: pool_proj=0"):
        InceptionModule(192, 64, 96, 128, 16, 32, 0)


def test_googlenet_inception_outputs():
    with torch.device("meta"):
        model = googlenet()
    shapes = stage_shapes(model, ["conv1", "pool1", "conv3", "pool2", *GOOGLENET_TABLE, "pool4"])
    channels = {name: s[1] for name, s in shapes.items()}
    assert [channels[name] for name in GOOGLENET_TABLE] == [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    assert [shapes[n][2] for n in ["conv1", "pool1", "conv3", "pool2", "inception3b", "inception4e", "pool4"]] == [
        112, 56, 56, 28, 28, 14, 7
    ]  # fmt: skip


def test_googlenet_count_explained_against_torchvision():
    # torchvision's GoogLeNet (no aux heads) has 6,624,904 parameters: rebuild that number from our layers with
    # batch norm instead of conv biases and its 3x3 kernel in the "5x5" branch
    with torch.device("meta"):
        model = googlenet()
    total = count_params(model.fc)
    for name, conv in model.named_modules():
        if isinstance(conv, nn.Conv2d):
            k = 3 if name.endswith("branch3") else conv.kernel_size[0]
            total += conv.out_channels * conv.in_channels * k * k + 2 * conv.out_channels
    assert total == 6_624_904
    biases = sum(p.numel() for n, p in model.named_parameters() if n.endswith("bias"))
    assert (count_params(model) - biases, biases) == (6_990_272, 8_280)


def test_googlenet_aux_logits():
    with torch.device("meta"):
        assert count_params(googlenet(aux_logits=True)) == 13_378_280
    with pytest.raises(ValueError, match=r"GoogLeNet with aux_logits=True.*at least 79x79"):
        googlenet(10, input_size=78, aux_logits=True)
    torch.manual_seed(0)
    model = googlenet(10, in_channels=1, input_size=79, aux_logits=True)
    x = torch.randn(2, 1, 79, 79)
    logits, aux1, aux2 = model(x)  # training mode: the two auxiliary heads too
    assert logits.shape == aux1.shape == aux2.shape == (2, 10)
    assert model.eval()(x).shape == (2, 10)  # evaluation mode: the main head only
