r"""Full sequences: forward through time and backpropagation through time (BPTT), side by side.

Explained in the recurrent-networks chapter. Sequences are batch-first, as ``torch.nn.RNN(...,
batch_first=True)``; weights are in PyTorch's layout and gate order (see :mod:`coursepkg.rnn.cells`).

Shape letters: ``N`` batch, ``T`` time steps, ``D`` input features, ``H`` hidden units, ``G`` gate
groups (RNN 1, LSTM 4, GRU 3).

Every ``*_forward`` returns ``(hs, cache)``: the hidden states ``hs`` of shape ``(N, T, H)`` (what
PyTorch calls ``output``) and a cache, a ``NamedTuple`` holding everything the backward pass needs.
The final states are ``hs[:, -1]`` and, for the LSTM, ``cache.cs[:, -1]``: PyTorch's ``(h_n, c_n)``
for one layer.

Every ``*_backward(dhs, cache, *, dh_T=None)`` takes the gradient of the loss with respect to ``hs``
and, optionally, a gradient arriving at the final state from elsewhere (``dh_T``, and ``dc_T`` for the
LSTM), and returns a ``NamedTuple`` of gradients. :func:`hidden_grads` and :func:`hidden_grad_norms`
return the *total* gradient with respect to every hidden state, for the vanishing-gradient plot.

The input projection ``x @ weight_ih.T`` is computed for all time steps at once (one large matmul);
only the recurrent part loops over time. The tests check every function against a loop of the
single-step functions of :mod:`coursepkg.rnn.cells`, against PyTorch, and against central differences.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from coursepkg.rnn._checks import check_cache, check_nonlinearity, check_recurrent_inputs, check_upstream
from coursepkg.rnn.cells import (
    _affine,
    _gru_cell,
    _gru_cell_backward,
    _lstm_cell,
    _lstm_cell_backward,
    _param_grads,
    _rnn_cell,
    _rnn_cell_backward,
)

__all__ = [
    "RNNCache",
    "LSTMCache",
    "GRUCache",
    "RecurrentGrads",
    "LSTMGrads",
    "rnn_forward",
    "rnn_backward",
    "lstm_forward",
    "lstm_backward",
    "gru_forward",
    "gru_backward",
    "hidden_grads",
    "hidden_grad_norms",
]


class RNNCache(NamedTuple):
    """What :func:`rnn_backward` needs from :func:`rnn_forward`."""

    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    hs: np.ndarray  # (N, T, H)
    weight_ih: np.ndarray  # (H, D)
    weight_hh: np.ndarray  # (H, H)
    has_bias_ih: bool
    has_bias_hh: bool
    nonlinearity: str


class LSTMCache(NamedTuple):
    """What :func:`lstm_backward` needs from :func:`lstm_forward`; ``cs`` holds the cell states."""

    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    c0: np.ndarray  # (N, H)
    hs: np.ndarray  # (N, T, H)
    cs: np.ndarray  # (N, T, H)
    gates: np.ndarray  # (N, T, 4H) activated gates i, f, g, o
    tanh_cs: np.ndarray  # (N, T, H)
    weight_ih: np.ndarray  # (4H, D)
    weight_hh: np.ndarray  # (4H, H)
    has_bias_ih: bool
    has_bias_hh: bool


class GRUCache(NamedTuple):
    """What :func:`gru_backward` needs from :func:`gru_forward`."""

    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    hs: np.ndarray  # (N, T, H)
    gates: np.ndarray  # (N, T, 3H) activated gates r, z, n
    hh_n: np.ndarray  # (N, T, H) W_hn h_{t-1} + b_hn
    weight_ih: np.ndarray  # (3H, D)
    weight_hh: np.ndarray  # (3H, H)
    has_bias_ih: bool
    has_bias_hh: bool


class RecurrentGrads(NamedTuple):
    """Gradients of an RNN or GRU sequence (``None`` for a bias that was ``None``)."""

    dx: np.ndarray  # (N, T, D)
    dh0: np.ndarray  # (N, H)
    dweight_ih: np.ndarray  # (G*H, D)
    dweight_hh: np.ndarray  # (G*H, H)
    dbias_ih: np.ndarray | None  # (G*H,)
    dbias_hh: np.ndarray | None  # (G*H,)


class LSTMGrads(NamedTuple):
    """Gradients of an LSTM sequence (``None`` for a bias that was ``None``)."""

    dx: np.ndarray  # (N, T, D)
    dh0: np.ndarray  # (N, H)
    dc0: np.ndarray  # (N, H)
    dweight_ih: np.ndarray  # (4H, D)
    dweight_hh: np.ndarray  # (4H, H)
    dbias_ih: np.ndarray | None  # (4H,)
    dbias_hh: np.ndarray | None  # (4H,)


def _previous(first: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """The state entering each step: ``first`` (N, H) then ``seq[:, :-1]`` -> (N, T, H)."""
    return np.concatenate([first[:, None], seq[:, :-1]], axis=1)  # (N, T, H)


def _upstreams(func: str, cache: Any, dhs: Any, dh_T: Any) -> tuple[np.ndarray, np.ndarray]:
    N, T, H = cache.hs.shape
    dhs = check_upstream(dhs, "dhs", (N, T, H), "(N, T, H)", func, cache.hs.dtype)
    dh_T = check_upstream(dh_T, "dh_T", (N, H), "(N, H)", func, dhs.dtype)
    return dhs, dh_T


# ----------------------------------------------------------------------------------------- RNN


def rnn_forward(
    x: np.ndarray,
    h0: np.ndarray | None,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
    *,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, RNNCache]:
    r"""Elman RNN over a whole sequence, as one layer of ``torch.nn.RNN(batch_first=True)``.

    Parameters
    ----------
    x : ndarray of shape (N, T, D)
        Input sequences, batch first.
    h0 : ndarray of shape (N, H), or None
        Initial hidden state; None means zeros.
    weight_ih : ndarray of shape (H, D)
    weight_hh : ndarray of shape (H, H)
    bias_ih, bias_hh : ndarray of shape (H,), or None
    nonlinearity : {"tanh", "relu"}

    Returns
    -------
    hs : ndarray of shape (N, T, H)
        ``hs[:, t]`` is the hidden state after step ``t``; ``hs[:, -1]`` is the final state.
    cache : RNNCache
        Pass it to :func:`rnn_backward`.

    Raises
    ------
    TypeError
        If an array does not hold real numbers.
    ValueError
        If ``x`` is not 3-D, if ``D`` or ``H`` disagree between the arguments, if a bias is not
        ``(H,)``, or if ``nonlinearity`` is unknown.

    Notes
    -----
    .. math:: h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}), \quad t = 1, \dots, T

    Examples
    --------
    A one-unit ReLU RNN that can be followed on paper (``w_ih = 2``, ``w_hh = 1/2``, ``b = 1``):

    >>> import numpy as np
    >>> hs, _ = rnn_forward(np.array([[[1.0], [-1.0], [3.0]]]), np.array([[0.5]]), np.array([[2.0]]),
    ...                     np.array([[0.5]]), np.array([1.0]), None, nonlinearity="relu")
    >>> hs[0, :, 0]  # 2 + 0.25 + 1, -2 + 1.625 + 1, 6 + 0.3125 + 1
    array([3.25  , 0.625 , 7.3125])
    """
    func = "rnn_forward"
    nonlinearity = check_nonlinearity(nonlinearity, func)
    x, h0, _, weight_ih, weight_hh, bias_ih, bias_hh = check_recurrent_inputs(
        func, "rnn", x, h0, weight_ih, weight_hh, bias_ih, bias_hh, step=False
    )
    N, T, _ = x.shape
    H = h0.shape[1]
    pre_x = _affine(x, weight_ih, bias_ih)  # (N, T, H): all input projections at once
    hs = np.empty((N, T, H), dtype=pre_x.dtype)
    h = h0
    for t in range(T):
        h = _rnn_cell(pre_x[:, t] + _affine(h, weight_hh, bias_hh), nonlinearity)  # (N, H)
        hs[:, t] = h
    cache = RNNCache(x, h0, hs, weight_ih, weight_hh, bias_ih is not None, bias_hh is not None, nonlinearity)
    return hs, cache


def _rnn_bptt(dhs: np.ndarray, dh_T: np.ndarray, cache: RNNCache, record: bool) -> tuple[RecurrentGrads, Any]:
    N, T, H = cache.hs.shape
    dpre = np.empty_like(dhs)  # (N, T, H)
    dh_total = np.empty_like(dhs) if record else None  # (N, T, H)
    dh = dh_T  # gradient reaching h_T from after the sequence
    for t in reversed(range(T)):
        dh = dh + dhs[:, t]  # (N, H): total dL/dh_t
        if record:
            dh_total[:, t] = dh
        dpre[:, t] = _rnn_cell_backward(dh, cache.hs[:, t], cache.nonlinearity)
        dh = dpre[:, t] @ cache.weight_hh  # (N, H): into h_{t-1}
    dx = dpre @ cache.weight_ih  # (N, T, D)
    h_prev = _previous(cache.h0, cache.hs)  # (N, T, H)
    dw = _param_grads(dpre, dpre, cache.x, h_prev, cache.has_bias_ih, cache.has_bias_hh)
    return RecurrentGrads(dx, dh, *dw), dh_total


def rnn_backward(
    dhs: np.ndarray | None, cache: RNNCache, *, dh_T: np.ndarray | None = None
) -> RecurrentGrads:
    """Backpropagation through time for :func:`rnn_forward`.

    Parameters
    ----------
    dhs : ndarray of shape (N, T, H), or None
        Gradient of the loss with respect to ``hs``; None means zeros (a loss on ``dh_T`` only).
    cache : RNNCache
        From :func:`rnn_forward`.
    dh_T : ndarray of shape (N, H), or None
        Extra gradient with respect to the final state ``hs[:, -1]`` (PyTorch's ``h_n``), added to
        ``dhs[:, -1]``.

    Returns
    -------
    RecurrentGrads
        ``dx`` (N, T, D), ``dh0`` (N, H), ``dweight_ih`` (H, D), ``dweight_hh`` (H, H),
        ``dbias_ih`` and ``dbias_hh`` (H,), or None where the forward pass had no bias.

    Raises
    ------
    TypeError
        If ``cache`` is not an :class:`RNNCache`.
    ValueError
        If ``dhs`` or ``dh_T`` has the wrong shape.
    """
    func = "rnn_backward"
    check_cache(cache, RNNCache, "rnn_forward", func)
    dhs, dh_T = _upstreams(func, cache, dhs, dh_T)
    return _rnn_bptt(dhs, dh_T, cache, record=False)[0]


# ---------------------------------------------------------------------------------------- LSTM


def lstm_forward(
    x: np.ndarray,
    h0: np.ndarray | None,
    c0: np.ndarray | None,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
) -> tuple[np.ndarray, LSTMCache]:
    r"""LSTM over a whole sequence, as one layer of ``torch.nn.LSTM(batch_first=True)``.

    Parameters
    ----------
    x : ndarray of shape (N, T, D)
    h0, c0 : ndarray of shape (N, H), or None
        Initial hidden and cell states; None means zeros.
    weight_ih : ndarray of shape (4H, D)
        Rows in gate order i, f, g, o.
    weight_hh : ndarray of shape (4H, H)
    bias_ih, bias_hh : ndarray of shape (4H,), or None

    Returns
    -------
    hs : ndarray of shape (N, T, H)
        Hidden states; ``hs[:, -1]`` is PyTorch's ``h_n``.
    cache : LSTMCache
        Pass it to :func:`lstm_backward`. ``cache.cs`` (N, T, H) holds the cell states, so
        ``cache.cs[:, -1]`` is PyTorch's ``c_n``.

    Raises
    ------
    TypeError, ValueError
        As :func:`rnn_forward` (with ``4H`` rows in the weights and biases).

    Notes
    -----
    .. math::
        [i_t, f_t, g_t, o_t] = [\sigma, \sigma, \tanh, \sigma](W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}),

        c_t = f_t \odot c_{t-1} + i_t \odot g_t, \quad h_t = o_t \odot \tanh(c_t)
    """
    func = "lstm_forward"
    x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh = check_recurrent_inputs(
        func, "lstm", x, h0, weight_ih, weight_hh, bias_ih, bias_hh, c0=c0, step=False
    )
    N, T, _ = x.shape
    H = h0.shape[1]
    pre_x = _affine(x, weight_ih, bias_ih)  # (N, T, 4H)
    hs = np.empty((N, T, H), dtype=pre_x.dtype)
    cs = np.empty_like(hs)  # (N, T, H)
    tanh_cs = np.empty_like(hs)  # (N, T, H)
    gates = np.empty_like(pre_x)  # (N, T, 4H)
    h, c = h0, c0
    for t in range(T):
        h, c, gates[:, t], tanh_cs[:, t] = _lstm_cell(pre_x[:, t] + _affine(h, weight_hh, bias_hh), c)
        hs[:, t], cs[:, t] = h, c
    cache = LSTMCache(
        x, h0, c0, hs, cs, gates, tanh_cs, weight_ih, weight_hh, bias_ih is not None, bias_hh is not None
    )
    return hs, cache


def _lstm_bptt(
    dhs: np.ndarray, dh_T: np.ndarray, dc_T: np.ndarray, cache: LSTMCache, record: bool
) -> tuple[LSTMGrads, Any]:
    N, T, H = cache.hs.shape
    dpre = np.empty((N, T, 4 * H), dtype=dhs.dtype)  # (N, T, 4H)
    dh_total = np.empty_like(dhs) if record else None  # (N, T, H)
    c_prev = _previous(cache.c0, cache.cs)  # (N, T, H)
    dh, dc = dh_T, dc_T
    for t in reversed(range(T)):
        dh = dh + dhs[:, t]  # (N, H): total dL/dh_t
        if record:
            dh_total[:, t] = dh
        dpre[:, t], dc = _lstm_cell_backward(dh, dc, c_prev[:, t], cache.gates[:, t], cache.tanh_cs[:, t])
        dh = dpre[:, t] @ cache.weight_hh  # (N, H): into h_{t-1}
    dx = dpre @ cache.weight_ih  # (N, T, D)
    h_prev = _previous(cache.h0, cache.hs)  # (N, T, H)
    dw = _param_grads(dpre, dpre, cache.x, h_prev, cache.has_bias_ih, cache.has_bias_hh)
    return LSTMGrads(dx, dh, dc, *dw), dh_total


def lstm_backward(
    dhs: np.ndarray | None,
    cache: LSTMCache,
    *,
    dh_T: np.ndarray | None = None,
    dc_T: np.ndarray | None = None,
) -> LSTMGrads:
    """Backpropagation through time for :func:`lstm_forward`.

    Parameters
    ----------
    dhs : ndarray of shape (N, T, H), or None
        Gradient of the loss with respect to ``hs``; None means zeros.
    cache : LSTMCache
        From :func:`lstm_forward`.
    dh_T, dc_T : ndarray of shape (N, H), or None
        Extra gradients with respect to the final states ``h_n = hs[:, -1]`` and ``c_n = cache.cs[:, -1]``.

    Returns
    -------
    LSTMGrads
        ``dx`` (N, T, D), ``dh0`` and ``dc0`` (N, H), ``dweight_ih`` (4H, D), ``dweight_hh`` (4H, H),
        ``dbias_ih`` and ``dbias_hh`` (4H,), or None where the forward pass had no bias.

    Raises
    ------
    TypeError, ValueError
        As :func:`rnn_backward`.
    """
    func = "lstm_backward"
    check_cache(cache, LSTMCache, "lstm_forward", func)
    dhs, dh_T = _upstreams(func, cache, dhs, dh_T)
    dc_T = check_upstream(dc_T, "dc_T", dh_T.shape, "(N, H)", func, dhs.dtype)
    return _lstm_bptt(dhs, dh_T, dc_T, cache, record=False)[0]


# ----------------------------------------------------------------------------------------- GRU


def gru_forward(
    x: np.ndarray,
    h0: np.ndarray | None,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
) -> tuple[np.ndarray, GRUCache]:
    r"""GRU over a whole sequence, as one layer of ``torch.nn.GRU(batch_first=True)``.

    Parameters
    ----------
    x : ndarray of shape (N, T, D)
    h0 : ndarray of shape (N, H), or None
        Initial hidden state; None means zeros.
    weight_ih : ndarray of shape (3H, D)
        Rows in gate order r, z, n.
    weight_hh : ndarray of shape (3H, H)
    bias_ih, bias_hh : ndarray of shape (3H,), or None

    Returns
    -------
    hs : ndarray of shape (N, T, H)
    cache : GRUCache
        Pass it to :func:`gru_backward`.

    Raises
    ------
    TypeError, ValueError
        As :func:`rnn_forward` (with ``3H`` rows in the weights and biases).

    Notes
    -----
    PyTorch's equations (Keras's ``reset_after=True``):

    .. math::
        r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}), \quad
        z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}),

        n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})), \quad
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}
    """
    func = "gru_forward"
    x, h0, _, weight_ih, weight_hh, bias_ih, bias_hh = check_recurrent_inputs(
        func, "gru", x, h0, weight_ih, weight_hh, bias_ih, bias_hh, step=False
    )
    N, T, _ = x.shape
    H = h0.shape[1]
    pre_x = _affine(x, weight_ih, bias_ih)  # (N, T, 3H)
    hs = np.empty((N, T, H), dtype=pre_x.dtype)
    hh_n = np.empty_like(hs)  # (N, T, H)
    gates = np.empty_like(pre_x)  # (N, T, 3H)
    h = h0
    for t in range(T):
        pre_h = _affine(h, weight_hh, bias_hh)  # (N, 3H)
        h, gates[:, t] = _gru_cell(pre_x[:, t], pre_h, h)
        hs[:, t], hh_n[:, t] = h, pre_h[:, 2 * H :]
    cache = GRUCache(x, h0, hs, gates, hh_n, weight_ih, weight_hh, bias_ih is not None, bias_hh is not None)
    return hs, cache


def _gru_bptt(dhs: np.ndarray, dh_T: np.ndarray, cache: GRUCache, record: bool) -> tuple[RecurrentGrads, Any]:
    N, T, H = cache.hs.shape
    dpre_ih = np.empty((N, T, 3 * H), dtype=dhs.dtype)  # (N, T, 3H)
    dpre_hh = np.empty_like(dpre_ih)  # (N, T, 3H)
    dh_total = np.empty_like(dhs) if record else None  # (N, T, H)
    h_prev = _previous(cache.h0, cache.hs)  # (N, T, H)
    dh = dh_T
    for t in reversed(range(T)):
        dh = dh + dhs[:, t]  # (N, H): total dL/dh_t
        if record:
            dh_total[:, t] = dh
        dpre_ih[:, t], dpre_hh[:, t], dh_direct = _gru_cell_backward(
            dh, h_prev[:, t], cache.gates[:, t], cache.hh_n[:, t]
        )
        dh = dh_direct + dpre_hh[:, t] @ cache.weight_hh  # (N, H): into h_{t-1}
    dx = dpre_ih @ cache.weight_ih  # (N, T, D)
    dw = _param_grads(dpre_ih, dpre_hh, cache.x, h_prev, cache.has_bias_ih, cache.has_bias_hh)
    return RecurrentGrads(dx, dh, *dw), dh_total


def gru_backward(
    dhs: np.ndarray | None, cache: GRUCache, *, dh_T: np.ndarray | None = None
) -> RecurrentGrads:
    """Backpropagation through time for :func:`gru_forward`.

    Parameters
    ----------
    dhs : ndarray of shape (N, T, H), or None
        Gradient of the loss with respect to ``hs``; None means zeros.
    cache : GRUCache
        From :func:`gru_forward`.
    dh_T : ndarray of shape (N, H), or None
        Extra gradient with respect to the final state ``hs[:, -1]``.

    Returns
    -------
    RecurrentGrads
        ``dx`` (N, T, D), ``dh0`` (N, H), ``dweight_ih`` (3H, D), ``dweight_hh`` (3H, H),
        ``dbias_ih`` and ``dbias_hh`` (3H,), or None where the forward pass had no bias.

    Raises
    ------
    TypeError, ValueError
        As :func:`rnn_backward`.
    """
    func = "gru_backward"
    check_cache(cache, GRUCache, "gru_forward", func)
    dhs, dh_T = _upstreams(func, cache, dhs, dh_T)
    return _gru_bptt(dhs, dh_T, cache, record=False)[0]


# ------------------------------------------------------------------------- gradients through time


def hidden_grads(
    dhs: np.ndarray | None,
    cache: RNNCache | LSTMCache | GRUCache,
    *,
    dh_T: np.ndarray | None = None,
    dc_T: np.ndarray | None = None,
) -> np.ndarray:
    """Total gradient of the loss with respect to every hidden state, ``dL/dh_t`` for t = 1..T.

    ``dhs[:, t]`` is only the part of the gradient that reaches ``h_t`` directly (through the output
    at step ``t``); this adds the part that flows back from every later step, which is what shrinks
    or explodes over long sequences.

    Parameters
    ----------
    dhs : ndarray of shape (N, T, H), or None
        As in :func:`rnn_backward`. For the vanishing-gradient plot pass None and a loss on the final
        state only, ``dh_T``.
    cache : RNNCache, LSTMCache or GRUCache
        From :func:`rnn_forward`, :func:`lstm_forward` or :func:`gru_forward`.
    dh_T : ndarray of shape (N, H), or None
        Extra gradient with respect to the final hidden state.
    dc_T : ndarray of shape (N, H), or None
        Extra gradient with respect to the final cell state (LSTM only).

    Returns
    -------
    ndarray of shape (N, T, H)
        ``out[:, t]`` is ``dL/dh_t`` for ``h_t = hs[:, t]``; the gradient for the initial state is
        the backward pass's ``dh0``.

    Raises
    ------
    TypeError
        If ``cache`` is not one of the three caches.
    ValueError
        If a gradient has the wrong shape, or ``dc_T`` is given for a cache that is not an LSTM's.
    """
    func = "hidden_grads"
    if not isinstance(cache, (RNNCache, LSTMCache, GRUCache)):
        raise TypeError(
            f"{func}: `cache` must be the cache returned by rnn_forward, lstm_forward or gru_forward. "
            f"Received an object of type {type(cache).__name__}."
        )
    dhs, dh_T = _upstreams(func, cache, dhs, dh_T)
    if isinstance(cache, LSTMCache):
        dc_T = check_upstream(dc_T, "dc_T", dh_T.shape, "(N, H)", func, dhs.dtype)
        return _lstm_bptt(dhs, dh_T, dc_T, cache, record=True)[1]
    if dc_T is not None:
        raise ValueError(
            f"{func}: `dc_T` is the gradient of an LSTM's final cell state, but `cache` is a "
            f"{type(cache).__name__}, which has no cell state. Remove dc_T."
        )
    if isinstance(cache, RNNCache):
        return _rnn_bptt(dhs, dh_T, cache, record=True)[1]
    return _gru_bptt(dhs, dh_T, cache, record=True)[1]


def hidden_grad_norms(
    dhs: np.ndarray | None,
    cache: RNNCache | LSTMCache | GRUCache,
    *,
    dh_T: np.ndarray | None = None,
    dc_T: np.ndarray | None = None,
    per_example: bool = False,
) -> np.ndarray:
    """Euclidean norm of ``dL/dh_t`` for every time step, for the vanishing-gradient plot.

    Parameters
    ----------
    dhs, cache, dh_T, dc_T
        As in :func:`hidden_grads`.
    per_example : bool
        If False, one norm per time step over the whole batch (the Frobenius norm of the ``(N, H)``
        gradient); if True, one norm per sequence and time step.

    Returns
    -------
    ndarray of shape (T,), or (N, T) if ``per_example``
        ``||dL/dh_t||`` for ``t = 1..T``, in the order of ``hs``.

    Raises
    ------
    TypeError, ValueError
        As :func:`hidden_grads`.

    Examples
    --------
    A one-unit ReLU RNN with ``w_hh = 1/2`` halves the gradient at every step back in time:

    >>> import numpy as np
    >>> hs, cache = rnn_forward(np.array([[[1.0], [-1.0], [3.0]]]), np.array([[0.5]]), np.array([[2.0]]),
    ...                         np.array([[0.5]]), np.array([1.0]), None, nonlinearity="relu")
    >>> hidden_grad_norms(None, cache, dh_T=np.ones((1, 1)))
    array([0.25, 0.5 , 1.  ])
    """
    grads = hidden_grads(dhs, cache, dh_T=dh_T, dc_T=dc_T)  # (N, T, H)
    if per_example:
        return np.sqrt(np.sum(grads * grads, axis=2))  # (N, T)
    return np.sqrt(np.sum(grads * grads, axis=(0, 2)))  # (T,)
