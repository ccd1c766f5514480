"""Parameter counts and output shapes of network layers, from their sizes alone.

Explained in the chapters "Why convolution" ({ref}`sec-why-dense-to-conv`) and "Classic CNN architectures" (the
layer tables of {ref}`sec-alexnet` and {ref}`sec-vgg`): a dense layer needs one weight per input *and* output, a
convolution one per kernel tap and channel pair, whatever the image size. Shapes follow the notes' ``(H, W, C)``
order here (the tables of the papers); the arrays of :mod:`coursepkg.ops` are ``(N, C, H, W)``.

Counts, with ``C`` input channels, ``F`` filters, a ``KH x KW`` kernel and ``g`` groups:

- dense ``n_in -> n_out``: ``n_in * n_out + n_out``;
- conv: ``F * (C / g) * KH * KW + F``;
- batch norm over ``C`` channels: ``2C`` trainable (scale and shift) and ``2C`` running statistics;
- pooling, flatten, ReLU, dropout and local response normalisation: none.
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass, fields
from typing import Any, NamedTuple, Sequence, Union

from ._validation import as_int, as_pair
from .ops import conv_output_size

__all__ = [
    "AvgPool",
    "BatchNorm",
    "BatchNormParams",
    "Conv2D",
    "Dense",
    "DenseVsConv",
    "Dropout",
    "Flatten",
    "GlobalAvgPool",
    "LRN",
    "LayerRow",
    "MaxPool",
    "ReLU",
    "batchnorm_params",
    "conv2d_params",
    "dense_params",
    "dense_vs_conv",
    "format_table",
    "input_size",
    "layer_table",
    "total_params",
]


def _as_bool(value: Any, name: str, func: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{func}: `{name}` must be True or False. Received: {name}={value!r}.")
    return value


# --- single layers --------------------------------------------------------------------------------------


def dense_params(n_in: int, n_out: int, *, bias: bool = True) -> int:
    """Parameters of a dense (fully connected, ``Linear``) layer.

    Parameters
    ----------
    n_in, n_out : int
        Number of inputs and outputs (units), >= 1.
    bias : bool
        Whether the layer has one bias per output.

    Returns
    -------
    int
        ``n_in * n_out + (n_out if bias else 0)``; the weight matrix is ``(n_out, n_in)`` in PyTorch and
        ``(n_in, n_out)`` in Keras.

    Raises
    ------
    TypeError, ValueError
        If a size is not an integer >= 1 or ``bias`` is not a bool.

    Examples
    --------
    >>> dense_params(9216, 4096)  # AlexNet's fc6
    37752832
    """
    func = "dense_params"
    n_in = as_int(n_in, "n_in", func, minimum=1)
    n_out = as_int(n_out, "n_out", func, minimum=1)
    bias = _as_bool(bias, "bias", func)
    return n_in * n_out + (n_out if bias else 0)


def conv2d_params(
    c_in: int, c_out: int, kernel_size: int | tuple[int, int], *, bias: bool = True, groups: int = 1
) -> int:
    """Parameters of a 2-D convolution layer, whatever the size of its input image.

    Parameters
    ----------
    c_in, c_out : int
        Input channels ``C`` and filters ``F``, >= 1; both divisible by ``groups``.
    kernel_size : int or (kh, kw)
    bias : bool
        Whether the layer has one bias per filter.
    groups : int
        Channel groups (``groups = c_in = c_out`` is a depthwise convolution).

    Returns
    -------
    int
        ``F * (C / groups) * KH * KW + (F if bias else 0)``: the weights ``(F, C / groups, KH, KW)`` and the bias.

    Raises
    ------
    TypeError, ValueError
        If a size is not an integer >= 1, or ``groups`` does not divide ``c_in`` and ``c_out``.

    Examples
    --------
    >>> conv2d_params(3, 96, 11)  # AlexNet's conv1
    34944
    >>> conv2d_params(32, 32, 3, groups=32, bias=False)  # depthwise
    288
    """
    func = "conv2d_params"
    c_in = as_int(c_in, "c_in", func, minimum=1)
    c_out = as_int(c_out, "c_out", func, minimum=1)
    kh, kw = as_pair(kernel_size, "kernel_size", func, minimum=1)
    groups = as_int(groups, "groups", func, minimum=1)
    bias = _as_bool(bias, "bias", func)
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"{func}: `groups` must divide both c_in and c_out. "
            f"Received: groups={groups}, c_in={c_in}, c_out={c_out}."
        )
    return c_out * (c_in // groups) * kh * kw + (c_out if bias else 0)


class BatchNormParams(NamedTuple):
    """Parameter counts of a batch-normalisation layer; unpacks as ``trainable, non_trainable``."""

    trainable: int
    """``2C``: the scale gamma and shift beta, learned by gradient descent."""
    non_trainable: int
    """``2C``: the running mean and variance, updated by averaging, used at test time."""

    @property
    def total(self) -> int:
        """``4C``, the number Keras's ``model.summary()`` reports (of which ``2C`` non-trainable)."""
        return self.trainable + self.non_trainable


