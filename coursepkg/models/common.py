"""What the PyTorch and Keras twins of the course's architectures share, in NumPy only.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-architectures`). :mod:`coursepkg.models.torch` and
:mod:`coursepkg.models.keras` build the same architectures layer for layer; what does not depend on the
framework is written once, here, so that the twins cannot drift apart:

- **geometry**: each builder describes its downsampling path once, as a tuple of :class:`Window` s
  (kernel, padding, stride), and :func:`spatial_size` walks an input size through it with the course's
  output-size formula ``floor((n + 2p - k) / s) + 1`` (:func:`coursepkg.ops.conv_output_size`). The same
  walk gives the flattened size in front of a dense classifier and the smallest input a model accepts
  (:func:`minimum_size`), which the builders state in their docstrings and enforce with a ``ValueError``;
- **argument checks** (:func:`check_common` for the arguments every builder takes, and the checks of each
  family's hyperparameters), so that both frameworks reject the same arguments with the same message;
- **specifications**: the window tuples of each architecture, :data:`VGG_CONFIGS`,
  :data:`GOOGLENET_TABLE` and :data:`RESNET_CONFIGS`;
- **PixelNet's pixel sample** (:func:`sample_pixels`, :func:`pixel_sample_weights`) and :func:`mean_iou`.

Importing this module imports NumPy only, not PyTorch, TensorFlow or Keras.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._validation import as_int, as_pair, as_rng
from ..ops import conv_output_size

__all__ = [
    "ALEXNET_WINDOWS",
    "GOOGLENET_AUX_POOL",
    "GOOGLENET_AUX_WINDOWS",
    "GOOGLENET_TABLE",
    "GOOGLENET_TO_4A",
    "GOOGLENET_WINDOWS",
    "LENET5_WINDOWS",
    "RESNET_CONFIGS",
    "RESNET_WIDTHS",
    "RESNET_WINDOWS",
    "SIMPLE_CNN_WINDOWS",
    "VGG_CONFIGS",
    "ZFNET_WINDOWS",
    "ResNetConfig",
    "Window",
    "as_bool",
    "as_positive_float",
    "as_rate",
    "check_common",
    "check_densenet_args",
    "check_pixelnet_args",
    "densenet_windows",
    "inception_widths",
    "mean_iou",
    "minimum_size",
    "pixel_sample_weights",
    "sample_pixels",
    "spatial_size",
    "vgg_windows",
]


# --- geometry -------------------------------------------------------------------------------------------


class Window(NamedTuple):
    """A convolution or pooling window along one spatial axis.

    ``ceil`` rounds the number of positions up (PyTorch's ``ceil_mode=True``, Caffe's pooling), with
    PyTorch's rules: the last window must start inside the input or its left padding, and may hang over
    the end (a 3-window in ceil mode takes an input of 2).
    """

    kernel: int
    padding: int = 0
    stride: int = 1
    ceil: bool = False


def _window_out(n: int, w: Window) -> int:
    """Output size of one window over ``n`` inputs; ValueError when it does not fit."""
    if not w.ceil:
        return conv_output_size(n, w.kernel, w.padding, w.stride)  # floor((n + 2p - k) / s) + 1
    out = -(-(n + 2 * w.padding - w.kernel) // w.stride) + 1  # ceil((n + 2p - k) / s) + 1
    if (out - 1) * w.stride >= n + w.padding:  # the last window would start in the right padding
        out -= 1
    if out < 1:
        raise ValueError(
            f"a {w.kernel}-window with stride {w.stride} and padding {w.padding} in ceil mode leaves no output "
            f"for an input of size {n}."
        )
    return out


def spatial_size(n: int, windows: Sequence[Window]) -> int:
    """Size of one spatial axis after the windows, in order.

    Raises
    ------
    ValueError
        When a window does not fit in what is left of the input (from :func:`coursepkg.ops.conv_output_size`).

    Examples
    --------
    >>> spatial_size(227, [Window(11, 0, 4), Window(3, 0, 2)])  # AlexNet's conv1 and pool1
    27
    """
    for w in windows:
        n = _window_out(n, w)
    return n


@functools.lru_cache(maxsize=None)
def minimum_size(windows: tuple[Window, ...]) -> int:
    """Smallest input size (along one axis) that every window fits in.

    Output sizes grow with the input, so the first ``n`` that gets through is the minimum.

    Examples
    --------
    >>> minimum_size((Window(3), Window(2, 0, 2)))  # a 3x3 valid conv then a 2x2 pool: 4 -> 2 -> 1
    4
    """
    for n in range(1, 4097):
        try:
            spatial_size(n, windows)
        except ValueError:
            continue
        return n
    raise ValueError(f"minimum_size: no input up to 4096 pixels fits the windows {windows}.")


# --- argument checks ------------------------------------------------------------------------------------


def check_common(
    func: str, num_classes: Any, in_channels: Any, input_size: Any, windows: Sequence[Window], name: str
) -> tuple[int, int, tuple[int, int]]:
    """Validate the arguments every builder takes; return ``(num_classes, in_channels, (H, W))``.

    ``input_size`` may be an int or an ``(H, W)`` pair; both sides must be at least the minimum size of
    ``windows``, which the message names.

    Examples
    --------
    >>> check_common("simple_cnn", 10, 1, 28, SIMPLE_CNN_WINDOWS, "simple_cnn")
    (10, 1, (28, 28))
    """
    num_classes = as_int(num_classes, "num_classes", func, minimum=1)
    in_channels = as_int(in_channels, "in_channels", func, minimum=1)
    hw = as_pair(input_size, "input_size", func, minimum=1)
    least = minimum_size(tuple(windows))
    if min(hw) < least:
        raise ValueError(
            f"{func}: input_size={input_size!r} is too small for {name}: its convolutions and poolings need "
            f"inputs of at least {least}x{least} pixels. Use input_size >= {least} (resize or pad the images)."
        )
    return num_classes, in_channels, hw


def as_bool(value: Any, name: str, func: str) -> bool:
    """Check that a flag is a real ``bool`` (not ``0``/``1`` or a string)."""
    if not isinstance(value, bool):
        raise TypeError(f"{func}: `{name}` must be True or False. Received: {name}={value!r}.")
    return value


def as_rate(value: Any, name: str, func: str) -> float:
    """Check a dropout rate, a float in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{func}: `{name}` must be a float in [0, 1). Received: {name}={value!r}.")
    if not 0.0 <= value < 1.0:
        raise ValueError(
            f"{func}: `{name}` is the fraction of units dropped and must be in [0, 1); use 0.0 for no dropout. "
            f"Received: {name}={value}."
        )
    return float(value)


