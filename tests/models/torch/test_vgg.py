"""Tests of coursepkg.models.torch.vgg: block shapes, depths, counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from coursepkg.models.torch import count_params, stage_shapes, vgg11, vgg16, vgg19


def test_vgg16_blocks_halve_the_size():
    with torch.device("meta"):
        model = vgg16()
    shapes = stage_shapes(model, [f"block{b}" for b in range(1, 6)])
    assert [s[1:] for s in shapes.values()] == [
        (64, 112, 112), (128, 56, 56), (256, 28, 28), (512, 14, 14), (512, 7, 7)
    ]  # fmt: skip
    assert model.fc6.in_features == 25_088


@pytest.mark.parametrize("builder, n_convs", [(vgg11, 8), (vgg16, 13), (vgg19, 16)])
def test_vgg_depths(builder, n_convs):
    with torch.device("meta"):
        model = builder()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == n_convs  # + 3 dense layers = 11, 16, 19 weight layers


def test_vgg_batch_norm_matches_torchvision_bn_count():
    with torch.device("meta"):
        assert count_params(vgg16(batch_norm=True)) == 138_365_992  # torchvision's vgg16_bn
        small = vgg11(10, in_channels=1, input_size=32)  # 1 input channel, 1x1x512 features, 10 classes
    assert count_params(small) == 132_863_336 - 64 * 2 * 9 - (25_088 - 512) * 4096 - 990 * (4096 + 1)
