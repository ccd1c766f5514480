"""What every PyTorch model of the course shares: argument checks, geometry, parameter counts, stage shapes.

Explained in the chapter on classic architectures. Each builder describes its downsampling path once, as a
tuple of :class:`Window` s (kernel, padding, stride), and :func:`spatial_size` walks an input size through it
with the course's output-size formula ``floor((n + 2p - k) / s) + 1``
(:func:`coursepkg.ops.conv_output_size`). The same walk gives the flattened size in front of a dense
classifier and the smallest input a model accepts (:func:`minimum_size`), which the builders state in their
docstrings and enforce with a ``ValueError``.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
from torch import nn

from ..._validation import as_int, as_pair
from ...ops import conv_output_size

__all__ = ["Window", "count_params", "minimum_size", "spatial_size", "stage_shapes"]


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


def check_common(
    func: str, num_classes: Any, in_channels: Any, input_size: Any, windows: Sequence[Window], name: str
) -> tuple[int, int, tuple[int, int]]:
    """Validate the arguments every builder takes; return ``(num_classes, in_channels, (H, W))``.

    ``input_size`` may be an int or an ``(H, W)`` pair; both sides must be at least the minimum size of
    ``windows``, which the message names.
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


class ImageModel(nn.Module):
    """Base class of the course's image models: remembers the input it was built for and checks inputs.

    Attributes
    ----------
    in_channels : int
    input_size : (int, int)
        ``(H, W)`` the model was built for. Models with a dense classifier on flattened features accept only
        this size (``fixed_size = True``); models with global pooling accept any size at least
        ``min_size``.
    min_size : int
        The smallest height and width the model accepts.
    """

    fixed_size: bool = False

    def __init__(self, in_channels: int, input_size: tuple[int, int], min_size: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.input_size = input_size
        self.min_size = min_size

    def check_input(self, x: torch.Tensor) -> None:
        """Raise ValueError when ``x`` is not an ``(N, C, H, W)`` batch this model can take."""
        name = type(self).__name__
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name}: the input must be a torch.Tensor. Received an object of type {type(x).__name__}.")
        if x.ndim != 4:
            hint = " Add a batch axis with x[None]." if x.ndim == 3 else ""
            raise ValueError(f"{name}: the input must have shape (N, C, H, W); got shape {tuple(x.shape)}.{hint}")
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"{name}: the model was built with in_channels={self.in_channels} but the input has "
                f"C={x.shape[1]} (shape {tuple(x.shape)}). Rebuild it with in_channels={x.shape[1]}, or check "
                "that the batch is channels-first (N, C, H, W) and not (N, H, W, C)."
            )
        hw = tuple(x.shape[2:])
        if self.fixed_size and hw != self.input_size:
            raise ValueError(
                f"{name}: the model was built for input_size={self.input_size} (its dense layers expect that "
                f"many features) but the input is {hw[0]}x{hw[1]}. Rebuild it with input_size={hw}, or resize "
                "the images."
            )
        if min(hw) < self.min_size:
            raise ValueError(
                f"{name}: the input is {hw[0]}x{hw[1]} but this model needs at least "
                f"{self.min_size}x{self.min_size} pixels. Resize or pad the images."
            )


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of a PyTorch model, ``sum(p.numel())``.

    Works on models built on the ``meta`` device (``with torch.device("meta"): ...``), which allocate no
    memory. Buffers (batch-norm running statistics) are not parameters and are not counted; Keras's
    ``count_params`` counts them as non-trainable weights, which explains most differences between the
    two frameworks' totals.

    Parameters
    ----------
    model : torch.nn.Module
    trainable_only : bool, default False
        Count only parameters with ``requires_grad=True``.

    Returns
    -------
    int

    Examples
    --------
    >>> count_params(nn.Linear(9216, 4096))  # AlexNet's fc6
    37752832
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"count_params: `model` must be a torch.nn.Module. Received an object of type {type(model).__name__}."
        )
    trainable_only = as_bool(trainable_only, "trainable_only", "count_params")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def stage_shapes(
    model: nn.Module, names: Sequence[str], x: torch.Tensor | None = None
) -> dict[str, tuple[int, ...]]:
    """Output shape of each named submodule during one forward pass.

    Parameters
    ----------
    model : torch.nn.Module
    names : sequence of str
        Dotted submodule names, as in ``model.named_modules()`` (e.g. ``"layer1"``, ``"features.pool0"``).
    x : torch.Tensor of shape (N, C, H, W), optional
        The input. By default one zero image of the size the model was built for (``model.input_size``),
        on the model's device: on ``meta`` nothing is computed, only shapes propagate.

    Returns
    -------
    dict of str to tuple of int
        ``{name: (N, C, H, W)}`` in the order given; for a module called more than once, its last call.

    Examples
    --------
    >>> with torch.device("meta"):
    ...     model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.MaxPool2d(2))
    >>> stage_shapes(model, ["0", "1"], torch.empty(1, 3, 32, 32, device="meta"))
    {'0': (1, 8, 30, 30), '1': (1, 8, 15, 15)}
    """
    if x is None:
        if not hasattr(model, "input_size"):
            raise ValueError("stage_shapes: pass an input `x`; this model does not record its input_size.")
        device = next(model.parameters()).device
        x = torch.zeros(1, model.in_channels, *model.input_size, device=device)
    shapes: dict[str, tuple[int, ...]] = {}
    handles = []
    try:
        for name in names:
            try:
                module = model.get_submodule(name)
            except AttributeError:
                children = [n for n, _ in model.named_modules() if n][:40]
                raise ValueError(
                    f"stage_shapes: {type(model).__name__} has no submodule named {name!r}. "
                    f"Names look like: {', '.join(children)}."
                ) from None

            def hook(_mod: nn.Module, _inp: Any, out: torch.Tensor, name: str = name) -> None:
                shapes[name] = tuple(out.shape)

            handles.append(module.register_forward_hook(hook))
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return {name: shapes[name] for name in names}
