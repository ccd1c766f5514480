"""DenseNet (Huang et al., 2017): every layer of a dense block sees the feature maps of all the layers before it.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-densenet`). A *dense layer* (BN -> ReLU -> 1x1 conv to
``bn_size * growth_rate`` -> BN -> ReLU -> 3x3 conv to ``growth_rate``) adds ``growth_rate`` new channels,
which are concatenated to its input; a *dense block* of ``L`` layers turns ``C`` channels into
``C + L * growth_rate``. Between blocks a *transition* (BN -> ReLU -> 1x1 conv -> 2x2 average pooling)
compresses the channels (by half with ``compression=0.5``, "DenseNet-BC") and halves the spatial size.

Attribute names are torchvision's (``features.denseblock1.denselayer1.conv1``, ``features.transition1``,
``classifier``), so a torchvision ``state_dict`` has the same keys and shapes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from ..._validation import as_int
from ..common import check_common, check_densenet_args, densenet_windows, minimum_size
from ._common import ImageModel

__all__ = ["DenseBlock", "DenseLayer", "DenseNet", "Transition", "densenet121"]


class DenseLayer(nn.Module):
    """BN -> ReLU -> 1x1 conv (``bn_size * growth_rate``) -> BN -> ReLU -> 3x3 conv (``growth_rate``).

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output the *new* features ``(N, growth_rate, H, W)`` (the block
    concatenates them). Parameters: ``2 in + in * b k + 2 b k + 9 b k k`` with ``k = growth_rate`` and
    ``b = bn_size`` (no convolution biases).
    """

    def __init__(self, in_channels: int, *, growth_rate: int = 32, bn_size: int = 4) -> None:
        super().__init__()
        inner = bn_size * growth_rate
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_channels, inner, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(inner)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(inner, growth_rate, kernel_size=3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.relu1(self.norm1(x)))  # (N, bn_size * k, H, W)
        return self.conv2(self.relu2(self.norm2(x)))  # (N, k, H, W)


class DenseBlock(nn.Module):
    """``num_layers`` dense layers, each fed the concatenation of the block's input and all earlier outputs.

    Parameters
    ----------
    in_channels : int
    num_layers : int
    growth_rate : int, default 32
    bn_size : int, default 4

    Shape
    -----
    Input ``(N, C, H, W)``, output ``(N, C + num_layers * growth_rate, H, W)``.

    Examples
    --------
    >>> DenseBlock(64, num_layers=6)(torch.zeros(1, 64, 8, 8)).shape  # DenseNet-121's first block
    torch.Size([1, 256, 8, 8])
    """

    def __init__(self, in_channels: int, num_layers: int, *, growth_rate: int = 32, bn_size: int = 4) -> None:
        super().__init__()
        func = "DenseBlock"
        in_channels = as_int(in_channels, "in_channels", func, minimum=1)
        num_layers = as_int(num_layers, "num_layers", func, minimum=1)
        growth_rate = as_int(growth_rate, "growth_rate", func, minimum=1)
        bn_size = as_int(bn_size, "bn_size", func, minimum=1)
        for i in range(num_layers):
            layer = DenseLayer(in_channels + i * growth_rate, growth_rate=growth_rate, bn_size=bn_size)
            self.add_module(f"denselayer{i + 1}", layer)
        self.out_channels = in_channels + num_layers * growth_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.children():
            new = layer(torch.cat(features, dim=1))  # (N, k, H, W) from (N, C + i k, H, W)
            features.append(new)
        return torch.cat(features, dim=1)  # (N, C + L k, H, W)


class Transition(nn.Sequential):
    """BN -> ReLU -> 1x1 conv to ``out_channels`` -> 2x2 average pooling with stride 2.

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, out_channels, H // 2, W // 2)``. Parameters:
    ``2 in + in * out`` (no convolution bias).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        func = "Transition"
        in_channels = as_int(in_channels, "in_channels", func, minimum=1)
        out_channels = as_int(out_channels, "out_channels", func, minimum=1)
        super().__init__(
            OrderedDict(
                norm=nn.BatchNorm2d(in_channels),
                relu=nn.ReLU(inplace=True),
                conv=nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False),
                pool=nn.AvgPool2d(2, stride=2),
            )
        )


