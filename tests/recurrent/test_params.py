"""Tests of coursepkg.recurrent.params: the model count is the recurrent stack's plus the head's.

The counts of the built models in both frameworks are checked in test_torch.py and test_keras.py.
"""

from __future__ import annotations

import itertools

import pytest

from coursepkg.recurrent import model_param_count
from coursepkg.rnn import rnn_param_count


def test_notes_lstm_by_hand():
    weights = 4 * 128 * (1 + 128)  # input and recurrent matrices of the four gates
    assert model_param_count(1, 128, framework="keras") == weights + 4 * 128 + 128 + 1 == 66689
    assert model_param_count(1, 128, framework="torch") == weights + 2 * 4 * 128 + 128 + 1 == 67201


def test_bidirectional_two_layer_gru_by_hand():
    # layer 0 sees D = 3, layer 1 sees 2H = 10; GRU has two bias vectors in both frameworks; head 10 -> 4
    layer0 = 2 * (3 * 5 * (3 + 5) + 2 * 15)
    layer1 = 2 * (3 * 5 * (10 + 5) + 2 * 15)
    for framework in ("torch", "keras"):
        assert model_param_count(3, 5, cell="gru", num_layers=2, bidirectional=True, num_outputs=4,
                                 framework=framework) == layer0 + layer1 + 10 * 4 + 4


@pytest.mark.parametrize(
    "cell, num_layers, bidirectional, framework",
    list(itertools.product(["lstm", "gru", "rnn"], [1, 3], [False, True], ["torch", "keras"])),
)
def test_is_rnn_param_count_plus_head(cell, num_layers, bidirectional, framework):
    K = 2 if bidirectional else 1
    recurrent = rnn_param_count(7, 6, cell=cell, num_layers=num_layers, bidirectional=bidirectional,
                                framework=framework)
    got = model_param_count(7, 6, cell=cell, num_layers=num_layers, bidirectional=bidirectional, num_outputs=3,
                            framework=framework)
    assert got == recurrent + K * 6 * 3 + 3


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(framework="jax"), ValueError, r"model_param_count: `framework` must be 'torch' or 'keras'. Received: framework='jax'"),
        (dict(cell="LSTM"), ValueError, r"`cell` must be 'lstm', 'gru' or 'rnn' .*in lower case. Received: cell='LSTM'"),
        (dict(num_outputs=0), ValueError, r"`num_outputs` must be >= 1. Received: num_outputs=0"),
        (dict(bidirectional=1), TypeError, r"`bidirectional` must be True or False. Received: bidirectional=1"),
        (dict(num_layers=1.0), TypeError, r"`num_layers` must be an integer. Received: num_layers=1.0"),
    ],
)
def test_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        model_param_count(3, 4, **kwargs)
