"""Hidden checks of the ``rnn`` assignment: RNN, LSTM and GRU steps, BPTT, a gradient check, clipping, training.

Every check compares the student's result with :mod:`coursepkg.rnn` (PyTorch's equations, layouts and gate
orders). When a result is wrong, the judge also computes a few typical wrong answers (the LSTM's gates read in
another order, the GRU's update gate the wrong way round, BPTT without the tanh derivative, clipping per
array, ...) and, if the student's result is one of them, says which: a message that names the mistake
teaches more than "values differ".

The cases are explicit edge cases (a batch of one, one time step, one hidden unit, more inputs than hidden
units, saturated gates, a norm exactly at the clipping threshold) followed by random ones drawn with
hypothesis from fixed seeds. The training check calls the student's ``train_sequence_model`` with the
grader's seed on the notebook's training set and measures the accuracy on sequences generated here, from a
seed the notebook does not know.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograder.checks import FROM_SCRATCH, Call, Check, Outcome, Ref, compare_array, compare_number, draw_cases
from coursepkg import rnn as reference
from coursepkg.data import binary_sequences

#: The seed of the student's process: before the first cell runs, the grader seeds Python's ``random``,
#: NumPy's global generator, and torch and TensorFlow when the notebook's imports are already loaded. The
#: hidden checks draw their own cases with seeds of their own; this one is recorded with every score.
SEED = 20261104

__all__ = ["CHECKS"]

GRAD_KEYS = ("dx", "dh0", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}

# Training: the stated target and budget (the notebook states the same numbers).
TARGET_ACCURACY = 0.90
TRAIN_SECONDS = 60.0
GRADER_SEED = 20240917  # the seed the grader passes to train_sequence_model
_HELD_OUT_SEED = 0x5EED_4E1D  # private: the notebook cannot generate the held-out sequences
N_HELD_OUT = 2000


# ------------------------------------------------------------------------------------------- helpers


def _random_draws(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` random shapes, scales and seeds, the same on every run."""
    from hypothesis import strategies as st

    strategy = st.fixed_dictionaries(
        {
            "N": st.integers(1, 4),
            "T": st.integers(1, 6),
            "D": st.integers(1, 5),
            "H": st.integers(1, 6),
            "scale": st.sampled_from([0.3, 0.7, 1.5]),
            "seed": st.integers(0, 2**31 - 1),
        }
    )
    return draw_cases(strategy, n, seed=seed)


