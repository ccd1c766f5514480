"""Tests of coursepkg.models.torch.resnet: identity and convolution blocks, the residual sum, stage shapes."""

from __future__ import annotations

import pytest
import torch

from coursepkg.models.torch import (
    BasicBlock,
    Bottleneck,
    conv_block,
    count_params,
    identity_block,
    resnet18,
    resnet50,
    stage_shapes,
)

STAGES = ["conv1", "maxpool", "layer1", "layer2", "layer3", "layer4"]


@pytest.mark.parametrize("stride_on", ["3x3", "1x1"])
def test_resnet50_stage_shapes(stride_on):
    with torch.device("meta"):
        model = resnet50(stride_on=stride_on)
    shapes = stage_shapes(model, STAGES)
    assert [s[1:] for s in shapes.values()] == [
        (64, 112, 112), (64, 56, 56), (256, 56, 56), (512, 28, 28), (1024, 14, 14), (2048, 7, 7)
    ]  # fmt: skip


def test_resnet18_stage_shapes_and_small_input():
    with torch.device("meta"):
        model = resnet18()
    assert [s[1:] for s in stage_shapes(model, STAGES[2:]).values()] == [
        (64, 56, 56), (128, 28, 28), (256, 14, 14), (512, 7, 7)
    ]  # fmt: skip
    small = resnet18(10, in_channels=1, input_size=32)
    x = torch.zeros(2, 1, 32, 32)
    assert [s[1:] for s in stage_shapes(small, STAGES, x).values()] == [
        (64, 16, 16), (64, 8, 8), (64, 8, 8), (128, 4, 4), (256, 2, 2), (512, 1, 1)
    ]  # fmt: skip


def test_keras_count_explained():
    # keras.applications.ResNet50(weights=None).count_params() == 25,636,712: conv biases + BN running stats
    with torch.device("meta"):
        model = resnet50(conv_bias=True)
    running = sum(b.numel() for name, b in model.named_buffers() if "running" in name)
    assert (count_params(model), running) == (25_583_592, 53_120)
    assert count_params(model) + running == 25_636_712


def test_identity_block_keeps_shape():
    block = identity_block(64)
    assert block.downsample is None
    x = torch.randn(2, 64, 5, 7)
    assert block(x).shape == x.shape
    assert count_params(block) == 64 * 16 + 9 * 16 * 16 + 16 * 64 + 2 * (16 + 16 + 64)


@pytest.mark.parametrize("stride_on", ["3x3", "1x1"])
def test_conv_block_changes_channels_and_stride(stride_on):
    block = conv_block(64, 32, stride=2, stride_on=stride_on)
    assert block.downsample is not None
    assert block(torch.randn(2, 64, 7, 8)).shape == (2, 128, 4, 4)  # ceil(7 / 2), 8 / 2
    strided = block.conv1 if stride_on == "1x1" else block.conv2
    assert strided.stride == (2, 2)
    assert {block.conv1.stride, block.conv2.stride, block.conv3.stride} == {(1, 1), (2, 2)}
    # stage 2 of ResNet-50: stride 1, only the channels change
    assert conv_block(64, 64, stride=1)(torch.randn(1, 64, 6, 6)).shape == (1, 256, 6, 6)


def _zero_last_gamma(block: torch.nn.Module) -> None:
    last = block.bn3 if isinstance(block, Bottleneck) else block.bn2
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()


@pytest.mark.parametrize(
    "make",
    [
        lambda: identity_block(32),
        lambda: conv_block(16, 8, stride=2),
        lambda: conv_block(16, 8, stride=2, stride_on="1x1", conv_bias=True),
        lambda: BasicBlock(16, 16),
        lambda: BasicBlock(8, 16, stride=2),
    ],
    ids=["identity", "projection", "projection-1x1-bias", "basic-identity", "basic-projection"],
)
def test_residual_output_is_relu_of_shortcut_when_F_is_zero(make):
    torch.manual_seed(0)
    block = make().eval()
    x = torch.randn(2, block.conv1.in_channels, 6, 6)
    shortcut = x if block.downsample is None else block.downsample(x)
    # F(x) computed by hand from the block's layers, then the sum
    if isinstance(block, Bottleneck):
        f = block.bn3(block.conv3(torch.relu(block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(x))))))))
    else:
        f = block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(x)))))
    torch.testing.assert_close(block(x), torch.relu(f + shortcut))
    _zero_last_gamma(block)  # F(x) = 0: the block passes relu(shortcut(x)) on
    torch.testing.assert_close(block(x), torch.relu(shortcut))


def test_block_errors():
    with pytest.raises(ValueError, match=r"`channels` must be divisible by 4.*Received: channels=250"):
        identity_block(250)
    with pytest.raises(ValueError, match=r"the shortcut is the identity; build an identity_block\(256\) instead"):
        conv_block(256, 64, stride=1)
    with pytest.raises(ValueError, match=r'`stride_on` must be "3x3" .* or "1x1" .*Received: stride_on=\'3\''):
        resnet50(stride_on="3")
    with pytest.raises(TypeError, match=r"resnet18: `conv_bias` must be True or False. Received: conv_bias=None"):
        resnet18(conv_bias=None)
