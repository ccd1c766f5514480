"""GoogLeNet (Szegedy et al., 2015): nine Inception modules, as in the paper (ReLU convolutions with biases).

Explained in the chapter "Classic CNN architectures" ({ref}`sec-googlenet`). An Inception module runs four branches
on the same input and concatenates them along the channels: a 1x1 convolution; a 1x1 "reduce" then a 3x3; a 1x1
reduce then a 5x5; a 3x3 max pooling (stride 1) then a 1x1 "pool projection". Every branch keeps H and W, so the
output has ``ch1x1 + ch3x3 + ch5x5 + pool_proj`` channels.
"""

from __future__ import annotations

import torch
from torch import nn

from ..._validation import as_int
from ..common import (
    GOOGLENET_AUX_POOL,
    GOOGLENET_AUX_WINDOWS,
    GOOGLENET_TABLE,
    GOOGLENET_TO_4A,
    GOOGLENET_WINDOWS,
    as_bool,
    check_common,
    inception_widths,
    minimum_size,
    spatial_size,
)
from ._common import ImageModel

__all__ = ["GOOGLENET_TABLE", "GoogLeNet", "InceptionAux", "InceptionModule", "googlenet"]


def _conv(in_channels: int, out_channels: int, kernel_size: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)  # keeps H, W