def batchnorm_params(c: int) -> BatchNormParams:
    """Parameters of a batch-normalisation layer over ``c`` channels (or features).

    Parameters
    ----------
    c : int
        Channels, >= 1.

    Returns
    -------
    BatchNormParams
        ``(trainable=2c, non_trainable=2c)``. PyTorch counts only the trainable ones in
        ``parameters()``; its running statistics are buffers, together with an extra scalar
        ``num_batches_tracked``. Keras counts all ``4c`` and lists ``2c`` as non-trainable.

    Examples
    --------
    >>> batchnorm_params(64)
    BatchNormParams(trainable=128, non_trainable=128)
    >>> batchnorm_params(64).total
    256
    """
    c = as_int(c, "c", "batchnorm_params", minimum=1)
    return BatchNormParams(2 * c, 2 * c)


def input_size(shape: Sequence[int]) -> int:
    """Number of input values (the inputs of a dense first layer) of an array of the given shape.

    Parameters
    ----------
    shape : sequence of int
        E.g. ``(H, W, C)``; every entry >= 1.

    Returns
    -------
    int
        The product of the entries.

    Raises
    ------
    TypeError, ValueError
        If ``shape`` is not a non-empty sequence of integers >= 1.

    Notes
    -----
    The course notes (and the issue that reported them) say "a 68x68x3 image has 12,288 inputs". That mixes
    two sizes: ``64 * 64 * 3 = 12,288`` whereas ``68 * 68 * 3 = 13,872``.

    Examples
    --------
    >>> input_size((68, 68, 3)), input_size((64, 64, 3))
    (13872, 12288)
    """
    return math.prod(_as_shape(shape, "shape", "input_size"))


def _as_shape(shape: Any, name: str, func: str) -> tuple[int, ...]:
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence) or len(shape) == 0:
        raise TypeError(
            f"{func}: `{name}` must be a non-empty sequence of ints such as (68, 68, 3). "
            f"Received: {name}={shape!r}."
        )
    return tuple(as_int(v, f"{name}[{i}]", func, minimum=1) for i, v in enumerate(shape))


@dataclass(frozen=True)
class DenseVsConv:
    """A dense and a convolutional first layer on the same image, compared by :func:`dense_vs_conv`."""

    input_shape: tuple[int, ...]
    """``(H, W, C)``."""
    inputs: int
    """``H * W * C``, the inputs of the dense layer."""
    units: int
    filters: int
    kernel_size: tuple[int, int]
    dense_params: int
    """Parameters of a dense layer connecting every input to every one of ``units`` outputs."""
    conv_params: int
    """Parameters of a conv layer with ``filters`` kernels of ``kernel_size x C`` (independent of H and W)."""

    @property
    def ratio(self) -> float:
        """``dense_params / conv_params``: how many times more parameters the dense layer needs."""
        return self.dense_params / self.conv_params

    def __str__(self) -> str:
        h, w, c = self.input_shape
        kh, kw = self.kernel_size
        return (
            f"{h}x{w}x{c} input = {self.inputs:,} values. Dense layer with {self.units:,} units: "
            f"{self.dense_params:,} parameters. Conv layer with {self.filters:,} filters of {kh}x{kw}x{c}: "
            f"{self.conv_params:,} parameters ({self.ratio:,.0f} times fewer)."
        )


