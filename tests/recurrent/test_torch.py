"""Tests of coursepkg.recurrent.torch: shapes, parameter counts, the last hidden state, dropout, the notes' LSTM
and the adding-problem comparison."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch

from coursepkg.data.sequences import binary_sequences
from coursepkg.recurrent import model_param_count
from coursepkg.recurrent.torch import (
    RecurrentNet,
    adding_problem_comparison,
    notes_lstm,
    sequence_classifier,
    sequence_regressor,
)
from coursepkg.train.torch import evaluate, fit

torch.set_num_threads(1)

GRID = list(itertools.product(["lstm", "gru", "rnn"], [1, 2, 3], [False, True]))


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("cell, num_layers, bidirectional", GRID)
def test_shape_and_parameter_count(cell, num_layers, bidirectional):
    D, H, O = 3, 5, 4
    model = sequence_classifier(D, H, cell=cell, num_layers=num_layers, bidirectional=bidirectional, num_outputs=O)
    assert isinstance(model, RecurrentNet)
    assert isinstance(model.rnn, {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell])
    assert model(torch.zeros(2, 7, D)).shape == (2, O)
    assert model(torch.zeros(1, 1, D)).shape == (1, O)  # batch of one, one step
    assert n_params(model) == model_param_count(D, H, cell=cell, num_layers=num_layers,
                                                bidirectional=bidirectional, num_outputs=O, framework="torch")
    reg = sequence_regressor(D, H, cell=cell, num_layers=num_layers, bidirectional=bidirectional, horizon=2)
    assert reg(torch.zeros(2, 7, D)).shape == (2, 2)


def test_notes_lstm_count_and_sigmoid_option():
    model = notes_lstm()
    assert n_params(model) == 4 * 128 * (1 + 128) + 2 * 4 * 128 + 128 + 1 == 67201
    probs = notes_lstm(logits=False)
    probs.load_state_dict(model.state_dict())
    x = torch.from_numpy(binary_sequences(8, rng=0)[0])
    with torch.no_grad():
        torch.testing.assert_close(probs(x), torch.sigmoid(model(x)))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_last_hidden_state_is_forward_end_and_backward_start(cell, num_layers):
    torch.manual_seed(0)
    model = sequence_classifier(2, 3, cell=cell, num_layers=num_layers, bidirectional=True)
    x = torch.randn(4, 6, 2)
    out, _ = model.rnn(x)  # (N, T, 2H): every step of the last layer
    last = model.last_hidden(x)  # (N, 2H)
    torch.testing.assert_close(last[:, :3], out[:, -1, :3])  # forward direction after step T
    torch.testing.assert_close(last[:, 3:], out[:, 0, 3:])  # backward direction after reading back to step 1
    torch.testing.assert_close(model(x), model.head(last))


def test_dropout_after_every_layer_in_training_only():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns about dropout with one layer: we do not pass it there
        model = sequence_classifier(2, 8, num_layers=1, dropout=0.5)
    assert model.rnn.dropout == 0.0 and model.dropout.p == 0.5
    assert sequence_classifier(2, 8, num_layers=2, dropout=0.5).rnn.dropout == 0.5
    x = torch.randn(16, 5, 2)
    model.eval()
    torch.testing.assert_close(model(x), model(x))
    model.train()
    torch.manual_seed(0)
    assert not torch.allclose(model(x), model(x))


@pytest.mark.parametrize(
    "func, kwargs, exc, match",
    [
        (sequence_classifier, dict(cell="transformer"), ValueError,
         r"sequence_classifier: `cell` must be 'lstm', 'gru' or 'rnn'.*Received: cell='transformer'"),
        (sequence_classifier, dict(num_layers=0), ValueError, r"`num_layers` must be >= 1. Received: num_layers=0"),
        (sequence_classifier, dict(dropout=1.0), ValueError, r"`dropout` is the probability.*\[0, 1\). Received: dropout=1.0"),
        (sequence_classifier, dict(dropout="0.1"), TypeError, r"`dropout` must be a float in \[0, 1\)"),
        (sequence_classifier, dict(bidirectional="yes"), TypeError, r"`bidirectional` must be True or False"),
        (sequence_regressor, dict(horizon=0), ValueError, r"sequence_regressor: `horizon` must be >= 1. Received: horizon=0"),
    ],
)
def test_errors(func, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        func(3, 4, **kwargs)
    with pytest.raises(TypeError, match=r"notes_lstm: `logits` must be True or False"):
        notes_lstm(logits=1)


def test_forward_names_the_expected_layout():
    model = sequence_classifier(3, 4)
    with pytest.raises(ValueError, match=r"`x` must be batch-first sequences of shape \(N, T, D\) with D=3, got shape \(7, 3\). Add a batch axis"):
        model(torch.zeros(7, 3))
    with pytest.raises(ValueError, match=r"with D=3, got shape \(2, 7, 1\)"):
        model(torch.zeros(2, 7, 1))
    with pytest.raises(ValueError, match=r"Add a feature axis with x\[..., None\]"):
        notes_lstm()(torch.zeros(2, 10))


def test_notes_lstm_learns_binary_sequences():
    # measured: 0.947-0.967 held-out accuracy after 10 epochs for seeds 0-4 (0.86-0.95 after 5: too noisy)
    x, y = binary_sequences(4000, rng=0)
    x_test, y_test = binary_sequences(1000, rng=1)
    torch.manual_seed(0)
    model = notes_lstm()
    history = fit(model, x, y, loss="bce", epochs=10, batch_size=32, lr=1e-3, seed=0, progress=False)
    accuracy = evaluate(model, x_test, y_test, loss="bce")["accuracy"]
    assert accuracy >= 0.92, f"held-out accuracy {accuracy:.3f}; training history {history['accuracy']}"


def test_adding_problem_comparison_table():
    state = torch.random.get_rng_state()
    torch.set_num_threads(2)
    try:
        rows = adding_problem_comparison((10, 12), cells=("rnn", "lstm"), n_train=2000, n_test=500, epochs=5, seed=0)
        assert torch.get_num_threads() == 2  # runs on one thread, then restores the setting
    finally:
        torch.set_num_threads(1)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global generator is left alone
    assert [(r["length"], r["cell"]) for r in rows] == [(10, "rnn"), (10, "lstm"), (12, "rnn"), (12, "lstm")]
    assert set(rows[0]) == {"length", "cell", "test_mse", "baseline_mse", "ratio", "final_train_loss", "seconds"}
    for r in rows:
        assert 0.1 < r["baseline_mse"] < 0.25  # predicting 1.0: about 1/6
        assert r["ratio"] == pytest.approx(r["test_mse"] / r["baseline_mse"])
    # 200 steps are enough for the LSTM at T = 10 (measured ratio 0.17-0.47 over seeds 0-3)
    assert rows[1]["ratio"] < 0.6
    again = adding_problem_comparison((10,), cells=("lstm",), n_train=2000, n_test=500, epochs=5, seed=0)
    assert again[0]["test_mse"] == rows[1]["test_mse"]


def test_adding_problem_comparison_errors():
    with pytest.raises(ValueError, match=r"adding_problem_comparison: `lengths` must be >= 2. Received: lengths=1"):
        adding_problem_comparison((1,))
    with pytest.raises(ValueError, match=r"`cell` must be 'lstm', 'gru' or 'rnn'"):
        adding_problem_comparison((10,), cells=("transformer",))
    with pytest.raises(ValueError, match=r"`num_threads` must be >= 1. Received: num_threads=0"):
        adding_problem_comparison((10,), num_threads=0)
