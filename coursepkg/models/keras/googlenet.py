"""GoogLeNet (Szegedy et al., 2015) in Keras: nine Inception modules, as in the paper (ReLU convolutions with biases).

Explained in the chapter "Classic CNN architectures" ({ref}`sec-googlenet`). An Inception module runs four branches
on the same input and concatenates them along the channels: a 1x1 convolution; a 1x1 "reduce" then a 3x3; a 1x1
reduce then a 5x5; a 3x3 max pooling (stride 1) then a 1x1 "pool projection". Every branch keeps H and W, so the
output has ``ch1x1 + ch3x3 + ch5x5 + pool_proj`` channels. Twin of :mod:`coursepkg.models.torch.googlenet`, layer
for layer (layer ``inception3a_branch2_reduce`` is module ``inception3a.branch2_reduce`` there).
"""

from __future__ import annotations

import keras
from keras import layers

from ..common import GOOGLENET_AUX_WINDOWS, GOOGLENET_TABLE, GOOGLENET_WINDOWS, as_bool, check_common, inception_widths
from ._common import conv2d, image_input, max_pool

__all__ = ["GOOGLENET_TABLE", "googlenet", "inception_aux", "inception_module"]


def inception_module(
    x: keras.KerasTensor,
    *,
    ch1x1: int,
    ch3x3red: int,
    ch3x3: int,
    ch5x5red: int,
    ch5x5: int,
    pool_proj: int,
    name: str,
) -> keras.KerasTensor:
    """Four parallel branches concatenated along the channels.

    Parameters
    ----------
    x : KerasTensor of shape (N, H, W, C)
    ch1x1 : int
        Width of the 1x1 branch.
    ch3x3red, ch3x3 : int
        Widths of the 1x1 reduction and of the 3x3 convolution of the second branch.
    ch5x5red, ch5x5 : int
        Widths of the 1x1 reduction and of the 5x5 convolution of the third branch.
    pool_proj : int
        Width of the 1x1 projection after the 3x3/1 max pooling of the fourth branch.
    name : str
        Name of the concatenation (the module's output), e.g. ``"inception3a"``, and prefix of the others.

    Returns
    -------
    KerasTensor of shape (N, H, W, ch1x1 + ch3x3 + ch5x5 + pool_proj)
        Parameters: ``C (ch1x1 + ch3x3red + ch5x5red + pool_proj) + 9 ch3x3red ch3x3 + 25 ch5x5red ch5x5``
        weights plus one bias per output channel of each of the six convolutions (163,696 for 3a).

    Raises
    ------
    ValueError, TypeError
        If a width is not an integer >= 1.

    Examples
    --------
    >>> x = keras.Input((28, 28, 192))
    >>> inception_module(x, name="3a", **GOOGLENET_TABLE["inception3a"]._asdict()).shape
    (None, 28, 28, 256)
    """
    w = inception_widths("inception_module", ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
    b1 = conv2d(x, w.ch1x1, 1, activation="relu", name=f"{name}_branch1")  # (N, H, W, ch1x1)
    b2 = conv2d(x, w.ch3x3red, 1, activation="relu", name=f"{name}_branch2_reduce")  # (N, H, W, ch3x3red)
    b2 = conv2d(b2, w.ch3x3, 3, padding=1, activation="relu", name=f"{name}_branch2")  # (N, H, W, ch3x3)
    b3 = conv2d(x, w.ch5x5red, 1, activation="relu", name=f"{name}_branch3_reduce")  # (N, H, W, ch5x5red)
    b3 = conv2d(b3, w.ch5x5, 5, padding=2, activation="relu", name=f"{name}_branch3")  # (N, H, W, ch5x5)
    b4 = max_pool(x, 3, strides=1, padding=1, name=f"{name}_branch4_pool")  # (N, H, W, C), pads with -inf
    b4 = conv2d(b4, w.pool_proj, 1, activation="relu", name=f"{name}_branch4")  # (N, H, W, pool_proj)
    return layers.Concatenate(axis=-1, name=name)([b1, b2, b3, b4])  # (N, H, W, sum of the four widths)


def inception_aux(x: keras.KerasTensor, num_classes: int, *, name: str) -> keras.KerasTensor:
    """The paper's auxiliary classifier on 4a or 4d: avg pool 5x5/3 -> 1x1 conv 128 -> fc 1024 -> fc.

    ``AveragePooling 5x5/3 -> conv 128@1x1 + ReLU -> Flatten -> Dense 1024 + ReLU -> Dropout 0.7 -> Dense
    num_classes``.

    Parameters
    ----------
    x : KerasTensor of shape (N, H, W, C), H, W >= 5
    num_classes : int
    name : str
        Prefix of the layer names, ``"aux1"`` or ``"aux2"``.

    Returns
    -------
    KerasTensor of shape (N, num_classes)
        Logits. On 14x14 inputs: ``4x4x128 = 2048 -> 1024 -> num_classes``; 3,188,840 parameters on 4a's 512
        channels with 1000 classes, 3,190,888 on 4d's 528.
    """
    x = layers.AveragePooling2D(5, strides=3, name=f"{name}_pool")(x)  # (N, 4, 4, C) for 14x14
    x = conv2d(x, 128, 1, activation="relu", name=f"{name}_conv")  # (N, 4, 4, 128)
    x = layers.Flatten(name=f"{name}_flatten")(x)  # (N, 2048)
    x = layers.Dense(1024, activation="relu", name=f"{name}_fc1")(x)  # (N, 1024)
    x = layers.Dropout(0.7, name=f"{name}_dropout")(x)
    return layers.Dense(num_classes, name=f"{name}_fc2")(x)  # (N, num_classes)


def googlenet(
    num_classes: int = 1000,
    *,
    in_channels: int = 3,
    input_size: int | tuple[int, int] = 224,
    aux_logits: bool = False,
) -> keras.Model:
    """GoogLeNet (Inception v1) as in Table 1 of the paper: plain ReLU convolutions with biases, no batch norm.

    ``conv1 64@7x7/2 pad 3 -> max pool 3/2 -> conv2 64@1x1 -> conv3 192@3x3 pad 1 -> max pool 3/2 ->
    inception 3a, 3b -> max pool 3/2 -> inception 4a..4e -> max pool 3/2 -> inception 5a, 5b -> global
    average pool -> Dropout 0.4 -> fc num_classes``, every convolution followed by a ReLU. The max poolings
    run in ceil mode (as in the authors' Caffe model). Channel numbers: :data:`GOOGLENET_TABLE`; modules:
    :func:`inception_module`.

    Parameters
    ----------
    num_classes : int, default 1000
    in_channels : int, default 3
    input_size : int or (H, W), default 224
        At least 31 (31 -> 16 -> 8 -> 4 -> 2 -> 1), or 79 with ``aux_logits=True`` (the auxiliary heads'
        5x5 pooling needs 4a's maps to be at least 5x5). Global average pooling replaces the paper's 7x7
        average pooling (the same at 224).
    aux_logits : bool, default False
        Add the two auxiliary classifiers on 4a and 4d (:func:`inception_aux`). The model then has three
        outputs, ``[logits, aux1, aux2]``, in training and at inference alike (a Keras model's outputs do not
        depend on the mode): train with ``loss_weights=[1, 0.3, 0.3]`` as the paper did, and predict with
        ``keras.Model(model.input, model.outputs[0])``.

    Returns
    -------
    keras.Model
        Takes ``(N, H, W, in_channels)`` with ``(H, W) = input_size``; returns logits ``(N, num_classes)``.

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
    and count no biases. This build counts every weight and bias: 6,990,272 weights and 8,280 biases,
    6,998,552 in all (the same as the PyTorch twin). The paper's two local response normalisations
    (after pool1 and conv3) are left out, as in torchvision; they have no parameters. Ceil-mode pooling pads
    the bottom and right with zeros (``ZeroPadding2D``), which equals PyTorch's (ignored) padding because
    every pooling follows a ReLU.
    """
    func = "googlenet"
    aux_logits = as_bool(aux_logits, "aux_logits", func)
    windows = GOOGLENET_AUX_WINDOWS if aux_logits else GOOGLENET_WINDOWS  # the heads need more (79 vs 31)
    label = "GoogLeNet with aux_logits=True" if aux_logits else "GoogLeNet"
    num_classes, in_channels, hw = check_common(func, num_classes, in_channels, input_size, windows, label)
    inputs = image_input(in_channels, hw)  # (N, 224, 224, 3); shapes below for the defaults
    x = conv2d(inputs, 64, 7, strides=2, padding=3, activation="relu", name="conv1")  # (N, 112, 112, 64)
    x = max_pool(x, 3, strides=2, ceil_mode=True, name="pool1")  # (N, 56, 56, 64)
    x = conv2d(x, 64, 1, activation="relu", name="conv2")  # (N, 56, 56, 64), the "3x3 reduce" of the stem
    x = conv2d(x, 192, 3, padding=1, activation="relu", name="conv3")  # (N, 56, 56, 192)
    x = max_pool(x, 3, strides=2, ceil_mode=True, name="pool2")  # (N, 28, 28, 192)
    aux = []
    for name, widths in GOOGLENET_TABLE.items():
        x = inception_module(x, name=name, **widths._asdict())  # (N, 28, 28, 256), (N, 28, 28, 480), ...
        if name == "inception3b":
            x = max_pool(x, 3, strides=2, ceil_mode=True, name="pool3")  # (N, 14, 14, 480)
        elif name == "inception4e":
            x = max_pool(x, 3, strides=2, ceil_mode=True, name="pool4")  # (N, 7, 7, 832)
        elif aux_logits and name in ("inception4a", "inception4d"):
            aux.append(x)
    x = layers.GlobalAveragePooling2D(name="avgpool")(x)  # (N, 1024)
    x = layers.Dropout(0.4, name="dropout")(x)
    logits = layers.Dense(num_classes, name="fc")(x)  # (N, num_classes)
    if aux_logits:
        aux1 = inception_aux(aux[0], num_classes, name="aux1")  # (N, num_classes)
        aux2 = inception_aux(aux[1], num_classes, name="aux2")  # (N, num_classes)
        return keras.Model(inputs, [logits, aux1, aux2], name=func)
    return keras.Model(inputs, logits, name=func)