def as_positive_float(value: Any, name: str, func: str) -> float:
    """Check a finite float > 0 (the hyperparameters of local response normalisation)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{func}: `{name}` must be a finite float. Received: {name}={value!r}.")
    if value <= 0:
        raise ValueError(f"{func}: `{name}` must be > 0. Received: {name}={value}.")
    return float(value)


# --- specifications, family by family -------------------------------------------------------------------

#: simple_cnn: conv 3x3 valid, max pool 2x2.
SIMPLE_CNN_WINDOWS = (Window(3), Window(2, 0, 2))
#: LeNet-5: C1 S2 C3 S4 C5.
LENET5_WINDOWS = (Window(5), Window(2, 0, 2), Window(5), Window(2, 0, 2), Window(5))

#: AlexNet (single GPU), conv1 to pool5.
ALEXNET_WINDOWS = (
    Window(11, 0, 4), Window(3, 0, 2),  # conv1, pool1
    Window(5, 2, 1), Window(3, 0, 2),  # conv2, pool2
    Window(3, 1, 1), Window(3, 1, 1), Window(3, 1, 1), Window(3, 0, 2),  # conv3-5, pool5
)  # fmt: skip
#: ZFNet, conv1 to pool5: the smallest paddings that give the paper's sizes 110, 55, 26, 13, 6.
ZFNET_WINDOWS = (
    Window(7, 1, 2), Window(3, 1, 2),  # conv1, pool1
    Window(5, 0, 2), Window(3, 1, 2),  # conv2, pool2
    Window(3, 1, 1), Window(3, 1, 1), Window(3, 1, 1), Window(3, 0, 2),  # conv3-5, pool5
)  # fmt: skip

#: Output channels of the convolutions of each of the five blocks (configurations A, D and E of the paper).
VGG_CONFIGS: dict[str, tuple[tuple[int, ...], ...]] = {
    "vgg11": ((64,), (128,), (256, 256), (512, 512), (512, 512)),
    "vgg16": ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)),
    "vgg19": ((64, 64), (128, 128), (256, 256, 256, 256), (512, 512, 512, 512), (512, 512, 512, 512)),
}


def vgg_windows(config: Sequence[Sequence[int]], func: str) -> tuple[Window, ...]:
    """VGG's downsampling path, one 2x2/2 max pooling per block of ``config``; ValueError for an empty block."""
    if not config or not all(len(widths) > 0 for widths in config):
        raise ValueError(
            f"{func}: `config` must list, for each block, the widths of its convolutions, e.g. "
            f"((64,), (128,)). Received: config={config!r}."
        )
    return tuple(Window(2, 0, 2) for _ in config)


