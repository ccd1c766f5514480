"""What every Keras model of the course shares: PyTorch-style padding and batch norm, counts, stage shapes.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-arch-measure`). The Keras builders are twins of those in
:mod:`coursepkg.models.torch`: same names, same arguments, same layers in the same order, so that
:mod:`coursepkg.models.transfer_weights` can copy weights from one to the other. Three conventions make the
twins compute the same function:

- **padding** is PyTorch's explicit, symmetric zero padding. :func:`conv2d` uses ``padding="same"`` only
  where it means exactly that (stride 1, odd kernel, ``p = (k - 1) / 2``) and otherwise inserts a
  ``ZeroPadding2D`` layer in front of a ``"valid"`` convolution. (Keras's ``"same"`` with stride 2 pads
  0 on top and 1 at the bottom of an even input, PyTorch's ``padding=1`` pads 1 on both sides: the two
  disagree.)
- **padded max pooling** pads with zeros (:func:`max_pool`), which equals PyTorch's ``-inf`` padding
  because every padded max pooling of the course follows a ReLU (its input is >= 0). keras.applications
  does the same (``ZeroPadding2D`` then ``MaxPooling2D``).
- **batch normalisation** uses PyTorch's hyperparameters: ``epsilon = 1e-5`` and a running-average
  momentum of ``0.9`` in Keras's convention (PyTorch's ``momentum=0.1``). Keras's defaults are 1e-3 and
  0.99; keras.applications uses 1.001e-5, a workaround for an old cuDNN lower bound. The epsilon changes
  no weight shape, so keras.applications weights still load into these models by order.

What the twins share beyond that, and which needs no framework (the geometry of :class:`Window`,
:func:`spatial_size` and :func:`minimum_size`, the argument checks, the architectures' specifications), lives
in :mod:`coursepkg.models.common`; the names of the geometry are re-exported here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from keras import layers  # noqa: E402

from ..common import Window, as_bool, minimum_size, spatial_size  # noqa: E402

__all__ = [
    "BN_EPSILON",
    "BN_MOMENTUM",
    "Window",
    "count_params",
    "minimum_size",
    "model_depth",
    "spatial_size",
    "stage_shapes",
]

#: Batch-norm epsilon of every Keras builder: PyTorch's default, so that the twins compute the same thing.
BN_EPSILON = 1e-5
#: Keras's batch-norm momentum ``new = m * old + (1 - m) * batch``: 0.9 is PyTorch's ``momentum=0.1``.
BN_MOMENTUM = 0.9


def image_input(in_channels: int, hw: tuple[int, int]) -> keras.KerasTensor:
    """The model input: a batch of ``(N, H, W, C)`` images (channels last)."""
    return keras.Input(shape=(hw[0], hw[1], in_channels), name="input")


def conv2d(
    x: keras.KerasTensor,
    filters: int,
    kernel_size: int,
    *,
    strides: int = 1,
    padding: int = 0,
    use_bias: bool = True,
    activation: str | None = None,
    name: str,
) -> keras.KerasTensor:
    """``Conv2D`` with PyTorch's symmetric zero padding of ``padding`` pixels on every side.

    ``(N, H, W, C) -> (N, OH, OW, filters)`` with ``OH = floor((H + 2p - k) / s) + 1``. The padding is
    ``"same"`` where that is the same thing (stride 1, ``2p = k - 1``), else a ``ZeroPadding2D`` layer named
    ``{name}_pad``; neither has weights, so the weighted layers line up with PyTorch's one for one.
    """
    if padding == 0:
        mode = "valid"
    elif strides == 1 and 2 * padding == kernel_size - 1:
        mode = "same"
    else:
        x = layers.ZeroPadding2D(padding, name=f"{name}_pad")(x)  # (N, H + 2p, W + 2p, C)
        mode = "valid"
    return layers.Conv2D(
        filters, kernel_size, strides=strides, padding=mode, use_bias=use_bias, activation=activation, name=name
    )(x)


def max_pool(
    x: keras.KerasTensor,
    pool_size: int,
    *,
    strides: int | None = None,
    padding: int = 0,
    ceil_mode: bool = False,
    name: str,
) -> keras.KerasTensor:
    """``MaxPooling2D`` with PyTorch's ``padding`` and ``ceil_mode``, for non-negative inputs.

    Padding is with zeros (a ``ZeroPadding2D`` layer named ``{name}_pad``), which equals PyTorch's
    ``-inf`` padding when the input is >= 0, as it is after a ReLU: call it only there. ``ceil_mode`` adds
    the extra bottom/right zeros that make the last, partial window fit. A stride-1 pooling with
    ``2p = k - 1`` uses ``padding="same"`` instead, which ignores the padded cells (exactly ``-inf``).
    """
    strides = pool_size if strides is None else strides
    if strides == 1 and padding and 2 * padding == pool_size - 1 and not ceil_mode:
        return layers.MaxPooling2D(pool_size, strides=1, padding="same", name=name)(x)
    extra = [0, 0]
    if ceil_mode:
        for axis in (0, 1):
            n = int(x.shape[1 + axis])
            out = spatial_size(n, [Window(pool_size, padding, strides, ceil=True)])
            extra[axis] = max(0, (out - 1) * strides + pool_size - (n + 2 * padding))
    if padding or any(extra):
        pads = ((padding, padding + extra[0]), (padding, padding + extra[1]))
        x = layers.ZeroPadding2D(pads, name=f"{name}_pad")(x)
    return layers.MaxPooling2D(pool_size, strides=strides, padding="valid", name=name)(x)


def batch_norm(x: keras.KerasTensor, *, name: str) -> keras.KerasTensor:
    """``BatchNormalization`` over the channel axis with PyTorch's epsilon and momentum."""
    return layers.BatchNormalization(axis=-1, epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name)(x)