def _close(got: Any, expected: np.ndarray, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    return (
        isinstance(got, np.ndarray)
        and got.shape == np.shape(expected)
        and bool(np.allclose(got, expected, rtol=rtol, atol=atol))
    )


def _diagnose(
    got: Any, variants: Sequence[tuple[str, Callable[[], Any]]], *, key: Callable[[Any], Any] | None = None
) -> str | None:
    """The explanation of the first typical mistake whose result ``got`` reproduces, or ``None``.

    Each variant is ``(explanation, compute)``; ``compute`` may raise (shapes that do not fit a mistake), which
    just rules it out. ``key`` picks from a variant's result what to compare with ``got``.
    """
    for explanation, compute in variants:
        try:
            value = compute()
            if key is not None:
                value = key(value)
        except (ValueError, IndexError, KeyError):
            continue
        if _close(got, value):
            return explanation
    return None


def _with_hint(message: str | None, hint: str | None) -> str | None:
    if message is None or not hint:
        return message
    return f"{message} Hint: {hint}"


def _sigmoid(a: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# ------------------------------------------------------------------------------- one step of each cell

_STEP_EDGES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("one unit, one input, a batch of one", dict(N=1, D=1, H=1, seed=11)),
    ("a batch of one, more hidden units than inputs", dict(N=1, D=2, H=5, seed=12)),
    ("more inputs than hidden units", dict(N=4, D=6, H=3, seed=13)),
    ("a zero previous state", dict(N=3, D=2, H=4, seed=14, zero_state=True)),
    ("large weights (saturated units and gates)", dict(N=2, D=3, H=3, seed=15, scale=4.0)),
)


def _step_case(
    cell: str, label: str, *, N: int, D: int, H: int, seed: int, scale: float = 0.7, zero_state: bool = False
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    G = _GATES[cell]
    case = {
        "label": label,
        "x": rng.standard_normal((N, D)),  # (N, D)
        "h": np.zeros((N, H)) if zero_state else rng.standard_normal((N, H)),  # (N, H)
        "w_ih": scale * rng.standard_normal((G * H, D)),  # (G*H, D)
        "w_hh": scale * rng.standard_normal((G * H, H)),  # (G*H, H)
        "b_ih": scale * rng.standard_normal(G * H),  # (G*H,)
        "b_hh": scale * rng.standard_normal(G * H),  # (G*H,)
    }
    if cell == "lstm":
        case["c"] = np.zeros((N, H)) if zero_state else rng.standard_normal((N, H))  # (N, H)
    return case


def _step_cases(cell: str, seed: int) -> list[dict[str, Any]]:
    cases = [_step_case(cell, label, **kwargs) for label, kwargs in _STEP_EDGES]
    for draw in _random_draws(6, seed):
        label = f"random case N={draw['N']}, D={draw['D']}, H={draw['H']}"
        cases.append(_step_case(cell, label, N=draw["N"], D=draw["D"], H=draw["H"], seed=draw["seed"],
                                scale=draw["scale"]))
    return cases


def _weights(case: dict[str, Any], *, drop_ih: bool = False, drop_hh: bool = False) -> tuple[np.ndarray, ...]:
    b_ih = np.zeros_like(case["b_ih"]) if drop_ih else case["b_ih"]
    b_hh = np.zeros_like(case["b_hh"]) if drop_hh else case["b_hh"]
    return case["w_ih"], case["w_hh"], b_ih, b_hh


_BIAS_VARIANTS = (
    ("bias_hh is left out: add both biases, as PyTorch does.", dict(drop_hh=True)),
    ("bias_ih is left out: add both biases, as PyTorch does.", dict(drop_ih=True)),
    ("both biases are left out.", dict(drop_ih=True, drop_hh=True)),
)


# RNN


def _rnn_step_calls(case: dict[str, Any]) -> list[Call]:
    return [Call("rnn_step", (case["x"], case["h"], *_weights(case)))]


def _judge_rnn_step(case: dict[str, Any], out: Sequence[Outcome]) -> str | None:
    got = out[0].value
    expected, _ = reference.rnn_step(case["x"], case["h"], *_weights(case))
    message = compare_array(got, expected, what=f"rnn_step, {case['label']}: h_next")
    if message is None:
        return None
    x, h = case["x"], case["h"]
    variants = [
        (text, lambda kw=kw: reference.rnn_step(x, h, *_weights(case, **kw))[0]) for text, kw in _BIAS_VARIANTS
    ]
    variants.append(("the tanh is missing: h_next = tanh(pre-activation).",
                     lambda: x @ case["w_ih"].T + case["b_ih"] + h @ case["w_hh"].T + case["b_hh"]))
    variants.append(("the weight matrices are used untransposed; with rows as sequences the products are "
                     "x @ weight_ih.T and h_prev @ weight_hh.T.",
                     lambda: np.tanh(x @ case["w_ih"] + case["b_ih"] + h @ case["w_hh"] + case["b_hh"])))
    return _with_hint(message, _diagnose(got, variants) or
                      "h_next = tanh(x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh).")


# LSTM

_LSTM_NAMES = "ifgo"


def _lstm_variant(
    case: dict[str, Any], *, blocks: str = "ifgo", forget: bool = True, old_cell_in_h: bool = False, **bias: bool
) -> tuple[np.ndarray, np.ndarray]:
    """An LSTM step that reads gate ``blocks[k]`` from block ``k``, and other typical mistakes."""
    w_ih, w_hh, b_ih, b_hh = _weights(case, **bias)
    H = case["h"].shape[1]
    pre = case["x"] @ w_ih.T + b_ih + case["h"] @ w_hh.T + b_hh  # (N, 4H)
    block = {name: pre[:, k * H : (k + 1) * H] for k, name in enumerate(blocks)}
    i, f, o = _sigmoid(block["i"]), _sigmoid(block["f"]), _sigmoid(block["o"])
    g = np.tanh(block["g"])
    c = (f * case["c"] if forget else case["c"]) + i * g
    h = o * np.tanh(case["c"] if old_cell_in_h else c)
    return h, c


def _lstm_step_calls(case: dict[str, Any]) -> list[Call]:
    return [Call("lstm_step", (case["x"], case["h"], case["c"], *_weights(case)))]


def _judge_lstm_step(case: dict[str, Any], out: Sequence[Outcome]) -> str | None:
    got = out[0].value
    label = case["label"]
    if not (isinstance(got, list) and len(got) == 2):
        return (f"lstm_step, {label}: expected a tuple (h_next, c_next) of two arrays, got "
                f"{type(got).__name__}{f' of {len(got)} items' if isinstance(got, list) else ''}.")
    h_ref, c_ref, _ = reference.lstm_step(case["x"], case["h"], case["c"], *_weights(case))
    variants: list[tuple[str, Callable[[], Any]]] = []
    for blocks in itertools.permutations(_LSTM_NAMES):
        order = "".join(blocks)
        if order != _LSTM_NAMES:
            variants.append((
                f"your gates come out as if the blocks were in the order {', '.join(order)}; PyTorch's order is "
                "i, f, g, o: rows 0:H input gate, H:2H forget gate, 2H:3H candidate g (tanh), 3H:4H output gate.",
                lambda order=order: _lstm_variant(case, blocks=order),
            ))
    variants.append(("the forget gate is missing: c_next = f * c_prev + i * g.",
                     lambda: _lstm_variant(case, forget=False)))
    variants.append(("h_next uses the old cell state: h_next = o * tanh(c_next), with the new one.",
                     lambda: _lstm_variant(case, old_cell_in_h=True)))
    variants += [(text, lambda kw=kw: _lstm_variant(case, **kw)) for text, kw in _BIAS_VARIANTS]
    for index, name, expected in ((1, "c_next", c_ref), (0, "h_next", h_ref)):
        message = compare_array(got[index], expected, what=f"lstm_step, {label}: {name}")
        if message is not None:
            diagnosis = _diagnose(got[index], variants, key=lambda pair, index=index: pair[index])
            return _with_hint(message, diagnosis or (
                "c_next = f * c_prev + i * g and h_next = o * tanh(c_next), with [i, f, g, o] the four blocks of "
                "x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh, in that order."))
    return None


# GRU


def _gru_variant(
    case: dict[str, Any], *, blocks: str = "rzn", swap_z: bool = False, reset_before: bool = False, **bias: bool
) -> np.ndarray:
    """A GRU step that reads gate ``blocks[k]`` from block ``k``, and other typical mistakes."""
    w_ih, w_hh, b_ih, b_hh = _weights(case, **bias)
    x, h = case["x"], case["h"]
    H = h.shape[1]
    rows = {name: slice(k * H, (k + 1) * H) for k, name in enumerate(blocks)}
    from_x = x @ w_ih.T + b_ih  # (N, 3H)
    from_h = h @ w_hh.T + b_hh  # (N, 3H)
    r = _sigmoid(from_x[:, rows["r"]] + from_h[:, rows["r"]])
    z = _sigmoid(from_x[:, rows["z"]] + from_h[:, rows["z"]])
    if reset_before:  # Keras's reset_after=False: the reset gate multiplies h before the product
        n = np.tanh(from_x[:, rows["n"]] + (r * h) @ w_hh[rows["n"]].T + b_hh[rows["n"]])
    else:
        n = np.tanh(from_x[:, rows["n"]] + r * from_h[:, rows["n"]])
    return z * n + (1 - z) * h if swap_z else (1 - z) * n + z * h


def _gru_step_calls(case: dict[str, Any]) -> list[Call]:
    return [Call("gru_step", (case["x"], case["h"], *_weights(case)))]


def _judge_gru_step(case: dict[str, Any], out: Sequence[Outcome]) -> str | None:
    got = out[0].value
    expected, _ = reference.gru_step(case["x"], case["h"], *_weights(case))
    message = compare_array(got, expected, what=f"gru_step, {case['label']}: h_next")
    if message is None:
        return None
    variants: list[tuple[str, Callable[[], Any]]] = [
        ("z and 1 - z are swapped: h_next = (1 - z) * n + z * h_prev, so that z = 1 keeps the old state.",
         lambda: _gru_variant(case, swap_z=True)),
        ("the reset gate is applied before the recurrent product, r * h_prev (Keras's reset_after=False); "
         "PyTorch applies it after: n = tanh(W_in x + b_in + r * (W_hn h_prev + b_hn)).",
         lambda: _gru_variant(case, reset_before=True)),
    ]
    for blocks in itertools.permutations("rzn"):
        order = "".join(blocks)
        if order != "rzn":
            variants.append((
                f"your gates come out as if the blocks were in the order {', '.join(order)}; PyTorch's order is "
                "r, z, n: rows 0:H reset gate, H:2H update gate, 2H:3H candidate n. (Keras's is z, r, h.)",
                lambda order=order: _gru_variant(case, blocks=order),
            ))
    variants += [(text, lambda kw=kw: _gru_variant(case, **kw)) for text, kw in _BIAS_VARIANTS]
    diagnosis = _diagnose(got, variants)
    return _with_hint(message, diagnosis or (
        "r and z from the sums of the first two blocks of x @ weight_ih.T + bias_ih and h_prev @ weight_hh.T + "
        "bias_hh; n = tanh(third block from x + r * third block from h); h_next = (1 - z) * n + z * h_prev."))


# --------------------------------------------------------------------------------------- sequences


_SEQUENCE_EDGES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("one time step (T=1)", dict(N=2, T=1, D=3, H=4, seed=21)),
    ("a batch of one", dict(N=1, T=5, D=2, H=3, seed=22)),
    ("one input feature, longer sequences (T=12)", dict(N=3, T=12, D=1, H=4, seed=23)),
    ("more inputs than hidden units", dict(N=2, T=4, D=6, H=2, seed=24)),
    ("large weights (saturated units)", dict(N=2, T=6, D=3, H=3, seed=25, scale=3.0)),
    ("a loss on the last step only", dict(N=3, T=7, D=2, H=4, seed=26, last_only=True)),
)


def _sequence_case(
    label: str, *, N: int, T: int, D: int, H: int, seed: int, scale: float = 0.6, last_only: bool = False
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    dhs = rng.standard_normal((N, T, H))  # (N, T, H)
    if last_only:
        dhs[:, :-1] = 0.0
    return {
        "label": label,
        "x": rng.standard_normal((N, T, D)),  # (N, T, D)
        "h0": rng.standard_normal((N, H)),  # (N, H)
        "w_ih": scale * rng.standard_normal((H, D)),  # (H, D)
        "w_hh": scale * rng.standard_normal((H, H)),  # (H, H)
        "b_ih": scale * rng.standard_normal(H),  # (H,)
        "b_hh": scale * rng.standard_normal(H),  # (H,)
        "dhs": dhs,
    }


def _sequence_cases(seed: int, n_random: int = 5) -> list[dict[str, Any]]:
    cases = [_sequence_case(label, **kwargs) for label, kwargs in _SEQUENCE_EDGES]
    for draw in _random_draws(n_random, seed):
        label = f"random case N={draw['N']}, T={draw['T']}, D={draw['D']}, H={draw['H']}"
        cases.append(_sequence_case(label, N=draw["N"], T=draw["T"], D=draw["D"], H=draw["H"],
                                    seed=draw["seed"], scale=draw["scale"]))
    return cases


def _forward_args(case: dict[str, Any]) -> tuple[np.ndarray, ...]:
    return case["x"], case["h0"], case["w_ih"], case["w_hh"], case["b_ih"], case["b_hh"]


# rnn_forward


def _rnn_forward_calls(case: dict[str, Any]) -> list[Call]:
    return [Call("rnn_forward", _forward_args(case))]


def _judge_rnn_forward(case: dict[str, Any], out: Sequence[Outcome]) -> str | None:
    got = out[0].value
    label = case["label"]
    if not (isinstance(got, list) and len(got) == 2):
        return f"rnn_forward, {label}: expected the tuple (hs, cache), got {type(got).__name__}."
    expected, _ = reference.rnn_forward(*_forward_args(case))
    message = compare_array(got[0], expected, what=f"rnn_forward, {label}: hs")
    if message is None:
        return None
    x, h0, w_ih, w_hh, b_ih, b_hh = _forward_args(case)
    variants = [
        ("the initial state h0 is ignored: the first step must use h0, not zeros.",
         lambda: reference.rnn_forward(x, None, w_ih, w_hh, b_ih, b_hh)[0]),
        ("hs[:, t] holds the state *before* step t; store the state after it (hs[:, 0] is h_1, not h0).",
         lambda: np.concatenate([h0[:, None], expected[:, :-1]], axis=1)),
    ]
    return _with_hint(message, _diagnose(got[0], variants) or
                      "loop over t, h = rnn_step(x[:, t], h, ...), starting from h = h0; then hs[:, t] = h.")


# rnn_backward


def _bptt(
    case: dict[str, Any], *, derivative: bool = True, carry: bool = True
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """BPTT written out (and two typical mistakes): the gradients, the deltas (N, T, H) and h_{t-1} (N, T, H)."""
    x, h0, w_ih, w_hh, b_ih, b_hh = _forward_args(case)
    hs, _ = reference.rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh)  # (N, T, H)
    N, T, H = hs.shape
    deltas = np.zeros((N, T, H))
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        dh = case["dhs"][:, t] + (dh_next if carry else 0.0)  # (N, H)
        deltas[:, t] = dh * (1 - hs[:, t] ** 2) if derivative else dh
        dh_next = deltas[:, t] @ w_hh  # (N, H)
    h_prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)  # (N, T, H)
    dbias = deltas.sum(axis=(0, 1))  # (H,)
    grads = {
        "dx": deltas @ w_ih,  # (N, T, D)
        "dh0": dh_next,  # (N, H)
        "dweight_ih": np.einsum("nth,ntd->hd", deltas, x),  # (H, D)
        "dweight_hh": np.einsum("nth,ntk->hk", deltas, h_prev),  # (H, H)
        "dbias_ih": dbias,
        "dbias_hh": dbias,
    }
    return grads, deltas, h_prev


def _rnn_backward_calls(case: dict[str, Any]) -> list[Call]:
    hs, _ = reference.rnn_forward(*_forward_args(case))
    cache = (case["x"], case["h0"], hs, case["w_ih"], case["w_hh"])
    return [Call("rnn_backward", (case["dhs"], cache))]


def _check_grad_dict(got: Any, function: str, label: str) -> str | None:
    if not isinstance(got, dict):
        return (f"{function}, {label}: expected a dict with the keys {', '.join(GRAD_KEYS)}, got "
                f"{type(got).__name__}.")
    missing = [key for key in GRAD_KEYS if key not in got]
    if missing:
        return (f"{function}, {label}: the dict it returns lacks the key(s) {', '.join(missing)}; it needs "
                f"{', '.join(GRAD_KEYS)}.")
    return None


_BACKWARD_HINTS = {
    "dx": "dL/dx_t = delta_t @ weight_ih, with delta_t = dL/dh_t * (1 - h_t**2).",
    "dh0": "dh0 is what flows out of the first step: delta_1 @ weight_hh.",
    "dweight_ih": "dweight_ih is a sum over every step of delta_t.T @ x_t.",
    "dweight_hh": "dweight_hh is a sum over every step of delta_t.T @ h_{t-1}, with h0 at the first step.",
    "dbias_ih": "the bias gradients are sums of delta_t over the batch and every step.",
    "dbias_hh": "the bias gradients are sums of delta_t over the batch and every step.",
}


def _judge_rnn_backward(case: dict[str, Any], out: Sequence[Outcome]) -> str | None:
    got = out[0].value
    label = case["label"]
    problem = _check_grad_dict(got, "rnn_backward", label)
    if problem:
        return problem
    expected, deltas, h_prev = _bptt(case)
    wrong = [key for key in GRAD_KEYS if compare_array(got[key], expected[key], what=key) is not None]
    if not wrong:
        return None
    key = wrong[0]
    message = compare_array(got[key], expected[key], what=f"rnn_backward, {label}: grads[{key!r}]")
    if len(wrong) > 1:
        message += f" ({', '.join(wrong[1:])} differ too.)"
    per_step = {
        "dweight_ih": lambda t: deltas[:, t].T @ case["x"][:, t],
        "dweight_hh": lambda t: deltas[:, t].T @ h_prev[:, t],
        "dbias_ih": lambda t: deltas[:, t].sum(axis=0),
        "dbias_hh": lambda t: deltas[:, t].sum(axis=0),
    }
    variants: list[tuple[str, Callable[[], Any]]] = [
        ("the tanh derivative is missing: delta_t = dL/dh_t * (1 - h_t**2) before it goes into weight_hh, "
         "weight_ih and the sums.", lambda: _bptt(case, derivative=False)[0][key]),
        ("the gradient from later steps is not carried back: dL/dh_t = dhs[:, t] + delta_{t+1} @ weight_hh.",
         lambda: _bptt(case, carry=False)[0][key]),
    ]
    if key == "dh0":
        variants.append(("dh0 must go through the first step's weight_hh: dh0 = delta_1 @ weight_hh.",
                         lambda: deltas[:, 0]))
    if key in per_step and case["x"].shape[1] > 1:
        for t in range(case["x"].shape[1]):
            variants.append((f"grads[{key!r}] is the contribution of step {t} alone: the weights are shared by all "
                             "steps, so add up (+=) the contributions of every step.",
                             lambda t=t: per_step[key](t)))
    return _with_hint(message, _diagnose(got[key], variants) or _BACKWARD_HINTS[key])


# gradient check


def _gradient_check_cases() -> list[dict[str, Any]]:
    edges = (
        ("one time step (T=1)", dict(N=2, T=1, D=2, H=3, seed=31)),
        ("a batch of one", dict(N=1, T=4, D=2, H=2, seed=32)),
        ("more inputs than hidden units", dict(N=2, T=3, D=3, H=2, seed=33)),
    )
    cases = [_sequence_case(label, **kwargs) for label, kwargs in edges]
    for draw in _random_draws(2, 3100):
        N, T, D, H = min(draw["N"], 3), min(draw["T"], 4), min(draw["D"], 3), min(draw["H"], 3)
        cases.append(_sequence_case(f"random case N={N}, T={T}, D={D}, H={H}", N=N, T=T, D=D, H=H,
                                    seed=draw["seed"], scale=0.6))
    return cases


_EPS = 1e-4  # the grader's step: central differences are accurate to ~1e-8 with it, one-sided ones to ~1e-4


def _gradient_check_calls(case: dict[str, Any]) -> list[Call]:
    return [Call("rnn_numerical_gradients", (*_forward_args(case), case["dhs"]), {"eps": _EPS})]


def _one_sided(case: dict[str, Any], key: str) -> np.ndarray:
    """Forward differences of the reference forward pass, for the diagnosis of a one-sided numerical gradient."""
    arrays = [np.array(a, copy=True) for a in _forward_args(case)]  # in the order of GRAD_KEYS

    def loss() -> float:
        return float(np.sum(case["dhs"] * reference.rnn_forward(*arrays)[0]))

    base = loss()
    target = arrays[GRAD_KEYS.index(key)]
    grad = np.zeros(target.shape)
    for idx in np.ndindex(target.shape):
        old = target[idx]
        target[idx] = old + _EPS
        grad[idx] = (loss() - base) / _EPS
        target[idx] = old
    return grad


def _judge_gradient_check(case: dict[str, Any], out: Sequence[Outcome]) -> str | None:
    got = out[0].value
    label = case["label"]
    problem = _check_grad_dict(got, "rnn_numerical_gradients", label)
    if problem:
        return problem
    expected = reference.rnn_backward(case["dhs"], reference.rnn_forward(*_forward_args(case))[1])._asdict()
    for key in GRAD_KEYS:
        message = compare_array(got[key], expected[key], rtol=1e-5, atol=1e-6,
                                what=f"rnn_numerical_gradients(..., eps={_EPS:g}), {label}: grads[{key!r}]")
        if message is None:
            continue
        exact = expected[key]
        variants = [
            ("these are one-sided differences (f(x + eps) - f(x)) / eps, whose error is of the order of eps; use "
             "central differences (f(x + eps) - f(x - eps)) / (2 eps).", lambda: _one_sided(case, key)),
            ("the values are twice the gradient: divide by 2 * eps.", lambda: 2 * exact),
            ("the values are half the gradient: divide f(x + eps) - f(x - eps) by 2 * eps, not 4 * eps.",
             lambda: exact / 2),
            ("the values are zero: nudge the very array that rnn_forward reads (in place), not a copy.",
             lambda: np.zeros_like(exact)),
        ]
        return _with_hint(message, _diagnose(got[key], variants) or (
            "L = sum(dhs * hs) with hs from your rnn_forward (if test_rnn_forward fails, fix that first); "
            "central differences, and put every entry back after nudging it."))
    return None


# ------------------------------------------------------------------------------------------ clipping


def _clip_case(label: str, shapes: dict[str, tuple[int, ...]], *, norm: float | None, max_norm: float | str,
               seed: int, dominant: str | None = None) -> dict[str, Any]:
    """Random gradients of the given shapes, scaled to a global norm ``norm`` (None: as drawn)."""
    rng = np.random.default_rng(seed)
    grads = {name: rng.standard_normal(shape) for name, shape in shapes.items()}
    if dominant is not None:
        for name in grads:
            if name != dominant:
                grads[name] *= 0.01
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    if norm is not None:
        grads = {name: g * (norm / total) for name, g in grads.items()}
        total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    return {"label": label, "grads": grads, "max_norm": total if max_norm == "equal" else float(max_norm)}


_RNN_SHAPES = {"dweight_ih": (4, 3), "dweight_hh": (4, 4), "dbias_ih": (4,), "dbias_hh": (4,)}


def _clip_cases() -> list[dict[str, Any]]:
    cases = [
        _clip_case("a global norm of 50 clipped to 1", _RNN_SHAPES, norm=50.0, max_norm=1.0, seed=41),
        _clip_case("a norm below max_norm (no clipping)", _RNN_SHAPES, norm=0.5, max_norm=2.0, seed=42),
        _clip_case("a small norm just above max_norm (the 1e-6 matters)", _RNN_SHAPES, norm=2e-3,
                   max_norm=1e-3, seed=43),
        _clip_case("a norm exactly equal to max_norm", {"w": (3, 2), "b": (2,)}, norm=4e-3, max_norm="equal",
                   seed=44),
        _clip_case("one array much larger than the others", {"big": (5, 5), "small": (3,), "tiny": (2, 2)},
                   norm=None, max_norm=1.0, seed=45, dominant="big"),
        _clip_case("a single array", {"only": (2, 3, 2)}, norm=7.0, max_norm=3.0, seed=46),
    ]
    for draw in _random_draws(3, 4100):
        shapes = {f"g{k}": (draw["H"], draw["D"]) if k % 2 == 0 else (draw["H"],) for k in range(draw["N"])}
        norm = 10.0 ** (draw["seed"] % 7 - 3)  # 1e-3 .. 1e3
        cases.append(_clip_case(f"random case, {len(shapes)} arrays, norm {norm:g}", shapes, norm=norm,
                                max_norm=draw["scale"], seed=draw["seed"]))
    return cases


def _clip_variant(grads: dict[str, np.ndarray], max_norm: float, *, per_array: bool = False, eps: float = 1e-6,
                  always: bool = False) -> dict[str, np.ndarray]:
    def scale_of(norm: float) -> float:
        coef = max_norm / (norm + eps)
        return coef if always else min(1.0, coef)

    if per_array:
        return {name: g * scale_of(float(np.linalg.norm(g))) for name, g in grads.items()}
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    return {name: g * scale_of(total) for name, g in grads.items()}


def _clip_calls(case: dict[str, Any]) -> list[Call]:
    return [Call("clip_grad_norm", (case["grads"], case["max_norm"]))]


def _judge_clip(case: dict[str, Any], out: Sequence[Outcome]) -> str | None:
    got = out[0].value
    label = case["label"]
    grads, max_norm = case["grads"], case["max_norm"]
    if not (isinstance(got, list) and len(got) == 2 and isinstance(got[0], dict)):
        return f"clip_grad_norm, {label}: expected the tuple (clipped dict, norm), got {type(got).__name__}."
    clipped, norm = got
    expected_arrays = [g.copy() for g in grads.values()]
    expected_norm = reference.clip_grad_norm(expected_arrays, max_norm)  # in place, as clip_grad_norm_
    expected = dict(zip(grads, expected_arrays))
    if sorted(clipped) != sorted(expected):
        return (f"clip_grad_norm, {label}: the clipped dict has the keys {sorted(clipped)}, expected the keys of "
                f"the input, {sorted(expected)}.")
    message = compare_number(norm, expected_norm, rtol=1e-7, what=f"clip_grad_norm, {label}: the norm returned")
    if message is not None:
        after = float(np.sqrt(sum(np.sum(g * g) for g in expected_arrays)))
        if isinstance(norm, (int, float)) and abs(norm - after) <= 1e-7 * after:
            return _with_hint(message, "this is the norm after clipping; return the norm before clipping.")
        if isinstance(norm, (int, float)) and abs(norm - expected_norm**2) <= 1e-7 * expected_norm**2:
            return _with_hint(message, "this is the squared norm: take the square root of the sum of squares.")
        return _with_hint(message, "one norm over every array together: sqrt of the sum of the squares of all "
                                   "the entries.")
    for name in grads:
        message = compare_array(clipped[name], expected[name], rtol=1e-7, atol=1e-15,
                                what=f"clip_grad_norm, {label}: clipped[{name!r}]")
        if message is None:
            continue
        variants = [
            ("each array is clipped by its own norm; clip_grad_norm_ scales every array by one factor, computed "
             "from the global norm.", lambda: _clip_variant(grads, max_norm, per_array=True)[name]),
            ("the 1e-6 is missing: the factor is max_norm / (norm + 1e-6), exactly as in PyTorch.",
             lambda: _clip_variant(grads, max_norm, eps=0.0)[name]),
            ("the factor is min(1, max_norm / (norm + 1e-6)): gradients with a small norm are left unchanged, "
             "never scaled up.", lambda: _clip_variant(grads, max_norm, always=True)[name]),
            ("the arrays are unchanged, but the factor min(1, max_norm / (norm + 1e-6)) is below 1 here: PyTorch "
             "scales whenever norm + 1e-6 > max_norm, even when norm == max_norm.", lambda: grads[name]),
        ]
        return _with_hint(message, _diagnose(clipped[name], variants) or
                          "multiply every array by min(1, max_norm / (norm + 1e-6)).")
    return None


# ------------------------------------------------------------------------------------------ training


def _held_out(n: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of ``binary_sequences``'s task that the notebook cannot reproduce (private seed)."""
    gen = np.random.default_rng([_HELD_OUT_SEED, length])
    x = gen.uniform(0.0, 1.0, size=(n, length, 1)).astype(np.float32)  # (n, length, 1)
    y = (x.sum(axis=(1, 2), dtype=np.float64) > length / 2).astype(np.int64)  # (n,)
    return x, y


def _training_cases() -> list[dict[str, Any]]:
    x_train, y_train = binary_sequences(4000, rng=0)  # the notebook's training set
    x_test, y_test = _held_out(N_HELD_OUT, 10)
    x_long, _ = _held_out(64, 17)  # longer sequences: only the shape of the output is checked
    return [{"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test, "x_long": x_long}]


def _training_calls(case: dict[str, Any]) -> list[Call]:
    return [
        Call("train_sequence_model", (case["x_train"], case["y_train"]), {"seed": GRADER_SEED}, store="model"),
        Call("@forward", (Ref("model"), case["x_test"])),
        Call("@forward", (Ref("model"), case["x_long"])),
    ]


def _judge_training(case: dict[str, Any], out: Sequence[Outcome]) -> str | None:
    logits, long_logits = out[1].value, out[2].value
    n, n_long = len(case["x_test"]), len(case["x_long"])
    what = f"the output of your trained model on {n} new sequences of length 10"
    if not isinstance(logits, np.ndarray) or logits.shape != (n, 1):
        shape = logits.shape if isinstance(logits, np.ndarray) else type(logits).__name__
        return (f"{what}: expected logits of shape ({n}, 1), got {shape}. Hint: end with a dense layer of one unit "
                "applied to the last hidden state.")
    if not np.all(np.isfinite(logits)):
        return f"{what}: it contains NaN or infinite values; lower the learning rate or clip the gradients."
    accuracy = float(np.mean((logits[:, 0] > 0) == case["y_test"]))
    if accuracy < TARGET_ACCURACY:
        message = (f"accuracy on {n} held-out sequences: expected at least {TARGET_ACCURACY:.0%}, got "
                   f"{accuracy:.1%} (the grader trained your model with seed={GRADER_SEED}).")
        as_probabilities = float(np.mean((logits[:, 0] > 0.5) == case["y_test"]))
        if np.all((logits >= 0) & (logits <= 1)) and as_probabilities >= TARGET_ACCURACY:
            return (message + " Hint: your outputs all lie in [0, 1], like probabilities; return logits (no "
                    "sigmoid at the end) and train with BCEWithLogitsLoss or from_logits=True.")
        return (message + " Hint: check that it trains for every seed (a few epochs of Adam with a learning rate "
                "of 1e-3 to 1e-2, a logit read from the last hidden state).")
    if not isinstance(long_logits, np.ndarray) or long_logits.shape != (n_long, 1):
        shape = long_logits.shape if isinstance(long_logits, np.ndarray) else type(long_logits).__name__
        return (f"your model on {n_long} sequences of length 17: expected logits of shape ({n_long}, 1), got "
                f"{shape}. Hint: a recurrent model reads sequences of any length; read the logit from the last "
                "hidden state, not from a flattened sequence.")
    return None


# ---------------------------------------------------------------------------------------------- checks

CHECKS: dict[str, list[Check]] = {
    "test_rnn_step": [
        Check("rnn_step matches torch.nn.RNNCell", lambda: _step_cases("rnn", 1100), _rnn_step_calls,
              _judge_rnn_step, forbid=FROM_SCRATCH),
    ],
    "test_lstm_step": [
        Check("lstm_step matches torch.nn.LSTMCell (gates i, f, g, o)", lambda: _step_cases("lstm", 1200),
              _lstm_step_calls, _judge_lstm_step, forbid=FROM_SCRATCH),
    ],
    "test_gru_step": [
        Check("gru_step matches torch.nn.GRUCell (gates r, z, n)", lambda: _step_cases("gru", 1300),
              _gru_step_calls, _judge_gru_step, forbid=FROM_SCRATCH),
    ],
    "test_rnn_forward": [
        Check("rnn_forward matches torch.nn.RNN", lambda: _sequence_cases(2100), _rnn_forward_calls,
              _judge_rnn_forward, forbid=FROM_SCRATCH),
    ],
    "test_rnn_backward": [
        Check("rnn_backward matches autograd's BPTT", lambda: _sequence_cases(2200), _rnn_backward_calls,
              _judge_rnn_backward, forbid=FROM_SCRATCH),
    ],
    "test_gradient_check": [
        Check("rnn_numerical_gradients agrees with the exact gradients", _gradient_check_cases,
              _gradient_check_calls, _judge_gradient_check, forbid=FROM_SCRATCH),
    ],
    "test_clip_grad_norm": [
        Check("clip_grad_norm matches torch.nn.utils.clip_grad_norm_", _clip_cases, _clip_calls, _judge_clip,
              forbid=FROM_SCRATCH),
    ],
    "test_train_sequence_model": [
        Check(f"train_sequence_model: a recurrent model (it reads sequences of any length) that reaches "
              f"{TARGET_ACCURACY:.0%} on held-out sequences, trained within {TRAIN_SECONDS:g} s",
              _training_cases, _training_calls, _judge_training, forbid=("coursepkg",), time_limit=TRAIN_SECONDS),
    ],
}