def dense_vs_conv(
    input_shape: Sequence[int] = (68, 68, 3),
    *,
    units: int = 1000,
    filters: int = 10,
    kernel_size: int | tuple[int, int] = 3,
    bias: bool = True,
) -> DenseVsConv:
    """Compare the parameters of a dense and a convolutional first layer on an ``(H, W, C)`` image.

    Parameters
    ----------
    input_shape : (H, W, C)
    units : int
        Outputs of the dense layer.
    filters : int
        Filters of the conv layer.
    kernel_size : int or (kh, kw)
    bias : bool
        Count biases in both layers.

    Returns
    -------
    DenseVsConv
        With ``dense_params``, ``conv_params`` and ``ratio``; ``str()`` gives a sentence for the book.

    Examples
    --------
    >>> cmp = dense_vs_conv((68, 68, 3), units=1000, filters=10, kernel_size=3)
    >>> cmp.inputs, cmp.dense_params, cmp.conv_params
    (13872, 13873000, 280)
    """
    func = "dense_vs_conv"
    shape = _as_shape(input_shape, "input_shape", func)
    if len(shape) != 3:
        raise ValueError(f"{func}: `input_shape` must be (H, W, C). Received: input_shape={shape!r}.")
    units = as_int(units, "units", func, minimum=1)
    filters = as_int(filters, "filters", func, minimum=1)
    kernel = as_pair(kernel_size, "kernel_size", func, minimum=1)
    h, w, c = shape
    if kernel[0] > h or kernel[1] > w:
        raise ValueError(
            f"{func}: `kernel_size` must fit in the image. Received: kernel_size={kernel_size!r}, "
            f"input_shape={(h, w, c)}."
        )
    return DenseVsConv(
        input_shape=(h, w, c),
        inputs=h * w * c,
        units=units,
        filters=filters,
        kernel_size=kernel,
        dense_params=dense_params(h * w * c, units, bias=bias),
        conv_params=conv2d_params(c, filters, kernel, bias=bias),
    )


# --- layer specifications -------------------------------------------------------------------------------

PadSpec = Union[int, tuple[int, int], str]


@dataclass(frozen=True)
class Conv2D:
    """2-D convolution: ``filters`` kernels of ``kernel``; padding an int, ``(ph, pw)``, ``"valid"`` or ``"same"``."""

    filters: int
    kernel: int | tuple[int, int]
    stride: int | tuple[int, int] = 1
    padding: PadSpec = 0
    _: KW_ONLY
    bias: bool = True
    groups: int = 1
    name: str | None = None


@dataclass(frozen=True)
class MaxPool:
    """Max pooling over ``size`` windows; ``stride=None`` means ``stride = size``."""

    size: int | tuple[int, int]
    stride: int | tuple[int, int] | None = None
    padding: PadSpec = 0
    _: KW_ONLY
    name: str | None = None


@dataclass(frozen=True)
class AvgPool:
    """Average pooling over ``size`` windows; ``stride=None`` means ``stride = size``."""

    size: int | tuple[int, int]
    stride: int | tuple[int, int] | None = None
    padding: PadSpec = 0
    _: KW_ONLY
    name: str | None = None


@dataclass(frozen=True)
class Flatten:
    """``(H, W, C) -> (H * W * C,)``."""

    _: KW_ONLY
    name: str | None = None


@dataclass(frozen=True)
class Dense:
    """Fully connected layer with ``units`` outputs; needs a flat input."""

    units: int
    _: KW_ONLY
    bias: bool = True
    name: str | None = None


@dataclass(frozen=True)
class GlobalAvgPool:
    """``(H, W, C) -> (C,)``: the mean of each channel."""

    _: KW_ONLY
    name: str | None = None


@dataclass(frozen=True)
class BatchNorm:
    """Batch normalisation; the table counts its ``2C`` trainable parameters (Keras's summary shows ``4C``)."""

    _: KW_ONLY
    name: str | None = None


@dataclass(frozen=True)
class LRN:
    """Local response normalisation (AlexNet's defaults); no parameters, same shape."""

    size: int = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 2.0
    _: KW_ONLY
    name: str | None = None


@dataclass(frozen=True)
class Dropout:
    """Dropout; no parameters, same shape."""

    rate: float = 0.5
    _: KW_ONLY
    name: str | None = None


@dataclass(frozen=True)
class ReLU:
    """ReLU activation; no parameters, same shape."""

    _: KW_ONLY
    name: str | None = None


Layer = Union[Conv2D, MaxPool, AvgPool, Flatten, Dense, GlobalAvgPool, BatchNorm, LRN, Dropout, ReLU]

_LAYER_TYPES: dict[str, type] = {
    "conv2d": Conv2D,
    "conv": Conv2D,
    "maxpool": MaxPool,
    "avgpool": AvgPool,
    "averagepool": AvgPool,
    "flatten": Flatten,
    "dense": Dense,
    "linear": Dense,
    "fc": Dense,
    "globalavgpool": GlobalAvgPool,
    "globalaveragepool": GlobalAvgPool,
    "batchnorm": BatchNorm,
    "batchnormalization": BatchNorm,
    "lrn": LRN,
    "dropout": Dropout,
    "relu": ReLU,
}

