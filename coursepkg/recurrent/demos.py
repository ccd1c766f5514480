r"""Vanishing and exploding gradients through time, measured with the NumPy networks of :mod:`coursepkg.rnn`.

Explained in the recurrent-networks chapter. Framework-free and fast (milliseconds): random untrained
networks, one loss on the last hidden state, and backpropagation through time.

The set-up, shared by both functions: inputs ``x ~ N(0, 1)`` of shape ``(N, T, D)``, input weights
``N(0, 1/D)``, and recurrent weights ``weight_scale * Q`` with ``Q`` a random orthogonal matrix (one per gate
block), so that every singular value of the recurrent matrix of the Elman RNN is exactly ``weight_scale``.
The loss is ``L = sum_n v_n . h_T[n]`` with a random direction ``v``, so that ``dL/dh_T = v``.

Why the scale matters: for the Elman RNN ``dL/dh_{t-1} = W_hh^T (phi'(a_t) * dL/dh_t)`` and
``|phi'| <= 1`` for tanh and ReLU, so every step back multiplies the gradient's norm by at most
``weight_scale``. With ``weight_scale <= 1`` it can only shrink (and tanh's saturation shrinks it further);
with ``weight_scale > 1`` and ReLU units, which pass gradients unchanged where active, it can grow
geometrically. The LSTM's cell state adds a path ``dL/dc_{t-1} = f_t * dL/dc_t`` with no matrix in it: a
forget gate near 1 (a positive forget bias) carries the gradient across many steps.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np

from coursepkg._validation import as_int, as_rng
from coursepkg.recurrent._checks import check_cell
from coursepkg.rnn import clip_grad_norm, gru_forward, hidden_grad_norms, lstm_forward, rnn_backward, rnn_forward
from coursepkg.rnn._checks import check_nonlinearity

__all__ = ["gradient_norms_through_time", "exploding_gradient_demo", "ClipDemo"]

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _positive(value: Any, name: str, func: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: `{name}` must be a real number. Received: {name}={value!r}.")
    value = float(value)
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{func}: `{name}` must be a finite number > 0. Received: {name}={value!r}.")
    return value


def _orthogonal(gen: np.random.Generator, H: int) -> np.ndarray:
    """A random orthogonal (H, H) matrix, uniformly distributed (QR of a Gaussian, signs fixed)."""
    q, r = np.linalg.qr(gen.standard_normal((H, H)))  # (H, H), (H, H)
    return q * np.sign(np.diag(r))  # (H, H)


def _random_network(
    cell: str, gen: np.random.Generator, *, n: int, length: int, input_size: int, hidden_size: int,
    weight_scale: float, forget_bias: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x (N, T, D), weight_ih (G*H, D), weight_hh (G*H, H), bias (G*H,), v (N, H))`` as the module says."""
    G, H, D = _GATES[cell], hidden_size, input_size
    x = gen.standard_normal((n, length, D))  # (N, T, D)
    weight_ih = gen.standard_normal((G * H, D)) / np.sqrt(D)  # (G*H, D)
    weight_hh = np.concatenate([weight_scale * _orthogonal(gen, H) for _ in range(G)])  # (G*H, H)
    bias = np.zeros(G * H)  # (G*H,)
    if cell == "lstm":
        bias[H : 2 * H] = forget_bias  # gate order i, f, g, o
    v = gen.standard_normal((n, H))  # (N, H): dL/dh_T
    return x, weight_ih, weight_hh, bias, v


def gradient_norms_through_time(
    cell: str,
    *,
    length: int = 50,
    hidden_size: int = 32,
    input_size: int = 1,
    weight_scale: float = 1.0,
    nonlinearity: str = "tanh",
    forget_bias: float = 1.0,
    n: int = 16,
    rng: Any = None,
) -> np.ndarray:
    r"""``||dL/dh_t||`` for ``t = 1..T`` in a random network, for a loss on the last step only.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
    length : int, default 50
        ``T``.
    hidden_size, input_size : int, default 32, 1
        ``H`` and ``D``.
    weight_scale : float, default 1.0
        Every singular value of each recurrent gate block (see the module docstring).
    nonlinearity : {"tanh", "relu"}, default "tanh"
        The Elman RNN's; ignored for the LSTM and the GRU.
    forget_bias : float, default 1.0
        The LSTM's forget-gate bias (Keras's ``unit_forget_bias``; Jozefowicz et al., 2015); the other
        biases are zero. Ignored for the RNN and the GRU.
    n : int, default 16
        ``N``, sequences in the batch.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    ndarray of shape (T,)
        ``out[t - 1]`` is the Frobenius norm over the batch of ``dL/dh_t`` (total gradient, through every
        later step); ``out[-1]`` is ``||v||``. Plot ``out / out[-1]`` on a log axis.

    Raises
    ------
    TypeError
        If an integer or number argument has the wrong type, or ``rng`` is not an rng.
    ValueError
        If ``cell`` or ``nonlinearity`` is unknown, or a size or scale is not positive.

    Notes
    -----
    Measured with the defaults (seeds 0-4, ``T = 50``), ``out[0] / out[-1]`` is: tanh RNN 4e-9 to 7e-7;
    LSTM with forget bias 1, 1e-4 to 7e-4 (a few hundred to tens of thousands of times the RNN's on the same
    seed); forget bias 3, 0.2 to 0.4; forget bias 0, about 1e-9; GRU (zero biases) 6e-9 to 3e-8: gated
    cells carry gradients only as far as their gates are open. ReLU RNN with ``weight_scale=1``: 7e-9 to
    9e-7 (vanishes); with ``weight_scale=2``: 3e6 to 2e8 (explodes). The tests pin the orderings, not these
    values.

    Examples
    --------
    >>> norms = gradient_norms_through_time("rnn", nonlinearity="relu", weight_scale=2.0, rng=0)
    >>> norms.shape, bool(norms[0] > 1e3 * norms[-1])
    ((50,), True)
    """
    func = "gradient_norms_through_time"
    cell = check_cell(cell, func)
    nonlinearity = check_nonlinearity(nonlinearity, func)
    length = as_int(length, "length", func, minimum=1)
    hidden_size = as_int(hidden_size, "hidden_size", func, minimum=1)
    input_size = as_int(input_size, "input_size", func, minimum=1)
    n = as_int(n, "n", func, minimum=1)
    weight_scale = _positive(weight_scale, "weight_scale", func)
    if isinstance(forget_bias, bool) or not isinstance(forget_bias, numbers.Real):
        raise TypeError(f"{func}: `forget_bias` must be a real number. Received: forget_bias={forget_bias!r}.")
    gen = as_rng(rng, func)
    x, w_ih, w_hh, b, v = _random_network(
        cell, gen, n=n, length=length, input_size=input_size, hidden_size=hidden_size,
        weight_scale=weight_scale, forget_bias=float(forget_bias),
    )
    if cell == "rnn":
        _, cache = rnn_forward(x, None, w_ih, w_hh, b, None, nonlinearity=nonlinearity)
    elif cell == "lstm":
        _, cache = lstm_forward(x, None, None, w_ih, w_hh, b, None)
    else:
        _, cache = gru_forward(x, None, w_ih, w_hh, b, None)
    return hidden_grad_norms(None, cache, dh_T=v)  # (T,)


