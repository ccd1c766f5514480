"""Shared helpers for the tests of :mod:`coursepkg.rnn`: random cases, the NumPy calls, a PyTorch reference."""

from __future__ import annotations

import numpy as np
import torch

from coursepkg.rnn import (
    gru_backward,
    gru_forward,
    lstm_backward,
    lstm_forward,
    rnn_backward,
    rnn_forward,
)

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
CELLS = ("rnn", "lstm", "gru")


def make_case(cell: str, N: int, T: int, D: int, H: int, rng: np.random.Generator, *, bias: bool = True,
              scale: float = 0.6) -> dict[str, np.ndarray | None]:
    """Random float64 inputs, initial states, weights and upstream gradients for one cell type."""
    G = GATES[cell]
    case = {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)) * 0.5,
        "c0": rng.standard_normal((N, H)) * 0.5 if cell == "lstm" else None,
        "weight_ih": rng.standard_normal((G * H, D)) * scale,
        "weight_hh": rng.standard_normal((G * H, H)) * scale,
        "bias_ih": rng.standard_normal(G * H) * scale if bias else None,
        "bias_hh": rng.standard_normal(G * H) * scale if bias else None,
        # random upstream gradients, contracted with the outputs to make a scalar loss
        "dhs": rng.standard_normal((N, T, H)),
        "dh_T": rng.standard_normal((N, H)),
        "dc_T": rng.standard_normal((N, H)) if cell == "lstm" else None,
    }
    return case


PARAM_NAMES = ("x", "h0", "c0", "weight_ih", "weight_hh", "bias_ih", "bias_hh")


def np_forward(cell: str, c: dict, nonlinearity: str = "tanh"):
    """``(hs, cache)`` from the function under test."""
    w = (c["weight_ih"], c["weight_hh"], c["bias_ih"], c["bias_hh"])
    if cell == "rnn":
        return rnn_forward(c["x"], c["h0"], *w, nonlinearity=nonlinearity)
    if cell == "lstm":
        return lstm_forward(c["x"], c["h0"], c["c0"], *w)
    return gru_forward(c["x"], c["h0"], *w)


def np_backward(cell: str, c: dict, cache):
    if cell == "rnn":
        return rnn_backward(c["dhs"], cache, dh_T=c["dh_T"])
    if cell == "lstm":
        return lstm_backward(c["dhs"], cache, dh_T=c["dh_T"], dc_T=c["dc_T"])
    return gru_backward(c["dhs"], cache, dh_T=c["dh_T"])


def np_loss(cell: str, c: dict, nonlinearity: str = "tanh") -> float:
    """The scalar the upstream gradients define: <dhs, hs> + <dh_T, h_T> (+ <dc_T, c_T>)."""
    hs, cache = np_forward(cell, c, nonlinearity)
    loss = np.sum(c["dhs"] * hs) + np.sum(c["dh_T"] * hs[:, -1])
    if cell == "lstm":
        loss += np.sum(c["dc_T"] * cache.cs[:, -1])
    return float(loss)


def torch_module(cell: str, D: int, H: int, c: dict, nonlinearity: str = "tanh") -> torch.nn.Module:
    """A float64 single-layer torch.nn.RNN/LSTM/GRU (batch_first) holding the weights of ``c``."""
    bias = c["bias_ih"] is not None
    if cell == "rnn":
        mod = torch.nn.RNN(D, H, batch_first=True, nonlinearity=nonlinearity, bias=bias, dtype=torch.float64)
    elif cell == "lstm":
        mod = torch.nn.LSTM(D, H, batch_first=True, bias=bias, dtype=torch.float64)
    else:
        mod = torch.nn.GRU(D, H, batch_first=True, bias=bias, dtype=torch.float64)
    with torch.no_grad():
        mod.weight_ih_l0.copy_(torch.from_numpy(c["weight_ih"]))
        mod.weight_hh_l0.copy_(torch.from_numpy(c["weight_hh"]))
        if bias:
            mod.bias_ih_l0.copy_(torch.from_numpy(c["bias_ih"]))
            mod.bias_hh_l0.copy_(torch.from_numpy(c["bias_hh"]))
    return mod


def torch_reference(cell: str, c: dict, nonlinearity: str = "tanh") -> dict[str, np.ndarray]:
    """Outputs of the torch module and, by autograd with the same upstream gradients, every gradient."""
    N, T, D = c["x"].shape
    H = c["h0"].shape[1]
    mod = torch_module(cell, D, H, c, nonlinearity)
    x = torch.tensor(c["x"], requires_grad=True)
    h0 = torch.tensor(c["h0"][None], requires_grad=True)  # (1, N, H): num_layers first
    if cell == "lstm":
        c0 = torch.tensor(c["c0"][None], requires_grad=True)
        out, (hn, cn) = mod(x, (h0, c0))
    else:
        out, hn = mod(x, h0)
    loss = (out * torch.from_numpy(c["dhs"])).sum() + (hn[0] * torch.from_numpy(c["dh_T"])).sum()
    if cell == "lstm":
        loss = loss + (cn[0] * torch.from_numpy(c["dc_T"])).sum()
    loss.backward()
    ref = {
        "hs": out.detach().numpy(),
        "h_T": hn[0].detach().numpy(),
        "dx": x.grad.numpy(),
        "dh0": h0.grad[0].numpy(),
        "dweight_ih": mod.weight_ih_l0.grad.numpy(),
        "dweight_hh": mod.weight_hh_l0.grad.numpy(),
    }
    if cell == "lstm":
        ref["c_T"] = cn[0].detach().numpy()
        ref["dc0"] = c0.grad[0].numpy()
    if c["bias_ih"] is not None:
        ref["dbias_ih"] = mod.bias_ih_l0.grad.numpy()
        ref["dbias_hh"] = mod.bias_hh_l0.grad.numpy()
    return ref
