"""DenseNet (Huang et al., 2017) in Keras: every layer of a dense block sees the feature maps of all before it.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-densenet`). A *dense layer* computes ``k`` new
channels (the growth rate) from everything so far and concatenates them: after ``L`` layers a block with ``C0``
input channels outputs ``C0 + L k``. A *transition layer* between blocks compresses the channels (by
``compression``) with a ``1x1`` convolution and halves the resolution with a ``2x2`` average pooling.

Layer names and the order of the weights are keras.applications' (``conv1_conv``, ``conv2_block1_0_bn``,
``pool2_conv``, ``bn``, ``predictions``): the weights of ``keras.applications.DenseNet121`` load into
:func:`densenet121` with ``set_weights``. Twin of :mod:`coursepkg.models.torch.densenet` (torchvision's
layout); batch normalisation uses PyTorch's epsilon 1e-5 (keras.applications: 1.001e-5).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from ..common import check_common, check_densenet_args, densenet_windows
from ._common import batch_norm, conv2d, image_input, max_pool

__all__ = ["dense_block", "dense_layer", "densenet121", "transition_layer"]


def dense_layer(x: keras.KerasTensor, *, growth_rate: int = 32, bn_size: int = 4, name: str) -> keras.KerasTensor:
    """One layer of a dense block: ``concat(x, conv3x3(relu(BN(conv1x1(relu(BN(x)))))))``.

    The ``1x1`` *bottleneck* convolution first maps the ``C`` input channels to ``bn_size * growth_rate``,
    the ``3x3`` one then computes ``growth_rate`` new channels; both without bias (a batch normalisation
    follows each). Pre-activation order: BN and ReLU come before each convolution.

    Parameters
    ----------
    x : KerasTensor of shape (N, H, W, C)
    growth_rate : int, default 32
        New channels k.
    bn_size : int, default 4
        Width of the bottleneck, in multiples of k.
    name : str
        Prefix of the layer names, e.g. ``"conv2_block1"``.

    Returns
    -------
    KerasTensor of shape (N, H, W, C + growth_rate)
        The input channels first, then the new ones. Parameters: ``4 C`` (BN) ``+ C bn_size k`` ``+ 4
        bn_size k`` (BN) ``+ 9 bn_size k k``.
    """
    y = batch_norm(x, name=f"{name}_0_bn")
    y = layers.ReLU(name=f"{name}_0_relu")(y)
    y = conv2d(y, bn_size * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")  # (N, H, W, bn_size k)
    y = batch_norm(y, name=f"{name}_1_bn")
    y = layers.ReLU(name=f"{name}_1_relu")(y)
    y = conv2d(y, growth_rate, 3, padding=1, use_bias=False, name=f"{name}_2_conv")  # (N, H, W, k)
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([x, y])  # (N, H, W, C + k)


def dense_block(
    x: keras.KerasTensor, num_layers: int, *, growth_rate: int = 32, bn_size: int = 4, name: str
) -> keras.KerasTensor:
    """``num_layers`` :func:`dense_layer` s in a row; each adds ``growth_rate`` channels.

    Parameters
    ----------
    x : KerasTensor of shape (N, H, W, C)
    num_layers : int
    growth_rate, bn_size : int
        As in :func:`dense_layer`.
    name : str
        Prefix of the layer names, e.g. ``"conv2"``; layer ``i`` (from 1) is ``{name}_block{i}``.

    Returns
    -------
    KerasTensor of shape (N, H, W, C + num_layers * growth_rate)
    """
    for i in range(num_layers):
        # (N, H, W, C + (i + 1) k)
        x = dense_layer(x, growth_rate=growth_rate, bn_size=bn_size, name=f"{name}_block{i + 1}")
    return x


def transition_layer(x: keras.KerasTensor, *, compression: float = 0.5, name: str) -> keras.KerasTensor:
    """Between dense blocks: ``avg_pool2x2(conv1x1(relu(BN(x))))`` with ``max(1, floor(C * compression))`` filters.

    Parameters
    ----------
    x : KerasTensor of shape (N, H, W, C)
    compression : float in (0, 1], default 0.5
        Fraction of the channels kept (theta in the paper).
    name : str
        Prefix of the layer names, e.g. ``"pool2"``.

    Returns
    -------
    KerasTensor of shape (N, H // 2, W // 2, floor(C * compression))
        Parameters: ``4 C`` (BN) ``+ C floor(C * compression)`` (no bias).
    """
    channels = max(1, int(int(x.shape[-1]) * compression))
    x = batch_norm(x, name=f"{name}_bn")
    x = layers.ReLU(name=f"{name}_relu")(x)
    x = conv2d(x, channels, 1, use_bias=False, name=f"{name}_conv")  # (N, H, W, C * compression)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)  # (N, H // 2, W // 2, C * compression)


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
) -> keras.Model:
    """DenseNet-121 (DenseNet-BC with k = 32): four dense blocks of 6, 12, 24 and 16 layers.

    ``conv1 64@7x7/2 pad 3 -> BN -> ReLU -> max pool 3/2 pad 1 -> dense block 1 -> transition -> dense
    block 2 -> transition -> dense block 3 -> transition -> dense block 4 -> BN -> ReLU -> global average
    pooling -> Dense num_classes`` (:func:`dense_block`, :func:`transition_layer`).

    Parameters
    ----------
    num_classes : int, default 1000
    in_channels : int, default 3
    input_size : int or (H, W), default 224
        Large enough for the stem and one ``2x2`` pooling per transition (29 with the default four blocks).
    growth_rate : int, default 32
    block_config : sequence of int, default (6, 12, 24, 16)
        Dense layers per block (121 = 2 x 58 convolutions + conv1 + 3 transitions + the classifier).
    num_init_features : int, default 64
        Channels of conv1.
    bn_size : int, default 4
    compression : float, default 0.5

    Returns
    -------
    keras.Model
        Takes ``(N, H, W, in_channels)`` with ``(H, W) = input_size``; returns logits ``(N, num_classes)``.

    Shape
    -----
    224x224x3 -> conv1 112x112x64 -> pool1 56x56x64 -> block 1 56x56x256 -> transition 28x28x128 -> block 2
    28x28x512 -> transition 14x14x256 -> block 3 14x14x1024 -> transition 7x7x512 -> block 4 7x7x1024 ->
    1024 -> 1000.

    Parameters with the defaults: 8,062,504, the count of ``keras.applications.DenseNet121(weights=None)``:
    7,978,856 trainable (torchvision's count: DenseNet has no convolution biases, so the two frameworks
    agree) and 83,648 moving means and variances of the 121 batch normalisations (two per channel), which
    Keras counts as non-trainable weights and PyTorch keeps in buffers.

    Raises
    ------
    ValueError
        If the input is too small, a count is below 1 or ``compression`` is outside (0, 1].
    TypeError
        If an argument has the wrong type.
    """
    func = "densenet121"
    growth_rate, block_config, num_init_features, bn_size, compression = check_densenet_args(
        func, growth_rate, block_config, num_init_features, bn_size, compression
    )
    windows = densenet_windows(len(block_config))  # stem conv and max pool, one 2x2 pooling per transition
    num_classes, in_channels, hw = check_common(func, num_classes, in_channels, input_size, windows, "DenseNet")
    inputs = image_input(in_channels, hw)  # (N, 224, 224, 3); shapes below for the defaults
    # (N, 112, 112, 64)
    x = conv2d(inputs, num_init_features, 7, strides=2, padding=3, use_bias=False, name="conv1_conv")
    x = batch_norm(x, name="conv1_bn")
    x = layers.ReLU(name="conv1_relu")(x)
    x = max_pool(x, 3, strides=2, padding=1, name="pool1")  # (N, 56, 56, 64)
    for b, num_layers in enumerate(block_config):
        # (N, 56, 56, 256), (N, 28, 28, 512), (N, 14, 14, 1024), (N, 7, 7, 1024)
        x = dense_block(x, num_layers, growth_rate=growth_rate, bn_size=bn_size, name=f"conv{b + 2}")
        if b < len(block_config) - 1:
            x = transition_layer(x, compression=compression, name=f"pool{b + 2}")  # (N, 28, 28, 128), ...
    x = batch_norm(x, name="bn")  # (N, 7, 7, 1024)
    x = layers.ReLU(name="relu")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)  # (N, 1024)
    outputs = layers.Dense(num_classes, name="predictions")(x)  # (N, num_classes)
    return keras.Model(inputs, outputs, name=func)
