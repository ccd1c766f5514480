"""Tests of coursepkg.recurrent.transfer: the same weights give the same outputs in PyTorch, Keras and NumPy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from coursepkg.recurrent import RecurrentWeights, copy_weights, forward_numpy, get_weights, set_weights
from coursepkg.recurrent import keras as rk
from coursepkg.recurrent import torch as rt

import keras  # noqa: E402

torch.set_num_threads(1)

GRID = list(itertools.product(["lstm", "gru", "rnn"], [(1, False), (2, False), (1, True), (2, True)]))


def torch_out(model, x: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def keras_out(model, x: np.ndarray) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(x, training=False))


def randomize(model, seed: int) -> None:
    """Weights of scale 0.5 (larger than either framework's initialisation, so that every gate matters)."""
    rng = np.random.default_rng(seed)
    w = get_weights(model)
    layers = [[tuple(rng.standard_normal(a.shape).astype(np.float32) * 0.5 for a in d) for d in layer] for layer in w.layers]
    set_weights(model, RecurrentWeights(w.cell, layers, rng.standard_normal(w.head_weight.shape).astype(np.float32),
                                        rng.standard_normal(w.head_bias.shape).astype(np.float32)))


@pytest.mark.parametrize("cell, layout", GRID)
def test_torch_to_keras_same_outputs(cell, layout):
    num_layers, bidirectional = layout
    kwargs = dict(cell=cell, num_layers=num_layers, bidirectional=bidirectional, num_outputs=3)
    torch.manual_seed(0)
    source, target = rt.sequence_classifier(2, 5, **kwargs), rk.sequence_classifier(2, 5, **kwargs)
    randomize(source, seed=1)
    x = np.random.default_rng(2).standard_normal((4, 9, 2)).astype(np.float32)  # (N, T, D)
    assert copy_weights(source, target) is target
    expected = torch_out(source, x)  # (4, 3)
    np.testing.assert_allclose(keras_out(target, x), expected, rtol=1e-5, atol=1e-5)
    # a third, framework-free computation in float64 with the same weights
    np.testing.assert_allclose(forward_numpy(get_weights(source), x.astype(np.float64)), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cell, layout", GRID)
def test_keras_to_torch_same_outputs_and_exact_weights(cell, layout):
    num_layers, bidirectional = layout
    kwargs = dict(cell=cell, num_layers=num_layers, bidirectional=bidirectional, horizon=2)
    source, target = rk.sequence_regressor(3, 4, **kwargs), rt.sequence_regressor(3, 4, **kwargs)
    randomize(source, seed=3)
    x = np.random.default_rng(4).standard_normal((2, 6, 3)).astype(np.float32)
    copy_weights(source, target)
    np.testing.assert_allclose(torch_out(target, x), keras_out(source, x), rtol=1e-5, atol=1e-5)
    a, b = get_weights(source), get_weights(target)
    for da, db in zip(itertools.chain(*a.layers), itertools.chain(*b.layers)):
        for wa, wb in zip(da, db):
            np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.head_weight, b.head_weight)


def test_round_trip_keeps_what_each_framework_can_hold():
    torch.manual_seed(0)
    for cell in ("lstm", "gru", "rnn"):
        t = rt.sequence_classifier(2, 3, cell=cell, bidirectional=True)
        back = copy_weights(copy_weights(t, rk.sequence_classifier(2, 3, cell=cell, bidirectional=True)),
                            rt.sequence_classifier(2, 3, cell=cell, bidirectional=True))
        for (wi, wh, bi, bh), (wi2, wh2, bi2, bh2) in zip(get_weights(t).layers[0], get_weights(back).layers[0]):
            np.testing.assert_array_equal(wi, wi2)
            np.testing.assert_array_equal(wh, wh2)
            if cell == "gru":  # Keras keeps both GRU biases
                np.testing.assert_array_equal(bi, bi2)
                np.testing.assert_array_equal(bh, bh2)
            else:  # Keras keeps their sum
                np.testing.assert_allclose(bi2, bi + bh, rtol=1e-6)
                np.testing.assert_array_equal(bh2, 0.0)


def test_notes_lstm_twins():
    torch.manual_seed(0)
    t, k = rt.notes_lstm(), rk.notes_lstm(logits=False)
    copy_weights(t, k)
    x = np.random.default_rng(0).uniform(size=(5, 10, 1)).astype(np.float32)
    np.testing.assert_allclose(keras_out(k, x), 1 / (1 + np.exp(-torch_out(t, x))), rtol=1e-5, atol=1e-6)


def test_errors_name_the_mismatch():
    t = rt.sequence_classifier(2, 3)
    with pytest.raises(ValueError, match=r"set_weights: the weights are those of a 'gru' network but the model is a 'lstm' network"):
        copy_weights(rk.sequence_classifier(2, 3, cell="gru"), t)
    with pytest.raises(ValueError, match=r"the weights have 2 layer\(s\) with 1 direction\(s\) but the model has 1 with 1. "
                                          r"Build it with the same num_layers and bidirectional"):
        copy_weights(rk.sequence_classifier(2, 3, num_layers=2), t)
    with pytest.raises(ValueError, match=r"the weights have 1 layer\(s\) with 2 direction\(s\) but the model has 1 with 1"):
        copy_weights(rt.sequence_classifier(2, 3, bidirectional=True), t)
    with pytest.raises(ValueError, match=r"layer 0, direction 0: `weight_ih` has shape \(12, 5\) but the model expects \(12, 2\)"):
        copy_weights(rk.sequence_classifier(5, 3), t)
    with pytest.raises(ValueError, match=r"`head_weight` has shape \(4, 3\) but the model expects \(1, 3\). .*num_outputs"):
        copy_weights(rt.sequence_classifier(2, 3, num_outputs=4), t)
    with pytest.raises(TypeError, match=r"get_weights: a PyTorch model must be a RecurrentNet"):
        get_weights(torch.nn.LSTM(2, 3))
    with pytest.raises(TypeError, match=r"get_weights: `model` must be a model built by coursepkg.recurrent"):
        get_weights("model.pt")
    conv = keras.Sequential([keras.Input((5, 2)), keras.layers.Conv1D(3, 2), keras.layers.Dense(1)])
    with pytest.raises(TypeError, match=r"the Keras model has a Conv1D layer"):
        get_weights(conv)
    relu = keras.Sequential([keras.Input((5, 2)), keras.layers.SimpleRNN(3, activation="relu"), keras.layers.Dense(1)])
    with pytest.raises(TypeError, match=r"the SimpleRNN layer .* must use tanh"):
        get_weights(relu)
    with pytest.raises(ValueError, match=r"forward_numpy: x has D=4 features but the first layer expects D=2"):
        forward_numpy(get_weights(t), np.zeros((1, 3, 4)))
