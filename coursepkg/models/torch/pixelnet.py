"""PixelNet (Bansal et al., 2017): per-pixel classification from hypercolumns, trained on sampled pixels.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-pixelnet`). A small VGG-like trunk computes feature
maps at several depths (full, 1/2, 1/4 ... resolution). The *hypercolumn* of a pixel is the concatenation of the
features of all these maps at that pixel, each map bilinearly interpolated to the pixel's position; a multilayer
perceptron (the *head*) turns each hypercolumn into class logits. PixelNet's point: neighbouring pixels are strongly
correlated, so training on a few pixels per image (:func:`sample_pixels`, stratified so that small shapes are not
drowned by the background) is about as good as training on all of them and far cheaper, since the head runs on the
sampled pixels only. At inference the same head runs on every pixel.

Interpolation convention: ``align_corners=False`` (pixel centres), the default of
``torch.nn.functional.interpolate`` and of ``tf.image.resize``; a pixel ``i`` of an ``H``-row image sits at
row ``(i + 0.5) * h / H - 0.5`` of an ``h``-row map (clamped to ``[0, h - 1]``). Sampled and dense
predictions are therefore the same numbers, which a test checks.

:func:`sample_pixels` and :func:`mean_iou` need NumPy only: they live in :mod:`coursepkg.models.common`,
shared with the Keras twin, and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..common import check_common, check_pixelnet_args, mean_iou, minimum_size, sample_pixels
from ._common import ImageModel

__all__ = ["PixelNet", "mean_iou", "pixelnet", "sample_pixels"]


def _conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 pad 1 convolutions with batch norm and ReLU; keep H and W."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def _gather_bilinear(fmap: torch.Tensor, pixels: torch.Tensor, out_hw: tuple[int, int]) -> torch.Tensor:
    """Features of ``fmap`` (N, C, h, w) at the centres of ``pixels`` (M, 3) of an ``out_hw`` image: (M, C).

    The same numbers as ``F.interpolate(fmap, size=out_hw, mode="bilinear")[n, :, i, j]``, computed for
    the M pixels only.
    """
    h, w = fmap.shape[2:]
    n, i, j = pixels.unbind(1)  # (M,) each
    sy = ((i.to(fmap.dtype) + 0.5) * (h / out_hw[0]) - 0.5).clamp(min=0)  # (M,) source rows
    sx = ((j.to(fmap.dtype) + 0.5) * (w / out_hw[1]) - 0.5).clamp(min=0)  # (M,) source cols
    y0, x0 = sy.long(), sx.long()  # floor, as sy, sx >= 0
    y1, x1 = (y0 + 1).clamp(max=h - 1), (x0 + 1).clamp(max=w - 1)
    wy, wx = (sy - y0)[:, None], (sx - x0)[:, None]  # (M, 1) weights of the next row / column
    f = fmap.permute(0, 2, 3, 1)  # (N, h, w, C)
    top = f[n, y0, x0] * (1 - wx) + f[n, y0, x1] * wx  # (M, C)
    bottom = f[n, y1, x0] * (1 - wx) + f[n, y1, x1] * wx  # (M, C)
    return top * (1 - wy) + bottom * wy  # (M, C)


class PixelNet(ImageModel):
    """VGG-like trunk, hypercolumns from every block, MLP head per pixel. See :func:`pixelnet`."""

    def __init__(
        self,
        num_classes: int = 7,
        *,
        in_channels: int = 1,
        input_size: int | tuple[int, int] = 32,
        widths: Sequence[int] = (16, 32, 64),
        hidden: int = 128,
    ) -> None:
        func = "pixelnet"
        widths, hidden, windows = check_pixelnet_args(func, widths, hidden)  # a 2x2 pooling before blocks 2, 3, ...
        num_classes, in_channels, hw = check_common(func, num_classes, in_channels, input_size, windows, "PixelNet")
        super().__init__(in_channels, hw, minimum_size(windows))
        self.pool = nn.MaxPool2d(2)
        channels = in_channels
        for b, width in enumerate(widths, start=1):
            self.add_module(f"block{b}", _conv_block(channels, width))
            channels = width
        self.num_blocks = len(widths)
        self.hypercolumn_size = sum(widths)
        self.head = nn.Sequential(
            nn.Linear(self.hypercolumn_size, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The trunk's outputs, one per block: ``(N, widths[b], H / 2^b, W / 2^b)``."""
        maps = []
        for b in range(1, self.num_blocks + 1):
            if b > 1:
                x = self.pool(x)  # (N, C, H / 2^(b-1), W / 2^(b-1))
            x = getattr(self, f"block{b}")(x)  # (N, widths[b-1], same)
            maps.append(x)
        return maps

    def forward(self, x: torch.Tensor, pixels: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of every pixel, ``(N, num_classes, H, W)``, or of the given pixels only, ``(M, num_classes)``.

        Parameters
        ----------
        x : torch.Tensor of shape (N, in_channels, H, W)
        pixels : torch.Tensor of shape (M, 3), int64, optional
            Rows ``(image, row, col)`` as returned by :func:`sample_pixels` (``torch.from_numpy(idx)``).
        """
        self.check_input(x)
        out_hw = tuple(x.shape[2:])
        maps = self.feature_maps(x)
        if pixels is not None:
            if pixels.ndim != 2 or pixels.shape[1] != 3 or pixels.dtype != torch.int64:
                raise ValueError(
                    "PixelNet: `pixels` must be an int64 tensor of shape (M, 3) with rows (image, row, col), "
                    f"e.g. torch.from_numpy(sample_pixels(masks, 16, rng)). Received shape "
                    f"{tuple(pixels.shape)} and dtype {pixels.dtype}."
                )
            upper = torch.tensor([x.shape[0], *out_hw], device=pixels.device)
            if pixels.numel() and ((pixels < 0).any() or (pixels >= upper).any()):
                raise ValueError(
                    f"PixelNet: `pixels` holds (image, row, col) rows outside the batch of shape {tuple(x.shape)}; "
                    "sample them from the masks of this batch, e.g. sample_pixels(masks[batch], ...)."
                )
            columns = torch.cat([_gather_bilinear(m, pixels, out_hw) for m in maps], dim=1)  # (M, D)
            return self.head(columns)  # (M, num_classes)
        upsampled = [F.interpolate(m, size=out_hw, mode="bilinear", align_corners=False) for m in maps]
        columns = torch.cat(upsampled, dim=1)  # (N, D, H, W)
        logits = self.head(columns.permute(0, 2, 3, 1))  # (N, H, W, num_classes)
        return logits.permute(0, 3, 1, 2)  # (N, num_classes, H, W)


def pixelnet(
    num_classes: int = 7,
    *,
    in_channels: int = 1,
    input_size: int | tuple[int, int] = 32,
    widths: Sequence[int] = (16, 32, 64),
    hidden: int = 128,
) -> PixelNet:
    """A small PixelNet for segmentation: VGG-like trunk, hypercolumns, per-pixel MLP.

    Trunk: blocks of two ``3x3 pad 1`` convolutions with batch norm and ReLU, of ``widths`` channels, with a
    2x2 max pooling in front of every block but the first. Hypercolumn: the outputs of all blocks,
    bilinearly interpolated to the pixel (``sum(widths)`` features). Head: ``Linear hidden -> ReLU ->
    Linear hidden -> ReLU -> Linear num_classes``, shared by all pixels (a stack of 1x1 convolutions).

    Parameters
    ----------
    num_classes : int, default 7
        Background and the six shapes of :func:`coursepkg.data.make_shapes`.
    in_channels : int, default 1
    input_size : int or (H, W), default 32
        At least 4 with the default three blocks (``2 ** (len(widths) - 1)`` in general); the network is
        fully convolutional and takes any size from there.
    widths : sequence of int, default (16, 32, 64)
        Channels of each block; one block per resolution. The defaults segment held-out
        ``make_shapes(size=32)`` images with a mean IoU of 0.97 to 0.99 after 5-10 s of training on one
        CPU thread (300 Adam steps of 16 images, 16 pixels per class and image, one-cycle learning rate
        peaking at 3e-3; ``tests/models/torch/test_pixelnet.py``).
    hidden : int, default 128
        Width of the head's two hidden layers.

    Returns
    -------
    PixelNet
        ``model(x)`` maps ``(N, in_channels, H, W)`` to logits ``(N, num_classes, H, W)``;
        ``model(x, pixels)`` maps it to the logits ``(M, num_classes)`` of ``pixels`` (M, 3) only.

    Shape
    -----
    32x32x1 -> block1 32x32x16 -> block2 16x16x32 -> block3 8x8x64 -> hypercolumns of 112 per pixel -> 128
    -> 128 -> 7 per pixel, i.e. logits (N, 7, 32, 32). Parameters with the defaults: 103,895 (72,016 in the
    trunk, 31,879 in the head).

    Raises
    ------
    ValueError
        If ``input_size`` is below the minimum or a count is below 1.
    TypeError
        If an argument has the wrong type.

    Notes
    -----
    The paper uses VGG-16 as the trunk, hypercolumns from six of its layers and three 4,096-wide dense
    layers, and samples 2,000 pixels per image at random; the stratified sample of :func:`sample_pixels`
    is the usual remedy when one class (here the background) covers most pixels. Train with
    ``F.cross_entropy(model(x, pixels), labels)`` where ``labels = masks[pixels[:, 0], pixels[:, 1],
    pixels[:, 2]]``; predict with ``model(x).argmax(1)``.

    Examples
    --------
    >>> model = pixelnet()
    >>> model(torch.zeros(2, 1, 32, 32)).shape
    torch.Size([2, 7, 32, 32])
    """
    return PixelNet(num_classes, in_channels=in_channels, input_size=input_size, widths=widths, hidden=hidden)
