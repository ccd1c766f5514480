r"""Recurrent sequence models in Keras 3: the twins of :mod:`coursepkg.recurrent.torch`.

Explained in the recurrent-networks chapter. Same builder names, arguments and architecture as the PyTorch
module, written as ``keras.Sequential`` stacks so that ``model.summary()`` reads like the lecture notes::

    Input (T, D) -> L x [SimpleRNN | LSTM | GRU](H), wrapped in Bidirectional if asked
                 -> Dropout after each (if dropout > 0) -> Dense(O) logits

Every recurrent layer but the last has ``return_sequences=True``; the last returns its final state (both
directions concatenated, forward first, when bidirectional). The GRU is ``reset_after=True`` (Keras's default
and PyTorch's equations), the SimpleRNN uses tanh. Models output **logits**: train them with
:func:`coursepkg.train.keras.fit`, which compiles the losses ``from_logits=True``.

Parameter counts differ from PyTorch's (see :func:`coursepkg.recurrent.model_param_count`): Keras's LSTM
and SimpleRNN keep one bias vector per gate group where PyTorch keeps two; the GRU keeps two in both.
Initial weights differ too (Keras: Glorot-uniform inputs, orthogonal recurrent weights, forget-gate bias 1;
PyTorch: uniform in ``±1/sqrt(H)``); :func:`coursepkg.recurrent.copy_weights` makes the twins equal.
"""

from __future__ import annotations

import os
from typing import Any

from coursepkg.recurrent._checks import Spec, check_bool, check_spec

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402

__all__ = ["sequence_classifier", "sequence_regressor", "notes_lstm"]


def _recurrent_layer(cell: str, units: int, *, return_sequences: bool, name: str) -> keras.layers.Layer:
    if cell == "lstm":
        return keras.layers.LSTM(units, return_sequences=return_sequences, name=name)
    if cell == "gru":
        return keras.layers.GRU(units, return_sequences=return_sequences, reset_after=True, name=name)
    return keras.layers.SimpleRNN(units, activation="tanh", return_sequences=return_sequences, name=name)


def _build(spec: Spec, *, name: str, length: int | None = None, logits: bool = True) -> keras.Sequential:
    """The Keras stack of a :class:`Spec`; ``length`` fixes ``T`` in the input shape (None: any length)."""
    layers: list[Any] = [keras.Input((length, spec.input_size), name="sequences")]
    for layer in range(spec.num_layers):
        last = layer == spec.num_layers - 1
        rnn = _recurrent_layer(spec.cell, spec.hidden_size, return_sequences=not last, name=f"{spec.cell}_{layer}")
        if spec.bidirectional:
            rnn = keras.layers.Bidirectional(rnn, merge_mode="concat", name=f"bidirectional_{layer}")
        layers.append(rnn)  # (N, T, K*H), or (N, K*H) for the last layer
        if spec.dropout > 0:
            layers.append(keras.layers.Dropout(spec.dropout, name=f"dropout_{layer}"))
    layers.append(keras.layers.Dense(spec.num_outputs, activation=None if logits else "sigmoid", name="head"))
    return keras.Sequential(layers, name=name)  # (N, O)


