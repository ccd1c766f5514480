r"""Parameter count of the recurrent models of :mod:`coursepkg.recurrent`, in PyTorch and in Keras.

Explained in the recurrent-networks chapter. Every builder is a recurrent stack followed by one dense
head, so its count is :func:`coursepkg.rnn.rnn_param_count` (which knows the frameworks' different
numbers of bias vectors) plus the head's ``K H O + O``.
"""

from __future__ import annotations

from coursepkg.recurrent._checks import check_spec
from coursepkg.rnn.params import rnn_param_count

__all__ = ["model_param_count"]


def model_param_count(
    input_size: int,
    hidden_size: int,
    *,
    cell: str = "lstm",
    num_layers: int = 1,
    bidirectional: bool = False,
    num_outputs: int = 1,
    framework: str = "torch",
) -> int:
    r"""Trainable parameters of ``sequence_classifier`` / ``sequence_regressor`` with these arguments.

    Parameters
    ----------
    input_size, hidden_size : int
        ``D`` features per step, ``H`` hidden units per direction.
    cell : {"lstm", "gru", "rnn"}
    num_layers : int
        ``L`` stacked recurrent layers.
    bidirectional : bool
    num_outputs : int
        ``O``, the width of the dense head (``horizon`` for the regressor).
    framework : {"torch", "keras"}

    Returns
    -------
    int

    Raises
    ------
    TypeError, ValueError
        As the builders, and if ``framework`` is unknown.

    Notes
    -----
    With ``G`` gate groups (LSTM 4, GRU 3, RNN 1), ``K`` directions and ``B`` bias vectors per gate
    group (PyTorch 2 for every cell; Keras 1 for the LSTM and SimpleRNN, 2 for the GRU with
    ``reset_after=True``):

    .. math::
        P = \sum_{l=0}^{L-1} K \big(G H (D_l + H) + B G H\big) + K H O + O,
        \qquad D_0 = D,\; D_{l>0} = K H.

    Examples
    --------
    The lecture notes' ``LSTM(128)`` on one feature with ``Dense(1)``: Keras counts
    ``4*128*(1 + 128) + 4*128 + 128 + 1 = 66689``, PyTorch 512 more (its second bias vector):

    >>> model_param_count(1, 128, framework="keras"), model_param_count(1, 128)
    (66689, 67201)
    """
    func = "model_param_count"
    spec = check_spec(
        func, input_size, hidden_size, cell=cell, num_layers=num_layers, bidirectional=bidirectional,
        num_outputs=num_outputs, dropout=0.0,
    )
    if framework not in ("torch", "keras"):
        raise ValueError(f"{func}: `framework` must be 'torch' or 'keras'. Received: framework={framework!r}.")
    recurrent = rnn_param_count(
        spec.input_size, spec.hidden_size, cell=spec.cell, num_layers=spec.num_layers,
        bidirectional=spec.bidirectional, framework=framework,
    )
    features = spec.directions * spec.hidden_size  # what the head sees
    return recurrent + features * spec.num_outputs + spec.num_outputs
