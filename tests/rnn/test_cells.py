"""Tests of coursepkg.rnn.cells: single steps by hand, by central differences and against torch's cells."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from coursepkg.gradcheck import assert_grad_close, numerical_gradient
from coursepkg.rnn import (
    GRUStepCache,
    LSTMStepGrads,
    StepGrads,
    gru_step,
    gru_step_backward,
    lstm_step,
    lstm_step_backward,
    rnn_step,
    rnn_step_backward,
)

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _case(cell, N, D, H, rng, bias=True):
    G = GATES[cell]
    return {
        "x": rng.standard_normal((N, D)),
        "h_prev": rng.standard_normal((N, H)) * 0.5,
        "c_prev": rng.standard_normal((N, H)) * 0.5 if cell == "lstm" else None,
        "weight_ih": rng.standard_normal((G * H, D)) * 0.6,
        "weight_hh": rng.standard_normal((G * H, H)) * 0.6,
        "bias_ih": rng.standard_normal(G * H) * 0.6 if bias else None,
        "bias_hh": rng.standard_normal(G * H) * 0.6 if bias else None,
        "dh": rng.standard_normal((N, H)),
        "dc": rng.standard_normal((N, H)) if cell == "lstm" else None,
    }


def _step(cell, c, nonlinearity="tanh"):
    """(h_next, c_next or None, cache)."""
    w = (c["weight_ih"], c["weight_hh"], c["bias_ih"], c["bias_hh"])
    if cell == "rnn":
        h, cache = rnn_step(c["x"], c["h_prev"], *w, nonlinearity=nonlinearity)
        return h, None, cache
    if cell == "lstm":
        return lstm_step(c["x"], c["h_prev"], c["c_prev"], *w)
    h, cache = gru_step(c["x"], c["h_prev"], *w)
    return h, None, cache


def _step_backward(cell, c, cache):
    if cell == "rnn":
        return rnn_step_backward(c["dh"], cache)
    if cell == "lstm":
        return lstm_step_backward(c["dh"], c["dc"], cache)
    return gru_step_backward(c["dh"], cache)


def _loss(cell, c, nonlinearity="tanh"):
    h, cn, _ = _step(cell, c, nonlinearity)
    return float(np.sum(c["dh"] * h) + (np.sum(c["dc"] * cn) if cell == "lstm" else 0.0))


# ------------------------------------------------------------------------------ 1. by hand


def test_rnn_step_by_hand():
    # relu(2 * 1 + 0.5 * 0.5 + 1) = 3.25; d/dh_prev = w_hh = 0.5, d/dw_hh = h_prev = 0.5
    h, cache = rnn_step(np.array([[1.0]]), np.array([[0.5]]), np.array([[2.0]]), np.array([[0.5]]),
                        np.array([1.0]), None, nonlinearity="relu")
    np.testing.assert_array_equal(h, [[3.25]])
    g = rnn_step_backward(np.array([[2.0]]), cache)
    assert isinstance(g, StepGrads)
    np.testing.assert_array_equal(g.dx, [[4.0]])
    np.testing.assert_array_equal(g.dh_prev, [[1.0]])
    np.testing.assert_array_equal(g.dweight_ih, [[2.0]])
    np.testing.assert_array_equal(g.dweight_hh, [[1.0]])
    np.testing.assert_array_equal(g.dbias_ih, [2.0])
    assert g.dbias_hh is None


def test_lstm_step_by_hand_saturated_gates():
    # pre-activations +-40: i = f = o = 1 and g = 1 up to 4e-18, so c' = c + 1 and h' = tanh(c + 1)
    b = np.concatenate([np.full(1, 40.0), np.full(1, 40.0), np.full(1, 40.0), np.full(1, 40.0)])
    w_ih, w_hh = np.zeros((4, 1)), np.zeros((4, 1))
    h, c, _ = lstm_step(np.zeros((1, 1)), np.zeros((1, 1)), np.array([[0.5]]), w_ih, w_hh, b)
    np.testing.assert_allclose(c, [[1.5]], rtol=1e-15)
    np.testing.assert_allclose(h, np.tanh([[1.5]]), rtol=1e-15)
    # forget gate shut (pre-activation -40): the old cell is gone, c' = i * g
    b[1] = -40.0
    _, c, cache = lstm_step(np.zeros((1, 1)), None, np.array([[0.5]]), w_ih, w_hh, b)
    np.testing.assert_allclose(c, [[1.0]], rtol=1e-15)
    g = lstm_step_backward(None, np.ones((1, 1)), cache)
    assert isinstance(g, LSTMStepGrads)
    np.testing.assert_allclose(g.dc_prev, [[0.0]], atol=1e-17)


def test_gru_step_by_hand():
    # zero weights and biases: r = z = 1/2, n = 0, h' = h / 2;
    # update gate shut (b_iz = -40): h' = n = tanh(b_in)
    h, cache = gru_step(np.ones((1, 2)), np.array([[1.0]]), np.zeros((3, 2)), np.zeros((3, 1)))
    np.testing.assert_array_equal(h, [[0.5]])
    assert isinstance(cache, GRUStepCache)
    b_ih = np.array([0.0, -40.0, 0.3])  # r, z, n
    h, _ = gru_step(np.ones((1, 2)), np.array([[1.0]]), np.zeros((3, 2)), np.zeros((3, 1)), b_ih)
    np.testing.assert_allclose(h, np.tanh([[0.3]]), rtol=1e-15)


# ------------------------------------------------------------------- 2. central differences


@pytest.mark.parametrize("N, D, H", [(1, 1, 1), (1, 3, 2), (2, 2, 4), (3, 4, 3)])
@pytest.mark.parametrize("cell, nonlinearity, bias", [("rnn", "tanh", True), ("rnn", "relu", False),
                                                      ("lstm", "tanh", True), ("gru", "tanh", True),
                                                      ("gru", "tanh", False)])
def test_step_backward_matches_central_differences(cell, nonlinearity, bias, N, D, H):
    c = _case(cell, N, D, H, np.random.default_rng(N * 100 + D * 10 + H), bias=bias)
    _, _, cache = _step(cell, c, nonlinearity)
    grads = _step_backward(cell, c, cache)
    for name in ("x", "h_prev", "c_prev", "weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        if c[name] is None:
            continue
        expected = numerical_gradient(lambda _: _loss(cell, c, nonlinearity), c[name])
        assert_grad_close(name, expected, getattr(grads, "d" + name), rtol=1e-5, atol=1e-8)


# ------------------------------------------------------------------------ 3. PyTorch parity


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@settings(max_examples=15, deadline=None)
@given(N=st.integers(1, 3), D=st.integers(1, 4), H=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_step_matches_torch_cell(cell, N, D, H, seed):
    c = _case(cell, N, D, H, np.random.default_rng(seed))
    cls = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[cell]
    mod = cls(D, H, dtype=torch.float64)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(mod, name).copy_(torch.from_numpy(c[name]))
    x = torch.tensor(c["x"], requires_grad=True)
    h_prev = torch.tensor(c["h_prev"], requires_grad=True)
    if cell == "lstm":
        c_prev = torch.tensor(c["c_prev"], requires_grad=True)
        h, cn = mod(x, (h_prev, c_prev))
        loss = (h * torch.from_numpy(c["dh"])).sum() + (cn * torch.from_numpy(c["dc"])).sum()
    else:
        h = mod(x, h_prev)
        loss = (h * torch.from_numpy(c["dh"])).sum()
    loss.backward()
    h_np, c_np, cache = _step(cell, c)
    np.testing.assert_allclose(h_np, h.detach().numpy(), rtol=1e-12, atol=1e-13)
    if cell == "lstm":
        np.testing.assert_allclose(c_np, cn.detach().numpy(), rtol=1e-12, atol=1e-13)
    grads = _step_backward(cell, c, cache)
    expected = {"dx": x.grad, "dh_prev": h_prev.grad, **{"d" + n: getattr(mod, n).grad for n in
                ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}}
    if cell == "lstm":
        expected["dc_prev"] = c_prev.grad
    for name, value in grads._asdict().items():
        assert_grad_close(name, expected[name].numpy(), value, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------- 5. errors


def test_step_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"rnn_step: `x` must have 2 dimensions \(N, D\), got shape \(1, 2, 3\)"):
        rnn_step(np.zeros((1, 2, 3)), None, np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"gru_step: x has D=2 features but weight_ih expects D=3 .*\(3\*H, D\)"):
        gru_step(np.zeros((1, 2)), None, np.zeros((6, 3)), np.zeros((6, 2)))
    with pytest.raises(ValueError, match=r"lstm_step: `c_prev` must have shape \(N, H\) = \(1, 2\)"):
        lstm_step(np.zeros((1, 3)), None, np.zeros((1, 3)), np.zeros((8, 3)), np.zeros((8, 2)))
    with pytest.raises(TypeError, match=r"lstm_step: `weight_hh` must hold real numbers, but its dtype is <U1"):
        lstm_step(np.zeros((1, 3)), None, None, np.zeros((8, 3)), np.full((8, 2), "a"))
    _, cache = rnn_step(np.zeros((1, 3)), None, np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(TypeError, match=r"gru_step_backward: `cache` must be the GRUStepCache returned by gru_step"):
        gru_step_backward(np.zeros((1, 2)), cache)
    with pytest.raises(ValueError, match=r"rnn_step_backward: `dh_next` .* \(N, H\) = \(1, 2\), got shape \(2, 1\)"):
        rnn_step_backward(np.zeros((2, 1)), cache)
