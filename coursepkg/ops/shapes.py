"""Output sizes and padding: the arithmetic every convolution and pooling layer shares.

Explained in the convolution chapter ({ref}`sec-padding-stride`). The output size of a sliding window of
size ``f`` (dilation ``d``) over ``n`` inputs padded by ``p`` on both sides with stride ``s`` is

    floor((n + 2p - d(f - 1) - 1) / s) + 1,

which for ``d = 1`` is the familiar ``floor((n + 2p - f) / s) + 1``.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np

from .._validation import as_int, as_numeric_array

PaddingSpec = Union[int, tuple, str]
Pads = tuple[tuple[int, int], tuple[int, int]]


def conv_output_size(n: int, f: int, p: int = 0, s: int = 1, *, d: int = 1) -> int:
    """Number of positions of a window of size ``f`` sliding over ``n`` inputs.

    Parameters
    ----------
    n : int
        Input size along one axis (height or width), >= 1.
    f : int
        Kernel (window) size, >= 1.
    p : int
        Zero padding added on *each* side, >= 0.
    s : int
        Stride, >= 1.
    d : int
        Dilation, >= 1 (1 means a dense kernel).

    Returns
    -------
    int
        ``floor((n + 2p - d(f - 1) - 1) / s) + 1``.

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If an argument is out of range or the window does not fit in the padded input.

    Examples
    --------
    >>> conv_output_size(5, 3)
    3
    >>> conv_output_size(125, 5, 2, 2), conv_output_size(49, 5, 2, 2)  # the notes say 62x24
    (63, 25)
    >>> conv_output_size(227, 11, 0, 4)  # AlexNet's first layer
    55
    """
    func = "conv_output_size"
    n = as_int(n, "n", func, minimum=1)
    f = as_int(f, "f", func, minimum=1)
    p = as_int(p, "p", func, minimum=0)
    s = as_int(s, "s", func, minimum=1)
    d = as_int(d, "d", func, minimum=1)
    extent = d * (f - 1) + 1
    if extent > n + 2 * p:
        raise ValueError(
            f"{func}: a window of size {f}"
            + (f" (dilation {d}, extent {extent})" if d > 1 else "")
            + f" does not fit in an input of size {n} padded by {p} on each side ({n + 2 * p}); "
            f"use a smaller kernel or padding >= {-(-(extent - n) // 2)}. "
            f"Received: n={n}, f={f}, p={p}, s={s}, d={d}."
        )
    return (n + 2 * p - extent) // s + 1


def same_padding(n: int, f: int, s: int = 1, *, d: int = 1) -> tuple[int, int]:
    """Padding ``(before, after)`` that TensorFlow/Keras use for ``padding="same"``.

    Keras's rule keeps ``ceil(n / s)`` outputs for any stride, padding ``total = max((ceil(n/s) - 1) s + d(f-1) + 1 - n, 0)``
    with the odd pixel *after*. For stride 1 this equals PyTorch's ``padding="same"`` (which PyTorch allows only
    with stride 1).

    Examples
    --------
    >>> same_padding(5, 3)
    (1, 1)
    >>> same_padding(6, 4)   # an even kernel pads asymmetrically
    (1, 2)
    >>> same_padding(7, 3, 2)  # stride 2 keeps ceil(7/2) = 4 outputs
    (1, 1)
    """
    func = "same_padding"
    n = as_int(n, "n", func, minimum=1)
    f = as_int(f, "f", func, minimum=1)
    s = as_int(s, "s", func, minimum=1)
    d = as_int(d, "d", func, minimum=1)
    out = -(-n // s)
    total = max((out - 1) * s + d * (f - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def resolve_padding(
    padding: Any, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int], func: str
) -> Pads:
    """Turn a padding spec into ``((top, bottom), (left, right))``.

    Accepts an int, an ``(h, w)`` pair, a ``((top, bottom), (left, right))`` pair of pairs, ``"valid"``
    (no padding) or ``"same"`` (stride 1 only, as in PyTorch).
    """
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return (0, 0), (0, 0)
        if mode == "same":
            if stride != (1, 1):
                raise ValueError(
                    f'{func}: padding="same" needs stride 1 (as in PyTorch); received stride={stride}. '
                    "Keras allows it with any stride and pads so that the output has ceil(n / s) positions: "
                    "compute that padding with coursepkg.ops.same_padding(n, f, s) and pass it explicitly."
                )
            return tuple(  # type: ignore[return-value]
                same_padding(k, k, 1, d=d) for k, d in zip(kernel, dilation)
            )
        raise ValueError(
            f'{func}: `padding` must be an int, a pair, "valid" or "same". Received: padding={padding!r}.'
        )
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(
        isinstance(p, (tuple, list)) for p in padding
    ):
        pads = []
        for axis, pair in zip(("height", "width"), padding):
            if len(pair) != 2:
                raise ValueError(
                    f"{func}: each entry of `padding` must be a (before, after) pair; the {axis} entry is "
                    f"{pair!r}. Received: padding={padding!r}."
                )
            pads.append(tuple(as_int(v, "padding", func, minimum=0) for v in pair))
        return tuple(pads)  # type: ignore[return-value]
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ValueError(
                f"{func}: `padding` must be an int, an (h, w) pair or ((top, bottom), (left, right)). "
                f"Received: padding={padding!r}."
            )
        ph, pw = (as_int(v, "padding", func, minimum=0) for v in padding)
        return (ph, ph), (pw, pw)
    p = as_int(padding, "padding", func, minimum=0)
    return (p, p), (p, p)


def pad2d(x: Any, p: Any, value: float = 0.0) -> np.ndarray:
    """Pad the last two axes (height and width) of ``x`` with a constant.

    Parameters
    ----------
    x : array_like of shape (H, W), (C, H, W) or (N, C, H, W)
    p : int, (ph, pw) or ((top, bottom), (left, right))
        Padding of the height and width axes; an int pads all four sides equally.
    value : float
        The constant to pad with (``-inf`` for max pooling).

    Returns
    -------
    ndarray of shape (..., H + top + bottom, W + left + right)

    Examples
    --------
    >>> pad2d(np.ones((2, 2)), 1).astype(int)
    array([[0, 0, 0, 0],
           [0, 1, 1, 0],
           [0, 1, 1, 0],
           [0, 0, 0, 0]])
    """
    func = "pad2d"
    arr = as_numeric_array(x, "x", func)
    if arr.ndim not in (2, 3, 4):
        raise ValueError(
            f"{func}: `x` must have shape (H, W), (C, H, W) or (N, C, H, W); got shape {arr.shape}."
        )
    if isinstance(p, str):
        raise TypeError(f'{func}: `p` must be an int or pairs of ints, not a string. Received: p={p!r}.')
    (top, bottom), (left, right) = resolve_padding(p, (1, 1), (1, 1), (1, 1), func)
    value = float(value)
    if arr.dtype.kind != "f" and not value.is_integer():  # -inf or 0.5 do not fit in an int array
        arr = arr.astype(np.float64)
    widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    return np.pad(arr, widths, mode="constant", constant_values=value)
