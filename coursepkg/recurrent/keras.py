r"""Recurrent sequence models in Keras 3, and the adding-problem run: the twins of :mod:`coursepkg.recurrent.torch`.

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
import time
from typing import Any, Sequence

from coursepkg.recurrent._checks import Spec, adding_splits, check_adding_run, check_bool, check_spec

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402

__all__ = ["sequence_classifier", "sequence_regressor", "notes_lstm", "adding_problem_comparison"]


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



# ------------------------------------------------------------------------------ the adding problem


def _set_tensorflow_threads(num_threads: int, func: str) -> None:
    """Give TensorFlow ``num_threads`` intra-op threads, which it allows only before it has started."""
    import tensorflow as tf

    current = tf.config.threading.get_intra_op_parallelism_threads()
    if current == num_threads:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(num_threads)
    except RuntimeError:
        raise ValueError(
            f"{func}: TensorFlow fixes its thread pool when it runs its first operation, and it has already "
            f"started in this process with {current or 'an automatic number of'} intra-op threads. Pass "
            f"num_threads=None, or call tf.config.threading.set_intra_op_parallelism_threads({num_threads}) (or "
            f"set TF_NUM_INTRAOP_THREADS={num_threads}) before TensorFlow runs anything. "
            f"Received: num_threads={num_threads}."
        ) from None


def adding_problem_comparison(
    lengths: Sequence[int] = (10, 25, 50, 100),
    *,
    cells: Sequence[str] = ("rnn", "lstm"),
    hidden_size: int = 32,
    n_train: int = 5000,
    n_test: int = 1000,
    epochs: int = 15,
    batch_size: int = 50,
    lr: float = 1e-2,
    clip_norm: float | None = 1.0,
    seed: int = 0,
    num_threads: int | None = None,
) -> list[dict[str, Any]]:
    """Train each cell on the adding problem at each length with the same small budget; tabulate test MSE.

    The Keras twin of :func:`coursepkg.recurrent.torch.adding_problem_comparison`: the same arguments, the
    same data for the same ``seed`` (drawn from ``numpy.random.default_rng([seed, length])``), the same model
    (:func:`sequence_regressor`, one layer of ``hidden_size`` units) and the same training (Adam on MSE with
    :func:`coursepkg.train.keras.fit`, global-norm clipping), so the two tables differ only by the
    frameworks' initial weights and arithmetic.

    Parameters
    ----------
    lengths, cells, hidden_size, n_train, n_test, epochs, batch_size, lr, clip_norm
        As :func:`coursepkg.recurrent.torch.adding_problem_comparison`.
    seed : int
        Seeds the data and, through :func:`coursepkg.train.keras.seed_everything` before each model is
        built, Python's, NumPy's and TensorFlow's global generators (and turns on TensorFlow's deterministic
        ops): unlike the PyTorch twin, the global state is changed.
    num_threads : int or None, default None
        TensorFlow's intra-op threads. TensorFlow fixes them when it starts, so an int is applied only if
        TensorFlow has not run anything yet (and then stays for the session), or if it is the current
        setting; None leaves the setting alone.

    Returns
    -------
    list of dict
        One row per (length, cell), lengths in the outer loop, with the keys of the PyTorch twin:
        ``{"length", "cell", "test_mse", "baseline_mse", "ratio", "final_train_loss", "seconds"}``.

    Raises
    ------
    TypeError, ValueError
        As the PyTorch twin, and ValueError if ``num_threads`` cannot be applied any more.

    Notes
    -----
    Keras is slower than PyTorch on these small recurrent layers on a CPU: with the budget of the book's
    chapter (lengths 10 and 50, ``n_train=3000, epochs=10``), 13 s against 4.7 s for the PyTorch twin on a
    2-core machine, one thread each. The ratios to the baseline agreed in kind (RNN 0.04 and 1.01, LSTM
    0.002 and 0.008; PyTorch: 0.08 and 1.01, 0.005 and 0.011).
    """
    from coursepkg.train.keras import evaluate, fit, seed_everything

    func = "adding_problem_comparison"
    run = check_adding_run(func, lengths, cells, hidden_size, n_train, n_test, epochs, batch_size, seed, num_threads)
    if run.num_threads is not None:
        _set_tensorflow_threads(run.num_threads, func)
    rows = []
    for length in run.lengths:
        x_train, y_train, x_test, y_test, baseline = adding_splits(length, run.n_train, run.n_test, run.seed)
        for cell in run.cells:
            start = time.perf_counter()
            seed_everything(run.seed)
            model = sequence_regressor(2, run.hidden_size, cell=cell)
            history = fit(
                model, x_train, y_train, epochs=run.epochs, batch_size=run.batch_size, lr=lr, loss="mse",
                clip_norm=clip_norm, seed=run.seed, progress=False,
            )
            test_mse = evaluate(model, x_test, y_test, loss="mse")["loss"]
            rows.append({
                "length": length,
                "cell": cell,
                "test_mse": test_mse,
                "baseline_mse": baseline,
                "ratio": test_mse / baseline,
                "final_train_loss": history["loss"][-1],
                "seconds": time.perf_counter() - start,
            })
    return rows
