"""Tests of coursepkg.rnn.params: the formulas against torch.nn.RNN/LSTM/GRU and keras SimpleRNN/LSTM/GRU."""

from __future__ import annotations

import itertools

import keras
import pytest
import torch

from coursepkg.rnn import rnn_param_count

TORCH = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
KERAS = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def test_by_hand():
    # torch.nn.RNN(3, 5): weights 5*3 + 5*5, two biases of 5; keras SimpleRNN has one bias
    assert rnn_param_count(3, 5, cell="rnn") == 15 + 25 + 10
    assert rnn_param_count(3, 5, cell="rnn", framework="keras") == 15 + 25 + 5
    # LSTM(10, 20): 4 * 20 * (10 + 20) = 2400 weights, 2 * 80 or 80 biases
    assert rnn_param_count(10, 20, cell="lstm") == 2560
    assert rnn_param_count(10, 20, cell="lstm", framework="keras") == 2480
    # GRU: reset_after=True has two bias rows in Keras too
    assert rnn_param_count(10, 20, cell="gru", framework="keras") == 1800 + 120
    assert rnn_param_count(10, 20, cell="gru", framework="keras", reset_after=False) == 1800 + 60
    # stacked bidirectional: the second layer sees 2H = 40 features
    assert rnn_param_count(10, 20, cell="lstm", num_layers=2, bidirectional=True) == 2 * 2560 + 2 * (
        4 * 20 * (40 + 20) + 160
    )


GRID = list(itertools.product(["rnn", "lstm", "gru"], [1, 2, 3], [False, True], [False, True]))


@pytest.mark.parametrize("cell, num_layers, bidirectional, bias", GRID)
def test_matches_torch(cell, num_layers, bidirectional, bias):
    D, H = 7, 5
    mod = TORCH[cell](D, H, num_layers=num_layers, bidirectional=bidirectional, bias=bias)
    expected = sum(p.numel() for p in mod.parameters())
    got = rnn_param_count(D, H, cell=cell, num_layers=num_layers, bidirectional=bidirectional, bias=bias)
    assert got == expected


def _keras_count(cell, D, H, num_layers, bidirectional, bias, reset_after=True):
    layers = [keras.Input((4, D))]
    for layer in range(num_layers):
        kwargs = {"reset_after": reset_after} if cell == "gru" else {}
        rnn = KERAS[cell](H, use_bias=bias, return_sequences=layer < num_layers - 1, **kwargs)
        layers.append(keras.layers.Bidirectional(rnn) if bidirectional else rnn)
    return keras.Sequential(layers).count_params()


@pytest.mark.parametrize(
    "cell, num_layers, bidirectional, bias",
    [g for g in GRID if g[1] < 3] + [("gru", 2, True, True), ("gru", 1, False, True)],
)
def test_matches_keras(cell, num_layers, bidirectional, bias):
    D, H = 7, 5
    expected = _keras_count(cell, D, H, num_layers, bidirectional, bias)
    got = rnn_param_count(D, H, cell=cell, num_layers=num_layers, bidirectional=bidirectional, bias=bias,
                          framework="keras")
    assert got == expected


@pytest.mark.parametrize(
    "num_layers, bidirectional, bias", [(1, False, True), (2, True, True), (1, False, False)]
)
def test_matches_keras_gru_reset_before(num_layers, bidirectional, bias):
    expected = _keras_count("gru", 3, 4, num_layers, bidirectional, bias, reset_after=False)
    got = rnn_param_count(3, 4, cell="gru", num_layers=num_layers, bidirectional=bidirectional, bias=bias,
                          framework="keras", reset_after=False)
    assert got == expected


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"cell": "simplernn"}, ValueError, r"`cell` must be 'rnn', 'lstm' or 'gru' .*Received: cell='simplernn'"),
        ({"cell": "lstm", "framework": "jax"}, ValueError, r"`framework` must be 'torch' or 'keras'. Received: framework='jax'"),
        ({"cell": "lstm", "reset_after": False}, ValueError, r"`reset_after=False` exists only for the Keras GRU"),
        ({"cell": "gru", "reset_after": False}, ValueError, r"Received: reset_after=False with cell='gru', framework='torch'"),
        ({"cell": "gru", "num_layers": 0}, ValueError, r"`num_layers` must be >= 1. Received: num_layers=0"),
        ({"cell": "gru", "bidirectional": 1}, TypeError, r"`bidirectional` must be True or False. Received: bidirectional=1"),
    ],
)
def test_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        rnn_param_count(3, 4, **kwargs)
    with pytest.raises(TypeError, match=r"`hidden_size` must be an integer. Received: hidden_size=4.0"):
        rnn_param_count(3, 4.0, cell="rnn")
