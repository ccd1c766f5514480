"""Local response normalisation (Krizhevsky et al., 2012), forward and backward, as PyTorch computes it.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-alexnet`). At every position, each channel is divided by
a power of the sum of squares of its neighbouring channels, so that a strong response damps the channels
next to it ("lateral inhibition"). The functions take PyTorch's parameters, those of
``torch.nn.LocalResponseNorm(size, alpha, beta, k)`` and ``torch.nn.functional.local_response_norm``, and
compute exactly what PyTorch computes. The three parametrisations in use differ (see
:func:`local_response_norm`, Notes): the paper and TensorFlow multiply the *sum* of squares by ``alpha``,
PyTorch (like Caffe) their *mean*.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .._validation import as_int, as_numeric_array, float_dtype

__all__ = ["local_response_norm", "local_response_norm_backward"]


def _check(x: Any, size: Any, alpha: Any, beta: Any, k: Any, func: str) -> tuple[np.ndarray, int, float, float, float]:
    arr = as_numeric_array(x, "x", func)
    if arr.ndim < 3:
        hint = " Add a batch axis with x[None]." if arr.ndim == 2 else ""
        raise ValueError(
            f"{func}: `x` must have shape (N, C, ...) with at least one axis after the channels, e.g. "
            f"(N, C, H, W), as torch.nn.LocalResponseNorm requires; got shape {arr.shape}.{hint}"
        )
    size = as_int(size, "size", func, minimum=1)
    values = []
    for name, value, strict in (("alpha", alpha, False), ("beta", beta, False), ("k", k, True)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise TypeError(f"{func}: `{name}` must be a finite real number. Received: {name}={value!r}.")
        if value < 0 or (strict and value == 0):
            bound = "> 0 (it keeps the divisor away from zero)" if strict else ">= 0"
            raise ValueError(f"{func}: `{name}` must be {bound}. Received: {name}={value}.")
        values.append(float(value))
    return arr.astype(float_dtype(arr), copy=False), size, *values


def _window_sum(v: np.ndarray, before: int, after: int) -> np.ndarray:
    """``out[:, c] = sum(v[:, c - before : c + after + 1])`` along axis 1, channels outside counting as zero."""
    c = v.shape[1]
    zeros = np.zeros((v.shape[0], 1) + v.shape[2:], dtype=v.dtype)
    cum = np.concatenate([zeros, np.cumsum(v, axis=1)], axis=1)  # (N, C + 1, ...): cum[:, j] = sum(v[:, :j])
    hi = np.minimum(np.arange(c) + after + 1, c)  # one past the last channel of each window
    lo = np.maximum(np.arange(c) - before, 0)
    return cum[:, hi] - cum[:, lo]  # (N, C, ...)


def local_response_norm(
    x: Any, size: int, *, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> np.ndarray:
    r"""Local response normalisation across channels, ``torch.nn.LocalResponseNorm``'s formula.

    For channel ``c`` of ``C`` at every position,

    .. math::

        b_c = a_c \Big/ \Big(k + \frac{\alpha}{n} \sum_{j = c - \lfloor n/2 \rfloor}^{c + \lfloor (n-1)/2 \rfloor}
        a_j^2\Big)^{\beta},

    with ``n = size`` and the channels outside ``0 .. C-1`` counting as zero (the sum is still divided by
    ``n`` at the edges, as in PyTorch).

    Parameters
    ----------
    x : array_like of shape (N, C, ...)
        Channels first with at least one axis after them, e.g. ``(N, C, H, W)``; ``(N, C, L)`` and
        ``(N, C, D, H, W)`` work too.
    size : int
        ``n``, the number of neighbouring channels in the sum (the channel itself included). An even size
        takes one more channel before ``c`` than after it, as PyTorch does.
    alpha : float, default 1e-4
        Multiplies the *mean* of the squares (PyTorch's convention): the paper's ``alpha`` times ``size``.
    beta : float, default 0.75
        The exponent.
    k : float, default 1.0
        Added to the scaled sum; > 0 so that the divisor is never zero. (AlexNet: 2.)

    Returns
    -------
    ndarray of the shape of ``x``
        In float32 for float32 (or narrower) input, else float64.

    Raises
    ------
    ValueError
        If ``x`` has fewer than three axes, ``size`` < 1, ``alpha`` or ``beta`` < 0, or ``k`` <= 0.
    TypeError
        If ``x`` is not numeric, ``size`` not an integer or a hyperparameter not a finite number.

    Notes
    -----
    Three parametrisations of the same operation are in use. With the paper's
    :math:`b_c = a_c / (k + \alpha_\text{paper} \sum_j a_j^2)^\beta` over ``n`` channels
    (Krizhevsky et al. 2012: ``n = 5``, ``k = 2``, :math:`\alpha_\text{paper} = 10^{-4}`, ``beta = 0.75``):

    - PyTorch (this function, ``torch.nn.LocalResponseNorm``) *averages* the squares, as Caffe did:
      ``alpha = n * alpha_paper``, ``size = n``, same ``beta`` and ``k``. The paper's AlexNet is
      ``local_response_norm(x, 5, alpha=5e-4, beta=0.75, k=2.0)``; :class:`coursepkg.models.torch.LRN`
      takes the paper's ``alpha`` and does this conversion.
    - TensorFlow, ``tf.nn.local_response_normalization(x, depth_radius, bias, alpha, beta)`` on channels-last
      input, *sums* them, like the paper, over ``c - depth_radius .. c + depth_radius``: ``depth_radius =
      (size - 1) / 2``, ``bias = k``, ``alpha = alpha_torch / size = alpha_paper``. Its window is always
      centred, so only odd sizes can be mapped; :class:`coursepkg.models.keras.LRN` wraps it.

    The backward pass is :func:`local_response_norm_backward`. A loop over the channels computes the same
    sums; the tests check both against PyTorch and TensorFlow.

    Examples
    --------
    >>> a = np.ones((1, 3, 1, 1))
    >>> local_response_norm(a, 3, alpha=3.0, beta=1.0, k=1.0).ravel()  # 1/(1 + 2), 1/(1 + 3), 1/(1 + 2)
    array([0.33333333, 0.25      , 0.33333333])
    """
    x, size, alpha, beta, k = _check(x, size, alpha, beta, k, "local_response_norm")
    squares = _window_sum(x * x, size // 2, (size - 1) // 2)  # (N, C, ...): sum of a_j^2 over the window
    return x / (k + alpha / size * squares) ** beta


def local_response_norm_backward(
    dout: Any, x: Any, size: int, *, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> np.ndarray:
    r"""Gradient of :func:`local_response_norm` with respect to its input.

    Parameters
    ----------
    dout : array_like of the shape of ``x``
        Upstream gradient :math:`\partial L / \partial b`.
    x : array_like of shape (N, C, ...)
        The input of the forward pass.
    size, alpha, beta, k
        As in the forward pass.

    Returns
    -------
    dx : ndarray of the shape of ``x``

    Raises
    ------
    ValueError, TypeError
        As :func:`local_response_norm`, and if ``dout`` and ``x`` differ in shape.

    Notes
    -----
    With :math:`d_c = k + \frac{\alpha}{n} \sum_{j \in W(c)} a_j^2` and :math:`b_c = a_c d_c^{-\beta}`, channel
    ``i`` reaches the loss directly through :math:`b_i` and through the divisor of every channel whose
    window contains it:

    .. math::

        \frac{\partial L}{\partial a_i} = \frac{\partial L}{\partial b_i} d_i^{-\beta}
        - \frac{2 \alpha \beta}{n} a_i \sum_{c:\, i \in W(c)} \frac{\partial L}{\partial b_c} a_c d_c^{-\beta - 1}.

    ``i`` is in ``W(c)`` when ``c`` runs from ``i - floor((n-1)/2)`` to ``i + floor(n/2)``: the window with
    its two sides swapped.
    """
    func = "local_response_norm_backward"
    x, size, alpha, beta, k = _check(x, size, alpha, beta, k, func)
    d = as_numeric_array(dout, "dout", func)
    if d.shape != x.shape:
        raise ValueError(f"{func}: `dout` has shape {d.shape} but `x` has shape {x.shape}; they must match.")
    dtype = float_dtype(x, d)
    x, d = x.astype(dtype, copy=False), d.astype(dtype, copy=False)
    before, after = size // 2, (size - 1) // 2
    div = k + alpha / size * _window_sum(x * x, before, after)  # (N, C, ...): d_c
    scaled = d * x * div ** (-beta - 1)  # dL/db_c a_c d_c^(-beta-1)
    return d * div**-beta - 2 * alpha * beta / size * x * _window_sum(scaled, after, before)
