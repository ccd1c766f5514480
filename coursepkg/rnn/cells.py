"""One time step of the Elman RNN, the LSTM and the GRU: forward and backward side by side.

Explained in the recurrent-networks chapter. The weights use PyTorch's layout and gate order, so
they can be copied to and from ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` (:mod:`coursepkg.rnn.layout`
converts Keras weights):

============  ==========================  ==========================  ===========
cell          ``weight_ih``               ``weight_hh``               gate order
============  ==========================  ==========================  ===========
RNN           ``(H, D)``                  ``(H, H)``                  --
LSTM          ``(4H, D)``                 ``(4H, H)``                 i, f, g, o
GRU           ``(3H, D)``                 ``(3H, H)``                 r, z, n
============  ==========================  ==========================  ===========

Shape letters: ``N`` batch, ``D`` input features, ``H`` hidden units, ``G`` gate groups (1, 4, 3).
Biases ``(G*H,)`` may be ``None`` (no bias; its gradient is then ``None`` too, like a PyTorch
module built with ``bias=False``).

The ``_*_cell`` / ``_*_cell_backward`` helpers take the pre-activations, so that
:mod:`coursepkg.rnn.sequence` can compute ``x @ weight_ih.T`` for all time steps at once and reuse
the same gate arithmetic.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from coursepkg.rnn._checks import check_cache, check_nonlinearity, check_recurrent_inputs, check_upstream

__all__ = [
    "StepGrads",
    "LSTMStepGrads",
    "RNNStepCache",
    "LSTMStepCache",
    "GRUStepCache",
    "rnn_step",
    "rnn_step_backward",
    "lstm_step",
    "lstm_step_backward",
    "gru_step",
    "gru_step_backward",
]


class StepGrads(NamedTuple):
    """Gradients of one RNN or GRU step (``None`` for a bias that was ``None``)."""

    dx: np.ndarray  # (N, D)
    dh_prev: np.ndarray  # (N, H)
    dweight_ih: np.ndarray  # (G*H, D)
    dweight_hh: np.ndarray  # (G*H, H)
    dbias_ih: np.ndarray | None  # (G*H,)
    dbias_hh: np.ndarray | None  # (G*H,)


class LSTMStepGrads(NamedTuple):
    """Gradients of one LSTM step (``None`` for a bias that was ``None``)."""

    dx: np.ndarray  # (N, D)
    dh_prev: np.ndarray  # (N, H)
    dc_prev: np.ndarray  # (N, H)
    dweight_ih: np.ndarray  # (4H, D)
    dweight_hh: np.ndarray  # (4H, H)
    dbias_ih: np.ndarray | None  # (4H,)
    dbias_hh: np.ndarray | None  # (4H,)


class RNNStepCache(NamedTuple):
    """What :func:`rnn_step_backward` needs from :func:`rnn_step`."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    h_next: np.ndarray  # (N, H)
    weight_ih: np.ndarray  # (H, D)
    weight_hh: np.ndarray  # (H, H)
    has_bias_ih: bool
    has_bias_hh: bool
    nonlinearity: str


class LSTMStepCache(NamedTuple):
    """What :func:`lstm_step_backward` needs from :func:`lstm_step`."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    c_prev: np.ndarray  # (N, H)
    gates: np.ndarray  # (N, 4H) activated gates i, f, g, o
    tanh_c: np.ndarray  # (N, H) tanh(c_next)
    weight_ih: np.ndarray  # (4H, D)
    weight_hh: np.ndarray  # (4H, H)
    has_bias_ih: bool
    has_bias_hh: bool


class GRUStepCache(NamedTuple):
    """What :func:`gru_step_backward` needs from :func:`gru_step`."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    gates: np.ndarray  # (N, 3H) activated gates r, z, n
    hh_n: np.ndarray  # (N, H) W_hn h_prev + b_hn, before the reset gate multiplies it
    weight_ih: np.ndarray  # (3H, D)
    weight_hh: np.ndarray  # (3H, H)
    has_bias_ih: bool
    has_bias_hh: bool


