"""Batch normalisation (Ioffe & Szegedy, 2015): forward in training and inference, backward in training.

Explained in the layer-zoo chapter ({ref}`sec-batchnorm`). Statistics are per feature for (N, D) input and
per channel for (N, C, H, W) input (over the batch and both spatial axes), as ``BatchNorm1d/2d`` compute them.

Running statistics follow PyTorch: ``new = (1 - momentum) * old + momentum * batch``, with the *unbiased*
batch variance. Keras writes the same update with ``momentum_keras = 1 - momentum`` (0.99 by default) and the
biased variance.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_numeric_array, float_dtype


def _axes(x: np.ndarray, func: str) -> tuple[int, ...]:
    if x.ndim == 2:
        return (0,)
    if x.ndim == 4:
        return (0, 2, 3)
    raise ValueError(f"{func}: `x` must have shape (N, D) or (N, C, H, W); got shape {x.shape}.")


def _per_channel(v: Any, name: str, c: int, ndim: int, func: str, dtype) -> np.ndarray:
    arr = as_numeric_array(v, name, func)
    if arr.shape != (c,):
        raise ValueError(f"{func}: `{name}` must have shape ({c},), one value per channel; got shape {arr.shape}.")
    arr = arr.astype(dtype, copy=False)
    return arr.reshape((1, c) + (1,) * (ndim - 2))


def batch_norm(
    x: Any,
    gamma: Any,
    beta: Any,
    running_mean: Any = None,
    running_var: Any = None,
    *,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Batch normalisation forward pass.

    Parameters
    ----------
    x : array_like of shape (N, D) or (N, C, H, W)
    gamma, beta : array_like of shape (C,)
        Scale and shift.
    running_mean, running_var : array_like of shape (C,), optional
        Needed at inference; updated (and returned as new arrays) in training when given.
    training : bool
        Normalise with the batch statistics (``True``) or with the running ones (``False``).
    momentum : float in [0, 1]
        PyTorch's convention (weight of the new batch).
    eps : float
        Added to the variance.

    Returns
    -------
    out : ndarray of the shape of ``x``
        ``gamma * (x - mean) / sqrt(var + eps) + beta``.
    running_mean, running_var : ndarray of shape (C,) or None
        The updated statistics (training) or those given (inference).
    """
    func = "batch_norm"
    x = as_numeric_array(x, "x", func)
    axes = _axes(x, func)
    dtype = float_dtype(x)
    x = x.astype(dtype, copy=False)
    c = x.shape[1]
    g = _per_channel(gamma, "gamma", c, x.ndim, func, dtype)
    b = _per_channel(beta, "beta", c, x.ndim, func, dtype)
    if not 0 <= momentum <= 1:
        raise ValueError(f"{func}: `momentum` must be in [0, 1] (PyTorch's convention). Received: momentum={momentum}.")
    if training:
        count = x.size // c
        if count < 2:
            raise ValueError(
                f"{func}: training needs more than one value per channel to estimate a variance; x has shape "
                f"{x.shape}. Use a batch of two or more, or training=False."
            )
        mean = x.mean(axis=axes, keepdims=True)  # (1, C, 1, 1)
        var = x.var(axis=axes, keepdims=True)  # biased, used to normalise
        new_mean = new_var = None
        if running_mean is not None or running_var is not None:
            if running_mean is None or running_var is None:
                raise ValueError(f"{func}: pass both `running_mean` and `running_var`, or neither.")
            rm = _per_channel(running_mean, "running_mean", c, x.ndim, func, dtype).ravel()
            rv = _per_channel(running_var, "running_var", c, x.ndim, func, dtype).ravel()
            new_mean = (1 - momentum) * rm + momentum * mean.ravel()
            new_var = (1 - momentum) * rv + momentum * var.ravel() * count / (count - 1)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                f"{func}: inference (training=False) normalises with the running statistics; pass "
                "`running_mean` and `running_var`."
            )
        mean = _per_channel(running_mean, "running_mean", c, x.ndim, func, dtype)
        var = _per_channel(running_var, "running_var", c, x.ndim, func, dtype)
        new_mean, new_var = mean.ravel(), var.ravel()
    out = g * (x - mean) / np.sqrt(var + eps) + b
    return out, new_mean, new_var


def batch_norm_backward(
    dout: Any, x: Any, gamma: Any, *, eps: float = 1e-5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`batch_norm` in training mode.

    Returns
    -------
    dx : ndarray of the shape of ``x``
    dgamma, dbeta : ndarray of shape (C,)

    Notes
    -----
    With ``xhat = (x - mean) * inv_std``, ``inv_std = 1 / sqrt(var + eps)`` over the ``m`` values of a channel and
    ``dxhat = dout * gamma``: ``dbeta = sum(dout)``, ``dgamma = sum(dout * xhat)`` and
    ``dx = (inv_std / m) * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))``, the sums running over the
    batch (and spatial) axes.
    """
    func = "batch_norm_backward"
    x = as_numeric_array(x, "x", func)
    d = as_numeric_array(dout, "dout", func)
    if d.shape != x.shape:
        raise ValueError(f"{func}: `dout` has shape {d.shape} but `x` has shape {x.shape}.")
    axes = _axes(x, func)
    dtype = float_dtype(x, d)
    x, d = x.astype(dtype, copy=False), d.astype(dtype, copy=False)
    c = x.shape[1]
    g = _per_channel(gamma, "gamma", c, x.ndim, func, dtype)
    m = x.size // c
    mean = x.mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    xhat = (x - mean) * inv_std
    dbeta = d.sum(axis=axes)
    dgamma = (d * xhat).sum(axis=axes)
    dxhat = d * g
    dx = inv_std / m * (m * dxhat - dxhat.sum(axis=axes, keepdims=True) - xhat * (dxhat * xhat).sum(axis=axes, keepdims=True))
    return dx, dgamma, dbeta
