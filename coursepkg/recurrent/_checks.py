"""Argument checks shared by the PyTorch and Keras builders of :mod:`coursepkg.recurrent`.

Private: both frameworks call :func:`check_spec`, so the same wrong argument gets the same message in
either, and the twins cannot drift apart in what they accept.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple

from coursepkg._validation import as_int

#: The recurrent cells the builders know, with their PyTorch and Keras layer names.
CELLS = {"lstm": ("LSTM", "LSTM"), "gru": ("GRU", "GRU"), "rnn": ("RNN", "SimpleRNN")}


class Spec(NamedTuple):
    """A checked builder configuration (what both frameworks build from)."""

    input_size: int
    hidden_size: int
    cell: str
    num_layers: int
    bidirectional: bool
    num_outputs: int
    dropout: float

    @property
    def directions(self) -> int:
        """K: 2 for a bidirectional network, else 1 (the head sees K * hidden_size features)."""
        return 2 if self.bidirectional else 1


def check_cell(cell: Any, func: str) -> str:
    if cell not in CELLS:
        raise ValueError(
            f"{func}: `cell` must be 'lstm', 'gru' or 'rnn' (the Elman RNN: torch.nn.RNN, "
            f"keras.layers.SimpleRNN), in lower case. Received: cell={cell!r}."
        )
    return cell


def check_bool(value: Any, name: str, func: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{func}: `{name}` must be True or False. Received: {name}={value!r}.")
    return value


def check_spec(
    func: str,
    input_size: Any,
    hidden_size: Any,
    *,
    cell: Any,
    num_layers: Any,
    bidirectional: Any,
    num_outputs: Any,
    dropout: Any,
    outputs_name: str = "num_outputs",
) -> Spec:
    """Validate the arguments of a builder and return them as a :class:`Spec`."""
    D = as_int(input_size, "input_size", func, minimum=1)
    H = as_int(hidden_size, "hidden_size", func, minimum=1)
    cell = check_cell(cell, func)
    L = as_int(num_layers, "num_layers", func, minimum=1)
    bidirectional = check_bool(bidirectional, "bidirectional", func)
    O = as_int(num_outputs, outputs_name, func, minimum=1)
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real):
        raise TypeError(f"{func}: `dropout` must be a float in [0, 1). Received: dropout={dropout!r}.")
    dropout = float(dropout)
    if not (0.0 <= dropout < 1.0) or math.isnan(dropout):
        raise ValueError(
            f"{func}: `dropout` is the probability of zeroing a unit and must be in [0, 1). "
            f"Received: dropout={dropout!r}."
        )
    return Spec(D, H, cell, L, bidirectional, O, dropout)


class AddingRun(NamedTuple):
    """The checked arguments of ``adding_problem_comparison``, the same in both frameworks."""

    lengths: list[int]
    cells: list[str]
    hidden_size: int
    n_train: int
    n_test: int
    epochs: int
    batch_size: int
    seed: int
    num_threads: int | None


def check_adding_run(
    func: str, lengths: Any, cells: Any, hidden_size: Any, n_train: Any, n_test: Any, epochs: Any, batch_size: Any,
    seed: Any, num_threads: Any,
) -> AddingRun:
    """Validate the arguments of ``adding_problem_comparison`` (either framework)."""
    return AddingRun(
        lengths=[as_int(t, "lengths", func, minimum=2) for t in lengths],
        cells=[check_cell(c, func) for c in cells],
        hidden_size=as_int(hidden_size, "hidden_size", func, minimum=1),
        n_train=as_int(n_train, "n_train", func, minimum=1),
        n_test=as_int(n_test, "n_test", func, minimum=1),
        epochs=as_int(epochs, "epochs", func, minimum=1),
        batch_size=as_int(batch_size, "batch_size", func, minimum=1),
        seed=as_int(seed, "seed", func, minimum=0),
        num_threads=None if num_threads is None else as_int(num_threads, "num_threads", func, minimum=1),
    )


def adding_splits(length: int, n_train: int, n_test: int, seed: int) -> tuple[Any, Any, Any, Any, float]:
    """One length's training and test sets, drawn from ``default_rng([seed, length])``, and the baseline MSE.

    The baseline predicts the mean target, 1.0, on the test set (about 1/6). Both frameworks' runs draw
    their data here, so that with the same seed they train and test on the same sequences.
    """
    import numpy as np

    from coursepkg.data.sequences import adding_problem

    data_rng = np.random.default_rng([seed, length])
    x_train, y_train = adding_problem(n_train, length=length, rng=data_rng)  # (n, T, 2), (n,)
    x_test, y_test = adding_problem(n_test, length=length, rng=data_rng)
    baseline = float(np.mean((y_test.astype(np.float64) - 1.0) ** 2))
    return x_train, y_train, x_test, y_test, baseline
