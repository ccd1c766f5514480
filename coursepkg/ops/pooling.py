"""2-D pooling: max, average, sum, Lp, stochastic and global; backward passes for max and average.

Explained in the pooling chapter ({ref}`sec-pooling`). A pooling window of ``KH x KW`` slides with a stride
(defaulting to the window size, as in both frameworks) and summarises each window by one number.
Max pooling pads with ``-inf`` (a padded cell never wins); average pooling pads with zeros and says
explicitly whether the padded cells count in the divisor (``count_include_pad``, PyTorch's default ``True``;
Keras's ``padding="same"`` excludes them).

Every function accepts ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)`` input and returns the same rank.
The windows are read as ``KH * KW`` strided slices of the padded input (one vectorised operation per
kernel offset), which is as fast as PyTorch on a CPU for the usual small windows.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._validation import as_numeric_array, as_pair, as_rng, float_dtype
from .shapes import pad2d


def _prepare(
    func: str, x: Any, size: Any, stride: Any, padding: Any, *, pad_value: float
) -> tuple[np.ndarray, np.ndarray, tuple[int, int], tuple[int, int], tuple[int, int], int]:
    """Validate, lift to 4-D and pad. Returns (x4, xp, kernel, stride, out_hw, ndim)."""
    arr = as_numeric_array(x, "x", func)
    ndim = arr.ndim
    if ndim not in (2, 3, 4):
        raise ValueError(
            f"{func}: `x` must have shape (H, W), (C, H, W) or (N, C, H, W); got shape {arr.shape}."
        )
    x4 = arr.reshape((1,) * (4 - ndim) + arr.shape).astype(float_dtype(arr), copy=False)  # (N, C, H, W)
    kernel = as_pair(size, "size", func, minimum=1)
    stride = kernel if stride is None else as_pair(stride, "stride", func, minimum=1)
    ph, pw = pool_padding(padding, func)
    pads = ((ph, ph), (pw, pw))
    for (before, after), k, axis in zip(pads, kernel, ("height", "width")):
        if max(before, after) > k // 2:
            raise ValueError(
                f"{func}: padding {max(before, after)} along the {axis} is more than half the window size {k}, "
                f"so a window could cover only padding; use padding <= {k // 2} (the rule PyTorch enforces). "
                f"Received: size={size!r}, padding={padding!r}."
            )
    h, w = x4.shape[2:]
    hp, wp = h + sum(pads[0]), w + sum(pads[1])
    if kernel[0] > hp or kernel[1] > wp:
        raise ValueError(
            f"{func}: window {kernel[0]}x{kernel[1]} is larger than the padded input {hp}x{wp}; "
            f"use a smaller window or more padding. Received: x.shape={arr.shape}, size={size!r}, "
            f"padding={padding!r}."
        )
    out_hw = ((hp - kernel[0]) // stride[0] + 1, (wp - kernel[1]) // stride[1] + 1)
    xp = pad2d(x4, pads, value=pad_value) if any(sum(p) for p in pads) else x4  # (N, C, Hp, Wp)
    return x4, xp, kernel, stride, out_hw, ndim


def pool_padding(padding: Any, func: str) -> tuple[int, int]:
    """Read a pooling padding: an int, an (h, w) pair or "valid" (symmetric padding only)."""
    if isinstance(padding, str):
        if padding.lower() == "valid":
            return 0, 0
        raise ValueError(
            f'{func}: `padding` must be an int, an (h, w) pair or "valid". Received: padding={padding!r}. '
            "For Keras-style \"same\" pooling compute the padding with coursepkg.ops.same_padding(n, f, s)."
        )
    return as_pair(padding, "padding", func, minimum=0)


def _offset_slices(kernel, stride, out_hw):
    """Yield (i, j, slice_h, slice_w): the input cells that kernel offset (i, j) covers, one per output."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
    for i in range(kh):
        for j in range(kw):
            yield i, j, slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw)


