"""Residual networks (He et al., 2016): ResNet-18/34 with basic blocks, ResNet-50/101/152 with bottlenecks.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-resnet`). A residual block computes
``relu(F(x) + shortcut(x))``: ``F`` is two 3x3 convolutions (:class:`BasicBlock`) or a 1x1 -> 3x3 -> 1x1 bottleneck
(:class:`Bottleneck`), each convolution followed by batch norm. The shortcut is the identity when the block keeps
the shape (an *identity block*) and a 1x1 convolution with batch norm when it changes the channels or the stride (a
*convolution block*, or projection shortcut); :func:`identity_block` and :func:`conv_block` build each kind.

Attribute names are torchvision's (``conv1``, ``bn1``, ``layer1.0.downsample.0``, ``fc``, ...), so a
torchvision ``state_dict`` has the same keys and shapes with ``conv_bias=False, stride_on="3x3"``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from ..._validation import as_int
from ..common import RESNET_CONFIGS, RESNET_WIDTHS, RESNET_WINDOWS, as_bool, check_common, minimum_size
from ._common import ImageModel

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "conv_block",
    "identity_block",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
]

StrideOn = Literal["1x1", "3x3"]


def _check_stride_on(stride_on: object, func: str) -> StrideOn:
    if stride_on not in ("1x1", "3x3"):
        raise ValueError(
            f'{func}: `stride_on` must be "3x3" (torchvision, ResNet v1.5) or "1x1" (the paper and '
            f"keras.applications). Received: stride_on={stride_on!r}."
        )
    return stride_on  # type: ignore[return-value]


def _projection(in_channels: int, out_channels: int, stride: int, conv_bias: bool) -> nn.Sequential:
    """The convolution block's shortcut: 1x1 conv with the block's stride, then batch norm."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=conv_bias),
        nn.BatchNorm2d(out_channels),
    )


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a shortcut, as in ResNet-18 and -34.

    Parameters
    ----------
    in_channels, out_channels : int
    stride : int, default 1
        Stride of the first 3x3 convolution (and of the projection).
    conv_bias : bool, default False
        Give the convolutions biases (redundant before batch norm; Keras-style counts).

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, out_channels, ceil(H / stride), ceil(W / stride))``. The
    shortcut is the identity when ``stride == 1`` and ``in_channels == out_channels`` (``downsample`` is
    ``None``), otherwise a projection. Parameters without biases: ``9 in out + 9 out^2 + 4 out`` (batch
    norm), plus ``in out + 2 out`` for a projection.
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1, conv_bias: bool = False) -> None:
        super().__init__()
        func = "BasicBlock"
        in_channels = as_int(in_channels, "in_channels", func, minimum=1)
        out_channels = as_int(out_channels, "out_channels", func, minimum=1)
        stride = as_int(stride, "stride", func, minimum=1)
        conv_bias = as_bool(conv_bias, "conv_bias", func)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=conv_bias)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=conv_bias)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        needs_projection = stride != 1 or in_channels != out_channels
        self.downsample = _projection(in_channels, out_channels, stride, conv_bias) if needs_projection else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)  # (N, out, H/s, W/s)
        out = self.relu(self.bn1(self.conv1(x)))  # (N, out, H/s, W/s)
        out = self.bn2(self.conv2(out))  # F(x)
        return self.relu(out + shortcut)


class Bottleneck(nn.Module):
    """1x1 (reduce) -> 3x3 -> 1x1 (expand by 4), each with batch norm, and a shortcut; ResNet-50 and deeper.

    Parameters
    ----------
    in_channels : int
    width : int
        Channels of the 1x1 reduction and the 3x3 convolution; the block outputs ``4 * width``.
    stride : int, default 1
        Downsampling factor of the block.
    stride_on : {"3x3", "1x1"}, default "3x3"
        Which convolution strides: the 3x3 (torchvision, "ResNet v1.5", slightly more accurate) or the first
        1x1 (the paper, keras.applications). Parameter counts are the same.
    conv_bias : bool, default False
        Give the convolutions biases.

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, 4 width, ceil(H / stride), ceil(W / stride))``. The shortcut
    is the identity (an *identity block*) when ``stride == 1`` and ``in_channels == 4 width``, otherwise a
    1x1 projection with batch norm (a *convolution block*). Parameters without biases:
    ``in w + 9 w^2 + 4 w^2 + 12 w`` (batch norm), plus ``4 in w + 8 w`` for a projection.
    """

    expansion = 4

    def __init__(
        self,
        in_channels: int,
        width: int,
        *,
        stride: int = 1,
        stride_on: StrideOn = "3x3",
        conv_bias: bool = False,
    ) -> None:
        super().__init__()
        func = "Bottleneck"
        in_channels = as_int(in_channels, "in_channels", func, minimum=1)
        width = as_int(width, "width", func, minimum=1)
        stride = as_int(stride, "stride", func, minimum=1)
        stride_on = _check_stride_on(stride_on, func)
        conv_bias = as_bool(conv_bias, "conv_bias", func)
        out_channels = width * self.expansion
        s1, s3 = (stride, 1) if stride_on == "1x1" else (1, stride)
        self.conv1 = nn.Conv2d(in_channels, width, 1, stride=s1, bias=conv_bias)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=s3, padding=1, bias=conv_bias)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=conv_bias)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        needs_projection = stride != 1 or in_channels != out_channels
        self.downsample = _projection(in_channels, out_channels, stride, conv_bias) if needs_projection else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)  # (N, 4w, H/s, W/s)
        out = self.relu(self.bn1(self.conv1(x)))  # (N, w, H, W), or H/s with stride_on="1x1"
        out = self.relu(self.bn2(self.conv2(out)))  # (N, w, H/s, W/s)
        out = self.bn3(self.conv3(out))  # F(x): (N, 4w, H/s, W/s)
        return self.relu(out + shortcut)


