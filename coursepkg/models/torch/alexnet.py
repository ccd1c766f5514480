"""AlexNet (Krizhevsky et al., 2012), ZFNet (Zeiler and Fergus, 2014) and local response normalisation.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-alexnet`, {ref}`sec-zfnet`). Both networks are the
single-GPU versions of the notes (no grouped convolutions), take ``(N, C, H, W)`` images and return logits
``(N, num_classes)``.
"""

from __future__ import annotations

import torch
from torch import nn

from ..._validation import as_int
from ..common import (
    ALEXNET_WINDOWS,
    ZFNET_WINDOWS,
    as_bool,
    as_positive_float,
    as_rate,
    check_common,
    minimum_size,
    spatial_size,
)
from ._common import ImageModel

__all__ = ["LRN", "AlexNet", "ZFNet", "alexnet", "zfnet"]


class LRN(nn.LocalResponseNorm):
    """Local response normalisation across channels, with Krizhevsky's parameters and formula.

    For channel ``i`` of ``C`` at every position,

        b_i = a_i / (k + alpha * sum_{j = max(0, i - size//2)}^{min(C - 1, i + (size-1)//2)} a_j^2) ** beta.

    Parameters
    ----------
    size : int, default 5
        Number of neighbouring channels in the sum (``n`` in the paper).
    alpha, beta, k : float, default 1e-4, 0.75, 2.0
        The paper's values, with ``alpha`` as the paper writes it.

    Shape
    -----
    Input ``(N, C, H, W)``, output the same shape. No parameters.

    Notes
    -----
    ``torch.nn.LocalResponseNorm`` divides ``alpha`` by ``size`` (it averages the squares, as Caffe does),
    so this class passes ``alpha * size`` to it; ``tf.nn.local_response_normalization(depth_radius=2,
    bias=2, alpha=1e-4, beta=0.75)`` sums, like the paper. The NumPy reference, in PyTorch's parametrisation,
    is :func:`coursepkg.ops.local_response_norm` (``alpha=size * alpha_paper``); tested against it and against
    the formula written out.
    """

    def __init__(self, size: int = 5, *, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0) -> None:
        func = "LRN"
        size = as_int(size, "size", func, minimum=1)
        alpha = as_positive_float(alpha, "alpha", func)
        beta = as_positive_float(beta, "beta", func)
        k = as_positive_float(k, "k", func)
        super().__init__(size, alpha=alpha * size, beta=beta, k=k)
        self.paper_alpha = alpha

    def extra_repr(self) -> str:
        return f"size={self.size}, alpha={self.paper_alpha} (summed, as in the paper), beta={self.beta}, k={self.k}"


class AlexNet(ImageModel):
    """Single-GPU AlexNet. See :func:`alexnet`."""

    fixed_size = True

    def __init__(
        self,
        num_classes: int = 1000,
        *,
        in_channels: int = 3,
        input_size: int | tuple[int, int] = 227,
        lrn: bool = True,
        dropout: float = 0.5,
    ) -> None:
        func = "alexnet"
        num_classes, in_channels, hw = check_common(
            func, num_classes, in_channels, input_size, ALEXNET_WINDOWS, "AlexNet"
        )
        lrn = as_bool(lrn, "lrn", func)
        dropout = as_rate(dropout, "dropout", func)
        super().__init__(in_channels, hw, minimum_size(ALEXNET_WINDOWS))
        oh, ow = (spatial_size(n, ALEXNET_WINDOWS) for n in hw)  # 6, 6 for 227x227
        self.conv1 = nn.Conv2d(in_channels, 96, kernel_size=11, stride=4)
        self.norm1 = LRN() if lrn else nn.Identity()
        self.pool1 = nn.MaxPool2d(3, stride=2)
        self.conv2 = nn.Conv2d(96, 256, kernel_size=5, padding=2)
        self.norm2 = LRN() if lrn else nn.Identity()
        self.pool2 = nn.MaxPool2d(3, stride=2)
        self.conv3 = nn.Conv2d(256, 384, kernel_size=3, padding=1)
        self.conv4 = nn.Conv2d(384, 384, kernel_size=3, padding=1)
        self.conv5 = nn.Conv2d(384, 256, kernel_size=3, padding=1)
        self.pool5 = nn.MaxPool2d(3, stride=2)
        self.flatten = nn.Flatten()
        self.drop6 = nn.Dropout(dropout)
        self.fc6 = nn.Linear(256 * oh * ow, 4096)
        self.drop7 = nn.Dropout(dropout)
        self.fc7 = nn.Linear(4096, 4096)
        self.fc8 = nn.Linear(4096, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)  # shapes below for the default 227x227x3
        x = self.pool1(self.norm1(torch.relu(self.conv1(x))))  # (N, 96, 55, 55) -> (N, 96, 27, 27)
        x = self.pool2(self.norm2(torch.relu(self.conv2(x))))  # (N, 256, 27, 27) -> (N, 256, 13, 13)
        x = torch.relu(self.conv3(x))  # (N, 384, 13, 13)
        x = torch.relu(self.conv4(x))  # (N, 384, 13, 13)
        x = self.pool5(torch.relu(self.conv5(x)))  # (N, 256, 13, 13) -> (N, 256, 6, 6)
        x = self.flatten(x)  # (N, 9216)
        x = torch.relu(self.fc6(self.drop6(x)))  # (N, 4096)
        x = torch.relu(self.fc7(self.drop7(x)))  # (N, 4096)
        return self.fc8(x)  # (N, num_classes)