_SHORT = {
    Conv2D: "conv", MaxPool: "pool", AvgPool: "avgpool", Flatten: "flatten", Dense: "fc",
    GlobalAvgPool: "gap", BatchNorm: "bn", LRN: "lrn", Dropout: "dropout", ReLU: "relu",
}  # fmt: skip


class LayerRow(NamedTuple):
    """One row of :func:`layer_table`."""

    name: str
    output_shape: tuple[int, ...]
    """``(H, W, C)``, or ``(D,)`` after ``Flatten``, ``Dense`` or ``GlobalAvgPool``."""
    params: int
    """Trainable parameters."""


def _spec_from_dict(spec: dict, where: str) -> Layer:
    spec = dict(spec)
    kind = spec.pop("type", None)
    key = str(kind).lower().replace("_", "").replace("2d", "") if kind is not None else None
    if key not in _LAYER_TYPES:
        raise ValueError(
            f"{where}: a dict layer needs a 'type' among {sorted(_LAYER_TYPES)}. Received: type={kind!r}."
        )
    cls = _LAYER_TYPES[key]
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(spec) - names)
    if unknown:
        raise ValueError(
            f"{where}: unknown keys {unknown} for a {cls.__name__} layer; valid keys are "
            f"{sorted(names)} plus 'type'. Received: {dict(type=kind, **spec)!r}."
        )
    try:
        return cls(**spec)
    except TypeError as exc:
        raise ValueError(f"{where}: cannot build a {cls.__name__} from {dict(type=kind, **spec)!r} ({exc}).") from None