class InceptionModule(nn.Module):
    """Four parallel branches concatenated along the channels.

    Parameters
    ----------
    in_channels : int
    ch1x1 : int
        Width of the 1x1 branch.
    ch3x3red, ch3x3 : int
        Widths of the 1x1 reduction and of the 3x3 convolution of the second branch.
    ch5x5red, ch5x5 : int
        Widths of the 1x1 reduction and of the 5x5 convolution of the third branch.
    pool_proj : int
        Width of the 1x1 projection after the 3x3/1 max pooling of the fourth branch.

    Shape
    -----
    Input ``(N, in_channels, H, W)``, output ``(N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)``. Parameters:
    ``in * (ch1x1 + ch3x3red + ch5x5red + pool_proj) + 9 ch3x3red ch3x3 + 25 ch5x5red ch5x5`` weights plus one
    bias per output channel of each of the six convolutions (163,696 for inception 3a).

    Examples
    --------
    >>> m = InceptionModule(192, 64, 96, 128, 16, 32, 32)  # 3a
    >>> m(torch.zeros(1, 192, 28, 28)).shape
    torch.Size([1, 256, 28, 28])
    """

    def __init__(
        self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int, pool_proj: int
    ) -> None:
        super().__init__()
        func = "InceptionModule"
        in_channels = as_int(in_channels, "in_channels", func, minimum=1)
        widths = inception_widths(func, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
        self.out_channels = widths.ch1x1 + widths.ch3x3 + widths.ch5x5 + widths.pool_proj
        self.branch1 = _conv(in_channels, widths.ch1x1, 1)
        self.branch2_reduce = _conv(in_channels, widths.ch3x3red, 1)
        self.branch2 = _conv(widths.ch3x3red, widths.ch3x3, 3)
        self.branch3_reduce = _conv(in_channels, widths.ch5x5red, 1)
        self.branch3 = _conv(widths.ch5x5red, widths.ch5x5, 5)
        self.branch4_pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.branch4 = _conv(in_channels, widths.pool_proj, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = torch.relu(self.branch1(x))  # (N, ch1x1, H, W)
        b2 = torch.relu(self.branch2(torch.relu(self.branch2_reduce(x))))  # (N, ch3x3, H, W)
        b3 = torch.relu(self.branch3(torch.relu(self.branch3_reduce(x))))  # (N, ch5x5, H, W)
        b4 = torch.relu(self.branch4(self.branch4_pool(x)))  # (N, pool_proj, H, W)
        return torch.cat([b1, b2, b3, b4], dim=1)  # (N, out_channels, H, W)


class InceptionAux(nn.Module):
    """The paper's auxiliary classifier on 4a or 4d: avg pool 5x5/3 -> 1x1 conv 128 -> fc 1024 -> fc.

    Shape
    -----
    Input ``(N, in_channels, H, W)`` with ``H, W >= 5`` (14x14 in the default network), output logits
    ``(N, num_classes)``. On 14x14 inputs: ``4x4x128 = 2048 -> 1024 -> num_classes``; 3,188,840 parameters
    on 4a's 512 channels with 1000 classes, 3,190,888 on 4d's 528.
    """

    def __init__(self, in_channels: int, num_classes: int, input_hw: tuple[int, int]) -> None:
        super().__init__()
        oh, ow = (spatial_size(n, [GOOGLENET_AUX_POOL]) for n in input_hw)  # 4, 4 for 14x14
        self.pool = nn.AvgPool2d(5, stride=3)
        self.conv = nn.Conv2d(in_channels, 128, kernel_size=1)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(128 * oh * ow, 1024)
        self.dropout = nn.Dropout(0.7)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(self.pool(x)))  # (N, 128, 4, 4) for 14x14
        x = self.flatten(x)  # (N, 2048)
        x = self.dropout(torch.relu(self.fc1(x)))  # (N, 1024)
        return self.fc2(x)  # (N, num_classes)


class GoogLeNet(ImageModel):
    """GoogLeNet without batch norm, as in the paper. See :func:`googlenet`."""

    def __init__(
        self,
        num_classes: int = 1000,
        *,
        in_channels: int = 3,
        input_size: int | tuple[int, int] = 224,
        aux_logits: bool = False,
    ) -> None:
        func = "googlenet"
        aux_logits = as_bool(aux_logits, "aux_logits", func)
        windows = GOOGLENET_AUX_WINDOWS if aux_logits else GOOGLENET_WINDOWS  # the aux heads pool 4a 5x5/3
        num_classes, in_channels, hw = check_common(func, num_classes, in_channels, input_size, windows,
                                                    "GoogLeNet" + (" with aux_logits=True" if aux_logits else ""))
        super().__init__(in_channels, hw, max(minimum_size(windows), minimum_size(GOOGLENET_WINDOWS)))
        self.aux_logits = aux_logits
        self.fixed_size = aux_logits  # the auxiliary heads' dense layers depend on the input size
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.pool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = nn.Conv2d(64, 64, kernel_size=1)  # the "3x3 reduce" of the stem
        self.conv3 = nn.Conv2d(64, 192, kernel_size=3, padding=1)
        self.pool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        channels = 192
        for name, widths in GOOGLENET_TABLE.items():
            module = InceptionModule(channels, *widths)
            self.add_module(name, module)
            channels = module.out_channels
            if name == "inception3b":
                self.pool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            elif name == "inception4e":
                self.pool4 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        if aux_logits:
            hw4 = tuple(spatial_size(n, GOOGLENET_TO_4A) for n in hw)  # 14, 14 for 224x224
            self.aux1 = InceptionAux(512, num_classes, hw4)
            self.aux2 = InceptionAux(528, num_classes, hw4)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(0.4)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        self.check_input(x)  # shapes below for the default 224x224x3
        x = self.pool1(torch.relu(self.conv1(x)))  # (N, 64, 112, 112) -> (N, 64, 56, 56)
        x = torch.relu(self.conv2(x))  # (N, 64, 56, 56)
        x = self.pool2(torch.relu(self.conv3(x)))  # (N, 192, 56, 56) -> (N, 192, 28, 28)
        x = self.inception3b(self.inception3a(x))  # (N, 256, 28, 28) -> (N, 480, 28, 28)
        x = self.pool3(x)  # (N, 480, 14, 14)
        x = self.inception4a(x)  # (N, 512, 14, 14)
        aux1 = self.aux1(x) if self.aux_logits and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))  # (N, 512, 14, 14) x2 -> (N, 528, 14, 14)
        aux2 = self.aux2(x) if self.aux_logits and self.training else None
        x = self.inception4e(x)  # (N, 832, 14, 14)
        x = self.pool4(x)  # (N, 832, 7, 7)
        x = self.inception5b(self.inception5a(x))  # (N, 832, 7, 7) -> (N, 1024, 7, 7)
        x = self.flatten(self.avgpool(x))  # (N, 1024)
        logits = self.fc(self.dropout(x))  # (N, num_classes)
        if aux1 is not None:
            return logits, aux1, aux2
        return logits