def count_params(model: keras.Model, trainable_only: bool = False) -> int:
    """Number of weights of a Keras model, ``model.count_params()``.

    Keras counts every weight, including the *non-trainable* moving mean and variance of each batch-norm
    layer (two numbers per channel); PyTorch keeps those in buffers, which ``count_params`` of
    :mod:`coursepkg.models.torch` does not count. ``trainable_only=True`` gives the number comparable to
    PyTorch's (for models whose convolutions have the same biases).

    Parameters
    ----------
    model : keras.Model (or any built keras.layers.Layer)
    trainable_only : bool, default False
        Count only the trainable weights.

    Returns
    -------
    int

    Examples
    --------
    >>> count_params(keras.Sequential([keras.Input((9216,)), keras.layers.Dense(4096)]))  # AlexNet's fc6
    37752832
    """
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(
            f"count_params: `model` must be a keras.Model or keras layer. Received an object of type "
            f"{type(model).__name__}."
        )
    trainable_only = as_bool(trainable_only, "trainable_only", "count_params")
    if not model.built:
        raise ValueError(
            f"count_params: the {type(model).__name__} {model.name!r} is not built yet, so it has no weights. "
            "Build it first, e.g. by calling it on a batch or with model.build(input_shape)."
        )
    weights = model.trainable_weights if trainable_only else model.weights
    return int(sum(math.prod(w.shape) for w in weights))


#: The layers with weights that count towards depth (the PyTorch twin counts the matching functions).
WEIGHTED_LAYERS = tuple(
    getattr(layers, name)
    for name in ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
                 "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "Dense")
    if hasattr(layers, name)
)  # fmt: skip


def _layer_depth(layer: keras.layers.Layer) -> int:
    """Weighted layers inside one layer: 1 for a convolution or dense layer, a nested model's own depth."""
    if isinstance(layer, keras.Model):
        return model_depth(layer)
    if isinstance(layer, layers.Wrapper):  # TimeDistributed(Dense(...)) and the like
        return _layer_depth(layer.layer)
    return int(isinstance(layer, WEIGHTED_LAYERS))


def model_depth(model: keras.Model) -> int:
    """Depth as the papers count it: weighted layers (convolutions, dense) on the longest input-output path.

    The twin of :func:`coursepkg.models.torch.model_depth`: VGG-16, ResNet-50 and DenseNet-121 are named
    after this number. Pooling, activations, normalisation, dropout and LRN do not count, and neither do
    layers on a parallel branch that is shorter than another (a projection shortcut). Explained in
    {ref}`sec-arch-measure`.

    Parameters
    ----------
    model : keras.Model
        A functional or ``Sequential`` model, built. A nested model counts with its own depth.

    Returns
    -------
    int
        The longest chain of ``Conv*D`` / ``Conv*DTranspose`` / ``DepthwiseConv*D`` / ``SeparableConv*D`` /
        ``Dense`` layers from an input to an output. Nothing is computed: the model's graph of layer calls
        is walked from the inputs.

    Raises
    ------
    TypeError
        If ``model`` is not a ``keras.Model``.
    ValueError
        If the model has no graph yet (a ``Sequential`` without an ``Input``, never called).

    Examples
    --------
    >>> inputs = keras.Input((8, 8, 1))
    >>> x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    >>> model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(x)))
    >>> model_depth(model)
    2
    """
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"model_depth: `model` must be a keras.Model. Received an object of type {type(model).__name__}."
        )
    graph = getattr(model, "_functional", None) or model  # a Sequential keeps its graph in a functional model
    by_depth = getattr(graph, "_nodes_by_depth", None)
    if not by_depth:
        raise ValueError(
            f"model_depth: the model {model.name!r} has no graph of layers yet. Give a Sequential model an input "
            "first, e.g. keras.Sequential([keras.Input(shape), ...]), or build a functional model."
        )
    depth: dict[int, int] = {}  # id(node) -> weighted layers on the longest path up to and including it
    for level in sorted(by_depth, reverse=True):  # Keras's node depth: the inputs have the largest
        for node in by_depth[level]:
            before = max((depth.get(id(parent), 0) for parent in node.parent_nodes), default=0)
            depth[id(node)] = before + _layer_depth(node.operation)
    return max(depth.values())  # every node leads to an output, and depth only grows along a path


def stage_shapes(model: keras.Model, names: Sequence[str]) -> dict[str, tuple[int | None, ...]]:
    """Output shape of each named layer, read from the model's graph (nothing is computed).

    Parameters
    ----------
    model : keras.Model
        A functional model.
    names : sequence of str
        Layer names, as in ``[layer.name for layer in model.layers]``.

    Returns
    -------
    dict of str to tuple
        ``{name: (None, H, W, C)}`` in the order given (``None`` is the batch axis).

    Examples
    --------
    >>> inputs = keras.Input((32, 32, 3))
    >>> model = keras.Model(inputs, keras.layers.Conv2D(8, 3, name="conv")(inputs))
    >>> stage_shapes(model, ["conv"])
    {'conv': (None, 30, 30, 8)}
    """
    out = {}
    for name in names:
        try:
            layer = model.get_layer(name)
        except ValueError:
            some = [layer.name for layer in model.layers][:40]
            raise ValueError(
                f"stage_shapes: the model {model.name!r} has no layer named {name!r}. "
                f"Names look like: {', '.join(some)}."
            ) from None
        out[name] = tuple(layer.output.shape)
    return out