def alexnet(
    num_classes: int = 1000,
    *,
    in_channels: int = 3,
    input_size: int | tuple[int, int] = 227,
    lrn: bool = True,
    dropout: float = 0.5,
) -> AlexNet:
    """AlexNet on one GPU, as in the notes: five convolutions, three dense layers.

    ``conv1 96@11x11/4 -> ReLU -> LRN -> max pool 3/2 -> conv2 256@5x5 pad 2 -> ReLU -> LRN -> max pool 3/2
    -> conv3 384@3x3 pad 1 -> ReLU -> conv4 384@3x3 pad 1 -> ReLU -> conv5 256@3x3 pad 1 -> ReLU -> max pool
    3/2 -> Flatten -> Dropout -> fc6 4096 -> ReLU -> Dropout -> fc7 4096 -> ReLU -> fc8 num_classes``.

    Parameters
    ----------
    num_classes : int, default 1000
    in_channels : int, default 3
    input_size : int or (H, W), default 227
        227, not the paper's 224, makes conv1's 55x55 come out exactly. At least 67 (67 -> 15 -> 7 -> 3 -> 1).
    lrn : bool, default True
        Local response normalisation after conv1 and conv2 (:class:`LRN`); False replaces it by identities
        (parameter-free either way).
    dropout : float, default 0.5
        Dropout rate in front of fc6 and fc7.

    Returns
    -------
    AlexNet
        Takes ``(N, in_channels, H, W)`` with exactly ``(H, W) = input_size``; returns logits ``(N, num_classes)``.

    Shape
    -----
    227x227x3 -> conv1 55x55x96 -> pool1 27x27x96 -> conv2 27x27x256 -> pool2 13x13x256 -> conv3 13x13x384
    -> conv4 13x13x384 -> conv5 13x13x256 -> pool5 6x6x256 -> 9216 -> 4096 -> 4096 -> 1000.
    Parameters with the defaults: 62,378,344 (fc6 alone has 37,752,832).

    Raises
    ------
    ValueError
        If ``input_size`` is below 67, a count is below 1 or ``dropout`` is outside [0, 1).
    TypeError
        If an argument has the wrong type.
    """
    return AlexNet(num_classes, in_channels=in_channels, input_size=input_size, lrn=lrn, dropout=dropout)


