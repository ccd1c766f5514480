r"""How many parameters a recurrent layer has, in PyTorch and in Keras.

Explained in the recurrent-networks chapter. The two frameworks compute the same functions (for the
GRU, Keras's default ``reset_after=True``) but do not store the same number of biases, so the counts
printed by ``model.summary()`` differ; :func:`rnn_param_count` gives both and says why.
"""

from __future__ import annotations

from typing import Any

from coursepkg._validation import as_int

__all__ = ["rnn_param_count"]

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def rnn_param_count(
    input_size: int,
    hidden_size: int,
    *,
    cell: str,
    num_layers: int = 1,
    bidirectional: bool = False,
    bias: bool = True,
    framework: str = "torch",
    reset_after: bool = True,
) -> int:
    r"""Number of trainable parameters of a (stacked, optionally bidirectional) recurrent layer.

    Parameters
    ----------
    input_size : int
        ``D``, features per time step of the input.
    hidden_size : int
        ``H``, hidden units per direction.
    cell : {"rnn", "lstm", "gru"}
        Elman RNN (``torch.nn.RNN`` / ``keras.layers.SimpleRNN``), LSTM or GRU.
    num_layers : int
        Stacked layers (PyTorch's ``num_layers``; in Keras, that many layers in a row, all but the last
        with ``return_sequences=True``).
    bidirectional : bool
        PyTorch's ``bidirectional=True``; in Keras, every layer wrapped in
        ``keras.layers.Bidirectional`` with the default ``merge_mode="concat"``.
    bias : bool
        PyTorch's ``bias``, Keras's ``use_bias``.
    framework : {"torch", "keras"}
    reset_after : bool
        Keras GRU only (default True, which is also the only variant PyTorch implements).

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If a size is not an integer.
    ValueError
        If a size is < 1, ``cell`` or ``framework`` is unknown, or ``reset_after=False`` is asked
        for anything but a Keras GRU.

    Notes
    -----
    With ``G`` gate groups (RNN 1, LSTM 4, GRU 3), one direction of layer ``l`` has the input weights
    ``(G H, D_l)``, the recurrent weights ``(G H, H)`` and ``B`` bias vectors of length ``G H``:

    .. math::
        P = \sum_{l=0}^{L-1} K \, \big(G H (D_l + H) + B \, G H\big), \qquad
        D_0 = D, \quad D_{l>0} = K H,

    where ``L`` is ``num_layers`` and ``K`` is 2 if bidirectional (the next layer sees both directions
    concatenated) and 1 otherwise. The frameworks differ only in ``B``:

    - PyTorch: ``B = 2`` for every cell (``bias_ih`` and ``bias_hh``, although for the RNN and the LSTM
      only their sum matters); ``B = 0`` with ``bias=False``.
    - Keras: ``B = 1`` for ``SimpleRNN`` and ``LSTM`` (one ``bias``); ``B = 2`` for ``GRU`` with
      ``reset_after=True`` (bias of shape ``(2, 3H)``: the recurrent bias of the candidate ``n`` sits
      inside the reset gate's product, so it cannot be merged); ``B = 1`` with ``reset_after=False``;
      ``B = 0`` with ``use_bias=False``.

    Examples
    --------
    ``torch.nn.LSTM(10, 20)`` has :math:`4 \cdot 20 \cdot (10 + 20) + 2 \cdot 4 \cdot 20 = 2560`
    parameters, ``keras.layers.LSTM(20)`` on 10 features has 80 fewer:

    >>> rnn_param_count(10, 20, cell="lstm"), rnn_param_count(10, 20, cell="lstm", framework="keras")
    (2560, 2480)
    >>> rnn_param_count(10, 20, cell="gru"), rnn_param_count(10, 20, cell="gru", framework="keras")
    (1920, 1920)
    """
    func = "rnn_param_count"
    D = as_int(input_size, "input_size", func, minimum=1)
    H = as_int(hidden_size, "hidden_size", func, minimum=1)
    L = as_int(num_layers, "num_layers", func, minimum=1)
    if cell not in _GATES:
        raise ValueError(
            f"{func}: `cell` must be 'rnn', 'lstm' or 'gru' (Keras's SimpleRNN is 'rnn'). "
            f"Received: cell={cell!r}."
        )
    if framework not in ("torch", "keras"):
        raise ValueError(
            f"{func}: `framework` must be 'torch' or 'keras'. Received: framework={framework!r}."
        )
    for name, flag in (("bidirectional", bidirectional), ("bias", bias), ("reset_after", reset_after)):
        _check_bool(flag, name, func)
    if not reset_after and not (framework == "keras" and cell == "gru"):
        raise ValueError(
            f"{func}: `reset_after=False` exists only for the Keras GRU (PyTorch always resets after the "
            f"recurrent matmul). Received: reset_after=False with cell={cell!r}, framework={framework!r}."
        )
    G = _GATES[cell]
    K = 2 if bidirectional else 1
    if not bias:
        B = 0
    elif framework == "torch" or (cell == "gru" and reset_after):
        B = 2
    else:
        B = 1
    total = 0
    for layer in range(L):
        D_l = D if layer == 0 else K * H
        total += K * (G * H * (D_l + H) + B * G * H)
    return total


def _check_bool(value: Any, name: str, func: str) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{func}: `{name}` must be True or False. Received: {name}={value!r}.")
