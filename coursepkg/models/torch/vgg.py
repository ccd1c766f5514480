"""VGG-11, VGG-16 and VGG-19 (Simonyan and Zisserman, 2015): stacks of 3x3 convolutions in five blocks.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-vgg`). Every block is a few ``3x3 pad 1``
convolutions with ReLU (which keep the size) and a ``2x2`` max pooling (which halves it), so a 224x224 image leaves
the blocks as 112, 56, 28, 14 and 7 pixels square. Names follow Keras's ``block{b}_conv{i}`` as
``block{b}.conv{i}``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from ..common import VGG_CONFIGS, as_bool, check_common, minimum_size, spatial_size, vgg_windows
from ._common import ImageModel

__all__ = ["VGG", "VGG_CONFIGS", "vgg11", "vgg16", "vgg19"]


def _block(in_channels: int, widths: Sequence[int], batch_norm: bool) -> nn.Sequential:
    """``[conv 3x3 pad 1 -> (BN) -> ReLU] * len(widths) -> max pool 2x2``; halves H and W."""
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    for i, width in enumerate(widths, start=1):
        layers[f"conv{i}"] = nn.Conv2d(in_channels, width, kernel_size=3, padding=1)
        if batch_norm:
            layers[f"bn{i}"] = nn.BatchNorm2d(width)
        layers[f"relu{i}"] = nn.ReLU(inplace=True)
        in_channels = width
    layers["pool"] = nn.MaxPool2d(2, stride=2)
    return nn.Sequential(layers)


class VGG(ImageModel):
    """Five VGG blocks and three dense layers; ``config`` gives the convolutions' widths per block.

    See :func:`vgg16` for the layers and shapes.
    """

    fixed_size = True

    def __init__(
        self,
        config: Sequence[Sequence[int]],
        num_classes: int = 1000,
        *,
        in_channels: int = 3,
        input_size: int | tuple[int, int] = 224,
        batch_norm: bool = False,
        func: str = "VGG",
    ) -> None:
        windows = vgg_windows(config, func)  # one 2x2 pooling per block
        num_classes, in_channels, hw = check_common(func, num_classes, in_channels, input_size, windows, func)
        batch_norm = as_bool(batch_norm, "batch_norm", func)
        super().__init__(in_channels, hw, minimum_size(windows))
        oh, ow = (spatial_size(n, windows) for n in hw)  # 7, 7 for 224x224
        self.num_blocks = len(config)
        channels = in_channels
        for b, widths in enumerate(config, start=1):
            self.add_module(f"block{b}", _block(channels, widths, batch_norm))
            channels = widths[-1]
        self.flatten = nn.Flatten()
        self.fc6 = nn.Linear(channels * oh * ow, 4096)
        self.drop6 = nn.Dropout(0.5)
        self.fc7 = nn.Linear(4096, 4096)
        self.drop7 = nn.Dropout(0.5)
        self.fc8 = nn.Linear(4096, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        for b in range(1, self.num_blocks + 1):
            x = getattr(self, f"block{b}")(x)  # (N, 64, 112, 112), (N, 128, 56, 56), ..., (N, 512, 7, 7) for 224x224
        x = self.flatten(x)  # (N, 25088)
        x = self.drop6(torch.relu(self.fc6(x)))  # (N, 4096)
        x = self.drop7(torch.relu(self.fc7(x)))  # (N, 4096)
        return self.fc8(x)  # (N, num_classes)


def vgg11(
    num_classes: int = 1000, *, in_channels: int = 3, input_size: int | tuple[int, int] = 224, batch_norm: bool = False
) -> VGG:
    """VGG-11 (configuration A of the paper): 8 convolutions, widths per block 64 | 128 | 256x2 | 512x2 | 512x2.

    Arguments, layers and shapes as :func:`vgg16`. Parameters with the defaults: 132,863,336 (the published
    count, identical in torchvision and keras.applications), 123,642,856 of them in the dense layers.
    """
    return VGG(VGG_CONFIGS["vgg11"], num_classes, in_channels=in_channels, input_size=input_size,
               batch_norm=batch_norm, func="vgg11")


def vgg16(
    num_classes: int = 1000, *, in_channels: int = 3, input_size: int | tuple[int, int] = 224, batch_norm: bool = False
) -> VGG:
    """VGG-16 (configuration D): 13 convolutions and 3 dense layers.

    Five blocks of ``3x3 pad 1`` convolutions with ReLU, widths 64x2 | 128x2 | 256x3 | 512x3 | 512x3, each
    block closed by a ``2x2`` max pooling; then ``Flatten -> fc6 4096 -> ReLU -> Dropout 0.5 -> fc7 4096 ->
    ReLU -> Dropout 0.5 -> fc8 num_classes``.

    Parameters
    ----------
    num_classes : int, default 1000
    in_channels : int, default 3
    input_size : int or (H, W), default 224
        At least 32 (five halvings). fc6 takes ``512 * (H // 32) * (W // 32)`` features: 25,088 at 224,
        512 at 32.
    batch_norm : bool, default False
        Batch normalisation after every convolution, before its ReLU (torchvision's ``vgg16_bn``; the
        convolutions keep their biases).

    Returns
    -------
    VGG
        Takes ``(N, in_channels, H, W)`` with exactly ``(H, W) = input_size``; returns logits ``(N, num_classes)``.

    Shape
    -----
    224x224x3 -> block1 112x112x64 -> block2 56x56x128 -> block3 28x28x256 -> block4 14x14x512 -> block5
    7x7x512 -> 25088 -> 4096 -> 4096 -> 1000. Parameters with the defaults: 138,357,544 (the published
    count, identical in torchvision and keras.applications), 123,642,856 of them in the dense layers.

    Raises
    ------
    ValueError
        If ``input_size`` is below 32 or a count is below 1.
    TypeError
        If an argument has the wrong type.
    """
    return VGG(VGG_CONFIGS["vgg16"], num_classes, in_channels=in_channels, input_size=input_size,
               batch_norm=batch_norm, func="vgg16")


def vgg19(
    num_classes: int = 1000, *, in_channels: int = 3, input_size: int | tuple[int, int] = 224, batch_norm: bool = False
) -> VGG:
    """VGG-19 (configuration E): 16 convolutions, widths per block 64x2 | 128x2 | 256x4 | 512x4 | 512x4.

    Arguments, layers and shapes as :func:`vgg16`. Parameters with the defaults: 143,667,240 (the published
    count, identical in torchvision and keras.applications), 123,642,856 of them in the dense layers.
    """
    return VGG(VGG_CONFIGS["vgg19"], num_classes, in_channels=in_channels, input_size=input_size,
               batch_norm=batch_norm, func="vgg19")
