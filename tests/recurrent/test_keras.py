"""Tests of coursepkg.recurrent.keras: shapes, parameter counts, layers, the notes' LSTM as the notes write it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from coursepkg.data.sequences import binary_sequences
from coursepkg.recurrent import copy_weights, model_param_count
from coursepkg.recurrent.keras import notes_lstm, sequence_classifier, sequence_regressor
from coursepkg.train.keras import evaluate, fit, seed_everything

import keras  # noqa: E402  (after coursepkg.recurrent.keras, which quiets TensorFlow's logging)

GRID = list(itertools.product(["lstm", "gru", "rnn"], [1, 2], [False, True]))
LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "rnn": keras.layers.SimpleRNN}


@pytest.mark.parametrize("cell, num_layers, bidirectional", GRID)
def test_shape_layers_and_parameter_count(cell, num_layers, bidirectional):
    D, H, O = 3, 5, 4
    model = sequence_classifier(D, H, cell=cell, num_layers=num_layers, bidirectional=bidirectional, num_outputs=O)
    assert model.output_shape == (None, O)
    assert model.predict(np.zeros((2, 7, D), np.float32), verbose=0).shape == (2, O)
    assert model.count_params() == model_param_count(
        D, H, cell=cell, num_layers=num_layers, bidirectional=bidirectional, num_outputs=O, framework="keras"
    )
    recurrent = [layer for layer in model.layers if not isinstance(layer, keras.layers.Dense)]
    assert len(recurrent) == num_layers
    for k, layer in enumerate(recurrent):
        inner = layer.forward_layer if bidirectional else layer
        assert type(inner) is LAYERS[cell]
        assert inner.return_sequences == (k < num_layers - 1)
        if cell == "gru":
            assert inner.reset_after
    assert model.layers[-1].activation is keras.activations.linear  # logits
    reg = sequence_regressor(D, H, cell=cell, num_layers=num_layers, bidirectional=bidirectional, horizon=2)
    assert reg.output_shape == (None, 2)


def test_dropout_layers():
    model = sequence_classifier(2, 4, num_layers=2, dropout=0.25)
    drops = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert [d.rate for d in drops] == [0.25, 0.25]
    assert model.count_params() == sequence_classifier(2, 4, num_layers=2).count_params()
    x = np.random.default_rng(0).standard_normal((8, 5, 2)).astype(np.float32)
    np.testing.assert_array_equal(model(x, training=False), model(x, training=False))
    assert not np.allclose(model(x, training=True), model(x, training=False))


def test_notes_lstm_is_the_notes_model():
    model = notes_lstm(logits=False)
    assert model.input_shape == (None, 10, 1) and model.output_shape == (None, 1)
    lstm, dense = model.layers
    assert type(lstm) is keras.layers.LSTM and lstm.units == 128 and not lstm.return_sequences
    assert dense.units == 1 and dense.activation is keras.activations.sigmoid
    assert model.count_params() == 4 * 128 * (1 + 128) + 4 * 128 + 128 + 1 == 66689


def test_logits_and_sigmoid_give_the_same_model_and_loss():
    x, y = binary_sequences(64, rng=0)
    logits_model, probs_model = notes_lstm(), notes_lstm(logits=False)
    copy_weights(logits_model, probs_model)
    z = logits_model.predict(x, verbose=0)  # (64, 1)
    p = probs_model.predict(x, verbose=0)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-z)), rtol=1e-5, atol=1e-6)
    from_logits = keras.losses.BinaryCrossentropy(from_logits=True)(y[:, None].astype(np.float32), z)
    from_probs = keras.losses.BinaryCrossentropy()(y[:, None].astype(np.float32), p)  # the notes' loss
    assert float(from_probs) == pytest.approx(float(from_logits), rel=1e-5)
    # and the decision rule: z > 0 exactly when p > 1/2
    np.testing.assert_array_equal(z > 0, p > 0.5)


@pytest.mark.parametrize(
    "func, kwargs, exc, match",
    [
        (sequence_classifier, dict(cell="lstm2"), ValueError, r"sequence_classifier: `cell` must be 'lstm', 'gru' or 'rnn'"),
        (sequence_classifier, dict(num_outputs=0), ValueError, r"`num_outputs` must be >= 1. Received: num_outputs=0"),
        (sequence_classifier, dict(dropout=-0.1), ValueError, r"`dropout` is the probability"),
        (sequence_regressor, dict(horizon=1.5), TypeError, r"sequence_regressor: `horizon` must be an integer"),
    ],
)
def test_errors(func, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        func(3, 4, **kwargs)
    with pytest.raises(TypeError, match=r"notes_lstm: `logits` must be True or False"):
        notes_lstm(logits="no")


def test_notes_lstm_learns_binary_sequences():
    # measured: 0.957-0.965 held-out accuracy after 10 epochs for seeds 0-2 (0.93-0.94 after 5)
    x, y = binary_sequences(4000, rng=0)
    x_test, y_test = binary_sequences(1000, rng=1)
    seed_everything(0)
    model = notes_lstm()
    history = fit(model, x, y, loss="bce", epochs=10, batch_size=32, lr=1e-3, seed=0, progress=False)
    accuracy = evaluate(model, x_test, y_test, loss="bce")["accuracy"]
    assert accuracy >= 0.92, f"held-out accuracy {accuracy:.3f}; training history {history['accuracy']}"


def test_adding_problem_comparison_is_the_twin_of_pytorchs():
    import inspect

    import torch

    from coursepkg.recurrent import keras as keras_rec
    from coursepkg.recurrent import torch as torch_rec

    ours = inspect.signature(keras_rec.adding_problem_comparison).parameters
    theirs = inspect.signature(torch_rec.adding_problem_comparison).parameters
    assert list(ours) == list(theirs)
    assert [p.default for n, p in ours.items() if n != "num_threads"] == [
        p.default for n, p in theirs.items() if n != "num_threads"
    ]
    kwargs = dict(cells=("rnn", "lstm"), n_train=2000, n_test=500, epochs=5, seed=0)
    rows = keras_rec.adding_problem_comparison((10, 12), **kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.set_num_threads(1)
        torch_rows = torch_rec.adding_problem_comparison((10, 12), **kwargs)
    assert [(r["length"], r["cell"]) for r in rows] == [(10, "rnn"), (10, "lstm"), (12, "rnn"), (12, "lstm")]
    assert all(set(r) == set(t) for r, t in zip(rows, torch_rows))
    for r, t in zip(rows, torch_rows):
        assert r["baseline_mse"] == t["baseline_mse"]  # the same test data
        assert r["ratio"] == pytest.approx(r["test_mse"] / r["baseline_mse"])
    # 200 steps are enough for the LSTM at T = 10 to beat the baseline clearly, as in PyTorch
    assert rows[1]["ratio"] < 0.6, rows
    again = keras_rec.adding_problem_comparison((10,), **{**kwargs, "cells": ("lstm",)})
    assert again[0]["test_mse"] == pytest.approx(rows[1]["test_mse"], rel=1e-6)


def test_adding_problem_comparison_errors():
    from coursepkg.recurrent.keras import adding_problem_comparison

    with pytest.raises(ValueError, match=r"adding_problem_comparison: `lengths` must be >= 2. Received: lengths=1"):
        adding_problem_comparison((1,))
    with pytest.raises(ValueError, match=r"`cell` must be 'lstm', 'gru' or 'rnn'"):
        adding_problem_comparison((10,), cells=("transformer",))
    with pytest.raises(ValueError, match=r"`num_threads` must be >= 1. Received: num_threads=0"):
        adding_problem_comparison((10,), num_threads=0)
    import tensorflow as tf

    tf.constant(1.0) + 1.0  # TensorFlow has started: its thread pool is fixed
    threads = tf.config.threading.get_intra_op_parallelism_threads()
    with pytest.raises(ValueError, match=r"adding_problem_comparison: TensorFlow fixes its thread pool when it runs "
                                         r"its first operation.*Pass num_threads=None"):
        adding_problem_comparison((10,), num_threads=threads + 3)
