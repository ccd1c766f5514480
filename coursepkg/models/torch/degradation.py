"""The degradation problem (He et al., 2016): a plain block, and a small network of plain or residual blocks.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-degradation`). :class:`PlainBlock` has exactly the
layers of :class:`~coursepkg.models.torch.BasicBlock` (two 3x3 convolutions, each followed by batch norm, with a
ReLU after each) but no shortcut: ``relu(F(x))`` where the residual block computes ``relu(F(x) + x)``.
:func:`degradation_net` stacks ``blocks`` of either kind between a stem convolution and a classifier on global
average pooling, so that a deep plain network and its residual twin have the same layers and the same parameters and
differ only in the shortcuts. :mod:`coursepkg.models.keras.degradation` has the same builder with the same arguments
(and ``plain_block``, the twin of :class:`PlainBlock`, as ``basic_block`` is the twin of
:class:`~coursepkg.models.torch.BasicBlock`).
"""

from __future__ import annotations

import torch
from torch import nn

from ..._validation import as_int
from ..common import as_bool, check_common
from ._common import ImageModel
from .resnet import BasicBlock

__all__ = ["DegradationNet", "PlainBlock", "degradation_net"]


class PlainBlock(nn.Module):
    """A :class:`~coursepkg.models.torch.BasicBlock` without its shortcut: two 3x3 convolutions with batch norm.

    ``relu(BN(conv3x3(relu(BN(conv3x3/s(x))))))``. Attribute names are those of ``BasicBlock`` (``conv1``,
    ``bn1``, ``conv2``, ``bn2``, ``relu``), so the two blocks' weights are interchangeable.

    Parameters
    ----------
    in_channels, out_channels : int
    stride : int, default 1
        Stride of the first 3x3 convolution.
    conv_bias : bool, default False
        Give the convolutions biases (redundant before batch norm).

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, out_channels, ceil(H / stride), ceil(W / stride))``.
    Parameters without biases: ``9 in out + 9 out^2 + 4 out`` (the batch norms' scales and shifts), the count
    of a ``BasicBlock`` with an identity shortcut. With no shortcut there is no projection either: the block
    changes the number of channels or the resolution by itself.

    Examples
    --------
    >>> block = PlainBlock(16, 16)
    >>> block(torch.zeros(2, 16, 8, 8)).shape, sum(p.numel() for p in block.parameters())
    (torch.Size([2, 16, 8, 8]), 4672)
    """

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1, conv_bias: bool = False) -> None:
        super().__init__()
        func = "PlainBlock"
        in_channels = as_int(in_channels, "in_channels", func, minimum=1)
        out_channels = as_int(out_channels, "out_channels", func, minimum=1)
        stride = as_int(stride, "stride", func, minimum=1)
        conv_bias = as_bool(conv_bias, "conv_bias", func)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=conv_bias)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=conv_bias)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))  # (N, out, H/s, W/s)
        return self.relu(self.bn2(self.conv2(out)))  # F(x), and no shortcut


class DegradationNet(ImageModel):
    """Stem, ``blocks`` plain or residual blocks, global average pooling, a dense layer. See :func:`degradation_net`."""

    def __init__(
        self,
        num_classes: int = 10,
        *,
        blocks: int = 10,
        residual: bool = True,
        width: int = 16,
        in_channels: int = 1,
        input_size: int | tuple[int, int] = 8,
        conv_bias: bool = False,
    ) -> None:
        func = "degradation_net"
        num_classes, in_channels, hw = check_common(func, num_classes, in_channels, input_size, (), "DegradationNet")
        blocks = as_int(blocks, "blocks", func, minimum=0)
        residual = as_bool(residual, "residual", func)
        width = as_int(width, "width", func, minimum=1)
        conv_bias = as_bool(conv_bias, "conv_bias", func)
        super().__init__(in_channels, hw, 1)
        self.residual = residual
        block = BasicBlock if residual else PlainBlock
        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1, bias=conv_bias)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.blocks = nn.Sequential(*[block(width, width, conv_bias=conv_bias) for _ in range(blocks)])
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        x = self.relu(self.bn1(self.conv1(x)))  # (N, width, H, W)
        x = self.blocks(x)  # (N, width, H, W)
        x = self.flatten(self.avgpool(x))  # (N, width)
        return self.fc(x)  # (N, num_classes)


def degradation_net(
    num_classes: int = 10,
    *,
    blocks: int = 10,
    residual: bool = True,
    width: int = 16,
    in_channels: int = 1,
    input_size: int | tuple[int, int] = 8,
    conv_bias: bool = False,
) -> DegradationNet:
    """A small network of plain or residual blocks, for the degradation experiment on the 8x8 digits.

    ``conv1 width@3x3 pad 1 -> BN -> ReLU -> blocks x (BasicBlock or PlainBlock, width -> width) -> global
    average pooling -> fc num_classes``. Every convolution keeps the resolution, so any input size works.
    ``residual=True`` uses :class:`~coursepkg.models.torch.BasicBlock` (identity shortcuts),
    ``residual=False`` :class:`PlainBlock`: the two networks have the same layers and parameters.

    Parameters
    ----------
    num_classes : int, default 10
    blocks : int, default 10
        Number of blocks (0 leaves the stem and the classifier). Depth: ``2 * blocks + 2`` weighted layers.
    residual : bool, default True
        Identity shortcuts around every block, or none.
    width : int, default 16
        Channels of the stem and of every block.
    in_channels : int, default 1
    input_size : int or (H, W), default 8
        Recorded for :func:`~coursepkg.models.torch.stage_shapes` and
        :func:`~coursepkg.models.torch.model_depth`; any size from 1 runs.
    conv_bias : bool, default False
        Biases in the convolutions (redundant before batch norm).

    Returns
    -------
    DegradationNet
        Takes ``(N, in_channels, H, W)``; returns logits ``(N, num_classes)``.

    Shape
    -----
    8x8x1 -> conv1 8x8x16 -> blocks 8x8x16 -> global average pooling 16 -> 10. Parameters with the
    defaults: 47,066 (``9 C w + 2 w`` for the stem, ``18 w^2 + 4 w`` per block, ``w k + k`` for the
    classifier), the same with ``residual=False``; 9,690 with ``blocks=2``. Batch norm in training mode needs
    more than one value per channel: train with batches of 2 or more.

    Raises
    ------
    ValueError
        If a count is below its minimum (``blocks`` 0, the others 1).
    TypeError
        If an argument has the wrong type.

    Examples
    --------
    >>> plain, res = degradation_net(residual=False), degradation_net()
    >>> plain(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    >>> [sum(p.numel() for p in m.parameters()) for m in (plain, res)]
    [47066, 47066]
    """
    return DegradationNet(num_classes, blocks=blocks, residual=residual, width=width, in_channels=in_channels,
                          input_size=input_size, conv_bias=conv_bias)