def _reduce(xp, kernel, stride, out_hw, combine: Callable[[np.ndarray, np.ndarray], None]) -> np.ndarray:
    """Fold ``combine(acc, window_slice)`` over the KH*KW kernel offsets; acc starts at offset (0, 0)."""
    acc = None
    for _, _, sh_, sw_ in _offset_slices(kernel, stride, out_hw):
        part = xp[:, :, sh_, sw_]  # (N, C, OH, OW)
        if acc is None:
            acc = part.copy()
        else:
            combine(acc, part)
    return acc


def _restore(y: np.ndarray, ndim: int) -> np.ndarray:
    return y.reshape(y.shape[4 - ndim :]) if ndim < 4 else y


def max_pool2d(x: Any, size: Any, stride: Any = None, padding: Any = 0) -> np.ndarray:
    """Max pooling.

    Parameters
    ----------
    x : array_like of shape (N, C, H, W), (C, H, W) or (H, W)
    size : int or (kh, kw)
        Window size.
    stride : int or (sh, sw), optional
        Defaults to ``size`` (non-overlapping windows).
    padding : int or (ph, pw)
        Padding with ``-inf`` on each side, at most half the window.

    Returns
    -------
    ndarray of shape (..., OH, OW)
        ``OH = floor((H + 2 ph - kh) / sh) + 1``.

    Examples
    --------
    >>> x = np.array([[1, 4, 2, 1], [5, 8, 3, 4], [7, 6, 4, 5], [1, 3, 1, 2]])
    >>> max_pool2d(x, 2).astype(int)
    array([[8, 4],
           [7, 5]])
    """
    _, xp, kernel, stride, out_hw, ndim = _prepare("max_pool2d", x, size, stride, padding, pad_value=-np.inf)
    return _restore(_reduce(xp, kernel, stride, out_hw, lambda a, p: np.maximum(a, p, out=a)), ndim)


def sum_pool2d(x: Any, size: Any, stride: Any = None, padding: Any = 0) -> np.ndarray:
    """Sum pooling: the sum of each window (zero padding). Shapes as :func:`max_pool2d`."""
    _, xp, kernel, stride, out_hw, ndim = _prepare("sum_pool2d", x, size, stride, padding, pad_value=0.0)
    return _restore(_reduce(xp, kernel, stride, out_hw, lambda a, p: np.add(a, p, out=a)), ndim)


def _valid_counts(x_hw, kernel, stride, padding_pair, out_hw) -> np.ndarray:
    """Number of real (non-padded) cells in each window: shape (OH, OW)."""
    ones = np.ones((1, 1) + tuple(x_hw))
    ph, pw = padding_pair
    onesp = pad2d(ones, (ph, pw))
    return _reduce(onesp, kernel, stride, out_hw, lambda a, p: np.add(a, p, out=a))[0, 0]


def avg_pool2d(
    x: Any, size: Any, stride: Any = None, padding: Any = 0, *, count_include_pad: bool = True
) -> np.ndarray:
    """Average pooling.

    Parameters
    ----------
    x, size, stride, padding
        As :func:`max_pool2d`; padding is with zeros.
    count_include_pad : bool
        Divide by the full window size ``kh * kw`` (``True``, PyTorch's default) or by the number of real
        cells in the window (``False``, what Keras's ``padding="same"`` does).

    Returns
    -------
    ndarray of shape (..., OH, OW)

    Examples
    --------
    >>> x = np.array([[1, 4, 2, 1], [5, 8, 3, 4], [7, 6, 4, 5], [1, 3, 1, 2]])
    >>> avg_pool2d(x, 2, stride=1)
    array([[4.5 , 4.25, 2.5 ],
           [6.5 , 5.25, 4.  ],
           [4.25, 3.5 , 3.  ]])
    """
    func = "avg_pool2d"
    x4, xp, kernel, stride, out_hw, ndim = _prepare(func, x, size, stride, padding, pad_value=0.0)
    total = _reduce(xp, kernel, stride, out_hw, lambda a, p: np.add(a, p, out=a))  # (N, C, OH, OW)
    if count_include_pad:
        return _restore(total / (kernel[0] * kernel[1]), ndim)
    counts = _valid_counts(x4.shape[2:], kernel, stride, pool_padding(padding, func), out_hw)  # (OH, OW)
    return _restore(total / counts.astype(total.dtype), ndim)