def sequence_classifier(
    input_size: int,
    hidden_size: int,
    *,
    cell: str = "lstm",
    num_layers: int = 1,
    bidirectional: bool = False,
    num_outputs: int = 1,
    dropout: float = 0.0,
) -> keras.Sequential:
    r"""Sequence classifier: a recurrent stack, its last hidden state, a dense layer of logits.

    Parameters
    ----------
    input_size : int
        ``D``, features per time step.
    hidden_size : int
        ``H``, units per layer and direction.
    cell : {"lstm", "gru", "rnn"}
        ``keras.layers.LSTM``, ``GRU`` (``reset_after=True``) or ``SimpleRNN`` (tanh).
    num_layers : int
        ``L``, stacked recurrent layers.
    bidirectional : bool
        Wrap every layer in ``keras.layers.Bidirectional`` (``K = 2``, outputs concatenated).
    num_outputs : int
        ``O``: 1 for a binary classifier (``loss="bce"``), the number of classes otherwise.
    dropout : float
        Rate of a ``Dropout`` layer after every recurrent layer.

    Returns
    -------
    keras.Sequential

    Raises
    ------
    TypeError, ValueError
        As :func:`coursepkg.recurrent.torch.sequence_classifier`.

    Notes
    -----
    Shape: ``(N, T, D) -> (N, O)`` logits, for any ``T >= 1``.

    Parameters: :func:`coursepkg.recurrent.model_param_count` with ``framework="keras"``,
    :math:`\sum_l K (G H (D_l + H) + B G H) + K H O + O` with ``G`` = 4, 3, 1 and ``B`` = 1 (LSTM, SimpleRNN)
    or 2 (GRU).

    Examples
    --------
    >>> model = sequence_classifier(1, 8, cell="gru", num_layers=2, bidirectional=True, num_outputs=3)
    >>> model.output_shape, model.count_params()
    ((None, 3), 1827)
    """
    spec = check_spec(
        "sequence_classifier", input_size, hidden_size, cell=cell, num_layers=num_layers,
        bidirectional=bidirectional, num_outputs=num_outputs, dropout=dropout,
    )
    return _build(spec, name="sequence_classifier")


def sequence_regressor(
    input_size: int,
    hidden_size: int,
    *,
    cell: str = "lstm",
    num_layers: int = 1,
    bidirectional: bool = False,
    horizon: int = 1,
    dropout: float = 0.0,
) -> keras.Sequential:
    """Sequence regressor for forecasting: the last hidden state, then a dense layer of ``horizon`` values.

    The network of :func:`sequence_classifier` with ``num_outputs=horizon``; train it with ``loss="mse"``.

    Parameters
    ----------
    input_size, hidden_size, cell, num_layers, bidirectional, dropout
        As :func:`sequence_classifier`.
    horizon : int
        Number of future values predicted at once.

    Returns
    -------
    keras.Sequential

    Raises
    ------
    TypeError, ValueError
        As :func:`sequence_classifier`.

    Notes
    -----
    Shape: ``(N, T, D) -> (N, horizon)``. Parameters: :func:`coursepkg.recurrent.model_param_count` with
    ``num_outputs=horizon, framework="keras"``.

    Examples
    --------
    >>> sequence_regressor(1, 16, horizon=3).output_shape
    (None, 3)
    """
    spec = check_spec(
        "sequence_regressor", input_size, hidden_size, cell=cell, num_layers=num_layers,
        bidirectional=bidirectional, num_outputs=horizon, dropout=dropout, outputs_name="horizon",
    )
    return _build(spec, name="sequence_regressor")


def notes_lstm(*, logits: bool = True) -> keras.Sequential:
    """The lecture notes' example, ``Input((10, 1)) -> LSTM(128) -> Dense(1)``.

    With ``logits=False`` this is the notes' code exactly::

        model = keras.Sequential([keras.Input((10, 1)), keras.layers.LSTM(128),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])

    With ``logits=True`` (the default, what :func:`coursepkg.train.keras.fit` expects) the sigmoid moves
    into the loss, ``keras.losses.BinaryCrossentropy(from_logits=True)``: the same model and the same loss,
    since ``p = sigmoid(z)`` and ``-y log p - (1-y) log(1-p) = softplus(z) - y z``, computed without
    ``log(0)``. Accuracy thresholds ``z`` at 0, i.e. ``p`` at 1/2.

    Parameters
    ----------
    logits : bool, default True
        If False, ``Dense(1, activation="sigmoid")`` as in the notes; compile such a model yourself with
        ``loss="binary_crossentropy"``.

    Returns
    -------
    keras.Sequential

    Notes
    -----
    Shape: ``(N, 10, 1) -> (N, 1)``. Parameters: ``4*128*(1 + 128) + 4*128 + 128 + 1 = 66689`` (the PyTorch
    twin has 67201: two LSTM bias vectors).

    Examples
    --------
    >>> notes_lstm().count_params()
    66689
    """
    logits = check_bool(logits, "logits", "notes_lstm")
    return _build(Spec(1, 128, "lstm", 1, False, 1, 0.0), name="notes_lstm", length=10, logits=logits)