def googlenet(
    num_classes: int = 1000,
    *,
    in_channels: int = 3,
    input_size: int | tuple[int, int] = 224,
    aux_logits: bool = False,
) -> GoogLeNet:
    """GoogLeNet (Inception v1) as in Table 1 of the paper: plain ReLU convolutions with biases, no batch norm.

    ``conv1 64@7x7/2 pad 3 -> max pool 3/2 -> conv2 64@1x1 -> conv3 192@3x3 pad 1 -> max pool 3/2 ->
    inception 3a, 3b -> max pool 3/2 -> inception 4a..4e -> max pool 3/2 -> inception 5a, 5b -> global
    average pool -> Dropout 0.4 -> fc num_classes``, every convolution followed by a ReLU. The max poolings
    run in ceil mode (as in the authors' Caffe model). Channel numbers: :data:`GOOGLENET_TABLE`.

    Parameters
    ----------
    num_classes : int, default 1000
    in_channels : int, default 3
    input_size : int or (H, W), default 224
        At least 31 (31 -> 16 -> 8 -> 4 -> 2 -> 1), or 79 with ``aux_logits=True`` (the auxiliary heads'
        5x5 pooling needs 4a's maps to be at least 5x5). Global average pooling replaces the paper's 7x7
        average pooling (the same at 224), so any size from the minimum up runs, whatever ``input_size`` says.
    aux_logits : bool, default False
        Add the two auxiliary classifiers on 4a and 4d (:class:`InceptionAux`). In training mode the model
        then returns ``(logits, aux1, aux2)``, in evaluation mode ``logits`` only (the paper discards them at
        inference; it weighted their losses by 0.3).

    Returns
    -------
    GoogLeNet
        Takes ``(N, in_channels, H, W)``; returns logits ``(N, num_classes)``.

    Shape
    -----
    224x224x3 -> conv1 112x112x64 -> pool1 56x56x64 -> conv3 56x56x192 -> pool2 28x28x192 -> 3a 28x28x256
    -> 3b 28x28x480 -> pool3 14x14x480 -> 4a 14x14x512 -> 4b 512 -> 4c 512 -> 4d 528 -> 4e 14x14x832 ->
    pool4 7x7x832 -> 5a 7x7x832 -> 5b 7x7x1024 -> 1024 -> 1000.
    Parameters with the defaults: 6,998,552 (13,378,280 with ``aux_logits=True``).

    Raises
    ------
    ValueError
        If ``input_size`` is below the minimum or a count is below 1.
    TypeError
        If an argument has the wrong type.

    Notes
    -----
    Table 1 of the paper lists per-layer counts in thousands that sum to about 6.8M; they are approximate
    (2.7K for conv1, whose 7x7x3x64 kernel alone has 9,408 weights; 159K for 3a, which has 163,328 weights
    and 368 biases) and count no biases. This build counts every weight and bias: 6,990,272 weights and
    8,280 biases, 6,998,552 in all. torchvision's ``googlenet`` has 6,624,904 parameters without auxiliary
    heads because (1) its convolutions have no bias and are followed by batch norm (2 parameters per
    channel), and (2) its "5x5" branch uses a 3x3 kernel, a slip kept for compatibility with its pretrained
    weights, which removes ``16 * ch5x5red * ch5x5`` weights per module (a test rebuilds 6,624,904 from
    this model's layers). The paper's two local response normalisations (after pool1 and conv3) are left
    out, as in torchvision; they have no parameters.
    """
    return GoogLeNet(num_classes, in_channels=in_channels, input_size=input_size, aux_logits=aux_logits)
