"""Convert recurrent weights between Keras's layout and PyTorch's (the one :mod:`coursepkg.rnn` uses).

Explained in the recurrent-networks chapter. One layer, one direction at a time:

==========  ===============================================  ===============================
            Keras (``layer.get_weights()``)                   PyTorch / coursepkg
==========  ===============================================  ===============================
input       ``kernel`` ``(D, G*H)``                          ``weight_ih`` ``(G*H, D)``
recurrent   ``recurrent_kernel`` ``(H, G*H)``                ``weight_hh`` ``(G*H, H)``
bias        ``bias`` ``(G*H,)``; GRU ``(2, 3H)``             ``bias_ih``, ``bias_hh`` ``(G*H,)``
LSTM gates  i, f, c, o                                       i, f, g, o (same order)
GRU gates   z, r, h                                          r, z, n (first two swapped)
==========  ===============================================  ===============================

Keras stores matrices transposed (inputs on the rows) and, for the SimpleRNN and the LSTM, one bias
where PyTorch has two whose sum is what counts. A Keras GRU with ``reset_after=True`` (the default)
has two bias rows, input and recurrent, exactly PyTorch's ``bias_ih`` and ``bias_hh``. A Keras GRU
with ``reset_after=False`` applies the reset gate *before* the recurrent matmul,
``tanh(W x + U (r * h) + b)``, a different function that no PyTorch weights reproduce, so it is refused.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from coursepkg._validation import as_numeric_array, check_ndim

__all__ = ["weights_from_keras", "weights_to_keras"]

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
_KERAS_NAMES = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def _check_cell(cell: Any, func: str) -> int:
    if cell not in _GATES:
        raise ValueError(
            f"{func}: `cell` must be 'rnn' (Keras SimpleRNN), 'lstm' or 'gru'. Received: cell={cell!r}."
        )
    return _GATES[cell]


def _swap_rz(a: np.ndarray, H: int, axis: int) -> np.ndarray:
    """Swap the first two gate blocks of size ``H`` along ``axis``: Keras z, r, h <-> PyTorch r, z, n."""
    a = np.moveaxis(a, axis, -1)  # (..., 3H)
    a = np.concatenate([a[..., H : 2 * H], a[..., :H], a[..., 2 * H :]], axis=-1)  # (..., 3H)
    return np.ascontiguousarray(np.moveaxis(a, -1, axis))


def weights_from_keras(
    weights: Sequence[np.ndarray], *, cell: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Keras ``SimpleRNN`` / ``LSTM`` / ``GRU`` weights -> ``(weight_ih, weight_hh, bias_ih, bias_hh)``.

    Parameters
    ----------
    weights : list of ndarray
        ``layer.get_weights()``: ``[kernel, recurrent_kernel]`` plus ``bias`` if the layer has one.
        ``kernel`` is ``(D, G*H)``, ``recurrent_kernel`` ``(H, G*H)``, ``bias`` ``(G*H,)`` or, for a GRU
        with ``reset_after=True``, ``(2, 3H)``.
    cell : {"rnn", "lstm", "gru"}

    Returns
    -------
    weight_ih : ndarray of shape (G*H, D)
    weight_hh : ndarray of shape (G*H, H)
    bias_ih, bias_hh : ndarray of shape (G*H,), or None
        None when the Keras layer has no bias. For the SimpleRNN and the LSTM, ``bias_ih`` is Keras's
        bias and ``bias_hh`` is zeros (only the sum matters).

    Raises
    ------
    TypeError
        If an array does not hold real numbers.
    ValueError
        If ``cell`` is unknown, a shape is inconsistent, or the weights are those of a GRU with
        ``reset_after=False``.

    Examples
    --------
    >>> import numpy as np
    >>> kernel = np.arange(6.0).reshape(2, 3)  # D=2, GRU with H=1, columns z, r, h
    >>> w_ih, w_hh, b_ih, b_hh = weights_from_keras([kernel, np.ones((1, 3)), np.zeros((2, 3))], cell="gru")
    >>> w_ih  # rows r, z, n
    array([[1., 4.],
           [0., 3.],
           [2., 5.]])
    """
    func = "weights_from_keras"
    G = _check_cell(cell, func)
    if not isinstance(weights, (list, tuple)) or len(weights) not in (2, 3):
        raise ValueError(
            f"{func}: `weights` must be the list layer.get_weights() of a Keras {_KERAS_NAMES[cell]} layer: "
            "[kernel, recurrent_kernel] or [kernel, recurrent_kernel, bias]. "
            f"Received: {type(weights).__name__}"
            + (f" of length {len(weights)}." if isinstance(weights, (list, tuple)) else ".")
        )
    kernel = as_numeric_array(weights[0], "kernel", func)
    recurrent = as_numeric_array(weights[1], "recurrent_kernel", func)
    check_ndim(recurrent, (2,), "recurrent_kernel", func, f"(H, {G}*H)")
    H = recurrent.shape[0]
    if recurrent.shape[1] != G * H:
        raise ValueError(
            f"{func}: `recurrent_kernel` must have shape (H, {G}*H) for a Keras {_KERAS_NAMES[cell]}, "
            f"got shape {recurrent.shape}. Check `cell`."
        )
    check_ndim(kernel, (2,), "kernel", func, f"(D, {G}*H)")
    if kernel.shape[1] != G * H:
        raise ValueError(
            f"{func}: `kernel` must have shape (D, {G}*H) = (D, {G * H}) since recurrent_kernel.shape="
            f"{recurrent.shape} gives H={H}; got shape {kernel.shape}."
        )
    weight_ih = np.ascontiguousarray(kernel.T)  # (G*H, D)
    weight_hh = np.ascontiguousarray(recurrent.T)  # (G*H, H)
    bias_ih = bias_hh = None
    if len(weights) == 3:
        bias = as_numeric_array(weights[2], "bias", func)
        if cell == "gru":
            if bias.shape == (G * H,):
                raise ValueError(
                    f"{func}: a GRU bias of shape {bias.shape} comes from "
                    "keras.layers.GRU(reset_after=False), which applies the reset gate before the "
                    "recurrent matmul; PyTorch's GRU (and coursepkg's) cannot represent it. Build the "
                    "Keras layer with reset_after=True (the default)."
                )
            if bias.shape != (2, G * H):
                raise ValueError(
                    f"{func}: a Keras GRU (reset_after=True) bias must have shape (2, 3*H) = (2, {G * H}), "
                    f"got shape {bias.shape}."
                )
            bias_ih, bias_hh = bias[0].copy(), bias[1].copy()  # (3H,), (3H,)
        else:
            if bias.shape != (G * H,):
                raise ValueError(
                    f"{func}: a Keras {_KERAS_NAMES[cell]} bias must have shape ({G}*H,) = ({G * H},), "
                    f"got shape {bias.shape}."
                )
            bias_ih, bias_hh = bias.copy(), np.zeros_like(bias)  # (G*H,), (G*H,)
    if cell == "gru":
        weight_ih = _swap_rz(weight_ih, H, axis=0)  # (3H, D) rows r, z, n
        weight_hh = _swap_rz(weight_hh, H, axis=0)  # (3H, H)
        if bias_ih is not None:
            bias_ih, bias_hh = _swap_rz(bias_ih, H, axis=0), _swap_rz(bias_hh, H, axis=0)
    return weight_ih, weight_hh, bias_ih, bias_hh