def _window_out(
    hw: tuple[int, int], kernel: Any, stride: Any, padding: Any, where: str, *, pool: bool
) -> tuple[int, int]:
    """Output (H, W) of a sliding window layer."""
    k = as_pair(kernel, "size" if pool else "kernel", where, minimum=1)
    s = k if stride is None else as_pair(stride, "stride", where, minimum=1)
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            p = (0, 0)
        elif mode == "same":
            if s != (1, 1):
                raise ValueError(
                    f'{where}: padding="same" needs stride 1 (as in PyTorch). Received: stride={s}. Keras keeps '
                    "ceil(n / s) outputs with any stride: compute that padding with "
                    "coursepkg.ops.same_padding(n, f, s) and pass it as an int."
                )
            return hw
        else:
            raise ValueError(
                f'{where}: `padding` must be an int, an (h, w) pair, "valid" or "same". Received: padding={padding!r}.'
            )
    else:
        p = as_pair(padding, "padding", where, minimum=0)
    if pool and (2 * p[0] > k[0] or 2 * p[1] > k[1]):
        raise ValueError(
            f"{where}: pooling `padding` must be at most half the window (PyTorch's rule). "
            f"Received: padding={padding!r}, size={kernel!r}."
        )
    try:
        return tuple(conv_output_size(n, kk, pp, ss) for n, kk, pp, ss in zip(hw, k, p, s))  # type: ignore
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _in_layer(where: str, count: Any, *args: Any, **kwargs: Any) -> int:
    """Call a counting function, naming the layer in its error message."""
    try:
        return count(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{where}: {exc}") from None


def layer_table(input_shape: Sequence[int], layers: Sequence[Layer | dict]) -> list[LayerRow]:
    """Output shape and parameter count of every layer of a sequential network.

    Parameters
    ----------
    input_shape : (H, W, C) or (D,)
        The shape of one input, as the notes write it (no batch axis).
    layers : sequence of layer specs
        Instances of :class:`Conv2D`, :class:`MaxPool`, :class:`AvgPool`, :class:`Flatten`, :class:`Dense`,
        :class:`GlobalAvgPool`, :class:`BatchNorm`, :class:`LRN`, :class:`Dropout`, :class:`ReLU`, or dicts
        with a ``"type"`` key and the same fields, e.g. ``{"type": "conv2d", "filters": 96, "kernel": 11,
        "stride": 4}``.

    Returns
    -------
    list of LayerRow
        ``(name, output_shape, params)``, starting with an ``("input", input_shape, 0)`` row. Unnamed layers
        are numbered per kind: ``conv1``, ``pool1``, ``fc1``, ...

    Raises
    ------
    TypeError, ValueError
        On a malformed spec, a window that does not fit, ``Dense`` or ``Conv2D`` on the wrong rank of input
        (the message names the layer and says what to insert).

    Notes
    -----
    Output size of a window of ``k`` with padding ``p`` and stride ``s`` over ``n``:
    ``floor((n + 2p - k) / s) + 1`` (:func:`coursepkg.ops.conv_output_size`). ``"same"`` needs stride 1.

    Examples
    --------
    >>> rows = layer_table((227, 227, 3), [Conv2D(96, 11, stride=4), MaxPool(3, stride=2)])
    >>> [(r.name, r.output_shape, r.params) for r in rows]
    [('input', (227, 227, 3), 0), ('conv1', (55, 55, 96), 34944), ('pool1', (27, 27, 96), 0)]
    """
    func = "layer_table"
    shape = _as_shape(input_shape, "input_shape", func)
    if len(shape) not in (1, 3):
        raise ValueError(f"{func}: `input_shape` must be (H, W, C) or (D,). Received: input_shape={shape!r}.")
    rows = [LayerRow("input", shape, 0)]
    counters: dict[type, int] = {}
    for i, spec in enumerate(layers):
        where = f"{func}: layers[{i}]"
        if isinstance(spec, dict):
            spec = _spec_from_dict(spec, where)
        cls = type(spec)
        if cls not in _SHORT:
            raise TypeError(
                f"{where} must be a layer spec (Conv2D, MaxPool, ..., or a dict with a 'type'). "
                f"Received an object of type {cls.__name__}."
            )
        counters[cls] = counters.get(cls, 0) + 1
        name = spec.name or f"{_SHORT[cls]}{counters[cls]}"
        where = f"{where} ({name})"
        params = 0
        if cls in (Conv2D, MaxPool, AvgPool, GlobalAvgPool) and len(shape) != 3:
            raise ValueError(
                f"{where}: {cls.__name__} needs an (H, W, C) input but receives shape {shape}; "
                "move it before the Flatten / GlobalAvgPool / Dense layers."
            )
        if cls is Conv2D:
            filters = as_int(spec.filters, "filters", where, minimum=1)
            hw = _window_out(shape[:2], spec.kernel, spec.stride, spec.padding, where, pool=False)
            params = _in_layer(where, conv2d_params, shape[2], filters, spec.kernel, bias=spec.bias, groups=spec.groups)
            shape = (*hw, filters)
        elif cls in (MaxPool, AvgPool):
            shape = (*_window_out(shape[:2], spec.size, spec.stride, spec.padding, where, pool=True), shape[2])
        elif cls is GlobalAvgPool:
            shape = (shape[2],)
        elif cls is Flatten:
            shape = (math.prod(shape),)
        elif cls is Dense:
            if len(shape) != 1:
                raise ValueError(
                    f"{where}: Dense needs a flat input but receives shape {shape}; insert Flatten() "
                    "(or GlobalAvgPool()) before it."
                )
            units = as_int(spec.units, "units", where, minimum=1)
            params = _in_layer(where, dense_params, shape[0], units, bias=spec.bias)
            shape = (units,)
        elif cls is BatchNorm:
            params = batchnorm_params(shape[-1]).trainable
        rows.append(LayerRow(name, shape, params))
    return rows


def total_params(rows: Sequence[LayerRow]) -> int:
    """Sum of the ``params`` column of :func:`layer_table`."""
    return sum(r.params for r in rows)


def format_table(rows: Sequence[LayerRow], *, total: bool = True) -> str:
    """A Markdown table of :func:`layer_table` rows, column-aligned so it also reads as plain text.

    Shapes print as the notes write them (``55x55x96``), counts with thousands separators.

    Examples
    --------
    >>> print(format_table(layer_table((28, 28, 1), [Flatten(), Dense(10)])))
    | Layer    | Output shape | Parameters |
    |:---------|:-------------|-----------:|
    | input    | 28x28x1      |          0 |
    | flatten1 | 784          |          0 |
    | fc1      | 10           |      7,850 |
    | Total    |              |      7,850 |
    """
    body = [(r.name, "x".join(str(v) for v in r.output_shape), f"{r.params:,}") for r in rows]
    if total:
        body.append(("Total", "", f"{total_params(rows):,}"))
    header = ("Layer", "Output shape", "Parameters")
    widths = [max(len(row[j]) for row in (header, *body)) for j in range(3)]

    def line(cells: Sequence[str]) -> str:
        return f"| {cells[0]:<{widths[0]}} | {cells[1]:<{widths[1]}} | {cells[2]:>{widths[2]}} |"

    rule = f"|:{'-' * (widths[0] + 1)}|:{'-' * (widths[1] + 1)}|{'-' * (widths[2] + 1)}:|"
    return "\n".join([line(header), rule, *(line(c) for c in body)])