class ClipDemo(NamedTuple):
    """Result of :func:`exploding_gradient_demo`.

    Attributes
    ----------
    norm_before, norm_after : float
        Global L2 norm of all parameter gradients before and after clipping.
    max_norm : float
    norms_before, norms_after : dict of str to float
        Per-parameter norms (``weight_ih``, ``weight_hh``, ``bias``).
    cosine : float
        Cosine between the gradient before and after clipping: 1, the direction is kept.
    """

    norm_before: float
    norm_after: float
    max_norm: float
    norms_before: dict[str, float]
    norms_after: dict[str, float]
    cosine: float


def exploding_gradient_demo(
    *,
    length: int = 50,
    hidden_size: int = 32,
    input_size: int = 1,
    weight_scale: float = 2.0,
    max_norm: float = 1.0,
    n: int = 16,
    rng: Any = None,
) -> ClipDemo:
    r"""The global gradient norm of an exploding ReLU RNN before and after :func:`coursepkg.rnn.clip_grad_norm`.

    Builds the ReLU Elman RNN of :func:`gradient_norms_through_time` (``weight_scale > 1``: exploding),
    backpropagates the loss on the last step into ``weight_ih``, ``weight_hh`` and the bias, and clips the
    three gradients together as ``torch.nn.utils.clip_grad_norm_`` does.

    Parameters
    ----------
    length, hidden_size, input_size, weight_scale, n, rng
        As :func:`gradient_norms_through_time`.
    max_norm : float, default 1.0
        The clipping threshold.

    Returns
    -------
    ClipDemo

    Raises
    ------
    TypeError, ValueError
        As :func:`gradient_norms_through_time`, and if ``max_norm`` is not positive.

    Notes
    -----
    Clipping rescales all gradients by one factor ``min(1, max_norm / (norm + 1e-6))``: the step keeps
    its direction (``cosine == 1``) and its length becomes at most ``max_norm``. It stops one huge step
    from throwing the weights far away; it does nothing for vanishing gradients.

    Examples
    --------
    >>> demo = exploding_gradient_demo(rng=0)
    >>> bool(demo.norm_before > 1e3), round(demo.norm_after, 4), round(demo.cosine, 6)
    (True, 1.0, 1.0)
    """
    func = "exploding_gradient_demo"
    length = as_int(length, "length", func, minimum=1)
    hidden_size = as_int(hidden_size, "hidden_size", func, minimum=1)
    input_size = as_int(input_size, "input_size", func, minimum=1)
    n = as_int(n, "n", func, minimum=1)
    weight_scale = _positive(weight_scale, "weight_scale", func)
    max_norm = _positive(max_norm, "max_norm", func)
    gen = as_rng(rng, func)
    x, w_ih, w_hh, b, v = _random_network(
        "rnn", gen, n=n, length=length, input_size=input_size, hidden_size=hidden_size,
        weight_scale=weight_scale, forget_bias=0.0,
    )
    _, cache = rnn_forward(x, None, w_ih, w_hh, b, None, nonlinearity="relu")
    grads = rnn_backward(None, cache, dh_T=v)
    names = ("weight_ih", "weight_hh", "bias")
    arrays = [grads.dweight_ih, grads.dweight_hh, grads.dbias_ih]  # (H, D), (H, H), (H,)
    before = np.concatenate([a.ravel() for a in arrays])  # a copy: clipping works in place
    norms_before = {k: float(np.linalg.norm(a)) for k, a in zip(names, arrays)}
    norm_before = clip_grad_norm(arrays, max_norm)
    after = np.concatenate([a.ravel() for a in arrays])
    norm_after = float(np.linalg.norm(after))
    cosine = float(before @ after / (np.linalg.norm(before) * norm_after)) if norm_after > 0 else 1.0
    return ClipDemo(
        norm_before, norm_after, max_norm, norms_before,
        {k: float(np.linalg.norm(a)) for k, a in zip(names, arrays)}, cosine,
    )