class _Inception(NamedTuple):
    ch1x1: int
    ch3x3red: int
    ch3x3: int
    ch5x5red: int
    ch5x5: int
    pool_proj: int


#: Table 1 of the paper: the channel numbers of the nine Inception modules.
GOOGLENET_TABLE: dict[str, _Inception] = {
    "inception3a": _Inception(64, 96, 128, 16, 32, 32),  # -> 256
    "inception3b": _Inception(128, 128, 192, 32, 96, 64),  # -> 480
    "inception4a": _Inception(192, 96, 208, 16, 48, 64),  # -> 512
    "inception4b": _Inception(160, 112, 224, 24, 64, 64),  # -> 512
    "inception4c": _Inception(128, 128, 256, 24, 64, 64),  # -> 512
    "inception4d": _Inception(112, 144, 288, 32, 64, 64),  # -> 528
    "inception4e": _Inception(256, 160, 320, 32, 128, 128),  # -> 832
    "inception5a": _Inception(256, 160, 320, 32, 128, 128),  # -> 832
    "inception5b": _Inception(384, 192, 384, 48, 128, 128),  # -> 1024
}

_GOOGLENET_POOL = Window(3, 0, 2, ceil=True)  # max pool 3x3/2 in ceil mode (Caffe's, torchvision's)
#: GoogLeNet up to inception 4a (where the first auxiliary head sits): conv1, pool1, (conv2 and conv3 keep
#: the size), pool2, pool3 after 3b.
GOOGLENET_TO_4A = (Window(7, 3, 2), _GOOGLENET_POOL, _GOOGLENET_POOL, _GOOGLENET_POOL)
#: GoogLeNet's main path: ... and pool4 after 4e.
GOOGLENET_WINDOWS = (*GOOGLENET_TO_4A, _GOOGLENET_POOL)
#: The auxiliary heads' 5x5/3 average pooling.
GOOGLENET_AUX_POOL = Window(5, 0, 3)
#: The path to the auxiliary heads' pooling output, which needs larger inputs than the main path (79 vs 31).
GOOGLENET_AUX_WINDOWS = (*GOOGLENET_TO_4A, GOOGLENET_AUX_POOL)


