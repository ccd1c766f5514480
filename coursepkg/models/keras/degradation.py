"""The degradation problem (He et al., 2016) in Keras: a plain block, and a small network of plain or residual blocks.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-degradation`). Twins of
:mod:`coursepkg.models.torch.degradation`: :func:`plain_block` is :func:`~coursepkg.models.keras.basic_block`
without its shortcut (as ``PlainBlock`` is ``BasicBlock`` without it in PyTorch), and :func:`degradation_net`
has the name, the arguments and the layers, in the same order, of its PyTorch twin, so that
:mod:`coursepkg.models.transfer_weights` copies weights between them.
"""

from __future__ import annotations

import keras
from keras import layers

from ..._validation import as_int
from ..common import as_bool, check_common
from ._common import batch_norm, conv2d, image_input
from .resnet import basic_block

__all__ = ["degradation_net", "plain_block"]


def plain_block(
    x: keras.KerasTensor, filters: int, *, strides: int = 1, conv_bias: bool = True, name: str
) -> keras.KerasTensor:
    """:func:`~coursepkg.models.keras.basic_block` without its shortcut: two ``3x3`` convolutions with batch norm.

    ``relu(BN(conv3x3(relu(BN(conv3x3/s(x))))))``; the layer names are those of ``basic_block`` (no
    ``_0_conv`` projection, no ``_add``), and the same defaults.

    Parameters
    ----------
    x : KerasTensor of shape (N, H, W, C)
    filters : int
        Output channels F.
    strides : int, default 1
        Stride of the first convolution.
    conv_bias : bool, default True
        Whether the convolutions have biases (as ``basic_block``'s default, keras.applications' style).
    name : str
        Prefix of the layer names, e.g. ``"block3"``.

    Returns
    -------
    KerasTensor of shape (N, ceil(H / s), ceil(W / s), F)
        Parameters: ``9 C F + 9 F F``, plus biases if ``conv_bias``, plus ``4 F`` per batch normalisation
        (scale, shift, and two moving statistics, which Keras counts as non-trainable weights).
    """
    y = conv2d(x, filters, 3, strides=strides, padding=1, use_bias=conv_bias, name=f"{name}_1_conv")  # (N, H/s, W/s, F)
    y = batch_norm(y, name=f"{name}_1_bn")
    y = layers.ReLU(name=f"{name}_1_relu")(y)
    y = conv2d(y, filters, 3, padding=1, use_bias=conv_bias, name=f"{name}_2_conv")  # (N, H/s, W/s, F)
    y = batch_norm(y, name=f"{name}_2_bn")
    return layers.ReLU(name=f"{name}_out")(y)  # F(x), and no shortcut


def degradation_net(
    num_classes: int = 10,
    *,
    blocks: int = 10,
    residual: bool = True,
    width: int = 16,
    in_channels: int = 1,
    input_size: int | tuple[int, int] = 8,
    conv_bias: bool = False,
) -> keras.Model:
    """A small network of plain or residual blocks, for the degradation experiment on the 8x8 digits.

    ``conv1 width@3x3 pad 1 -> BN -> ReLU -> blocks x (basic_block or plain_block, width -> width) -> global
    average pooling -> Dense num_classes``; the twin of :func:`coursepkg.models.torch.degradation_net`, with
    the same arguments and defaults (``conv_bias=False`` in both frameworks here).

    Parameters
    ----------
    num_classes : int, default 10
    blocks : int, default 10
        Number of blocks (0 leaves the stem and the classifier). Depth: ``2 * blocks + 2`` weighted layers.
    residual : bool, default True
        :func:`~coursepkg.models.keras.basic_block` (identity shortcuts) or :func:`plain_block` (none).
    width : int, default 16
        Channels of the stem and of every block.
    in_channels : int, default 1
    input_size : int or (H, W), default 8
        The model's input shape ``(H, W, in_channels)``; any size from 1.
    conv_bias : bool, default False
        Biases in the convolutions.

    Returns
    -------
    keras.Model
        Takes ``(N, H, W, in_channels)``; returns logits ``(N, num_classes)``.

    Shape
    -----
    8x8x1 -> conv1 8x8x16 -> blocks 8x8x16 -> global average pooling 16 -> 10. Parameters with the
    defaults: 47,738, of which 47,066 trainable (the PyTorch twin's count) and 672 batch-norm moving
    statistics; the same with ``residual=False``.

    Raises
    ------
    ValueError
        If a count is below its minimum (``blocks`` 0, the others 1).
    TypeError
        If an argument has the wrong type.

    Examples
    --------
    >>> model = degradation_net(residual=False)
    >>> model.output_shape, model.count_params()
    ((None, 10), 47738)
    """
    func = "degradation_net"
    num_classes, in_channels, hw = check_common(func, num_classes, in_channels, input_size, (), "degradation_net")
    blocks = as_int(blocks, "blocks", func, minimum=0)
    residual = as_bool(residual, "residual", func)
    width = as_int(width, "width", func, minimum=1)
    conv_bias = as_bool(conv_bias, "conv_bias", func)
    block = basic_block if residual else plain_block
    inputs = image_input(in_channels, hw)  # (N, 8, 8, 1) with the defaults
    x = conv2d(inputs, width, 3, padding=1, use_bias=conv_bias, name="conv1_conv")  # (N, H, W, width)
    x = batch_norm(x, name="conv1_bn")
    x = layers.ReLU(name="conv1_relu")(x)
    for b in range(1, blocks + 1):
        x = block(x, width, conv_bias=conv_bias, name=f"block{b}")  # (N, H, W, width)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)  # (N, width)
    outputs = layers.Dense(num_classes, name="predictions")(x)  # (N, num_classes)
    return keras.Model(inputs, outputs, name=func)
