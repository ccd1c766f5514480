"""Residual networks (He et al., 2016) in Keras: ResNet-18/34 (basic blocks) and ResNet-50/101/152 (bottlenecks).

Explained in the chapter "Classic CNN architectures" ({ref}`sec-resnet`). A residual block computes
``relu(F(x) + shortcut(x))``; the shortcut is the identity when ``F`` keeps the shape (:func:`identity_block`)
and a ``1x1`` convolution with batch normalisation (a *projection*) when ``F`` changes the number of channels or
the resolution (:func:`conv_block`). :func:`basic_block` is the two-convolution block of ResNet-18/34 and picks
its shortcut itself; :func:`~coursepkg.models.keras.plain_block` is the same block without a shortcut.

Layer names and the order of the weights are keras.applications' (``conv1_conv``, ``conv2_block1_1_conv``,
..., ``conv2_block1_0_conv`` for a projection, ``predictions``): with the defaults, the weights of
``keras.applications.ResNet50`` load into :func:`resnet50` with ``set_weights``. Twins of
:mod:`coursepkg.models.torch.resnet`, which follows torchvision; the two differ in two defaults, each an
argument of both:

- ``conv_bias``: keras.applications' convolutions have biases (True here), torchvision's do not (False
  there). A bias in front of a batch normalisation is redundant (the normalisation subtracts it again),
  which is why torchvision drops it.
- ``stride_on``: where a bottleneck that halves the resolution puts its stride 2: on the first ``1x1``
  convolution (``"1x1"``, the original paper and keras.applications, the default here) or on the ``3x3``
  (``"3x3"``, "ResNet v1.5", torchvision's default, about 0.5 % more accurate on ImageNet).

Batch normalisation uses PyTorch's epsilon 1e-5 (keras.applications: 1.001e-5); see
:mod:`coursepkg.models.keras._common`.
"""

from __future__ import annotations

import keras
from keras import layers

from ..common import RESNET_CONFIGS, RESNET_WIDTHS, RESNET_WINDOWS, as_bool, check_common
from ._common import batch_norm, conv2d, image_input, max_pool

__all__ = [
    "basic_block",
    "conv_block",
    "identity_block",
    "resnet101",
    "resnet152",
    "resnet18",
    "resnet34",
    "resnet50",
]


def _check_stride_on(stride_on: object, func: str) -> str:
    if stride_on not in ("1x1", "3x3"):
        raise ValueError(
            f"{func}: `stride_on` must be '1x1' (the paper, keras.applications) or '3x3' (ResNet v1.5, "
            f"torchvision). Received: stride_on={stride_on!r}."
        )
    return stride_on  # type: ignore[return-value]


def basic_block(
    x: keras.KerasTensor, filters: int, *, strides: int = 1, conv_bias: bool = True, name: str
) -> keras.KerasTensor:
    """The block of ResNet-18/34: two ``3x3`` convolutions and a shortcut.

    ``F(x) = BN(conv3x3(relu(BN(conv3x3/s(x)))))``, output ``relu(F(x) + shortcut(x))``. The shortcut is
    the identity, or a projection ``BN(conv1x1/s(x))`` when ``strides > 1`` or ``x`` does not have
    ``filters`` channels.

    Parameters
    ----------
    x : KerasTensor of shape (N, H, W, C)
    filters : int
        Output channels F.
    strides : int, default 1
        Stride of the first convolution (and of the projection).
    conv_bias : bool, default True
        Whether the convolutions have biases.
    name : str
        Prefix of the layer names, e.g. ``"conv3_block1"``.

    Returns
    -------
    KerasTensor of shape (N, ceil(H / s), ceil(W / s), F)
        Parameters: ``9 C F + 9 F F`` (+ ``C F`` for a projection), plus biases if ``conv_bias``, plus
        ``4 F`` per batch normalisation.
    """
    channels = int(x.shape[-1])
    y = conv2d(x, filters, 3, strides=strides, padding=1, use_bias=conv_bias, name=f"{name}_1_conv")  # (N, H/s, W/s, F)
    y = batch_norm(y, name=f"{name}_1_bn")
    y = layers.ReLU(name=f"{name}_1_relu")(y)
    y = conv2d(y, filters, 3, padding=1, use_bias=conv_bias, name=f"{name}_2_conv")  # (N, H/s, W/s, F)
    y = batch_norm(y, name=f"{name}_2_bn")
    if strides != 1 or channels != filters:
        shortcut = conv2d(x, filters, 1, strides=strides, use_bias=conv_bias, name=f"{name}_0_conv")  # (N, H/s, W/s, F)
        shortcut = batch_norm(shortcut, name=f"{name}_0_bn")
    else:
        shortcut = x
    # Shortcut first, as keras.applications writes it: the order of the inputs of an Add decides the order
    # of the layers (and of the weights) in model.layers.
    out = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(out)  # (N, H/s, W/s, F)