def inception_widths(
    func: str, ch1x1: Any, ch3x3red: Any, ch3x3: Any, ch5x5red: Any, ch5x5: Any, pool_proj: Any
) -> _Inception:
    """Check the six widths of an Inception module (integers >= 1), as a row of :data:`GOOGLENET_TABLE`."""
    values = (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
    return _Inception(*(as_int(v, name, func, minimum=1) for v, name in zip(values, _Inception._fields)))


class ResNetConfig(NamedTuple):
    """The blocks of a ResNet: bottlenecks or basic blocks, and how many in each of the four stages."""

    bottleneck: bool
    layers: tuple[int, int, int, int]


#: The five ResNets of the paper (its Table 1).
RESNET_CONFIGS: dict[str, ResNetConfig] = {
    "resnet18": ResNetConfig(False, (2, 2, 2, 2)),
    "resnet34": ResNetConfig(False, (3, 4, 6, 3)),
    "resnet50": ResNetConfig(True, (3, 4, 6, 3)),
    "resnet101": ResNetConfig(True, (3, 4, 23, 3)),
    "resnet152": ResNetConfig(True, (3, 8, 36, 3)),
}
#: Width of the blocks of each stage (a bottleneck outputs 4 times as many channels).
RESNET_WIDTHS = (64, 128, 256, 512)
#: Stem conv 7x7/2 pad 3, max pool 3x3/2 pad 1, then one stride-2 block at the start of stages 3, 4 and 5
#: (a 3x3 pad 1 or a 1x1 convolution with stride 2 gives the same size, ``floor((n - 1) / 2) + 1``).
RESNET_WINDOWS = (Window(7, 3, 2), Window(3, 1, 2), Window(3, 1, 2), Window(3, 1, 2), Window(3, 1, 2))


def check_densenet_args(
    func: str, growth_rate: Any, block_config: Any, num_init_features: Any, bn_size: Any, compression: Any
) -> tuple[int, tuple[int, ...], int, int, float]:
    """Check DenseNet's hyperparameters, in the order the builders take them.

    Returns ``(growth_rate, block_config, num_init_features, bn_size, compression)``: ints >= 1, a tuple of
    ints >= 1 and a float in (0, 1].
    """
    growth_rate = as_int(growth_rate, "growth_rate", func, minimum=1)
    num_init_features = as_int(num_init_features, "num_init_features", func, minimum=1)
    bn_size = as_int(bn_size, "bn_size", func, minimum=1)
    if isinstance(block_config, (str, bytes)) or not isinstance(block_config, Sequence) or not block_config:
        raise TypeError(
            f"{func}: `block_config` must be a non-empty sequence of layer counts, one per dense block, "
            f"e.g. (6, 12, 24, 16). Received: block_config={block_config!r}."
        )
    block_config = tuple(as_int(n, "block_config[i]", func, minimum=1) for n in block_config)
    if isinstance(compression, bool) or not isinstance(compression, numbers.Real) or not math.isfinite(compression):
        raise TypeError(f"{func}: `compression` must be a float in (0, 1]. Received: compression={compression!r}.")
    if not 0.0 < compression <= 1.0:
        raise ValueError(
            f"{func}: `compression` is the fraction of channels a transition keeps and must be in (0, 1]. "
            f"Received: compression={compression}. DenseNet-BC keeps 0.5; 1 means no compression."
        )
    return growth_rate, block_config, num_init_features, bn_size, float(compression)


def densenet_windows(num_blocks: int) -> tuple[Window, ...]:
    """DenseNet's downsampling path for ``num_blocks`` dense blocks.

    Stem conv 7x7/2 pad 3, max pool 3x3/2 pad 1, then one 2x2/2 average pooling per transition
    (``num_blocks - 1`` of them).
    """
    return (Window(7, 3, 2), Window(3, 1, 2)) + (Window(2, 0, 2),) * (num_blocks - 1)


def check_pixelnet_args(func: str, widths: Any, hidden: Any) -> tuple[tuple[int, ...], int, tuple[Window, ...]]:
    """Check PixelNet's ``widths`` and ``hidden``; return them with the trunk's windows.

    The trunk has a 2x2 max pooling in front of every block but the first.
    """
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or not widths:
        raise TypeError(
            f"{func}: `widths` must be a non-empty sequence of channel counts, one per block, e.g. "
            f"(16, 32, 64). Received: widths={widths!r}."
        )
    widths = tuple(as_int(c, "widths[i]", func, minimum=1) for c in widths)
    hidden = as_int(hidden, "hidden", func, minimum=1)
    return widths, hidden, tuple(Window(2, 0, 2) for _ in widths[1:])


# --- PixelNet's pixel sample and the segmentation metric ------------------------------------------------


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


def pixel_sample_weights(masks: Any, n_per_class: int, rng: Any = None) -> np.ndarray:
    """The stratified sample of :func:`sample_pixels` as a per-pixel ``sample_weight`` for Keras's ``model.fit``.

    Parameters
    ----------
    masks : array_like of int, shape (N, H, W)
    n_per_class : int
    rng : None, int or numpy.random.Generator
        Draws the same pixels as ``sample_pixels(masks, n_per_class, rng)``.

    Returns
    -------
    ndarray of shape (N, H, W), float32
        How often each pixel was drawn, scaled so that the weights average 1: Keras's default loss
        reduction (the mean over all ``N H W`` weighted pixel losses) is then exactly the mean loss over
        the sampled pixels, the loss PixelNet minimises.

    Examples
    --------
    >>> masks = np.zeros((1, 4, 4), dtype=np.int64); masks[0, :2, :2] = 3
    >>> w = pixel_sample_weights(masks, 2, rng=0)
    >>> w.shape, float(w.mean()), int((w > 0).sum())
    ((1, 4, 4), 1.0, 4)
    """
    pixels = sample_pixels(masks, n_per_class, rng)  # (M, 3)
    weights = np.zeros(np.shape(masks), dtype=np.float64)  # (N, H, W)
    np.add.at(weights, (pixels[:, 0], pixels[:, 1], pixels[:, 2]), 1.0)
    return (weights * (weights.size / len(pixels))).astype(np.float32)


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