def identity_block(channels: int, *, conv_bias: bool = False) -> Bottleneck:
    """A bottleneck block whose shortcut is the identity: ``channels -> channels`` at the same size.

    ``channels`` must be divisible by 4 (the bottleneck is ``channels // 4`` wide).

    Examples
    --------
    >>> block = identity_block(256)  # as in stage 2 of ResNet-50
    >>> block(torch.zeros(1, 256, 8, 8)).shape, block.downsample is None
    (torch.Size([1, 256, 8, 8]), True)
    """
    channels = as_int(channels, "channels", "identity_block", minimum=4)
    if channels % 4:
        raise ValueError(
            "identity_block: `channels` must be divisible by 4: the block is a 1x1 reduction to channels // 4, "
            f"a 3x3 and a 1x1 expansion back by 4. Received: channels={channels}."
        )
    return Bottleneck(channels, channels // 4, conv_bias=conv_bias)


def conv_block(
    in_channels: int, width: int, *, stride: int = 2, stride_on: StrideOn = "3x3", conv_bias: bool = False
) -> Bottleneck:
    """A bottleneck block with a projection shortcut: ``in_channels -> 4 * width``, spatial size / ``stride``.

    The first block of every stage of ResNet-50 is one (stride 1 in stage 2, where only the channels change).

    Examples
    --------
    >>> block = conv_block(256, 128)  # the first block of stage 3 of ResNet-50
    >>> block(torch.zeros(1, 256, 8, 8)).shape
    torch.Size([1, 512, 4, 4])
    """
    block = Bottleneck(in_channels, width, stride=stride, stride_on=stride_on, conv_bias=conv_bias)
    if block.downsample is None:
        raise ValueError(
            "conv_block: with stride=1 and in_channels == 4 * width the shortcut is the identity; build an "
            f"identity_block({in_channels}) instead. Received: in_channels={in_channels}, width={width}, stride=1."
        )
    return block


class ResNet(ImageModel):
    """Stem, four stages of residual blocks, global average pooling and a dense layer. See :func:`resnet50`."""

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: tuple[int, int, int, int],
        num_classes: int = 1000,
        *,
        in_channels: int = 3,
        input_size: int | tuple[int, int] = 224,
        conv_bias: bool = False,
        stride_on: StrideOn = "3x3",
        func: str = "ResNet",
    ) -> None:
        num_classes, in_channels, hw = check_common(func, num_classes, in_channels, input_size, RESNET_WINDOWS, func)
        if len(layers) != 4:
            raise ValueError(
                f"{func}: `layers` gives the number of blocks of each of the 4 stages, e.g. (3, 4, 6, 3). "
                f"Received: layers={layers!r}."
            )
        conv_bias = as_bool(conv_bias, "conv_bias", func)
        stride_on = _check_stride_on(stride_on, func)
        super().__init__(in_channels, hw, minimum_size(RESNET_WINDOWS))
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=conv_bias)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        channels = 64
        for stage, (n_blocks, width) in enumerate(zip(layers, RESNET_WIDTHS), start=1):
            blocks = []
            for i in range(n_blocks):
                stride = 2 if i == 0 and stage > 1 else 1
                kwargs = {"stride_on": stride_on} if block is Bottleneck else {}
                blocks.append(block(channels, width, stride=stride, conv_bias=conv_bias, **kwargs))
                channels = width * block.expansion
            self.add_module(f"layer{stage}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)  # shapes below for ResNet-50 on the default 224x224x3
        x = self.relu(self.bn1(self.conv1(x)))  # (N, 64, 112, 112)
        x = self.maxpool(x)  # (N, 64, 56, 56)
        x = self.layer1(x)  # (N, 256, 56, 56); 64 channels with basic blocks
        x = self.layer2(x)  # (N, 512, 28, 28)
        x = self.layer3(x)  # (N, 1024, 14, 14)
        x = self.layer4(x)  # (N, 2048, 7, 7); 512 channels with basic blocks
        x = self.flatten(self.avgpool(x))  # (N, 2048)
        return self.fc(x)  # (N, num_classes)


def _resnet(
    func: str,
    num_classes: int,
    in_channels: int,
    input_size: int | tuple[int, int],
    conv_bias: bool,
    stride_on: StrideOn,
) -> ResNet:
    """The ResNet ``func`` of :data:`coursepkg.models.common.RESNET_CONFIGS`; the public builders document it."""
    config = RESNET_CONFIGS[func]
    return ResNet(Bottleneck if config.bottleneck else BasicBlock, config.layers, num_classes,
                  in_channels=in_channels, input_size=input_size, conv_bias=conv_bias, stride_on=stride_on, func=func)


def resnet18(
    num_classes: int = 1000, *, in_channels: int = 3, input_size: int | tuple[int, int] = 224, conv_bias: bool = False
) -> ResNet:
    """ResNet-18: basic blocks [2, 2, 2, 2] of widths 64, 128, 256, 512.

    Arguments (but ``stride_on``, which concerns bottlenecks), layers and shapes as :func:`resnet50`, with
    64, 128, 256 and 512 channels out of the four stages (7x7x512 at 224). Parameters with the defaults:
    11,689,512 (torchvision's count).
    """
    return _resnet("resnet18", num_classes, in_channels, input_size, conv_bias, "3x3")


def resnet34(
    num_classes: int = 1000, *, in_channels: int = 3, input_size: int | tuple[int, int] = 224, conv_bias: bool = False
) -> ResNet:
    """ResNet-34: basic blocks [3, 4, 6, 3] of widths 64, 128, 256, 512.

    Arguments (but ``stride_on``, which concerns bottlenecks), layers and shapes as :func:`resnet50`, with
    64, 128, 256 and 512 channels out of the four stages (7x7x512 at 224). Parameters with the defaults:
    21,797,672 (torchvision's count).
    """
    return _resnet("resnet34", num_classes, in_channels, input_size, conv_bias, "3x3")


def resnet50(
    num_classes: int = 1000,
    *,
    in_channels: int = 3,
    input_size: int | tuple[int, int] = 224,
    conv_bias: bool = False,
    stride_on: StrideOn = "3x3",
) -> ResNet:
    """ResNet-50: bottleneck blocks [3, 4, 6, 3] of widths 64, 128, 256, 512 (outputs 256 ... 2048).

    ``conv1 64@7x7/2 pad 3 -> BN -> ReLU -> max pool 3x3/2 pad 1 -> layer1 .. layer4 -> global average pool
    -> fc num_classes``. The first block of each stage is a convolution block (projection shortcut; stride
    2 in stages 3 to 5), the others identity blocks.

    Parameters
    ----------
    num_classes : int, default 1000
    in_channels : int, default 3
    input_size : int or (H, W), default 224
        Any size from 1 runs (global average pooling; every stride-2 window is padded); 32 gives 1x1 maps
        in stage 5. Batch norm in training mode needs more than one value per channel, so train with
        batches of 2 or more at the smallest sizes.
    conv_bias : bool, default False
        Give every convolution a bias, as keras.applications does (redundant before batch norm). False
        matches torchvision.
    stride_on : {"3x3", "1x1"}, default "3x3"
        Where a bottleneck strides: on its 3x3 convolution (torchvision, "v1.5") or on its first 1x1
        (the paper, keras.applications). Shapes and counts do not change.

    Returns
    -------
    ResNet
        Takes ``(N, in_channels, H, W)``; returns logits ``(N, num_classes)``.

    Shape
    -----
    224x224x3 -> conv1 112x112x64 -> maxpool 56x56x64 -> layer1 56x56x256 -> layer2 28x28x512 -> layer3
    14x14x1024 -> layer4 7x7x2048 -> 2048 -> 1000. Parameters with the defaults: 25,557,032 (torchvision's
    count); 25,583,592 with ``conv_bias=True``, and 25,636,712 when the 53,120 batch-norm running statistics
    are added, which is what ``keras.applications.ResNet50(weights=None).count_params()`` reports.

    Raises
    ------
    ValueError
        If a count is below 1 or ``stride_on`` is not "3x3" or "1x1".
    TypeError
        If an argument has the wrong type.
    """
    return _resnet("resnet50", num_classes, in_channels, input_size, conv_bias, stride_on)


def resnet101(
    num_classes: int = 1000,
    *,
    in_channels: int = 3,
    input_size: int | tuple[int, int] = 224,
    conv_bias: bool = False,
    stride_on: StrideOn = "3x3",
) -> ResNet:
    """ResNet-101: bottleneck blocks [3, 4, 23, 3].

    Arguments, layers and shapes as :func:`resnet50`. Parameters with the defaults: 44,549,160
    (torchvision's count).
    """
    return _resnet("resnet101", num_classes, in_channels, input_size, conv_bias, stride_on)


def resnet152(
    num_classes: int = 1000,
    *,
    in_channels: int = 3,
    input_size: int | tuple[int, int] = 224,
    conv_bias: bool = False,
    stride_on: StrideOn = "3x3",
) -> ResNet:
    """ResNet-152: bottleneck blocks [3, 8, 36, 3].

    Arguments, layers and shapes as :func:`resnet50`. Parameters with the defaults: 60,192,808
    (torchvision's count).
    """
    return _resnet("resnet152", num_classes, in_channels, input_size, conv_bias, stride_on)