def weights_to_keras(
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
    *,
    cell: str,
) -> list[np.ndarray]:
    """PyTorch-layout weights -> the list ``layer.set_weights`` takes for a Keras SimpleRNN / LSTM / GRU.

    Parameters
    ----------
    weight_ih : ndarray of shape (G*H, D)
    weight_hh : ndarray of shape (G*H, H)
    bias_ih, bias_hh : ndarray of shape (G*H,), or None
        One None bias counts as zeros; with both None the Keras layer must have ``use_bias=False``.
    cell : {"rnn", "lstm", "gru"}

    Returns
    -------
    list of ndarray
        ``[kernel (D, G*H), recurrent_kernel (H, G*H)]`` plus ``bias``: ``(G*H,)``, the sum
        ``bias_ih + bias_hh``, for the SimpleRNN and the LSTM; ``(2, 3H)`` for the GRU, to be loaded into
        a ``keras.layers.GRU(reset_after=True)`` (the default).

    Raises
    ------
    TypeError
        If an array does not hold real numbers.
    ValueError
        If ``cell`` is unknown or a shape is inconsistent.
    """
    func = "weights_to_keras"
    G = _check_cell(cell, func)
    weight_ih = as_numeric_array(weight_ih, "weight_ih", func)
    weight_hh = as_numeric_array(weight_hh, "weight_hh", func)
    check_ndim(weight_hh, (2,), "weight_hh", func, f"({G}*H, H)")
    H = weight_hh.shape[1]
    if weight_hh.shape[0] != G * H:
        raise ValueError(
            f"{func}: `weight_hh` must have shape ({G}*H, H) for cell={cell!r}, got shape {weight_hh.shape}."
        )
    check_ndim(weight_ih, (2,), "weight_ih", func, f"({G}*H, D)")
    if weight_ih.shape[0] != G * H:
        raise ValueError(
            f"{func}: `weight_ih` must have {G}*H = {G * H} rows since weight_hh.shape={weight_hh.shape} "
            f"gives H={H}; got shape {weight_ih.shape}."
        )
    biases = []
    for name, b in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if b is not None:
            b = as_numeric_array(b, name, func)
            if b.shape != (G * H,):
                raise ValueError(
                    f"{func}: `{name}` must have shape ({G}*H,) = ({G * H},), got shape {b.shape}."
                )
        biases.append(b)
    if cell == "gru":
        weight_ih = _swap_rz(weight_ih, H, axis=0)  # (3H, D) rows z, r, h
        weight_hh = _swap_rz(weight_hh, H, axis=0)  # (3H, H)
    out = [np.ascontiguousarray(weight_ih.T), np.ascontiguousarray(weight_hh.T)]  # (D, G*H), (H, G*H)
    if biases[0] is None and biases[1] is None:
        return out
    b_ih, b_hh = (np.zeros(G * H, dtype=weight_ih.dtype) if b is None else b for b in biases)
    if cell == "gru":
        out.append(_swap_rz(np.stack([b_ih, b_hh]), H, axis=1))  # (2, 3H)
    else:
        out.append(np.asarray(b_ih + b_hh))  # (G*H,)
    return out
