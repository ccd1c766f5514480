"""Activation functions and their derivatives, numerically stable.

Explained in the pooling and layer-zoo chapter ({ref}`sec-activations`). Each ``f`` has a twin ``f_grad(x)``:
the elementwise derivative ``f'(x)``, so that a backward pass is ``dx = dout * f_grad(x)``. Softmax couples
its inputs, so it has :func:`softmax_backward` (a Jacobian-vector product) instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_numeric_array, float_dtype


def _float(x: Any, func: str) -> np.ndarray:
    arr = as_numeric_array(x, "x", func)
    return arr.astype(float_dtype(arr), copy=False)


def sigmoid(x: Any) -> np.ndarray:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, without overflow for large ``|x|``.

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    x = _float(x, "sigmoid")
    e = np.exp(-np.abs(x))  # never overflows: the exponent is <= 0
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def sigmoid_grad(x: Any) -> np.ndarray:
    """``sigmoid'(x) = s (1 - s)``; at most 0.25 (at 0), which is why deep sigmoid nets vanish."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x: Any) -> np.ndarray:
    """Hyperbolic tangent, ``2 sigmoid(2x) - 1``."""
    return np.tanh(_float(x, "tanh"))


def tanh_grad(x: Any) -> np.ndarray:
    """``tanh'(x) = 1 - tanh(x)^2``; at most 1 (at 0)."""
    t = tanh(x)
    return 1.0 - t * t


def relu(x: Any) -> np.ndarray:
    """Rectified linear unit ``max(0, x)``."""
    x = _float(x, "relu")
    return np.maximum(x, 0.0).astype(x.dtype, copy=False)


def relu_grad(x: Any) -> np.ndarray:
    """1 where ``x > 0``, else 0 (0 at ``x = 0``, as PyTorch and TensorFlow define it)."""
    x = _float(x, "relu_grad")
    return (x > 0).astype(x.dtype)


def leaky_relu(x: Any, slope: float = 0.01) -> np.ndarray:
    """``x`` where positive, ``slope * x`` elsewhere."""
    x = _float(x, "leaky_relu")
    return np.where(x > 0, x, slope * x).astype(x.dtype, copy=False)


def leaky_relu_grad(x: Any, slope: float = 0.01) -> np.ndarray:
    """1 where ``x > 0``, ``slope`` elsewhere."""
    x = _float(x, "leaky_relu_grad")
    return np.where(x > 0, 1.0, slope).astype(x.dtype, copy=False)


def softmax(x: Any, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``; subtracts the maximum first so that ``exp`` never overflows.

    >>> softmax(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    """
    x = _float(x, "softmax")
    z = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: Any, axis: int = -1) -> np.ndarray:
    """``log(softmax(x))`` computed as ``z - log(sum(exp(z)))`` with ``z = x - max(x)``."""
    x = _float(x, "log_softmax")
    z = x - np.max(x, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def softmax_backward(dout: Any, y: Any, axis: int = -1) -> np.ndarray:
    """Gradient through softmax: ``dx = y * (dout - sum(dout * y))`` along ``axis``.

    Parameters
    ----------
    dout : array_like, the gradient with respect to the softmax output
    y : array_like of the same shape, the softmax output ``softmax(x, axis)``

    Notes
    -----
    The Jacobian is ``J = diag(y) - y y^T``; multiplying it by ``dout`` gives the formula above without
    building the ``K x K`` matrix.
    """
    d = _float(dout, "softmax_backward")
    y = _float(y, "softmax_backward")
    if d.shape != y.shape:
        raise ValueError(
            f"softmax_backward: `dout` and `y` must have the same shape; got {d.shape} and {y.shape}."
        )
    return y * (d - np.sum(d * y, axis=axis, keepdims=True))


def softmax_jacobian(y: Any) -> np.ndarray:
    """The ``(K, K)`` Jacobian ``diag(y) - y y^T`` of softmax at output ``y`` of shape (K,)."""
    y = _float(y, "softmax_jacobian")
    if y.ndim != 1:
        raise ValueError(f"softmax_jacobian: `y` must have shape (K,); got shape {y.shape}.")
    return np.diag(y) - np.outer(y, y)
