"""Gradient clipping, as ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``.

Explained in the recurrent-networks chapter (exploding gradients). Both functions change the arrays
**in place**, like their PyTorch namesakes, and skip ``None`` entries (a missing bias gradient), so the
gradients returned by :func:`coursepkg.rnn.rnn_backward` can be passed as they are.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import numpy as np

__all__ = ["clip_grad_norm", "clip_grad_value"]


def _as_grad_list(grads: Any, func: str) -> list[np.ndarray]:
    """The non-None arrays of ``grads`` (one ndarray or a sequence), checked to be writable floats."""
    if isinstance(grads, np.ndarray):
        grads = [grads]
    if not isinstance(grads, (list, tuple)):
        raise TypeError(
            f"{func}: `grads` must be a list (or tuple) of NumPy arrays, or one array. "
            f"Received an object of type {type(grads).__name__}."
        )
    out = []
    for k, g in enumerate(grads):
        if g is None:
            continue
        if not isinstance(g, np.ndarray):
            raise TypeError(
                f"{func}: grads[{k}] must be a NumPy array because it is changed in place; received an "
                f"object of type {type(g).__name__}. Convert it first with np.asarray(g, dtype=np.float64) "
                "and keep a reference to the array."
            )
        if g.dtype.kind != "f":
            raise TypeError(
                f"{func}: grads[{k}] must have a floating dtype because it is changed in place, but its "
                f"dtype is {g.dtype}. Use g.astype(np.float64)."
            )
        if not g.flags.writeable:
            raise ValueError(f"{func}: grads[{k}] is read-only; pass a writable copy, g.copy().")
        out.append(g)
    return out


def _positive_number(value: Any, name: str, func: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: `{name}` must be a real number. Received: {name}={value!r}.")
    value = float(value)
    if not value > 0:  # also catches NaN
        raise ValueError(f"{func}: `{name}` must be > 0. Received: {name}={value!r}.")
    return value


def clip_grad_norm(
    grads: Sequence[np.ndarray | None] | np.ndarray, max_norm: float, *, norm_type: float | str = 2.0
) -> float:
    r"""Rescale ``grads`` in place so that their joint norm is at most ``max_norm``.

    Exactly what ``torch.nn.utils.clip_grad_norm_`` does: one global norm over all arrays (the norm of
    the vector of per-array norms), and one scale factor for all of them.

    Parameters
    ----------
    grads : list or tuple of ndarray (None entries skipped), or one ndarray
        Floating arrays, changed in place.
    max_norm : float
        Largest allowed total norm, > 0.
    norm_type : float or "inf"
        The ``p`` of the p-norm, > 0; ``float("inf")`` or ``"inf"`` for the largest absolute value.

    Returns
    -------
    float
        The total norm **before** clipping (0.0 for an empty list).

    Raises
    ------
    TypeError
        If an entry is not a floating ndarray, or ``max_norm`` / ``norm_type`` is not a number.
    ValueError
        If ``max_norm <= 0`` or ``norm_type <= 0``.

    Notes
    -----
    .. math::
        \|g\|_p = \Big(\sum_k \|g_k\|_p^p\Big)^{1/p}, \qquad
        g_k \leftarrow g_k \cdot \min\Big(1, \frac{\text{max\_norm}}{\|g\|_p + 10^{-6}}\Big)

    The :math:`10^{-6}` keeps the division finite. A norm at most ``max_norm - 1e-6`` is left exactly
    unchanged (scale 1); a norm equal to ``max_norm`` is still scaled, by ``max_norm / (max_norm + 1e-6)``.
    Norms are computed in float64.

    Examples
    --------
    >>> import numpy as np
    >>> g = [np.array([3.0, 0.0]), np.array([4.0])]
    >>> clip_grad_norm(g, 1.0)
    5.0
    >>> np.round(g[0], 6)  # scaled by 1 / (5 + 1e-6)
    array([0.6, 0. ])
    """
    func = "clip_grad_norm"
    arrays = _as_grad_list(grads, func)
    max_norm = _positive_number(max_norm, "max_norm", func)
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        norm_type = math.inf
    p = _positive_number(norm_type, "norm_type", func)
    if not arrays:
        return 0.0
    if math.isinf(p):
        norms = np.array([np.max(np.abs(g), initial=0.0) for g in arrays], dtype=np.float64)
        total = float(np.max(norms))
    else:
        norms = np.array([np.linalg.norm(g.ravel().astype(np.float64), ord=p) for g in arrays])
        total = float(np.linalg.norm(norms, ord=p))
    coef = max_norm / (total + 1e-6)
    scale = 1.0 if coef >= 1.0 else coef  # min(1, coef), but a NaN coef stays NaN (torch.clamp does too)
    with np.errstate(invalid="ignore"):  # inf * 0 -> NaN, silently, as in PyTorch
        for g in arrays:
            g *= scale  # a NaN total gives a NaN scale and NaN gradients, as in PyTorch
    return total


def clip_grad_value(grads: Sequence[np.ndarray | None] | np.ndarray, clip_value: float) -> None:
    """Clip every entry of ``grads`` to ``[-clip_value, clip_value]`` in place, as ``clip_grad_value_``.

    Parameters
    ----------
    grads : list or tuple of ndarray (None entries skipped), or one ndarray
        Floating arrays, changed in place.
    clip_value : float
        Largest allowed absolute value, > 0.

    Raises
    ------
    TypeError
        If an entry is not a floating ndarray, or ``clip_value`` is not a number.
    ValueError
        If ``clip_value <= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.array([-3.0, 0.5, 2.0])
    >>> clip_grad_value([g], 1.0)
    >>> g
    array([-1. ,  0.5,  1. ])
    """
    func = "clip_grad_value"
    arrays = _as_grad_list(grads, func)
    clip_value = _positive_number(clip_value, "clip_value", func)
    for g in arrays:
        np.clip(g, -clip_value, clip_value, out=g)