def _bottleneck(
    x: keras.KerasTensor,
    filters: int,
    *,
    strides: int,
    projection: bool,
    stride_on: str,
    conv_bias: bool,
    name: str,
) -> keras.KerasTensor:
    """``1x1 F -> 3x3 F -> 1x1 4F`` with BN and ReLU, plus an identity or projection shortcut."""
    s1, s3 = (strides, 1) if stride_on == "1x1" else (1, strides)
    y = conv2d(x, filters, 1, strides=s1, use_bias=conv_bias, name=f"{name}_1_conv")  # (N, H/s1, W/s1, F)
    y = batch_norm(y, name=f"{name}_1_bn")
    y = layers.ReLU(name=f"{name}_1_relu")(y)
    y = conv2d(y, filters, 3, strides=s3, padding=1, use_bias=conv_bias, name=f"{name}_2_conv")  # (N, H/s, W/s, F)
    y = batch_norm(y, name=f"{name}_2_bn")
    y = layers.ReLU(name=f"{name}_2_relu")(y)
    y = conv2d(y, 4 * filters, 1, use_bias=conv_bias, name=f"{name}_3_conv")  # (N, H/s, W/s, 4F)
    y = batch_norm(y, name=f"{name}_3_bn")
    if projection:
        # (N, H/s, W/s, 4F)
        shortcut = conv2d(x, 4 * filters, 1, strides=strides, use_bias=conv_bias, name=f"{name}_0_conv")
        shortcut = batch_norm(shortcut, name=f"{name}_0_bn")
    else:
        shortcut = x
    out = layers.Add(name=f"{name}_add")([shortcut, y])  # shortcut first, as in keras.applications
    return layers.ReLU(name=f"{name}_out")(out)  # (N, H/s, W/s, 4F)


def identity_block(x: keras.KerasTensor, filters: int, *, conv_bias: bool = True, name: str) -> keras.KerasTensor:
    """Bottleneck block whose shortcut is the identity: ``relu(F(x) + x)``.

    ``F = 1x1 conv F -> BN -> ReLU -> 3x3 conv F -> BN -> ReLU -> 1x1 conv 4F -> BN``. The input must already
    have ``4 * filters`` channels, since the block adds it to ``F(x)`` unchanged.

    Parameters
    ----------
    x : KerasTensor of shape (N, H, W, 4F)
    filters : int
        Width F of the bottleneck; the block outputs ``4 F`` channels.
    conv_bias : bool, default True
    name : str
        Prefix of the layer names, e.g. ``"conv2_block2"``.

    Returns
    -------
    KerasTensor of shape (N, H, W, 4F)
        Parameters: ``4F F + 9 F F + F 4F = 17 F^2`` (+ ``6 F`` biases) + ``4 (F + F + 4F)`` for batch norm.

    Raises
    ------
    ValueError
        If ``x`` does not have ``4 * filters`` channels (use :func:`conv_block` there).
    """
    if int(x.shape[-1]) != 4 * filters:
        raise ValueError(
            f"identity_block: the input has {x.shape[-1]} channels but the block adds it to an output of "
            f"4 * filters = {4 * filters} channels. Use conv_block (projection shortcut) where the number of "
            f"channels changes, or filters={int(x.shape[-1]) // 4}."
        )
    return _bottleneck(x, filters, strides=1, projection=False, stride_on="1x1", conv_bias=conv_bias, name=name)