def lp_pool2d(x: Any, size: Any, stride: Any = None, padding: Any = 0, *, p: float = 2.0) -> np.ndarray:
    """Lp pooling: ``(sum over the window of |x|^p) ** (1/p)``.

    ``p = 1`` is sum pooling of magnitudes, ``p = 2`` the Euclidean norm of the window, and ``p -> inf``
    tends to max pooling of magnitudes.

    Notes
    -----
    ``torch.nn.functional.lp_pool2d`` raises ``x`` (not ``|x|``) to the power ``p``, so the two agree on
    non-negative inputs (after a ReLU, where Lp pooling is used) and for even ``p``; PyTorch has no padding
    for it. TensorFlow has no Lp pooling.
    """
    func = "lp_pool2d"
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not np.isfinite(p) or p <= 0:
        raise ValueError(f"{func}: `p` must be a finite number > 0. Received: p={p!r}.")
    _, xp, kernel, stride, out_hw, ndim = _prepare(func, x, size, stride, padding, pad_value=0.0)
    powered = np.abs(xp) ** p  # (N, C, Hp, Wp)
    total = _reduce(powered, kernel, stride, out_hw, lambda a, q: np.add(a, q, out=a))
    return _restore(total ** (1.0 / p), ndim)


def stochastic_pool2d(
    x: Any, size: Any, stride: Any = None, *, rng: Any = None, training: bool = True
) -> np.ndarray:
    """Stochastic pooling (Zeiler & Fergus, 2013) of non-negative activations.

    In training, each window outputs one of its cells drawn with probability ``a_k / sum(a)``
    (a window of zeros outputs 0). At inference, the output is the probability-weighted average
    ``sum(a_k^2) / sum(a_k)``.

    Parameters
    ----------
    x : array_like of shape (N, C, H, W), (C, H, W) or (H, W), all >= 0 (e.g. after a ReLU)
    size, stride
        As :func:`max_pool2d` (no padding).
    rng : None, int or numpy.random.Generator
    training : bool
    """
    func = "stochastic_pool2d"
    x4, xp, kernel, stride, out_hw, ndim = _prepare(func, x, size, stride, 0, pad_value=0.0)
    if np.any(x4 < 0):
        raise ValueError(
            f"{func}: activations must be non-negative (they are used as probabilities); the minimum is "
            f"{x4.min()}. Apply a ReLU first."
        )
    parts = np.stack([xp[:, :, a, b] for _, _, a, b in _offset_slices(kernel, stride, out_hw)], axis=-1)
    total = parts.sum(axis=-1, keepdims=True)  # (N, C, OH, OW, 1)
    safe = np.where(total > 0, total, 1.0)
    if not training:
        return _restore((parts**2).sum(axis=-1) / safe[..., 0], ndim)
    gen = as_rng(rng, func)
    probs = np.where(total > 0, parts / safe, 1.0 / parts.shape[-1])  # (N, C, OH, OW, K)
    u = gen.random(total.shape)  # (N, C, OH, OW, 1)
    choice = np.minimum((np.cumsum(probs, axis=-1) < u).sum(axis=-1), parts.shape[-1] - 1)  # (N, C, OH, OW)
    return _restore(np.take_along_axis(parts, choice[..., None], axis=-1)[..., 0], ndim)


def global_avg_pool2d(x: Any, *, keepdims: bool = False) -> np.ndarray:
    """Mean over height and width: (N, C, H, W) -> (N, C), or (N, C, 1, 1) with ``keepdims``."""
    arr = as_numeric_array(x, "x", "global_avg_pool2d")
    if arr.ndim != 4:
        raise ValueError(f"global_avg_pool2d: `x` must have shape (N, C, H, W); got shape {arr.shape}.")
    return arr.astype(float_dtype(arr), copy=False).mean(axis=(2, 3), keepdims=keepdims)


