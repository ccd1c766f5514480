"""The first convolutional networks of the course: a one-layer CNN for MNIST, and LeNet-5.

Explained in the chapters "Pooling and the CNN layer zoo" ({ref}`sec-simple-cnn`, the simple CNN) and
"Classic CNN architectures" ({ref}`sec-lenet`, LeNet-5). Both take ``(N, C, H, W)`` images and return logits
``(N, num_classes)`` (no softmax: ``torch.nn.CrossEntropyLoss`` applies it).
"""

from __future__ import annotations

import torch
from torch import nn

from ..common import LENET5_WINDOWS, SIMPLE_CNN_WINDOWS, check_common, minimum_size, spatial_size
from ._common import ImageModel

__all__ = ["LeNet5", "SimpleCNN", "lenet5", "simple_cnn"]


class SimpleCNN(ImageModel):
    """Conv 32@3x3 + ReLU, max pool 2x2, dense 128 + ReLU, dense ``num_classes``. See :func:`simple_cnn`."""

    fixed_size = True

    def __init__(
        self, num_classes: int = 10, *, in_channels: int = 1, input_size: int | tuple[int, int] = 28
    ) -> None:
        num_classes, in_channels, hw = check_common(
            "simple_cnn", num_classes, in_channels, input_size, SIMPLE_CNN_WINDOWS, "simple_cnn"
        )
        super().__init__(in_channels, hw, minimum_size(SIMPLE_CNN_WINDOWS))
        oh, ow = (spatial_size(n, SIMPLE_CNN_WINDOWS) for n in hw)  # 13, 13 for 28x28
        self.conv1 = nn.Conv2d(in_channels, 32, kernel_size=3)
        self.pool1 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(32 * oh * ow, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        x = torch.relu(self.conv1(x))  # (N, 32, H-2, W-2): 26x26 for 28x28
        x = self.pool1(x)  # (N, 32, 13, 13)
        x = self.flatten(x)  # (N, 5408)
        x = torch.relu(self.fc1(x))  # (N, 128)
        return self.fc2(x)  # (N, num_classes)


def simple_cnn(
    num_classes: int = 10, *, in_channels: int = 1, input_size: int | tuple[int, int] = 28
) -> SimpleCNN:
    """The smallest useful CNN: one convolution, one pooling, two dense layers.

    ``Conv2d 32@3x3 (valid) -> ReLU -> MaxPool 2x2 -> Flatten -> Linear 128 -> ReLU -> Linear num_classes``.

    Parameters
    ----------
    num_classes : int, default 10
    in_channels : int, default 1
    input_size : int or (H, W), default 28
        At least 4 (a 3x3 valid convolution and a 2x2 pooling leave 1x1).

    Returns
    -------
    SimpleCNN
        Takes ``(N, in_channels, H, W)`` with exactly ``(H, W) = input_size`` (the dense layer's width
        depends on it) and returns logits ``(N, num_classes)``.

    Shape
    -----
    28x28x1 -> 26x26x32 -> 13x13x32 -> 5408 -> 128 -> 10. Parameters with the defaults: 693,962
    (``320 + 5408 * 128 + 128 + 1290``; the dense layer on the flattened maps has 99.6% of them).

    Raises
    ------
    ValueError
        If ``input_size`` is below 4 or a count is below 1.
    TypeError
        If an argument is not an integer.

    Examples
    --------
    >>> from coursepkg.models.torch import count_params
    >>> count_params(simple_cnn())
    693962
    """
    return SimpleCNN(num_classes, in_channels=in_channels, input_size=input_size)


class LeNet5(ImageModel):
    """LeNet-5 as commonly implemented (full C3 connectivity, average pooling, tanh). See :func:`lenet5`."""

    fixed_size = True

    def __init__(
        self, num_classes: int = 10, *, in_channels: int = 1, input_size: int | tuple[int, int] = 32
    ) -> None:
        num_classes, in_channels, hw = check_common(
            "lenet5", num_classes, in_channels, input_size, LENET5_WINDOWS, "LeNet-5"
        )
        super().__init__(in_channels, hw, minimum_size(LENET5_WINDOWS))
        oh, ow = (spatial_size(n, LENET5_WINDOWS) for n in hw)  # 1, 1 for 32x32
        self.c1 = nn.Conv2d(in_channels, 6, kernel_size=5)
        self.s2 = nn.AvgPool2d(2)
        self.c3 = nn.Conv2d(6, 16, kernel_size=5)
        self.s4 = nn.AvgPool2d(2)
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.flatten = nn.Flatten()
        self.f6 = nn.Linear(120 * oh * ow, 84)
        self.output = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        x = torch.tanh(self.c1(x))  # (N, 6, 28, 28) for 32x32
        x = self.s2(x)  # (N, 6, 14, 14)
        x = torch.tanh(self.c3(x))  # (N, 16, 10, 10)
        x = self.s4(x)  # (N, 16, 5, 5)
        x = torch.tanh(self.c5(x))  # (N, 120, 1, 1)
        x = self.flatten(x)  # (N, 120)
        x = torch.tanh(self.f6(x))  # (N, 84)
        return self.output(x)  # (N, num_classes)


def lenet5(num_classes: int = 10, *, in_channels: int = 1, input_size: int | tuple[int, int] = 32) -> LeNet5:
    """LeNet-5 (LeCun et al., 1998) as commonly implemented today.

    ``C1 conv 6@5x5 -> tanh -> S2 avg pool 2 -> C3 conv 16@5x5 -> tanh -> S4 avg pool 2 -> C5 conv 120@5x5
    -> tanh -> Flatten -> F6 Linear 84 -> tanh -> Linear num_classes``.

    Parameters
    ----------
    num_classes : int, default 10
    in_channels : int, default 1
    input_size : int or (H, W), default 32
        At least 32: C5 is a 5x5 convolution over S4's 5x5 maps. MNIST's 28x28 digits are padded by 2
        pixels to 32x32, as LeCun placed them in a 32x32 field.

    Returns
    -------
    LeNet5
        Takes ``(N, in_channels, H, W)`` with exactly ``(H, W) = input_size`` and returns logits
        ``(N, num_classes)``.

    Shape
    -----
    32x32x1 -> 28x28x6 -> 14x14x6 -> 10x10x16 -> 5x5x16 -> 1x1x120 -> 84 -> 10. Parameters with the
    defaults: 61,706 (``156 + 2,416 + 48,120 + 10,164 + 850``).

    Raises
    ------
    ValueError
        If ``input_size`` is below 32 or a count is below 1.

    Notes
    -----
    Differences from the paper, shared by most textbook versions: C3 connects every S2 map to every C3 map
    (the paper's table connects 60 of the 96 pairs: 1,516 instead of 2,416 parameters); S2 and S4 are plain
    averages (the paper multiplies each sum by a trained coefficient, adds a trained bias and applies a
    sigmoid); the output is a linear layer giving logits (the paper uses Euclidean RBF units); the tanh is
    the plain one (the paper scales it, ``1.7159 tanh(2a/3)``). C5 is a convolution, as in the paper: on
    a larger input its maps would be larger than 1x1 and F6 grows accordingly.

    Examples
    --------
    >>> from coursepkg.models.torch import count_params
    >>> count_params(lenet5())
    61706
    """
    return LeNet5(num_classes, in_channels=in_channels, input_size=input_size)
