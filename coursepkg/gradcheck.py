"""Central-difference gradient checking, used by the tests and the assignments.

A backward pass is right when it agrees with ``(f(x + eps) - f(x - eps)) / (2 eps)`` at every index, in
float64. No chapter teaches this helper; the tests use it on every backward pass of :mod:`coursepkg.ops` and
:mod:`coursepkg.rnn`, and the chapter "Recurrent networks: RNN, LSTM, GRU" ({ref}`sec-bptt`) mentions it
where it compares BPTT with automatic differentiation.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, *, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of a scalar function ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``; it is called ``2 * x.size`` times.
    x : ndarray of any shape, float64
        Point at which to differentiate. It is perturbed in place and restored.
    eps : float
        Step size.

    Returns
    -------
    grad : ndarray of the shape of ``x``
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(
            "numerical_gradient: `x` must be a float64 ndarray (central differences are meaningless "
            f"in float32). Received: {type(x).__name__} of dtype {getattr(x, 'dtype', None)}; "
            "use x.astype(np.float64)."
        )
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in it:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + eps
        f_plus = float(f(x))
        x[idx] = old - eps
        f_minus = float(f(x))
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad


def assert_grad_close(
    name: str, expected: np.ndarray, received: np.ndarray, *, rtol: float = 1e-5, atol: float = 1e-7
) -> None:
    """Raise AssertionError naming the argument, the worst index, the expected and received values."""
    expected = np.asarray(expected)
    received = np.asarray(received)
    if expected.shape != received.shape:
        raise AssertionError(
            f"gradient of `{name}`: expected shape {expected.shape}, received shape {received.shape}."
        )
    err = np.abs(expected - received) - (atol + rtol * np.abs(expected))
    if err.size and np.max(err) > 0:
        idx = np.unravel_index(int(np.argmax(err)), err.shape)
        raise AssertionError(
            f"gradient of `{name}` differs at index {tuple(int(i) for i in idx)}: "
            f"expected {expected[idx]!r}, received {received[idx]!r} "
            f"(max abs difference {np.max(np.abs(expected - received)):.3g}, rtol={rtol}, atol={atol})."
        )