def global_max_pool2d(x: Any, *, keepdims: bool = False) -> np.ndarray:
    """Max over height and width: (N, C, H, W) -> (N, C), or (N, C, 1, 1) with ``keepdims``."""
    arr = as_numeric_array(x, "x", "global_max_pool2d")
    if arr.ndim != 4:
        raise ValueError(f"global_max_pool2d: `x` must have shape (N, C, H, W); got shape {arr.shape}.")
    return arr.astype(float_dtype(arr), copy=False).max(axis=(2, 3), keepdims=keepdims)


def _check_dout(func: str, dout: Any, x4: np.ndarray, out_hw, ndim: int) -> np.ndarray:
    d = as_numeric_array(dout, "dout", func)
    expected = x4.shape[:2] + tuple(out_hw)
    expected_user = expected[4 - ndim :]
    if d.shape != expected_user:
        raise ValueError(
            f"{func}: `dout` must have the shape of the forward output {expected_user}; got shape {d.shape}."
        )
    return d.reshape(expected).astype(float_dtype(x4, d), copy=False)


def max_pool2d_backward(dout: Any, x: Any, size: Any, stride: Any = None, padding: Any = 0) -> np.ndarray:
    """Gradient of :func:`max_pool2d` with respect to its input.

    Each output's gradient goes to the cell that won its window (the first one in row-major order on ties,
    as in PyTorch); padded cells never win. Overlapping windows add up.

    Parameters
    ----------
    dout : array_like of the shape of ``max_pool2d(x, size, stride, padding)``
    x, size, stride, padding
        As given to :func:`max_pool2d`.

    Returns
    -------
    dx : ndarray of the shape of ``x``
    """
    func = "max_pool2d_backward"
    x4, xp, kernel, stride, out_hw, ndim = _prepare(func, x, size, stride, padding, pad_value=-np.inf)
    d = _check_dout(func, dout, x4, out_hw, ndim)  # (N, C, OH, OW)
    best = np.full(d.shape, -np.inf, dtype=xp.dtype)
    winner = np.zeros(d.shape, dtype=np.intp)  # index of the winning offset, i * KW + j
    for i, j, sh_, sw_ in _offset_slices(kernel, stride, out_hw):
        part = xp[:, :, sh_, sw_]
        better = part > best  # strict: the first maximum keeps the gradient
        best = np.where(better, part, best)
        winner[better] = i * kernel[1] + j
    dxp = np.zeros(xp.shape, dtype=d.dtype)  # (N, C, Hp, Wp)
    for i, j, sh_, sw_ in _offset_slices(kernel, stride, out_hw):
        dxp[:, :, sh_, sw_] += np.where(winner == i * kernel[1] + j, d, 0.0)
    return _crop(dxp, x4, xp, ndim)


def avg_pool2d_backward(
    dout: Any, x: Any, size: Any, stride: Any = None, padding: Any = 0, *, count_include_pad: bool = True
) -> np.ndarray:
    """Gradient of :func:`avg_pool2d` with respect to its input: each output's gradient is shared equally
    by the cells of its window (divided by the same divisor as the forward pass).

    Returns
    -------
    dx : ndarray of the shape of ``x``
    """
    func = "avg_pool2d_backward"
    x4, xp, kernel, stride, out_hw, ndim = _prepare(func, x, size, stride, padding, pad_value=0.0)
    d = _check_dout(func, dout, x4, out_hw, ndim)  # (N, C, OH, OW)
    if count_include_pad:
        share = d / (kernel[0] * kernel[1])
    else:
        share = d / _valid_counts(x4.shape[2:], kernel, stride, pool_padding(padding, func), out_hw)
    dxp = np.zeros(xp.shape, dtype=d.dtype)  # (N, C, Hp, Wp)
    for _, _, sh_, sw_ in _offset_slices(kernel, stride, out_hw):
        dxp[:, :, sh_, sw_] += share
    return _crop(dxp, x4, xp, ndim)


def _crop(dxp: np.ndarray, x4: np.ndarray, xp: np.ndarray, ndim: int) -> np.ndarray:
    top = (xp.shape[2] - x4.shape[2]) // 2
    left = (xp.shape[3] - x4.shape[3]) // 2
    dx = dxp[:, :, top : top + x4.shape[2], left : left + x4.shape[3]]  # (N, C, H, W)
    return _restore(np.ascontiguousarray(dx), ndim)
