"""The first convolutional networks of the course, in Keras: a one-layer CNN for MNIST, and LeNet-5.

Explained in the chapters "Pooling and the CNN layer zoo" ({ref}`sec-simple-cnn`, the simple CNN) and
"Classic CNN architectures" ({ref}`sec-lenet`, LeNet-5). Both take ``(N, H, W, C)`` images (channels last) and
return logits ``(N, num_classes)``: the last ``Dense`` has no activation, so train them with
``keras.losses.SparseCategoricalCrossentropy(from_logits=True)``. Twins of
:mod:`coursepkg.models.torch.simple`, layer for layer.
"""

from __future__ import annotations

import keras
from keras import layers

from ..common import LENET5_WINDOWS, SIMPLE_CNN_WINDOWS, check_common
from ._common import conv2d, image_input

__all__ = ["lenet5", "simple_cnn"]


def simple_cnn(num_classes: int = 10, *, in_channels: int = 1, input_size: int | tuple[int, int] = 28) -> keras.Model:
    """The smallest useful CNN: one convolution, one pooling, two dense layers.

    ``Conv2D 32@3x3 (valid) + ReLU -> MaxPool 2x2 -> Flatten -> Dense 128 + ReLU -> Dense num_classes``.

    Parameters
    ----------
    num_classes : int, default 10
    in_channels : int, default 1
    input_size : int or (H, W), default 28
        At least 4 (a 3x3 valid convolution and a 2x2 pooling leave 1x1).

    Returns
    -------
    keras.Model
        Takes ``(N, H, W, in_channels)`` with ``(H, W) = input_size`` (the dense layer's width depends on
        it) and returns logits ``(N, num_classes)``.

    Shape
    -----
    28x28x1 -> 26x26x32 -> 13x13x32 -> 5408 -> 128 -> 10. Parameters with the defaults:
    ``320 + (5408 * 128 + 128) + 1290 = 693,962``.

    Raises
    ------
    ValueError
        If ``input_size`` is below 4 or a count is below 1.
    TypeError
        If an argument is not an integer.

    Examples
    --------
    >>> from coursepkg.models.keras import count_params
    >>> count_params(simple_cnn())
    693962
    """
    num_classes, in_channels, hw = check_common(
        "simple_cnn", num_classes, in_channels, input_size, SIMPLE_CNN_WINDOWS, "simple_cnn"
    )
    inputs = image_input(in_channels, hw)  # (N, 28, 28, 1)
    x = conv2d(inputs, 32, 3, activation="relu", name="conv1")  # (N, 26, 26, 32)
    x = layers.MaxPooling2D(2, name="pool1")(x)  # (N, 13, 13, 32)
    x = layers.Flatten(name="flatten")(x)  # (N, 5408), in (H, W, C) order
    x = layers.Dense(128, activation="relu", name="fc1")(x)  # (N, 128)
    outputs = layers.Dense(num_classes, name="fc2")(x)  # (N, num_classes)
    return keras.Model(inputs, outputs, name="simple_cnn")


def lenet5(num_classes: int = 10, *, in_channels: int = 1, input_size: int | tuple[int, int] = 32) -> keras.Model:
    """LeNet-5 (LeCun et al., 1998) as commonly implemented today.

    ``C1 conv 6@5x5 + tanh -> S2 avg pool 2 -> C3 conv 16@5x5 + tanh -> S4 avg pool 2 -> C5 conv 120@5x5 +
    tanh -> Flatten -> F6 Dense 84 + tanh -> Dense num_classes``.

    Parameters
    ----------
    num_classes : int, default 10
    in_channels : int, default 1
    input_size : int or (H, W), default 32
        At least 32: C5 is a 5x5 convolution over S4's 5x5 maps. MNIST's 28x28 digits are padded by 2
        pixels to 32x32, as LeCun placed them in a 32x32 field.

    Returns
    -------
    keras.Model
        Takes ``(N, H, W, in_channels)`` with ``(H, W) = input_size`` and returns logits ``(N, num_classes)``.

    Shape
    -----
    32x32x1 -> 28x28x6 -> 14x14x6 -> 10x10x16 -> 5x5x16 -> 1x1x120 -> 84 -> 10. Parameters with the
    defaults: ``156 + 2,416 + 48,120 + 10,164 + 850 = 61,706``.

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
    a larger input its maps are larger than 1x1 and F6 grows accordingly.

    Examples
    --------
    >>> from coursepkg.models.keras import count_params
    >>> count_params(lenet5())
    61706
    """
    num_classes, in_channels, hw = check_common(
        "lenet5", num_classes, in_channels, input_size, LENET5_WINDOWS, "LeNet-5"
    )
    inputs = image_input(in_channels, hw)  # (N, 32, 32, 1)
    x = conv2d(inputs, 6, 5, activation="tanh", name="c1")  # (N, 28, 28, 6)
    x = layers.AveragePooling2D(2, name="s2")(x)  # (N, 14, 14, 6)
    x = conv2d(x, 16, 5, activation="tanh", name="c3")  # (N, 10, 10, 16)
    x = layers.AveragePooling2D(2, name="s4")(x)  # (N, 5, 5, 16)
    x = conv2d(x, 120, 5, activation="tanh", name="c5")  # (N, 1, 1, 120)
    x = layers.Flatten(name="flatten")(x)  # (N, 120)
    x = layers.Dense(84, activation="tanh", name="f6")(x)  # (N, 84)
    outputs = layers.Dense(num_classes, name="output")(x)  # (N, num_classes)
    return keras.Model(inputs, outputs, name="lenet5")
