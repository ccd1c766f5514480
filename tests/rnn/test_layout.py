"""Tests of coursepkg.rnn.layout: Keras SimpleRNN/LSTM/GRU weights give the same outputs in coursepkg."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursepkg.rnn import gru_forward, lstm_forward, rnn_forward, weights_from_keras, weights_to_keras

from ._reference import make_case, np_forward

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _keras_layer(cell, H, *, bias=True, activation="tanh", reset_after=True):
    kwargs = dict(return_sequences=True, use_bias=bias, dtype="float64")
    if cell == "rnn":
        return keras.layers.SimpleRNN(H, activation=activation, **kwargs)
    if cell == "lstm":
        return keras.layers.LSTM(H, **kwargs)
    return keras.layers.GRU(H, reset_after=reset_after, **kwargs)


def _keras_run(layer, x, h0, c0):
    state = [h0, c0] if c0 is not None else [h0]
    out = layer(keras.ops.convert_to_tensor(x), initial_state=[keras.ops.convert_to_tensor(s) for s in state])
    return keras.ops.convert_to_numpy(out)


def _keras_weights(cell, D, H, rng, bias):
    G = GATES[cell]
    weights = [rng.standard_normal((D, G * H)) * 0.6, rng.standard_normal((H, G * H)) * 0.6]
    if bias:
        weights.append(rng.standard_normal((2, G * H) if cell == "gru" else (G * H,)) * 0.6)
    return weights


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@settings(max_examples=20, deadline=None)
@given(
    N=st.integers(1, 3), T=st.integers(1, 4), D=st.integers(1, 4), H=st.integers(1, 4),
    bias=st.booleans(), relu=st.booleans(), seed=st.integers(0, 2**32 - 1),
)
def test_keras_weights_give_keras_outputs(cell, N, T, D, H, bias, relu, seed):
    rng = np.random.default_rng(seed)
    nonlinearity = "relu" if (relu and cell == "rnn") else "tanh"
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H)) * 0.5
    c0 = rng.standard_normal((N, H)) * 0.5 if cell == "lstm" else None
    weights = _keras_weights(cell, D, H, rng, bias)
    layer = _keras_layer(cell, H, bias=bias, activation=nonlinearity)
    layer.build((N, T, D))
    layer.set_weights(weights)
    expected = _keras_run(layer, x, h0, c0)

    w = weights_from_keras(weights, cell=cell)
    assert (w[2] is None) == (not bias)
    if cell == "rnn":
        hs, _ = rnn_forward(x, h0, *w, nonlinearity=nonlinearity)
    elif cell == "lstm":
        hs, _ = lstm_forward(x, h0, c0, *w)
    else:
        hs, _ = gru_forward(x, h0, *w)
    np.testing.assert_allclose(hs, expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bias", [True, False])
def test_coursepkg_weights_give_same_outputs_in_keras(cell, bias):
    N, T, D, H = 2, 3, 4, 3
    c = make_case(cell, N, T, D, H, np.random.default_rng(5), bias=bias)
    hs, _ = np_forward(cell, c)
    layer = _keras_layer(cell, H, bias=bias)
    layer.build((N, T, D))
    weights = weights_to_keras(c["weight_ih"], c["weight_hh"], c["bias_ih"], c["bias_hh"], cell=cell)
    assert len(weights) == (3 if bias else 2)
    layer.set_weights(weights)  # raises if a shape is not Keras's
    np.testing.assert_allclose(_keras_run(layer, c["x"], c["h0"], c["c0"]), hs, rtol=1e-12, atol=1e-13)


def test_round_trips():
    rng = np.random.default_rng(0)
    for cell in ("rnn", "lstm", "gru"):
        weights = _keras_weights(cell, 3, 2, rng, bias=True)
        back = weights_to_keras(*weights_from_keras(weights, cell=cell), cell=cell)
        for a, b in zip(weights, back):
            np.testing.assert_array_equal(a, b)
    # torch -> keras -> torch is exact for the GRU; the RNN and LSTM keep only the sum of the two biases
    c = make_case("gru", 1, 1, 3, 2, rng)
    torch_layout = (c["weight_ih"], c["weight_hh"], c["bias_ih"], c["bias_hh"])
    w = weights_from_keras(weights_to_keras(*torch_layout, cell="gru"), cell="gru")
    for a, name in zip(w, ("weight_ih", "weight_hh", "bias_ih", "bias_hh")):
        np.testing.assert_array_equal(a, c[name])
    c = make_case("lstm", 1, 1, 3, 2, rng)
    torch_layout = (c["weight_ih"], c["weight_hh"], c["bias_ih"], c["bias_hh"])
    _, _, b_ih, b_hh = weights_from_keras(weights_to_keras(*torch_layout, cell="lstm"), cell="lstm")
    np.testing.assert_allclose(b_ih + b_hh, c["bias_ih"] + c["bias_hh"], rtol=1e-15)
    np.testing.assert_array_equal(b_hh, 0.0)


def test_gru_gate_order_by_hand():
    # H = 1: Keras columns z, r, h become PyTorch rows r, z, n
    kernel = np.array([[10.0, 20.0, 30.0]])  # D = 1
    recurrent = np.array([[1.0, 2.0, 3.0]])  # H = 1
    bias = np.array([[4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])  # (2, 3H): input row, recurrent row
    w_ih, w_hh, b_ih, b_hh = weights_from_keras([kernel, recurrent, bias], cell="gru")
    np.testing.assert_array_equal(w_ih[:, 0], [20.0, 10.0, 30.0])
    np.testing.assert_array_equal(w_hh[:, 0], [2.0, 1.0, 3.0])
    np.testing.assert_array_equal(b_ih, [5.0, 4.0, 6.0])
    np.testing.assert_array_equal(b_hh, [8.0, 7.0, 9.0])


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"GRU bias of shape \(6,\) comes from keras.layers.GRU\(reset_after=False\).*reset_after=True"):
        weights_from_keras([np.zeros((3, 6)), np.zeros((2, 6)), np.zeros(6)], cell="gru")
    with pytest.raises(ValueError, match=r"`recurrent_kernel` must have shape \(H, 4\*H\) for a Keras LSTM, got shape \(2, 6\). Check `cell`"):
        weights_from_keras([np.zeros((3, 6)), np.zeros((2, 6))], cell="lstm")
    with pytest.raises(ValueError, match=r"`kernel` must have shape \(D, 3\*H\) = \(D, 6\) since recurrent_kernel.shape=\(2, 6\) gives H=2; got shape \(3, 5\)"):
        weights_from_keras([np.zeros((3, 5)), np.zeros((2, 6))], cell="gru")
    with pytest.raises(ValueError, match=r"`weights` must be the list layer.get_weights\(\) of a Keras SimpleRNN layer.*length 1"):
        weights_from_keras([np.zeros((3, 2))], cell="rnn")
    with pytest.raises(ValueError, match=r"`cell` must be 'rnn' \(Keras SimpleRNN\), 'lstm' or 'gru'. Received: cell='LSTM'"):
        weights_to_keras(np.zeros((8, 3)), np.zeros((8, 2)), cell="LSTM")
    with pytest.raises(ValueError, match=r"weights_to_keras: `bias_hh` must have shape \(4\*H,\) = \(8,\), got shape \(4,\)"):
        weights_to_keras(np.zeros((8, 3)), np.zeros((8, 2)), None, np.zeros(4), cell="lstm")
    with pytest.raises(ValueError, match=r"weights_to_keras: `weight_ih` must have 3\*H = 6 rows"):
        weights_to_keras(np.zeros((8, 3)), np.zeros((6, 2)), cell="gru")
