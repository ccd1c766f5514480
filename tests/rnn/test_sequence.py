"""Tests of coursepkg.rnn.sequence: hand-computed cases, central differences, step-loop twin, PyTorch parity."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from coursepkg.gradcheck import assert_grad_close, numerical_gradient
from coursepkg.rnn import (
    GRUCache,
    LSTMCache,
    LSTMGrads,
    RecurrentGrads,
    RNNCache,
    gru_backward,
    gru_forward,
    gru_step,
    gru_step_backward,
    hidden_grad_norms,
    hidden_grads,
    lstm_backward,
    lstm_forward,
    lstm_step,
    lstm_step_backward,
    rnn_backward,
    rnn_forward,
    rnn_step,
    rnn_step_backward,
)

from ._reference import CELLS, PARAM_NAMES, make_case, np_backward, np_forward, np_loss, torch_reference

# ------------------------------------------------------------------------------ 1. by hand


def _paper_rnn():
    """One unit, ReLU, w_ih = 2, w_hh = 1/2, b = 1, x = (1, -1, 3), h0 = 1/2: every number is exact."""
    return (
        np.array([[[1.0], [-1.0], [3.0]]]),
        np.array([[0.5]]),
        np.array([[2.0]]),
        np.array([[0.5]]),
        np.array([1.0]),
        None,
    )


def test_rnn_by_hand_forward_and_backward():
    hs, cache = rnn_forward(*_paper_rnn(), nonlinearity="relu")
    # h1 = 2 + 0.25 + 1, h2 = -2 + 1.625 + 1, h3 = 6 + 0.3125 + 1
    np.testing.assert_array_equal(hs[0, :, 0], [3.25, 0.625, 7.3125])
    # loss = h3: the gradient halves at each step back (w_hh = 1/2, all pre-activations positive)
    g = rnn_backward(None, cache, dh_T=np.ones((1, 1)))
    np.testing.assert_array_equal(g.dx[0, :, 0], [0.25 * 2, 0.5 * 2, 1 * 2])
    np.testing.assert_array_equal(g.dh0, [[0.125]])
    np.testing.assert_array_equal(g.dweight_ih, [[0.25 * 1 + 0.5 * -1 + 1 * 3]])  # 2.75
    np.testing.assert_array_equal(g.dweight_hh, [[0.25 * 0.5 + 0.5 * 3.25 + 1 * 0.625]])  # 2.375
    np.testing.assert_array_equal(g.dbias_ih, [1.75])
    assert g.dbias_hh is None  # no bias_hh was given, as with torch's bias=False
    np.testing.assert_array_equal(hidden_grad_norms(None, cache, dh_T=np.ones((1, 1))), [0.25, 0.5, 1.0])


def test_rnn_relu_dead_unit_blocks_the_gradient():
    x, h0, w_ih, w_hh, b, _ = _paper_rnn()
    hs, cache = rnn_forward(x, h0, w_ih, w_hh, np.array([-3.0]), None, nonlinearity="relu")
    # a2 = -2 + 0.5 * relu(2 + 0.25 - 3) - 3 < 0: h2 = 0 and nothing flows back past step 2
    assert hs[0, 1, 0] == 0.0
    g = rnn_backward(None, cache, dh_T=np.ones((1, 1)))
    np.testing.assert_array_equal(g.dh0, [[0.0]])
    np.testing.assert_array_equal(g.dx[0, :, 0], [0.0, 0.0, 2.0])


def test_rnn_tanh_with_zero_weights_is_tanh_of_the_bias():
    w_ih, w_hh, b_ih, b_hh = np.zeros((5, 4)), np.zeros((5, 5)), np.full(5, 0.5), np.full(5, 0.25)
    hs, _ = rnn_forward(np.ones((2, 3, 4)), None, w_ih, w_hh, b_ih, b_hh)
    np.testing.assert_allclose(hs, np.tanh(0.75))


def test_lstm_by_hand_zero_weights_halves_the_cell():
    # all gates' pre-activations are 0: i = f = o = 1/2, g = 0, so c_t = c_{t-1}/2 and h_t = tanh(c_t)/2
    w_ih, w_hh = np.zeros((4, 2)), np.zeros((4, 1))
    hs, cache = lstm_forward(np.ones((1, 3, 2)), None, np.ones((1, 1)), w_ih, w_hh, None, None)
    np.testing.assert_allclose(cache.cs[0, :, 0], [0.5, 0.25, 0.125], rtol=0, atol=0)
    np.testing.assert_allclose(hs[0, :, 0], 0.5 * np.tanh([0.5, 0.25, 0.125]), rtol=1e-15)
    # loss = c_T: dc0 = f^3 = 1/8
    g = lstm_backward(None, cache, dc_T=np.ones((1, 1)))
    np.testing.assert_array_equal(g.dc0, [[0.125]])


def test_gru_by_hand_zero_weights_and_reset_gate():
    # r = z = 1/2, n = tanh(r * b_hn) = tanh(1) with b_hn = 2; h_t = (1 - z) n + z h_{t-1}
    b_hh = np.array([0.0, 0.0, 2.0])
    hs, cache = gru_forward(np.ones((1, 2, 1)), np.ones((1, 1)), np.zeros((3, 1)), np.zeros((3, 1)), None, b_hh)
    h1 = 0.5 * np.tanh(1.0) + 0.5
    np.testing.assert_allclose(hs[0, :, 0], [h1, 0.5 * np.tanh(1.0) + 0.5 * h1], rtol=1e-15)
    # the only route from h0 to the loss is z: dh_T/dh0 = z^2 = 1/4
    g = gru_backward(None, cache, dh_T=np.ones((1, 1)))
    np.testing.assert_allclose(g.dh0, [[0.25]], rtol=1e-15)


# ------------------------------------------------------------------- 2. central differences

GRID = [  # (N, T, D, H): T = 1, batch of one, H != D, H = 1
    (1, 1, 3, 2),
    (1, 4, 2, 3),
    (2, 3, 3, 1),
    (3, 2, 1, 4),
]


@pytest.mark.parametrize("shape", GRID, ids=lambda s: "N{}T{}D{}H{}".format(*s))
@pytest.mark.parametrize(
    "cell, nonlinearity, bias",
    [("rnn", "tanh", True), ("rnn", "relu", True), ("rnn", "tanh", False), ("lstm", "tanh", True),
     ("lstm", "tanh", False), ("gru", "tanh", True), ("gru", "tanh", False)],
)
def test_backward_matches_central_differences(cell, nonlinearity, bias, shape):
    rng = np.random.default_rng(zlib.crc32(repr((cell, nonlinearity, bias, shape)).encode()))
    c = make_case(cell, *shape, rng, bias=bias)
    _, cache = np_forward(cell, c, nonlinearity)
    grads = np_backward(cell, c, cache)
    for name in PARAM_NAMES:
        if c[name] is None:
            assert getattr(grads, "d" + name, None) is None
            continue
        expected = numerical_gradient(lambda _: np_loss(cell, c, nonlinearity), c[name])
        assert_grad_close(name, expected, getattr(grads, "d" + name), rtol=1e-5, atol=1e-8)


# ------------------------------------------------------------------- twin: loop of steps


def _step_loop(cell, c):
    """Forward by the step functions, backward by the step-backward functions, accumulated by hand."""
    x, N, T = c["x"], c["x"].shape[0], c["x"].shape[1]
    w = (c["weight_ih"], c["weight_hh"], c["bias_ih"], c["bias_hh"])
    h, cc, caches, hs = c["h0"], c["c0"], [], []
    for t in range(T):
        if cell == "rnn":
            h, cache = rnn_step(x[:, t], h, *w)
        elif cell == "lstm":
            h, cc, cache = lstm_step(x[:, t], h, cc, *w)
        else:
            h, cache = gru_step(x[:, t], h, *w)
        caches.append(cache)
        hs.append(h)
    dh, dc = c["dh_T"], c["dc_T"]
    dx = np.zeros_like(x)
    acc = {k: 0.0 for k in ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")}
    for t in reversed(range(T)):
        dh = dh + c["dhs"][:, t]
        if cell == "rnn":
            g = rnn_step_backward(dh, caches[t])
        elif cell == "lstm":
            g = lstm_step_backward(dh, dc, caches[t])
            dc = g.dc_prev
        else:
            g = gru_step_backward(dh, caches[t])
        dh, dx[:, t] = g.dh_prev, g.dx
        for k in acc:
            acc[k] = acc[k] + getattr(g, k)
    return np.stack(hs, axis=1), dict(dx=dx, dh0=dh, dc0=dc, **acc)


@pytest.mark.parametrize("cell", CELLS)
def test_sequence_equals_loop_of_steps(cell):
    rng = np.random.default_rng(7)
    c = make_case(cell, 2, 5, 3, 4, rng)
    hs, cache = np_forward(cell, c)
    grads = np_backward(cell, c, cache)
    hs_loop, grads_loop = _step_loop(cell, c)
    np.testing.assert_allclose(hs, hs_loop, rtol=1e-13, atol=1e-14)
    for name, value in grads._asdict().items():
        np.testing.assert_allclose(value, grads_loop[name], rtol=1e-12, atol=1e-13, err_msg=name)


# ------------------------------------------------------------------------ 3. PyTorch parity


@pytest.mark.parametrize("cell", CELLS)
@settings(max_examples=20, deadline=None)
@given(
    N=st.integers(1, 3), T=st.integers(1, 5), D=st.integers(1, 4), H=st.integers(1, 4),
    bias=st.booleans(), relu=st.booleans(), seed=st.integers(0, 2**32 - 1),
)
def test_matches_torch_values_and_gradients(cell, N, T, D, H, bias, relu, seed):
    nonlinearity = "relu" if (relu and cell == "rnn") else "tanh"
    c = make_case(cell, N, T, D, H, np.random.default_rng(seed), bias=bias)
    ref = torch_reference(cell, c, nonlinearity)
    hs, cache = np_forward(cell, c, nonlinearity)
    grads = np_backward(cell, c, cache)
    np.testing.assert_allclose(hs, ref["hs"], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(hs[:, -1], ref["h_T"], rtol=1e-12, atol=1e-13)
    if cell == "lstm":
        np.testing.assert_allclose(cache.cs[:, -1], ref["c_T"], rtol=1e-12, atol=1e-13)
    for name, value in grads._asdict().items():
        if value is None:
            assert not bias and name.startswith("dbias")
            continue
        assert_grad_close(name, ref[name], value, rtol=1e-10, atol=1e-12)


def _torch_hidden_grads(cell, c):
    """dL/dh_t from a torch loop over RNNCell/LSTMCell/GRUCell with retain_grad on every h_t."""
    N, T, D = c["x"].shape
    H = c["h0"].shape[1]
    cls = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[cell]
    mod = cls(D, H, dtype=torch.float64)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(mod, name).copy_(torch.from_numpy(c[name]))
    x = torch.from_numpy(c["x"])
    h, cc = torch.from_numpy(c["h0"]), torch.from_numpy(c["c0"]) if cell == "lstm" else None
    hs = []
    for t in range(T):
        if cell == "lstm":
            h, cc = mod(x[:, t], (h, cc))
        else:
            h = mod(x[:, t], h)
        h.retain_grad()
        hs.append(h)
    loss = sum((hs[t] * torch.from_numpy(c["dhs"][:, t])).sum() for t in range(T))
    loss = loss + (h * torch.from_numpy(c["dh_T"])).sum()
    if cell == "lstm":
        loss = loss + (cc * torch.from_numpy(c["dc_T"])).sum()
    loss.backward()
    return np.stack([hh.grad.numpy() for hh in hs], axis=1)  # (N, T, H)


@pytest.mark.parametrize("cell", CELLS)
def test_hidden_grads_match_torch_retain_grad(cell):
    c = make_case(cell, 2, 6, 3, 4, np.random.default_rng(3))
    _, cache = np_forward(cell, c)
    got = hidden_grads(c["dhs"], cache, dh_T=c["dh_T"], dc_T=c["dc_T"])
    np.testing.assert_allclose(got, _torch_hidden_grads(cell, c), rtol=1e-11, atol=1e-12)
    norms = hidden_grad_norms(c["dhs"], cache, dh_T=c["dh_T"], dc_T=c["dc_T"])
    np.testing.assert_allclose(norms, np.linalg.norm(got.transpose(1, 0, 2).reshape(6, -1), axis=1))
    per = hidden_grad_norms(c["dhs"], cache, dh_T=c["dh_T"], dc_T=c["dc_T"], per_example=True)
    np.testing.assert_allclose(per, np.linalg.norm(got, axis=2))
    assert norms.shape == (6,) and per.shape == (2, 6)


def test_vanishing_gradient_with_small_recurrent_weights():
    # the book's plot: with ||W_hh|| < 1 the gradient of a loss on h_T shrinks going back in time
    rng = np.random.default_rng(0)
    H = 8
    w_hh = rng.standard_normal((H, H))
    w_hh *= 0.5 / np.linalg.norm(w_hh, 2)
    hs, cache = rnn_forward(rng.standard_normal((1, 30, 3)), None, rng.standard_normal((H, 3)), w_hh)
    norms = hidden_grad_norms(None, cache, dh_T=np.ones((1, H)))
    assert np.all(np.diff(norms) > 0)  # increasing towards t = T
    assert norms[0] < 1e-6 * norms[-1]


# --------------------------------------------------------------------------------- dtypes etc.


@pytest.mark.parametrize("cell", CELLS)
def test_float32_in_float32_out(cell):
    c = make_case(cell, 2, 3, 3, 2, np.random.default_rng(1))
    c32 = {k: (None if v is None else v.astype(np.float32)) for k, v in c.items()}
    hs32, cache32 = np_forward(cell, c32)
    grads32 = np_backward(cell, c32, cache32)
    hs64, cache64 = np_forward(cell, c)
    grads64 = np_backward(cell, c, cache64)
    assert hs32.dtype == np.float32
    np.testing.assert_allclose(hs32, hs64, rtol=1e-4, atol=1e-5)
    for a, b in zip(grads32, grads64):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_integer_inputs_compute_in_float64_and_h0_none_is_zeros():
    w_ih, w_hh = np.ones((2, 1), dtype=int), np.zeros((2, 2), dtype=int)
    hs, _ = rnn_forward(np.ones((1, 2, 1), dtype=int), None, w_ih, w_hh)
    assert hs.dtype == np.float64
    hs0, _ = rnn_forward(np.ones((1, 2, 1)), np.zeros((1, 2)), w_ih, w_hh)
    np.testing.assert_array_equal(hs, hs0)


def test_return_types():
    c = make_case("lstm", 1, 2, 2, 2, np.random.default_rng(0))
    hs, cache = np_forward("lstm", c)
    assert isinstance(cache, LSTMCache) and isinstance(np_backward("lstm", c, cache), LSTMGrads)
    assert cache.cs.shape == hs.shape == (1, 2, 2)
    for cell, cache_type in (("rnn", RNNCache), ("gru", GRUCache)):
        c = make_case(cell, 1, 2, 2, 2, np.random.default_rng(0))
        hs, cache = np_forward(cell, c)
        assert isinstance(cache, cache_type) and isinstance(np_backward(cell, c, cache), RecurrentGrads)


# ---------------------------------------------------------------------------------- 5. errors


def _lstm_args(N=2, T=3, D=4, H=3):
    return [np.zeros((N, T, D)), np.zeros((N, H)), np.zeros((N, H)), np.zeros((4 * H, D)), np.zeros((4 * H, H)),
            np.zeros(4 * H), np.zeros(4 * H)]


@pytest.mark.parametrize(
    "index, value, exc, match",
    [
        (0, np.zeros((3, 4)), ValueError, r"lstm_forward: `x` must have 3 dimensions \(N, T, D\).*got shape \(3, 4\).*x\[None\]"),
        (0, np.zeros((2, 3, 5)), ValueError, r"x has D=5 features but weight_ih expects D=4"),
        (0, np.zeros((2, 0, 4)), ValueError, r"at least one time step.*T=0"),
        (0, np.zeros((2, 3, 4), dtype=complex), TypeError, r"`x` must hold real numbers, but its dtype is complex128"),
        (0, [["a"]], TypeError, r"`x` must hold real numbers"),
        (3, np.zeros((8, 4)), ValueError, r"`weight_ih` has 8 rows but weight_hh.shape=\(12, 3\) gives hidden size H=3, so weight_ih must have 4\*H=12 rows"),
        (4, np.zeros((12, 4)), ValueError, r"`weight_hh` must have shape \(4\*H, H\).*got shape \(12, 4\)"),
        (1, np.zeros((2, 4)), ValueError, r"`h0` must have shape \(N, H\) = \(2, 3\).*got shape \(2, 4\)"),
        (2, np.zeros(3), ValueError, r"`c0` must have shape \(N, H\) = \(2, 3\).*Add a batch axis with c0\[None\]"),
        (5, np.zeros(9), ValueError, r"`bias_ih` must have shape \(4\*H,\) = \(12,\) for hidden size H=3.*got shape \(9,\)"),
        (6, np.zeros((12, 1)), ValueError, r"`bias_hh` must have shape \(4\*H,\) = \(12,\)"),
    ],
)
def test_forward_errors_name_the_problem(index, value, exc, match):
    args = _lstm_args()
    args[index] = value
    with pytest.raises(exc, match=match):
        lstm_forward(*args)


def test_rnn_and_gru_errors_use_their_gate_count():
    with pytest.raises(ValueError, match=r"gru_forward: `weight_ih` has 4 rows .* must have 3\*H=6 rows"):
        gru_forward(np.zeros((1, 2, 3)), None, np.zeros((4, 3)), np.zeros((6, 2)), None, None)
    with pytest.raises(ValueError, match=r"rnn_forward: `nonlinearity` must be 'tanh' or 'relu'.*Received: nonlinearity='sigmoid'"):
        rnn_forward(np.zeros((1, 2, 3)), None, np.zeros((2, 3)), np.zeros((2, 2)), nonlinearity="sigmoid")


def test_backward_errors_name_the_problem():
    hs, cache = rnn_forward(np.zeros((2, 3, 1)), None, np.zeros((4, 1)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"rnn_backward: `dhs` must have the shape .* \(N, T, H\) = \(2, 3, 4\), got shape \(2, 3\)"):
        rnn_backward(np.zeros((2, 3)), cache)
    with pytest.raises(ValueError, match=r"`dh_T` .* \(N, H\) = \(2, 4\), got shape \(4,\)"):
        rnn_backward(hs, cache, dh_T=np.zeros(4))
    with pytest.raises(TypeError, match=r"lstm_backward: `cache` must be the LSTMCache returned by lstm_forward. Received .* RNNCache"):
        lstm_backward(hs, cache)
    with pytest.raises(TypeError, match=r"gru_backward: `cache` must be the GRUCache"):
        gru_backward(hs, (1, 2))
    with pytest.raises(ValueError, match=r"hidden_grads: `dc_T` is the gradient of an LSTM's final cell state.*RNNCache"):
        hidden_grad_norms(hs, cache, dc_T=np.zeros((2, 4)))
    with pytest.raises(TypeError, match=r"hidden_grads: `cache` must be the cache returned by rnn_forward, lstm_forward or gru_forward"):
        hidden_grads(hs, {"hs": hs})
