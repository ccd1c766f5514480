"""Tests of coursepkg.models.torch.degradation: the plain block is BasicBlock minus its shortcut, and the plain and
residual networks have the same layers, counts and depth."""

from __future__ import annotations

import pytest
import torch

from coursepkg.models.torch import (
    BasicBlock,
    DegradationNet,
    PlainBlock,
    count_params,
    degradation_net,
    model_depth,
    stage_shapes,
)


@pytest.mark.parametrize(("c_in", "c_out", "stride", "conv_bias"), [(16, 16, 1, False), (3, 8, 2, True), (1, 1, 1, False)])
def test_plain_block_is_basic_block_without_the_shortcut(c_in, c_out, stride, conv_bias):
    torch.manual_seed(0)
    plain = PlainBlock(c_in, c_out, stride=stride, conv_bias=conv_bias).eval()
    residual = BasicBlock(c_in, c_out, stride=stride, conv_bias=conv_bias).eval()
    residual.load_state_dict(plain.state_dict(), strict=False)  # the same F; the projection keeps its own weights
    x = torch.randn(2, c_in, 7, 6)
    with torch.no_grad():
        out = plain(x)
        shortcut = x if residual.downsample is None else residual.downsample(x)
        f = residual.bn2(residual.conv2(residual.relu(residual.bn1(residual.conv1(x)))))
    assert out.shape == (2, c_out, -(-7 // stride), -(-6 // stride))
    torch.testing.assert_close(out, torch.relu(f))
    torch.testing.assert_close(residual(x), torch.relu(f + shortcut))
    bias = 2 * c_out if conv_bias else 0
    assert count_params(plain) == 9 * c_in * c_out + 9 * c_out * c_out + 4 * c_out + bias
    assert not hasattr(plain, "downsample")


@pytest.mark.parametrize("blocks", [0, 1, 2, 10])
def test_plain_and_residual_nets_have_the_same_layers(blocks):
    plain, residual = degradation_net(blocks=blocks, residual=False), degradation_net(blocks=blocks)
    assert isinstance(plain, DegradationNet)
    assert [type(b) for b in plain.blocks] == [PlainBlock] * blocks
    assert [type(b) for b in residual.blocks] == [BasicBlock] * blocks
    assert all(b.downsample is None for b in residual.blocks)  # identity shortcuts only
    shapes = {name: p.shape for name, p in plain.named_parameters()}
    assert shapes == {name: p.shape for name, p in residual.named_parameters()}
    assert count_params(plain) == count_params(residual) == 9 * 16 + 32 + blocks * (18 * 16**2 + 4 * 16) + 170
    assert model_depth(plain) == model_depth(residual) == 2 * blocks + 2
    assert plain(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


def test_docstring_counts_and_shapes():
    doc = " ".join(degradation_net.__doc__.split())
    assert f"Parameters with the defaults: {count_params(degradation_net()):,}" in doc
    assert f"{count_params(degradation_net(blocks=2)):,} with ``blocks=2``" in doc
    shapes = stage_shapes(degradation_net(), ["conv1", "blocks", "avgpool", "fc"])
    assert list(shapes.values()) == [(1, 16, 8, 8), (1, 16, 8, 8), (1, 16, 1, 1), (1, 10)]


def test_other_sizes_and_inputs():
    model = degradation_net(3, blocks=2, width=4, in_channels=3, input_size=(5, 7), conv_bias=True)
    assert model(torch.zeros(2, 3, 5, 7)).shape == (2, 3)
    assert model(torch.zeros(2, 3, 1, 1)).shape == (2, 3)  # no window shrinks the maps
    assert count_params(model) == 9 * 3 * 4 + 4 + 8 + 2 * (18 * 16 + 8 + 16) + 4 * 3 + 3


def test_errors():
    with pytest.raises(ValueError, match=r"degradation_net: `blocks` must be >= 0. Received: blocks=-1"):
        degradation_net(blocks=-1)
    with pytest.raises(TypeError, match=r"degradation_net: `residual` must be True or False. Received: residual=1"):
        degradation_net(residual=1)
    with pytest.raises(ValueError, match=r"degradation_net: `width` must be >= 1. Received: width=0"):
        degradation_net(width=0)
    with pytest.raises(TypeError, match=r"PlainBlock: `stride` must be an integer. Received: stride=1.5"):
        PlainBlock(4, 4, stride=1.5)
    with pytest.raises(ValueError, match=r"DegradationNet: the model was built with in_channels=1 but the input has "
                                         r"C=3"):
        degradation_net()(torch.zeros(2, 3, 8, 8))


def test_the_same_seed_gives_the_plain_and_residual_twins_the_same_initial_weights():
    torch.manual_seed(3)
    plain = degradation_net(residual=False)
    torch.manual_seed(3)
    residual = degradation_net(residual=True)
    for (name, a), b in zip(plain.state_dict().items(), residual.state_dict().values()):
        assert torch.equal(a, b), name