def conv_block(
    x: keras.KerasTensor,
    filters: int,
    *,
    strides: int = 2,
    stride_on: str = "1x1",
    conv_bias: bool = True,
    name: str,
) -> keras.KerasTensor:
    """Bottleneck block with a projection shortcut: ``relu(F(x) + BN(conv1x1/s(x)))``.

    The first block of every stage: it changes the number of channels to ``4 * filters`` and, in stages
    3-5, halves the resolution (``strides=2``).

    Parameters
    ----------
    x : KerasTensor of shape (N, H, W, C)
    filters : int
        Width F of the bottleneck; the block outputs ``4 F`` channels.
    strides : int, default 2
        1 in the first stage (conv2), 2 in the others.
    stride_on : {"1x1", "3x3"}, default "1x1"
        Which convolution of ``F`` takes the stride: the first ``1x1`` (the paper, keras.applications) or
        the ``3x3`` (ResNet v1.5, torchvision). Same weights and shapes either way.
    conv_bias : bool, default True
    name : str
        Prefix of the layer names, e.g. ``"conv3_block1"``.

    Returns
    -------
    KerasTensor of shape (N, ceil(H / s), ceil(W / s), 4F)
        Parameters: ``C F + 9 F F + 4 F F + 4 C F`` (+ biases) + batch norm ``4 (F + F + 4F + 4F)``.

    Raises
    ------
    ValueError
        If ``stride_on`` is not "1x1" or "3x3".
    """
    stride_on = _check_stride_on(stride_on, "conv_block")
    return _bottleneck(
        x, filters, strides=strides, projection=True, stride_on=stride_on, conv_bias=conv_bias, name=name
    )


def _resnet(
    func: str,
    num_classes: int,
    in_channels: int,
    input_size: int | tuple[int, int],
    conv_bias: bool,
    stride_on: str,
) -> keras.Model:
    """The ResNet ``func`` of :data:`coursepkg.models.common.RESNET_CONFIGS`; the public builders document it."""
    config = RESNET_CONFIGS[func]  # bottlenecks or basic blocks, and how many per stage
    num_classes, in_channels, hw = check_common(func, num_classes, in_channels, input_size, RESNET_WINDOWS, func)
    conv_bias = as_bool(conv_bias, "conv_bias", func)
    stride_on = _check_stride_on(stride_on, func)
    inputs = image_input(in_channels, hw)  # (N, 224, 224, 3); shapes below for the defaults
    x = conv2d(inputs, 64, 7, strides=2, padding=3, use_bias=conv_bias, name="conv1_conv")  # (N, 112, 112, 64)
    x = batch_norm(x, name="conv1_bn")
    x = layers.ReLU(name="conv1_relu")(x)
    x = max_pool(x, 3, strides=2, padding=1, name="pool1_pool")  # (N, 56, 56, 64)
    for stage, n_blocks in enumerate(config.layers):
        filters = RESNET_WIDTHS[stage]  # 64, 128, 256, 512
        for b in range(n_blocks):
            name = f"conv{stage + 2}_block{b + 1}"
            strides = 2 if stage > 0 and b == 0 else 1
            if not config.bottleneck:
                x = basic_block(x, filters, strides=strides, conv_bias=conv_bias, name=name)
            elif b == 0:
                x = conv_block(x, filters, strides=strides, stride_on=stride_on, conv_bias=conv_bias, name=name)
            else:
                x = identity_block(x, filters, conv_bias=conv_bias, name=name)
        # after each stage: (N, 56, 56, 256), (N, 28, 28, 512), (N, 14, 14, 1024), (N, 7, 7, 2048) (bottleneck)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)  # (N, 2048) or (N, 512)
    outputs = layers.Dense(num_classes, name="predictions")(x)  # (N, num_classes)
    return keras.Model(inputs, outputs, name=func)


def resnet18(
    num_classes: int = 1000, *, in_channels: int = 3, input_size: int | tuple[int, int] = 224, conv_bias: bool = True
) -> keras.Model:
    """ResNet-18: :func:`basic_block` s, stages [2, 2, 2, 2], widths 64, 128, 256, 512.

    Arguments as :func:`resnet50` but ``stride_on`` (which concerns bottlenecks). Returns a ``keras.Model``
    mapping ``(N, H, W, in_channels)`` to logits ``(N, num_classes)``; at 224x224 the stages output
    56x56x64, 28x28x128, 14x14x256 and 7x7x512. Parameters with the defaults: 11,703,912
    (``conv_bias=True``); 11,699,112 without biases, of which 9,600 are batch-norm moving statistics: the
    11,689,512 trainable ones are torchvision's count.
    """
    return _resnet("resnet18", num_classes, in_channels, input_size, conv_bias, "1x1")


