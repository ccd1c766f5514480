"""PixelNet (Bansal et al., 2017) in Keras: per-pixel classification from hypercolumns, trained on sampled pixels.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-pixelnet`). A small VGG-like trunk computes feature
maps at several depths (full, 1/2, 1/4 ... resolution). The *hypercolumn* of a pixel is the concatenation of the
features of all these maps at that pixel, each map bilinearly interpolated to the input resolution; a multilayer
perceptron (the *head*, ``Dense`` layers acting on the last axis, i.e. 1x1 convolutions) turns each hypercolumn into
class logits. Training looks at a stratified sample of pixels per image only (:func:`sample_pixels`, so that small
shapes are not drowned by the background): in Keras the sample becomes a per-pixel ``sample_weight``
(:func:`pixel_sample_weights`) and ``model.fit`` does the rest.

Twin of :mod:`coursepkg.models.torch.pixelnet` (same layers in the same order, same interpolation:
``align_corners=False``, pixel centres, as ``tf.image.resize`` and ``torch.nn.functional.interpolate``
compute by default). The Keras model always predicts every pixel, ``(N, H, W, num_classes)``; the PyTorch
twin can also run its head on the sampled pixels only.

:func:`sample_pixels`, :func:`pixel_sample_weights` and :func:`mean_iou` need NumPy only: they live in
:mod:`coursepkg.models.common`, shared with the PyTorch twin, and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers

from ..common import check_common, check_pixelnet_args, mean_iou, pixel_sample_weights, sample_pixels
from ._common import batch_norm, conv2d, image_input

__all__ = ["BilinearResize", "mean_iou", "pixel_sample_weights", "pixelnet", "sample_pixels"]


@keras.saving.register_keras_serializable(package="coursepkg")
class BilinearResize(layers.Layer):
    """Resize feature maps to ``size = (H, W)`` by bilinear interpolation (pixel centres, no antialiasing).

    Output pixel ``i`` of ``H`` reads the input at row ``(i + 0.5) * h / H - 0.5`` of ``h`` (clamped), as
    ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)`` does.

    Shape
    -----
    Input ``(N, h, w, C)``, output ``(N, H, W, C)``. No weights.
    """

    def __init__(self, size: tuple[int, int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = (int(size[0]), int(size[1]))

    def call(self, inputs: Any) -> Any:
        return keras.ops.image.resize(inputs, self.size, interpolation="bilinear", antialias=False)  # (N, H, W, C)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *self.size, input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size}


def pixelnet(
    num_classes: int = 7,
    *,
    in_channels: int = 1,
    input_size: int | tuple[int, int] = 32,
    widths: Sequence[int] = (16, 32, 64),
    hidden: int = 128,
) -> keras.Model:
    """A small PixelNet for segmentation: VGG-like trunk, hypercolumns, per-pixel MLP.

    Trunk: blocks of two ``3x3 pad 1`` convolutions with batch norm and ReLU, of ``widths`` channels, with a
    2x2 max pooling in front of every block but the first. Hypercolumn: the outputs of all blocks,
    bilinearly resized to the input (``sum(widths)`` features per pixel). Head: ``Dense hidden + ReLU ->
    Dense hidden + ReLU -> Dense num_classes`` on the last axis, shared by all pixels.

    Parameters
    ----------
    num_classes : int, default 7
        Background and the six shapes of :func:`coursepkg.data.make_shapes`.
    in_channels : int, default 1
    input_size : int or (H, W), default 32
        At least ``2 ** (len(widths) - 1)`` (4 with the defaults).
    widths : sequence of int, default (16, 32, 64)
        Channels of each block; one block per resolution.
    hidden : int, default 128
        Width of the head's two hidden layers.

    Returns
    -------
    keras.Model
        Maps ``(N, H, W, in_channels)`` to per-pixel logits ``(N, H, W, num_classes)``. Train with
        ``SparseCategoricalCrossentropy(from_logits=True)`` on the masks ``(N, H, W)`` and
        ``sample_weight=pixel_sample_weights(masks, n_per_class, rng)``; predict with ``argmax(-1)``.

    Shape
    -----
    32x32x1 -> block1 32x32x16 -> block2 16x16x32 -> block3 8x8x64 -> hypercolumns 32x32x112 -> 128 ->
    128 -> 32x32x7. Parameters with the defaults: 104,343: 103,895 trainable (as in PyTorch: 72,016 in the
    trunk, 31,879 in the head) and 448 batch-norm moving statistics.

    Raises
    ------
    ValueError
        If ``input_size`` is below the minimum or a count is below 1.
    TypeError
        If an argument has the wrong type.

    Notes
    -----
    The paper uses VGG-16 as the trunk, hypercolumns from six of its layers and three 4,096-wide dense
    layers, samples 2,000 pixels per image at random, and computes the hypercolumns of the sampled pixels
    only; here every pixel's is computed and the sample only weights the loss, which gives the same
    gradients on these small images.

    Examples
    --------
    >>> model = pixelnet()
    >>> model.output_shape, model.count_params()
    ((None, 32, 32, 7), 104343)
    """
    func = "pixelnet"
    widths, hidden, windows = check_pixelnet_args(func, widths, hidden)  # a 2x2 pooling before blocks 2, 3, ...
    num_classes, in_channels, hw = check_common(func, num_classes, in_channels, input_size, windows, "PixelNet")
    inputs = image_input(in_channels, hw)  # (N, 32, 32, 1); shapes below for the defaults
    x = inputs
    columns = []
    for b, width in enumerate(widths, start=1):
        if b > 1:
            x = layers.MaxPooling2D(2, name=f"pool{b}")(x)  # (N, H / 2^(b-1), W / 2^(b-1), C)
        for i in (1, 2):
            x = conv2d(x, width, 3, padding=1, use_bias=False, name=f"block{b}_conv{i}")  # (N, h, w, width)
            x = batch_norm(x, name=f"block{b}_bn{i}")
            x = layers.ReLU(name=f"block{b}_relu{i}")(x)
        columns.append(x if b == 1 else BilinearResize(hw, name=f"block{b}_up")(x))  # (N, H, W, width)
    x = layers.Concatenate(axis=-1, name="hypercolumns")(columns)  # (N, 32, 32, 112)
    x = layers.Dense(hidden, activation="relu", name="head_fc1")(x)  # (N, 32, 32, 128)
    x = layers.Dense(hidden, activation="relu", name="head_fc2")(x)  # (N, 32, 32, 128)
    outputs = layers.Dense(num_classes, name="head_fc3")(x)  # (N, 32, 32, num_classes)
    return keras.Model(inputs, outputs, name=func)