def _sigmoid(a: np.ndarray) -> np.ndarray:
    """Logistic function without overflow warnings for large negative ``a``."""
    e = np.exp(-np.abs(a))  # in (0, 1]: never overflows
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _affine(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """``x @ w.T + b``: (..., K) @ (M, K).T -> (..., M)."""
    out = x @ w.T  # (..., M)
    return out if b is None else out + b


def _param_grads(
    dpre_ih: np.ndarray,
    dpre_hh: np.ndarray,
    x: np.ndarray,
    h_prev: np.ndarray,
    has_bias_ih: bool,
    has_bias_hh: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Weight and bias gradients from the pre-activation gradients, summed over the leading axes."""
    G_H, D, H = dpre_ih.shape[-1], x.shape[-1], h_prev.shape[-1]
    dpre_ih2 = dpre_ih.reshape(-1, G_H)  # (N*T, G*H)
    dpre_hh2 = dpre_hh.reshape(-1, G_H)  # (N*T, G*H)
    dweight_ih = dpre_ih2.T @ x.reshape(-1, D)  # (G*H, D)
    dweight_hh = dpre_hh2.T @ h_prev.reshape(-1, H)  # (G*H, H)
    dbias_ih = dpre_ih2.sum(axis=0) if has_bias_ih else None  # (G*H,)
    dbias_hh = dpre_hh2.sum(axis=0) if has_bias_hh else None  # (G*H,)
    return dweight_ih, dweight_hh, dbias_ih, dbias_hh


# ----------------------------------------------------------------------------------------- RNN


def _rnn_cell(pre: np.ndarray, nonlinearity: str) -> np.ndarray:
    return np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0)


def _rnn_cell_backward(dh: np.ndarray, h: np.ndarray, nonlinearity: str) -> np.ndarray:
    """Gradient of the pre-activation from that of ``h`` (the ReLU derivative at 0 is 0, as in torch)."""
    return dh * (1 - h * h) if nonlinearity == "tanh" else dh * (h > 0)


def rnn_step(
    x: np.ndarray,
    h_prev: np.ndarray | None,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
    *,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, RNNStepCache]:
    r"""One step of the Elman RNN, as ``torch.nn.RNNCell``.

    Parameters
    ----------
    x : ndarray of shape (N, D)
        Input at this time step.
    h_prev : ndarray of shape (N, H), or None
        Previous hidden state; None means zeros.
    weight_ih : ndarray of shape (H, D)
    weight_hh : ndarray of shape (H, H)
    bias_ih, bias_hh : ndarray of shape (H,), or None
    nonlinearity : {"tanh", "relu"}

    Returns
    -------
    h_next : ndarray of shape (N, H)
    cache : RNNStepCache
        Pass it to :func:`rnn_step_backward`.

    Raises
    ------
    TypeError
        If an array does not hold real numbers.
    ValueError
        If a shape does not match the letters above, or ``nonlinearity`` is unknown.

    Notes
    -----
    .. math:: h' = \phi(W_{ih} x + b_{ih} + W_{hh} h + b_{hh}), \quad \phi \in \{\tanh, \mathrm{relu}\}

    Examples
    --------
    >>> import numpy as np
    >>> h, _ = rnn_step(np.array([[1.0]]), np.array([[0.5]]), np.array([[2.0]]), np.array([[0.5]]),
    ...                 np.array([1.0]), None, nonlinearity="relu")
    >>> h  # 2*1 + 0.5*0.5 + 1
    array([[3.25]])
    """
    func = "rnn_step"
    nonlinearity = check_nonlinearity(nonlinearity, func)
    x, h_prev, _, weight_ih, weight_hh, bias_ih, bias_hh = check_recurrent_inputs(
        func, "rnn", x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh, step=True
    )
    pre = _affine(x, weight_ih, bias_ih) + _affine(h_prev, weight_hh, bias_hh)  # (N, H)
    h_next = _rnn_cell(pre, nonlinearity)  # (N, H)
    cache = RNNStepCache(
        x, h_prev, h_next, weight_ih, weight_hh, bias_ih is not None, bias_hh is not None, nonlinearity
    )
    return h_next, cache


def rnn_step_backward(dh_next: np.ndarray | None, cache: RNNStepCache) -> StepGrads:
    """Backward pass of :func:`rnn_step`.

    Parameters
    ----------
    dh_next : ndarray of shape (N, H)
        Gradient of the loss with respect to ``h_next``.
    cache : RNNStepCache
        From :func:`rnn_step`.

    Returns
    -------
    StepGrads
        ``dx`` (N, D), ``dh_prev`` (N, H), ``dweight_ih`` (H, D), ``dweight_hh`` (H, H),
        ``dbias_ih`` and ``dbias_hh`` (H,) or None.
    """
    func = "rnn_step_backward"
    check_cache(cache, RNNStepCache, "rnn_step", func)
    dh_next = check_upstream(dh_next, "dh_next", cache.h_next.shape, "(N, H)", func, cache.h_next.dtype)
    dpre = _rnn_cell_backward(dh_next, cache.h_next, cache.nonlinearity)  # (N, H)
    dx = dpre @ cache.weight_ih  # (N, D)
    dh_prev = dpre @ cache.weight_hh  # (N, H)
    dw = _param_grads(dpre, dpre, cache.x, cache.h_prev, cache.has_bias_ih, cache.has_bias_hh)
    return StepGrads(dx, dh_prev, *dw)


# ---------------------------------------------------------------------------------------- LSTM


def _lstm_cell(pre: np.ndarray, c_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gate arithmetic of the LSTM from the pre-activations ``pre`` (N, 4H)."""
    H = c_prev.shape[-1]
    gates = np.empty_like(pre)  # (N, 4H)
    gates[..., : 2 * H] = _sigmoid(pre[..., : 2 * H])  # i, f
    gates[..., 2 * H : 3 * H] = np.tanh(pre[..., 2 * H : 3 * H])  # g
    gates[..., 3 * H :] = _sigmoid(pre[..., 3 * H :])  # o
    i, f, g, o = np.split(gates, 4, axis=-1)  # 4 x (N, H)
    c = f * c_prev + i * g  # (N, H)
    tanh_c = np.tanh(c)
    h = o * tanh_c  # (N, H)
    return h, c, gates, tanh_c


def _lstm_cell_backward(
    dh: np.ndarray, dc: np.ndarray, c_prev: np.ndarray, gates: np.ndarray, tanh_c: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of the pre-activations (N, 4H) and of ``c_prev`` (N, H)."""
    i, f, g, o = np.split(gates, 4, axis=-1)  # 4 x (N, H)
    dc = dc + dh * o * (1 - tanh_c * tanh_c)  # (N, H): both paths into c
    dpre = np.concatenate(
        [
            dc * g * i * (1 - i),  # di
            dc * c_prev * f * (1 - f),  # df
            dc * i * (1 - g * g),  # dg
            dh * tanh_c * o * (1 - o),  # do
        ],
        axis=-1,
    )  # (N, 4H)
    return dpre, dc * f


def lstm_step(
    x: np.ndarray,
    h_prev: np.ndarray | None,
    c_prev: np.ndarray | None,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, LSTMStepCache]:
    r"""One step of the LSTM, as ``torch.nn.LSTMCell`` (gate order i, f, g, o).

    Parameters
    ----------
    x : ndarray of shape (N, D)
    h_prev, c_prev : ndarray of shape (N, H), or None
        Previous hidden and cell states; None means zeros.
    weight_ih : ndarray of shape (4H, D)
    weight_hh : ndarray of shape (4H, H)
    bias_ih, bias_hh : ndarray of shape (4H,), or None

    Returns
    -------
    h_next : ndarray of shape (N, H)
    c_next : ndarray of shape (N, H)
    cache : LSTMStepCache
        Pass it to :func:`lstm_step_backward`.

    Raises
    ------
    TypeError, ValueError
        As :func:`rnn_step`.

    Notes
    -----
    .. math::
        [i, f, g, o] = [\sigma, \sigma, \tanh, \sigma](W_{ih} x + b_{ih} + W_{hh} h + b_{hh}), \quad
        c' = f \odot c + i \odot g, \quad h' = o \odot \tanh(c')

    Examples
    --------
    With every weight and bias zero, i = f = o = 1/2 and g = 0, so c' = c / 2:

    >>> import numpy as np
    >>> h, c, _ = lstm_step(np.ones((1, 2)), None, np.ones((1, 1)), np.zeros((4, 2)), np.zeros((4, 1)))
    >>> c
    array([[0.5]])
    """
    func = "lstm_step"
    x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh = check_recurrent_inputs(
        func, "lstm", x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh, c0=c_prev, step=True
    )
    pre = _affine(x, weight_ih, bias_ih) + _affine(h_prev, weight_hh, bias_hh)  # (N, 4H)
    h_next, c_next, gates, tanh_c = _lstm_cell(pre, c_prev)  # (N, H), (N, H), (N, 4H), (N, H)
    cache = LSTMStepCache(
        x, h_prev, c_prev, gates, tanh_c, weight_ih, weight_hh, bias_ih is not None, bias_hh is not None
    )
    return h_next, c_next, cache


def lstm_step_backward(
    dh_next: np.ndarray | None, dc_next: np.ndarray | None, cache: LSTMStepCache
) -> LSTMStepGrads:
    """Backward pass of :func:`lstm_step`.

    Parameters
    ----------
    dh_next, dc_next : ndarray of shape (N, H), or None
        Gradients of the loss with respect to ``h_next`` and ``c_next``; None means zeros.
    cache : LSTMStepCache
        From :func:`lstm_step`.

    Returns
    -------
    LSTMStepGrads
        ``dx`` (N, D), ``dh_prev`` and ``dc_prev`` (N, H), ``dweight_ih`` (4H, D),
        ``dweight_hh`` (4H, H), ``dbias_ih`` and ``dbias_hh`` (4H,) or None.
    """
    func = "lstm_step_backward"
    check_cache(cache, LSTMStepCache, "lstm_step", func)
    shape, dtype = cache.c_prev.shape, cache.c_prev.dtype
    dh_next = check_upstream(dh_next, "dh_next", shape, "(N, H)", func, dtype)
    dc_next = check_upstream(dc_next, "dc_next", shape, "(N, H)", func, dtype)
    dpre, dc_prev = _lstm_cell_backward(dh_next, dc_next, cache.c_prev, cache.gates, cache.tanh_c)
    dx = dpre @ cache.weight_ih  # (N, D)
    dh_prev = dpre @ cache.weight_hh  # (N, H)
    dw = _param_grads(dpre, dpre, cache.x, cache.h_prev, cache.has_bias_ih, cache.has_bias_hh)
    return LSTMStepGrads(dx, dh_prev, dc_prev, *dw)


# ----------------------------------------------------------------------------------------- GRU


def _gru_cell(
    pre_ih: np.ndarray, pre_hh: np.ndarray, h_prev: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """GRU arithmetic from ``W_ih x + b_ih`` and ``W_hh h + b_hh`` (both (N, 3H)); PyTorch's equations."""
    H = h_prev.shape[-1]
    gates = np.empty_like(pre_ih)  # (N, 3H)
    gates[..., : 2 * H] = _sigmoid(pre_ih[..., : 2 * H] + pre_hh[..., : 2 * H])  # r, z
    r, z = gates[..., :H], gates[..., H : 2 * H]  # (N, H) each
    gates[..., 2 * H :] = np.tanh(pre_ih[..., 2 * H :] + r * pre_hh[..., 2 * H :])  # n
    n = gates[..., 2 * H :]
    h = (1 - z) * n + z * h_prev  # (N, H)
    return h, gates


def _gru_cell_backward(
    dh: np.ndarray, h_prev: np.ndarray, gates: np.ndarray, hh_n: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``W_ih x + b_ih`` (N, 3H) and ``W_hh h + b_hh`` (N, 3H), and the direct one of ``h_prev``.

    ``dh_prev`` is the direct part ``dh * z`` plus ``dpre_hh @ weight_hh``, added by the caller.
    """
    r, z, n = np.split(gates, 3, axis=-1)  # 3 x (N, H)
    dn = dh * (1 - z) * (1 - n * n)  # (N, H), gradient of n's pre-activation
    dz = dh * (h_prev - n) * z * (1 - z)  # (N, H)
    dr = dn * hh_n * r * (1 - r)  # (N, H)
    dpre_ih = np.concatenate([dr, dz, dn], axis=-1)  # (N, 3H)
    dpre_hh = np.concatenate([dr, dz, dn * r], axis=-1)  # (N, 3H)
    return dpre_ih, dpre_hh, dh * z


def gru_step(
    x: np.ndarray,
    h_prev: np.ndarray | None,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
) -> tuple[np.ndarray, GRUStepCache]:
    r"""One step of the GRU, as ``torch.nn.GRUCell`` (gate order r, z, n).

    Parameters
    ----------
    x : ndarray of shape (N, D)
    h_prev : ndarray of shape (N, H), or None
        Previous hidden state; None means zeros.
    weight_ih : ndarray of shape (3H, D)
    weight_hh : ndarray of shape (3H, H)
    bias_ih, bias_hh : ndarray of shape (3H,), or None

    Returns
    -------
    h_next : ndarray of shape (N, H)
    cache : GRUStepCache
        Pass it to :func:`gru_step_backward`.

    Raises
    ------
    TypeError, ValueError
        As :func:`rnn_step`.

    Notes
    -----
    PyTorch's equations, where the reset gate multiplies ``W_hn h + b_hn`` (Keras's
    ``reset_after=True``, its default):

    .. math::
        r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}), \quad
        z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}),

        n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})), \quad
        h' = (1 - z) \odot n + z \odot h

    Examples
    --------
    With every weight and bias zero, r = z = 1/2 and n = 0, so h' = h / 2:

    >>> import numpy as np
    >>> h, _ = gru_step(np.ones((1, 2)), np.ones((1, 1)), np.zeros((3, 2)), np.zeros((3, 1)))
    >>> h
    array([[0.5]])
    """
    func = "gru_step"
    x, h_prev, _, weight_ih, weight_hh, bias_ih, bias_hh = check_recurrent_inputs(
        func, "gru", x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh, step=True
    )
    H = h_prev.shape[1]
    pre_ih = _affine(x, weight_ih, bias_ih)  # (N, 3H)
    pre_hh = _affine(h_prev, weight_hh, bias_hh)  # (N, 3H)
    h_next, gates = _gru_cell(pre_ih, pre_hh, h_prev)  # (N, H), (N, 3H)
    cache = GRUStepCache(
        x, h_prev, gates, pre_hh[:, 2 * H :], weight_ih, weight_hh, bias_ih is not None, bias_hh is not None
    )
    return h_next, cache


def gru_step_backward(dh_next: np.ndarray | None, cache: GRUStepCache) -> StepGrads:
    """Backward pass of :func:`gru_step`.

    Parameters
    ----------
    dh_next : ndarray of shape (N, H)
        Gradient of the loss with respect to ``h_next``.
    cache : GRUStepCache
        From :func:`gru_step`.

    Returns
    -------
    StepGrads
        ``dx`` (N, D), ``dh_prev`` (N, H), ``dweight_ih`` (3H, D), ``dweight_hh`` (3H, H),
        ``dbias_ih`` and ``dbias_hh`` (3H,) or None.
    """
    func = "gru_step_backward"
    check_cache(cache, GRUStepCache, "gru_step", func)
    dh_next = check_upstream(dh_next, "dh_next", cache.h_prev.shape, "(N, H)", func, cache.h_prev.dtype)
    dpre_ih, dpre_hh, dh_direct = _gru_cell_backward(dh_next, cache.h_prev, cache.gates, cache.hh_n)
    dx = dpre_ih @ cache.weight_ih  # (N, D)
    dh_prev = dh_direct + dpre_hh @ cache.weight_hh  # (N, H)
    dw = _param_grads(dpre_ih, dpre_hh, cache.x, cache.h_prev, cache.has_bias_ih, cache.has_bias_hh)
    return StepGrads(dx, dh_prev, *dw)
