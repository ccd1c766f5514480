"""VGG-11, VGG-16 and VGG-19 (Simonyan and Zisserman, 2015), in Keras: stacks of 3x3 convolutions in five blocks.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-vgg`). Every block is a few ``3x3 pad 1``
convolutions with ReLU (which keep the size) and a ``2x2`` max pooling (which halves it), so a 224x224 image leaves
the blocks as 112, 56, 28, 14 and 7 pixels square. Layer names are keras.applications' (``block{b}_conv{i}``,
``block{b}_pool``, ``fc1``, ``fc2``, ``predictions``) and so are the weights, in the same order: the weights of
``keras.applications.VGG16`` load into :func:`vgg16` with ``set_weights``. Twins of
:mod:`coursepkg.models.torch.vgg`, layer for layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from ..common import VGG_CONFIGS, as_bool, check_common, vgg_windows
from ._common import batch_norm as _batch_norm, conv2d, image_input

__all__ = ["VGG_CONFIGS", "vgg11", "vgg16", "vgg19", "vgg_block"]


def vgg_block(x: keras.KerasTensor, widths: Sequence[int], *, batch_norm: bool = False, name: str) -> keras.KerasTensor:
    """``[conv 3x3 pad 1 -> (BN) -> ReLU] * len(widths) -> max pool 2x2``.

    Parameters
    ----------
    x : KerasTensor of shape (N, H, W, C)
    widths : sequence of int
        Output channels of each convolution.
    batch_norm : bool, default False
        Batch normalisation between each convolution and its ReLU (the convolutions keep their biases).
    name : str
        Prefix of the layer names, e.g. ``"block1"``.

    Returns
    -------
    KerasTensor of shape (N, H // 2, W // 2, widths[-1])
        Parameters: ``sum(9 * C_in * C_out + C_out)`` over the convolutions, plus ``4 * C_out`` per
        batch-norm layer (2 trainable, 2 moving statistics).
    """
    for i, width in enumerate(widths, start=1):
        if batch_norm:
            x = conv2d(x, width, 3, padding=1, name=f"{name}_conv{i}")  # (N, H, W, width)
            x = _batch_norm(x, name=f"{name}_bn{i}")
            x = layers.ReLU(name=f"{name}_relu{i}")(x)
        else:
            x = conv2d(x, width, 3, padding=1, activation="relu", name=f"{name}_conv{i}")  # (N, H, W, width)
    return layers.MaxPooling2D(2, strides=2, name=f"{name}_pool")(x)  # (N, H // 2, W // 2, width)


def _vgg(
    config: Sequence[Sequence[int]],
    num_classes: int,
    in_channels: int,
    input_size: int | tuple[int, int],
    batch_norm: bool,
    func: str,
) -> keras.Model:
    windows = vgg_windows(config, func)  # one 2x2 pooling per block
    num_classes, in_channels, hw = check_common(func, num_classes, in_channels, input_size, windows, func)
    batch_norm = as_bool(batch_norm, "batch_norm", func)
    inputs = image_input(in_channels, hw)  # (N, 224, 224, 3)
    x = inputs
    for b, widths in enumerate(config, start=1):
        x = vgg_block(x, widths, batch_norm=batch_norm, name=f"block{b}")  # (N, 112, 112, 64), ..., (N, 7, 7, 512)
    x = layers.Flatten(name="flatten")(x)  # (N, 25088), in (H, W, C) order
    x = layers.Dense(4096, activation="relu", name="fc1")(x)  # (N, 4096)
    x = layers.Dropout(0.5, name="fc1_dropout")(x)
    x = layers.Dense(4096, activation="relu", name="fc2")(x)  # (N, 4096)
    x = layers.Dropout(0.5, name="fc2_dropout")(x)
    outputs = layers.Dense(num_classes, name="predictions")(x)  # (N, num_classes)
    return keras.Model(inputs, outputs, name=func + ("_bn" if batch_norm else ""))


def vgg11(
    num_classes: int = 1000, *, in_channels: int = 3, input_size: int | tuple[int, int] = 224, batch_norm: bool = False
) -> keras.Model:
    """VGG-11 (configuration A of the paper): 8 convolutions, widths per block 64 | 128 | 256x2 | 512x2 | 512x2.

    Arguments, layers and shapes as :func:`vgg16`. Parameters with the defaults: 132,863,336 (the published
    count, identical in torchvision and keras.applications), 123,642,856 of them in the dense layers.
    """
    return _vgg(VGG_CONFIGS["vgg11"], num_classes, in_channels, input_size, batch_norm, "vgg11")


def vgg16(
    num_classes: int = 1000, *, in_channels: int = 3, input_size: int | tuple[int, int] = 224, batch_norm: bool = False
) -> keras.Model:
    """VGG-16 (configuration D): 13 convolutions and 3 dense layers.

    Five blocks of ``3x3 pad 1`` convolutions with ReLU, widths 64x2 | 128x2 | 256x3 | 512x3 | 512x3, each
    block closed by a ``2x2`` max pooling (:func:`vgg_block`); then ``Flatten -> fc1 4096 + ReLU -> Dropout
    0.5 -> fc2 4096 + ReLU -> Dropout 0.5 -> predictions num_classes`` (logits, no softmax).

    Parameters
    ----------
    num_classes : int, default 1000
    in_channels : int, default 3
    input_size : int or (H, W), default 224
        At least 32 (five halvings). fc1 takes ``512 * (H // 32) * (W // 32)`` features: 25,088 at 224,
        512 at 32.
    batch_norm : bool, default False
        Batch normalisation after every convolution, before its ReLU (torchvision's ``vgg16_bn``; the
        convolutions keep their biases). Keras counts 4 weights per channel for each batch-norm layer,
        PyTorch 2 (the moving statistics are buffers there).

    Returns
    -------
    keras.Model
        Takes ``(N, H, W, in_channels)`` with ``(H, W) = input_size``; returns logits ``(N, num_classes)``.

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

    Notes
    -----
    keras.applications.VGG16 has no dropout layers (they have no weights); the paper and torchvision
    have them, and so do these models, so that the twins train alike.
    """
    return _vgg(VGG_CONFIGS["vgg16"], num_classes, in_channels, input_size, batch_norm, "vgg16")


def vgg19(
    num_classes: int = 1000, *, in_channels: int = 3, input_size: int | tuple[int, int] = 224, batch_norm: bool = False
) -> keras.Model:
    """VGG-19 (configuration E): 16 convolutions, widths per block 64x2 | 128x2 | 256x4 | 512x4 | 512x4.

    Arguments, layers and shapes as :func:`vgg16`. Parameters with the defaults: 143,667,240 (the published
    count, identical in torchvision and keras.applications), 123,642,856 of them in the dense layers.
    """
    return _vgg(VGG_CONFIGS["vgg19"], num_classes, in_channels, input_size, batch_norm, "vgg19")
