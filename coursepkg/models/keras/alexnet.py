"""AlexNet (Krizhevsky et al., 2012), ZFNet (Zeiler and Fergus, 2014) and local response normalisation, in Keras.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-alexnet`, {ref}`sec-zfnet`). Both networks are the
single-GPU versions of the notes (no grouped convolutions), take ``(N, H, W, C)`` images and return logits
``(N, num_classes)``. Twins of :mod:`coursepkg.models.torch.alexnet`, layer for layer.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import layers

from ..._validation import as_int
from ..common import ALEXNET_WINDOWS, ZFNET_WINDOWS, as_bool, as_positive_float, as_rate, check_common
from ._common import conv2d, image_input, max_pool

__all__ = ["LRN", "alexnet", "zfnet"]


@keras.saving.register_keras_serializable(package="coursepkg")
class LRN(layers.Layer):
    """Local response normalisation across channels, with Krizhevsky's parameters and formula.

    For channel ``i`` of ``C`` at every position,

        b_i = a_i / (k + alpha * sum_{j = max(0, i - size//2)}^{min(C - 1, i + size//2)} a_j^2) ** beta.

    Parameters
    ----------
    size : int, default 5
        Number of neighbouring channels in the sum (``n`` in the paper); odd, so that the window is
        centred (``tf.nn.local_response_normalization`` takes the radius ``size // 2``).
    alpha, beta, k : float, default 1e-4, 0.75, 2.0
        The paper's values, with ``alpha`` as the paper writes it (multiplying the *sum* of squares).
    **kwargs
        Passed to ``keras.layers.Layer`` (``name``, ``dtype``).

    Shape
    -----
    Input ``(N, H, W, C)`` (channels last), output the same shape. No weights.

    Raises
    ------
    ValueError
        If ``size`` is even or below 1, or a float is not positive.

    Notes
    -----
    Computed by ``tf.nn.local_response_normalization(depth_radius=size // 2, bias=k, alpha=alpha,
    beta=beta)``, which sums the squares like the paper. ``torch.nn.LocalResponseNorm`` averages them
    (divides ``alpha`` by ``size``, as Caffe does), so the PyTorch twin passes ``alpha * size``; so does the
    NumPy reference :func:`coursepkg.ops.local_response_norm`. Tested against it, against the formula written
    out and against the PyTorch twin. Serialisable: ``get_config`` returns the
    four hyperparameters.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.ones((1, 1, 1, 3), dtype="float32")
    >>> np.round(np.asarray(LRN(3, alpha=1.0, beta=1.0, k=1.0)(a)), 4)  # 1/(1+2), 1/(1+3), 1/(1+2)
    array([[[[0.3333, 0.25  , 0.3333]]]], dtype=float32)
    """

    def __init__(self, size: int = 5, *, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0, **kwargs: Any):
        func = "LRN"
        size = as_int(size, "size", func, minimum=1)
        if size % 2 == 0:
            raise ValueError(
                f"{func}: `size` must be odd (a window of size // 2 channels on each side of the centre), "
                f"as in the paper (5). Received: size={size}."
            )
        super().__init__(**kwargs)
        self.size = size
        self.alpha = as_positive_float(alpha, "alpha", func)
        self.beta = as_positive_float(beta, "beta", func)
        self.k = as_positive_float(k, "k", func)

    def call(self, inputs: Any) -> Any:
        return tf.nn.local_response_normalization(
            inputs, depth_radius=self.size // 2, bias=self.k, alpha=self.alpha, beta=self.beta
        )  # (N, H, W, C)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size, "alpha": self.alpha, "beta": self.beta, "k": self.k}


def _classifier(x: keras.KerasTensor, num_classes: int, dropout: float) -> keras.KerasTensor:
    """``Flatten -> Dropout -> fc6 4096 + ReLU -> Dropout -> fc7 4096 + ReLU -> fc8 num_classes``."""
    x = layers.Flatten(name="flatten")(x)  # (N, 6 * 6 * 256) = (N, 9216), in (H, W, C) order
    x = layers.Dropout(dropout, name="drop6")(x)
    x = layers.Dense(4096, activation="relu", name="fc6")(x)  # (N, 4096)
    x = layers.Dropout(dropout, name="drop7")(x)
    x = layers.Dense(4096, activation="relu", name="fc7")(x)  # (N, 4096)
    return layers.Dense(num_classes, name="fc8")(x)  # (N, num_classes)


def alexnet(
    num_classes: int = 1000,
    *,
    in_channels: int = 3,
    input_size: int | tuple[int, int] = 227,
    lrn: bool = True,
    dropout: float = 0.5,
) -> keras.Model:
    """AlexNet on one GPU, as in the notes: five convolutions, three dense layers.

    ``conv1 96@11x11/4 + ReLU -> LRN -> max pool 3/2 -> conv2 256@5x5 pad 2 + ReLU -> LRN -> max pool 3/2
    -> conv3 384@3x3 pad 1 + ReLU -> conv4 384@3x3 pad 1 + ReLU -> conv5 256@3x3 pad 1 + ReLU -> max pool
    3/2 -> Flatten -> Dropout -> fc6 4096 + ReLU -> Dropout -> fc7 4096 + ReLU -> fc8 num_classes``.

    Parameters
    ----------
    num_classes : int, default 1000
    in_channels : int, default 3
    input_size : int or (H, W), default 227
        227, not the paper's 224, makes conv1's 55x55 come out exactly. At least 67 (67 -> 15 -> 7 -> 3 -> 1).
    lrn : bool, default True
        Local response normalisation after conv1 and conv2 (:class:`LRN`, layers ``norm1``, ``norm2``);
        False leaves them out (parameter-free either way).
    dropout : float, default 0.5
        Dropout rate in front of fc6 and fc7.

    Returns
    -------
    keras.Model
        Takes ``(N, H, W, in_channels)`` with ``(H, W) = input_size``; returns logits ``(N, num_classes)``.

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
    func = "alexnet"
    num_classes, in_channels, hw = check_common(func, num_classes, in_channels, input_size, ALEXNET_WINDOWS, "AlexNet")
    lrn = as_bool(lrn, "lrn", func)
    dropout = as_rate(dropout, "dropout", func)
    inputs = image_input(in_channels, hw)  # (N, 227, 227, 3); shapes below for the defaults
    x = conv2d(inputs, 96, 11, strides=4, activation="relu", name="conv1")  # (N, 55, 55, 96)
    if lrn:
        x = LRN(name="norm1")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)  # (N, 27, 27, 96)
    x = conv2d(x, 256, 5, padding=2, activation="relu", name="conv2")  # (N, 27, 27, 256)
    if lrn:
        x = LRN(name="norm2")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)  # (N, 13, 13, 256)
    x = conv2d(x, 384, 3, padding=1, activation="relu", name="conv3")  # (N, 13, 13, 384)
    x = conv2d(x, 384, 3, padding=1, activation="relu", name="conv4")  # (N, 13, 13, 384)
    x = conv2d(x, 256, 3, padding=1, activation="relu", name="conv5")  # (N, 13, 13, 256)
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)  # (N, 6, 6, 256)
    outputs = _classifier(x, num_classes, dropout)  # (N, num_classes)
    return keras.Model(inputs, outputs, name="alexnet")


def zfnet(num_classes: int = 1000, *, in_channels: int = 3, input_size: int | tuple[int, int] = 224) -> keras.Model:
    """ZFNet (Zeiler and Fergus, 2014): AlexNet with a smaller, denser first layer.

    ``conv1 96@7x7/2 pad 1 + ReLU -> max pool 3/2 pad 1 -> conv2 256@5x5/2 + ReLU -> max pool 3/2 pad 1
    -> conv3 384@3x3 pad 1 + ReLU -> conv4 384@3x3 pad 1 + ReLU -> conv5 256@3x3 pad 1 + ReLU -> max pool
    3/2 -> Flatten -> Dropout 0.5 -> fc6 4096 + ReLU -> Dropout 0.5 -> fc7 4096 + ReLU -> fc8 num_classes``.

    Parameters
    ----------
    num_classes : int, default 1000
    in_channels : int, default 3
    input_size : int or (H, W), default 224
        At least 53 (53 -> 25 -> 13 -> 5 -> 3 -> 1).

    Returns
    -------
    keras.Model
        Takes ``(N, H, W, in_channels)`` with ``(H, W) = input_size``; returns logits ``(N, num_classes)``.

    Shape
    -----
    224x224x3 -> conv1 110x110x96 -> pool1 55x55x96 -> conv2 26x26x256 -> pool2 13x13x256 -> conv3
    13x13x384 -> conv4 13x13x384 -> conv5 13x13x256 -> pool5 6x6x256 -> 9216 -> 4096 -> 4096 -> 1000.
    Parameters with the defaults: 62,357,608, 20,736 fewer than AlexNet, all in conv1 (7x7 instead of
    11x11 kernels); every other layer has AlexNet's size.

    Notes
    -----
    The paper (its Figure 3) gives the sizes 110, 55, 26, 13, 6 but not the paddings; these are the
    smallest that reproduce them: 1 for conv1, pool1 and pool2, none for conv2 and pool5. PyTorch pads max
    pooling with -inf; here ``ZeroPadding2D`` pads with zeros, the same thing after a ReLU. The paper's
    contrast normalisation after pool1 and pool2 is left out (it has no parameters); dropout 0.5 in front
    of fc6 and fc7 is kept, as in the paper.
    """
    num_classes, in_channels, hw = check_common("zfnet", num_classes, in_channels, input_size, ZFNET_WINDOWS, "ZFNet")
    inputs = image_input(in_channels, hw)  # (N, 224, 224, 3); shapes below for the defaults
    x = conv2d(inputs, 96, 7, strides=2, padding=1, activation="relu", name="conv1")  # (N, 110, 110, 96)
    x = max_pool(x, 3, strides=2, padding=1, name="pool1")  # (N, 55, 55, 96)
    x = conv2d(x, 256, 5, strides=2, activation="relu", name="conv2")  # (N, 26, 26, 256)
    x = max_pool(x, 3, strides=2, padding=1, name="pool2")  # (N, 13, 13, 256)
    x = conv2d(x, 384, 3, padding=1, activation="relu", name="conv3")  # (N, 13, 13, 384)
    x = conv2d(x, 384, 3, padding=1, activation="relu", name="conv4")  # (N, 13, 13, 384)
    x = conv2d(x, 256, 3, padding=1, activation="relu", name="conv5")  # (N, 13, 13, 256)
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)  # (N, 6, 6, 256)
    outputs = _classifier(x, num_classes, 0.5)  # (N, num_classes)
    return keras.Model(inputs, outputs, name="zfnet")
