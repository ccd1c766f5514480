"""Boundary checks shared by the cells and the full-sequence functions of :mod:`coursepkg.rnn`.

Private: the public functions call these so that every message names the function, the argument,
the shape that was expected (with its letters) and the shape that was received.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coursepkg._validation import as_numeric_array, check_ndim, float_dtype

#: Gate groups per cell, in PyTorch's order (rows of ``weight_ih`` / ``weight_hh``).
GATES = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}


def check_nonlinearity(nonlinearity: Any, func: str) -> str:
    """Return ``nonlinearity`` if it is ``"tanh"`` or ``"relu"`` (PyTorch's two choices)."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(
            f"{func}: `nonlinearity` must be 'tanh' or 'relu' (as in torch.nn.RNN). "
            f"Received: nonlinearity={nonlinearity!r}."
        )
    return nonlinearity


def check_recurrent_inputs(
    func: str,
    cell: str,
    x: Any,
    h0: Any,
    weight_ih: Any,
    weight_hh: Any,
    bias_ih: Any,
    bias_hh: Any,
    *,
    c0: Any = None,
    step: bool,
) -> tuple[np.ndarray, ...]:
    """Validate and convert the inputs of a cell step (``step=True``) or of a full sequence.

    Returns ``(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)`` as arrays of one floating dtype;
    ``h0`` and ``c0`` are zeros where ``None`` was passed (``c0`` stays ``None`` unless the cell is an
    LSTM), and the biases stay ``None`` where ``None`` was passed.
    """
    G = len(GATES[cell])
    gate_names = ", ".join(GATES[cell])
    h_name, c_name = ("h_prev", "c_prev") if step else ("h0", "c0")

    x = as_numeric_array(x, "x", func)
    weight_ih = as_numeric_array(weight_ih, "weight_ih", func)
    weight_hh = as_numeric_array(weight_hh, "weight_hh", func)
    if step:
        check_ndim(x, (2,), "x", func, "(N, D)")
    else:
        check_ndim(x, (3,), "x", func, "(N, T, D) (batch first)")
        if x.shape[1] == 0:
            raise ValueError(
                f"{func}: `x` must have at least one time step, got shape {x.shape} (T=0)."
            )
    N, D = x.shape[0], x.shape[-1]

    check_ndim(weight_hh, (2,), "weight_hh", func, f"({G}*H, H)")
    H = weight_hh.shape[1]
    if weight_hh.shape[0] != G * H:
        raise ValueError(
            f"{func}: `weight_hh` must have shape ({G}*H, H) for the {cell.upper()} (gate groups "
            f"{gate_names}, stacked along the rows as in PyTorch), got shape {weight_hh.shape}: "
            f"{weight_hh.shape[0]} rows is not {G} * H = {G * H}."
        )
    check_ndim(weight_ih, (2,), "weight_ih", func, f"({G}*H, D)")
    if weight_ih.shape[0] != G * H:
        raise ValueError(
            f"{func}: `weight_ih` has {weight_ih.shape[0]} rows but weight_hh.shape={weight_hh.shape} "
            f"gives hidden size H={H}, so weight_ih must have {G}*H={G * H} rows "
            f"(weight_ih is ({G}*H, D), gate order {gate_names}). Check that H matches in both weights."
        )
    if weight_ih.shape[1] != D:
        raise ValueError(
            f"{func}: x has D={D} features but weight_ih expects D={weight_ih.shape[1]} "
            f"(weight_ih.shape={weight_ih.shape} is ({G}*H, D), x.shape={x.shape} is "
            f"{'(N, D)' if step else '(N, T, D)'})."
        )

    biases = []
    for name, b in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if b is not None:
            b = as_numeric_array(b, name, func)
            if b.shape != (G * H,):
                raise ValueError(
                    f"{func}: `{name}` must have shape ({G}*H,) = ({G * H},) for hidden size H={H} "
                    f"(gate order {gate_names}), got shape {b.shape}. Pass None for no bias."
                )
        biases.append(b)

    states = []
    for name, s in ((h_name, h0), (c_name, c0)):
        if name == c_name and cell != "lstm":
            states.append(None)
            continue
        if s is not None:
            s = as_numeric_array(s, name, func)
            if s.shape != (N, H):
                raise ValueError(
                    f"{func}: `{name}` must have shape (N, H) = ({N}, {H}) (N from x.shape={x.shape}, "
                    f"H from weight_hh.shape={weight_hh.shape}), got shape {s.shape}."
                    + (f" Add a batch axis with {name}[None]." if s.shape == (H,) else "")
                )
        states.append(s)

    arrays = [a for a in (x, weight_ih, weight_hh, *biases, *states) if a is not None]
    dtype = float_dtype(*arrays)

    def cast(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a.astype(dtype, copy=False)

    h0_, c0_ = (np.zeros((N, H), dtype) if s is None else cast(s) for s in states)
    if cell != "lstm":
        c0_ = None
    return cast(x), h0_, c0_, cast(weight_ih), cast(weight_hh), cast(biases[0]), cast(biases[1])


def check_upstream(
    grad: Any, name: str, shape: tuple[int, ...], layout: str, func: str, dtype: np.dtype
) -> np.ndarray:
    """Return the upstream gradient ``grad`` as an array of ``shape``, zeros if it is None."""
    if grad is None:
        return np.zeros(shape, dtype)
    grad = as_numeric_array(grad, name, func)
    if grad.shape != shape:
        raise ValueError(
            f"{func}: `{name}` must have the shape of what it is the gradient of, {layout} = {shape}, "
            f"got shape {grad.shape}."
        )
    return grad.astype(np.result_type(dtype, float_dtype(grad)), copy=False)


def check_cache(cache: Any, expected: type, forward: str, func: str) -> None:
    """Raise TypeError unless ``cache`` is the cache that ``forward`` returns."""
    if not isinstance(cache, expected):
        raise TypeError(
            f"{func}: `cache` must be the {expected.__name__} returned by {forward}. "
            f"Received an object of type {type(cache).__name__}."
        )