def resnet34(
    num_classes: int = 1000, *, in_channels: int = 3, input_size: int | tuple[int, int] = 224, conv_bias: bool = True
) -> keras.Model:
    """ResNet-34: :func:`basic_block` s, stages [3, 4, 6, 3], widths 64, 128, 256, 512.

    Arguments, output and stage shapes as :func:`resnet18`. Parameters with the defaults: 21,823,208
    (``conv_bias=True``); 21,814,696 without biases, of which 17,024 are batch-norm moving statistics: the
    21,797,672 trainable ones are torchvision's count.
    """
    return _resnet("resnet34", num_classes, in_channels, input_size, conv_bias, "1x1")


def resnet50(
    num_classes: int = 1000,
    *,
    in_channels: int = 3,
    input_size: int | tuple[int, int] = 224,
    conv_bias: bool = True,
    stride_on: str = "1x1",
) -> keras.Model:
    """ResNet-50: bottleneck blocks, stages [3, 4, 6, 3].

    ``conv1 64@7x7/2 pad 3 -> BN -> ReLU -> max pool 3/2 pad 1 -> stages conv2..conv5 -> global average
    pooling -> Dense num_classes``. Each stage is a :func:`conv_block` followed by :func:`identity_block` s;
    stage ``i`` (conv2..conv5) has bottleneck width ``64 * 2**(i - 2)`` and outputs 4 times as many channels;
    conv3..conv5 halve the resolution.

    Parameters
    ----------
    num_classes : int, default 1000
    in_channels : int, default 3
    input_size : int or (H, W), default 224
        Any size from 1 up (every stage rounds up: ``ceil(n / 2)``); 32 gives 1x1 maps in the last stage.
    conv_bias : bool, default True
        Biases in the convolutions, as in keras.applications (torchvision has none).
    stride_on : {"1x1", "3x3"}, default "1x1"
        Where a downsampling bottleneck puts its stride 2: the first 1x1 convolution (the paper,
        keras.applications) or the 3x3 (ResNet v1.5, torchvision's default). Same weights either way.

    Returns
    -------
    keras.Model
        Takes ``(N, H, W, in_channels)`` with ``(H, W) = input_size``; returns logits ``(N, num_classes)``.

    Shape
    -----
    224x224x3 -> conv1 112x112x64 -> pool1 56x56x64 -> conv2 56x56x256 -> conv3 28x28x512 -> conv4
    14x14x1024 -> conv5 7x7x2048 -> global average pooling 2048 -> 1000. Parameters with the defaults:
    25,636,712, the count of ``keras.applications.ResNet50(weights=None)``: 25,583,592 trainable and 53,120
    batch-norm moving statistics. Without biases (``conv_bias=False``) 25,610,152, of which 25,557,032
    trainable: torchvision's count.

    Raises
    ------
    ValueError
        If a count is below 1 or ``stride_on`` is not "1x1" or "3x3".
    TypeError
        If an argument has the wrong type.
    """
    return _resnet("resnet50", num_classes, in_channels, input_size, conv_bias, stride_on)


def resnet101(
    num_classes: int = 1000,
    *,
    in_channels: int = 3,
    input_size: int | tuple[int, int] = 224,
    conv_bias: bool = True,
    stride_on: str = "1x1",
) -> keras.Model:
    """ResNet-101: bottleneck blocks, stages [3, 4, 23, 3].

    Arguments, output and stage shapes as :func:`resnet50`. Parameters with the defaults: 44,707,176
    (keras.applications.ResNet101's count); without biases 44,654,504, of which 44,549,160 trainable:
    torchvision's count.
    """
    return _resnet("resnet101", num_classes, in_channels, input_size, conv_bias, stride_on)


def resnet152(
    num_classes: int = 1000,
    *,
    in_channels: int = 3,
    input_size: int | tuple[int, int] = 224,
    conv_bias: bool = True,
    stride_on: str = "1x1",
) -> keras.Model:
    """ResNet-152: bottleneck blocks, stages [3, 8, 36, 3].

    Arguments, output and stage shapes as :func:`resnet50`. Parameters with the defaults: 60,419,944
    (keras.applications.ResNet152's count); without biases 60,344,232, of which 60,192,808 trainable:
    torchvision's count.
    """
    return _resnet("resnet152", num_classes, in_channels, input_size, conv_bias, stride_on)
