"""PixelNet (Bansal et al., 2017): per-pixel classification from hypercolumns, trained on sampled pixels.

Explained in the chapter on segmentation. A small VGG-like trunk computes feature maps at several depths
(full, 1/2, 1/4 ... resolution). The *hypercolumn* of a pixel is the concatenation of the features of all
these maps at that pixel, each map bilinearly interpolated to the pixel's position; a multilayer perceptron
(the *head*) turns each hypercolumn into class logits. PixelNet's point: neighbouring pixels are strongly
correlated, so training on a few pixels per image (:func:`sample_pixels`, stratified so that small shapes
are not drowned by the background) is about as good as training on all of them and far cheaper, since
the head runs on the sampled pixels only. At inference the same head runs on every pixel.

Interpolation convention: ``align_corners=False`` (pixel centres), the default of
``torch.nn.functional.interpolate`` and of ``tf.image.resize``; a pixel ``i`` of an ``H``-row image sits at
row ``(i + 0.5) * h / H - 0.5`` of an ``h``-row map (clamped to ``[0, h - 1]``). Sampled and dense
predictions are therefore the same numbers, which a test checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..._validation import as_int, as_rng
from ._common import ImageModel, Window, check_common, minimum_size

__all__ = ["PixelNet", "mean_iou", "pixelnet", "sample_pixels"]


def sample_pixels(masks: Any, n_per_class: int, rng: Any = None) -> np.ndarray:
    """Stratified pixel sample: ``n_per_class`` pixels of every class present in every image.

    Parameters
    ----------
    masks : array_like of int, shape (N, H, W)
        Per-pixel class labels (e.g. ``coursepkg.data.make_shapes(...).masks``, 0 = background).
    n_per_class : int
        Pixels drawn per class and image. Drawn without replacement, or with replacement when a class
        covers fewer pixels of the image, so that every class present weighs the same in the loss.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    ndarray of shape (M, 3), int64
        Rows ``(image, row, col)``, image by image and class by class; ``M = n_per_class * P`` where ``P``
        is the number of (image, class) pairs present. The labels are
        ``masks[idx[:, 0], idx[:, 1], idx[:, 2]]``.

    Raises
    ------
    ValueError
        If ``masks`` is not 3-D or ``n_per_class < 1``.
    TypeError
        If ``masks`` does not hold integers.

    Examples
    --------
    >>> masks = np.zeros((1, 4, 4), dtype=np.int64); masks[0, :2, :2] = 3
    >>> idx = sample_pixels(masks, 2, rng=0)
    >>> idx.shape, masks[idx[:, 0], idx[:, 1], idx[:, 2]].tolist()
    ((4, 3), [0, 0, 3, 3])
    """
    func = "sample_pixels"
    masks = np.asarray(masks)
    if masks.dtype.kind not in "iu":
        raise TypeError(
            f"{func}: `masks` must hold integer class labels; its dtype is {masks.dtype}. "
            "Convert it with masks.astype(np.int64)."
        )
    if masks.ndim != 3:
        hint = " For one mask use masks[None]." if masks.ndim == 2 else ""
        raise ValueError(f"{func}: `masks` must have shape (N, H, W); got shape {masks.shape}.{hint}")
    n_per_class = as_int(n_per_class, "n_per_class", func, minimum=1)
    gen = as_rng(rng, func)
    width = masks.shape[2]
    rows = []
    for n, mask in enumerate(masks):
        flat = mask.ravel()  # (H*W,)
        for c in np.unique(flat):
            where = np.flatnonzero(flat == c)  # positions of class c
            pick = gen.choice(where, size=n_per_class, replace=where.size < n_per_class)  # (n_per_class,)
            rows.append(np.stack([np.full(n_per_class, n), pick // width, pick % width], axis=1))  # (n_per_class, 3)
    return np.concatenate(rows).astype(np.int64)  # (M, 3)


def mean_iou(pred: Any, target: Any, *, num_classes: int) -> float:
    """Mean intersection over union of two label maps, over the classes present in either.

    ``IoU_c = |pred == c and target == c| / |pred == c or target == c|``, counted over all pixels of all
    images together, then averaged over the classes that occur in ``pred`` or ``target``.

    Parameters
    ----------
    pred, target : array_like of int, same shape (e.g. (N, H, W))
    num_classes : int

    Returns
    -------
    float

    Examples
    --------
    >>> mean_iou([[0, 1, 1]], [[0, 1, 0]], num_classes=2)  # class 0: 1/2, class 1: 1/2
    0.5
    """
    func = "mean_iou"
    num_classes = as_int(num_classes, "num_classes", func, minimum=1)
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"{func}: `pred` and `target` must have the same shape; got {pred.shape} and {target.shape}.")
    ious = []
    for c in range(num_classes):
        p, t = pred == c, target == c
        union = np.count_nonzero(p | t)
        if union:
            ious.append(np.count_nonzero(p & t) / union)
    return float(np.mean(ious))


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
        if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or not widths:
            raise TypeError(
                f"{func}: `widths` must be a non-empty sequence of channel counts, one per block, e.g. "
                f"(16, 32, 64). Received: widths={widths!r}."
            )
        widths = tuple(as_int(c, "widths[i]", func, minimum=1) for c in widths)
        hidden = as_int(hidden, "hidden", func, minimum=1)
        windows = tuple(Window(2, 0, 2) for _ in widths[1:])  # a 2x2 max pooling in front of every block but the first
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
    """
    return PixelNet(num_classes, in_channels=in_channels, input_size=input_size, widths=widths, hidden=hidden)