class DenseNet(ImageModel):
    """Stem, dense blocks separated by transitions, BN, global average pooling, dense layer.

    See :func:`densenet121` for the arguments, layers and shapes.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        *,
        in_channels: int = 3,
        input_size: int | tuple[int, int] = 224,
        growth_rate: int = 32,
        block_config: Sequence[int] = (6, 12, 24, 16),
        num_init_features: int = 64,
        bn_size: int = 4,
        compression: float = 0.5,
        func: str = "DenseNet",
    ) -> None:
        growth_rate, block_config, num_init_features, bn_size, compression = check_densenet_args(
            func, growth_rate, block_config, num_init_features, bn_size, compression
        )
        windows = densenet_windows(len(block_config))  # stem conv and max pool, one 2x2 pooling per transition
        num_classes, in_channels, hw = check_common(func, num_classes, in_channels, input_size, windows, func)
        super().__init__(in_channels, hw, minimum_size(windows))
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv0=nn.Conv2d(in_channels, num_init_features, kernel_size=7, stride=2, padding=3, bias=False),
            norm0=nn.BatchNorm2d(num_init_features),
            relu0=nn.ReLU(inplace=True),
            pool0=nn.MaxPool2d(3, stride=2, padding=1),
        )
        channels = num_init_features
        for i, num_layers in enumerate(block_config, start=1):
            block = DenseBlock(channels, num_layers, growth_rate=growth_rate, bn_size=bn_size)
            layers[f"denseblock{i}"] = block
            channels = block.out_channels
            if i < len(block_config):
                out = max(1, int(channels * compression))
                layers[f"transition{i}"] = Transition(channels, out)
                channels = out
        layers["norm5"] = nn.BatchNorm2d(channels)
        self.features = nn.Sequential(layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        x = self.features(x)  # (N, 1024, 7, 7) for DenseNet-121 on 224x224
        x = self.flatten(self.avgpool(torch.relu(x)))  # (N, 1024)
        return self.classifier(x)  # (N, num_classes)


def densenet121(
    num_classes: int = 1000,
    *,
    in_channels: int = 3,
    input_size: int | tuple[int, int] = 224,
    growth_rate: int = 32,
    block_config: Sequence[int] = (6, 12, 24, 16),
    num_init_features: int = 64,
    bn_size: int = 4,
    compression: float = 0.5,
) -> DenseNet:
    """DenseNet-121 (DenseNet-BC, k = 32): dense blocks of 6, 12, 24 and 16 layers.

    ``conv0 64@7x7/2 pad 3 -> BN -> ReLU -> max pool 3x3/2 pad 1 -> denseblock1 -> transition1 -> ... ->
    denseblock4 -> BN -> ReLU -> global average pool -> classifier num_classes``.

    Parameters
    ----------
    num_classes : int, default 1000
    in_channels : int, default 3
    input_size : int or (H, W), default 224
        At least 29 with four blocks (29 -> 15 -> 8 -> 4 -> 2 -> 1); any size from the minimum runs.
    growth_rate : int, default 32
        Channels each dense layer adds (``k``).
    block_config : sequence of int, default (6, 12, 24, 16)
        Dense layers per block; (6, 12, 32, 32) is DenseNet-169, (6, 12, 48, 32) DenseNet-201.
    num_init_features : int, default 64
        Channels of the stem convolution.
    bn_size : int, default 4
        Width of each layer's 1x1 bottleneck, as a multiple of ``growth_rate``.
    compression : float, default 0.5
        Fraction of the channels a transition keeps (``floor(C * compression)``).

    Returns
    -------
    DenseNet
        Takes ``(N, in_channels, H, W)``; returns logits ``(N, num_classes)``.

    Shape
    -----
    224x224x3 -> stem 56x56x64 -> denseblock1 56x56x256 -> transition1 28x28x128 -> denseblock2 28x28x512
    -> transition2 14x14x256 -> denseblock3 14x14x1024 -> transition3 7x7x512 -> denseblock4 7x7x1024 ->
    1024 -> 1000. Parameters with the defaults: 7,978,856 (torchvision's count).

    Raises
    ------
    ValueError
        If ``input_size`` is below the minimum, a count is below 1 or ``compression`` is outside (0, 1].
    TypeError
        If an argument has the wrong type.

    Notes
    -----
    ``keras.applications.DenseNet121(weights=None).count_params()`` reports 8,062,504: the same 7,978,856
    trainable parameters (its convolutions have no biases either) plus 83,648 non-trainable batch-norm
    running means and variances (two per channel of the 41,824 normalised channels), which PyTorch keeps
    as buffers, not parameters.
    """
    return DenseNet(num_classes, in_channels=in_channels, input_size=input_size, growth_rate=growth_rate,
                    block_config=block_config, num_init_features=num_init_features, bn_size=bn_size,
                    compression=compression, func="densenet121")