class ZFNet(ImageModel):
    """ZFNet. See :func:`zfnet`."""

    fixed_size = True

    def __init__(
        self, num_classes: int = 1000, *, in_channels: int = 3, input_size: int | tuple[int, int] = 224
    ) -> None:
        num_classes, in_channels, hw = check_common(
            "zfnet", num_classes, in_channels, input_size, ZFNET_WINDOWS, "ZFNet"
        )
        super().__init__(in_channels, hw, minimum_size(ZFNET_WINDOWS))
        oh, ow = (spatial_size(n, ZFNET_WINDOWS) for n in hw)  # 6, 6 for 224x224
        self.conv1 = nn.Conv2d(in_channels, 96, kernel_size=7, stride=2, padding=1)
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(96, 256, kernel_size=5, stride=2)
        self.pool2 = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(256, 384, kernel_size=3, padding=1)
        self.conv4 = nn.Conv2d(384, 384, kernel_size=3, padding=1)
        self.conv5 = nn.Conv2d(384, 256, kernel_size=3, padding=1)
        self.pool5 = nn.MaxPool2d(3, stride=2)
        self.flatten = nn.Flatten()
        self.drop6 = nn.Dropout(0.5)
        self.fc6 = nn.Linear(256 * oh * ow, 4096)
        self.drop7 = nn.Dropout(0.5)
        self.fc7 = nn.Linear(4096, 4096)
        self.fc8 = nn.Linear(4096, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)  # shapes below for the default 224x224x3
        x = self.pool1(torch.relu(self.conv1(x)))  # (N, 96, 110, 110) -> (N, 96, 55, 55)
        x = self.pool2(torch.relu(self.conv2(x)))  # (N, 256, 26, 26) -> (N, 256, 13, 13)
        x = torch.relu(self.conv3(x))  # (N, 384, 13, 13)
        x = torch.relu(self.conv4(x))  # (N, 384, 13, 13)
        x = self.pool5(torch.relu(self.conv5(x)))  # (N, 256, 13, 13) -> (N, 256, 6, 6)
        x = self.flatten(x)  # (N, 9216)
        x = torch.relu(self.fc6(self.drop6(x)))  # (N, 4096)
        x = torch.relu(self.fc7(self.drop7(x)))  # (N, 4096)
        return self.fc8(x)  # (N, num_classes)


def zfnet(num_classes: int = 1000, *, in_channels: int = 3, input_size: int | tuple[int, int] = 224) -> ZFNet:
    """ZFNet (Zeiler and Fergus, 2014): AlexNet with a smaller, denser first layer.

    ``conv1 96@7x7/2 pad 1 -> ReLU -> max pool 3/2 pad 1 -> conv2 256@5x5/2 -> ReLU -> max pool 3/2 pad 1
    -> conv3 384@3x3 pad 1 -> ReLU -> conv4 384@3x3 pad 1 -> ReLU -> conv5 256@3x3 pad 1 -> ReLU -> max pool
    3/2 -> Flatten -> Dropout 0.5 -> fc6 4096 -> ReLU -> Dropout 0.5 -> fc7 4096 -> ReLU -> fc8 num_classes``.

    Parameters
    ----------
    num_classes : int, default 1000
    in_channels : int, default 3
    input_size : int or (H, W), default 224
        At least 53 (53 -> 25 -> 13 -> 5 -> 3 -> 1).

    Returns
    -------
    ZFNet
        Takes ``(N, in_channels, H, W)`` with exactly ``(H, W) = input_size``; returns logits ``(N, num_classes)``.

    Shape
    -----
    224x224x3 -> conv1 110x110x96 -> pool1 55x55x96 -> conv2 26x26x256 -> pool2 13x13x256 -> conv3
    13x13x384 -> conv4 13x13x384 -> conv5 13x13x256 -> pool5 6x6x256 -> 9216 -> 4096 -> 4096 -> 1000.
    Parameters with the defaults: 62,357,608, 20,736 fewer than AlexNet, all in conv1 (7x7 instead of
    11x11 kernels); every other layer has AlexNet's size.

    Notes
    -----
    The paper (its Figure 3) gives the sizes 110, 55, 26, 13, 6 but not the paddings; these are the
    smallest that reproduce them: 1 for conv1, pool1 and pool2 (equivalently, pooling in ceil mode as in
    Caffe), none for conv2 and pool5. Max pooling pads with -inf in PyTorch; after a ReLU, zero padding
    (Keras's ``ZeroPadding2D``) gives the same result. The paper's contrast normalisation after pool1 and
    pool2 is left out (the spec shared with the Keras twin has none; it has no parameters); dropout 0.5 in
    front of fc6 and fc7 is kept, as in the paper.
    """
    return ZFNet(num_classes, in_channels=in_channels, input_size=input_size)
