r"""Weights of the recurrent models as plain NumPy arrays: read them, write them, copy them across frameworks.

Explained in the recurrent-networks chapter. :func:`get_weights` reads a model built by
:mod:`coursepkg.recurrent.torch` or :mod:`coursepkg.recurrent.keras` into one framework-free
:class:`RecurrentWeights` in PyTorch's layout (that of :mod:`coursepkg.rnn`), :func:`set_weights` writes it
into either twin, and :func:`copy_weights` does both, so that the two frameworks compute the same outputs.
:func:`forward_numpy` computes those outputs a third time with :mod:`coursepkg.rnn`.

The per-layer conversion is :mod:`coursepkg.rnn.layout`: Keras stores transposed matrices, one bias for the
LSTM and SimpleRNN where PyTorch has two (only their sum matters, so Keras -> PyTorch puts it in ``bias_ih``
and zeros in ``bias_hh``), and the GRU gates as z, r, h where PyTorch has r, z, n.

This module imports no framework: it recognises a model by the framework already loaded.
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

import numpy as np

from coursepkg._validation import as_numeric_array, check_ndim
from coursepkg.rnn import gru_forward, lstm_forward, rnn_forward
from coursepkg.rnn.layout import weights_from_keras, weights_to_keras

__all__ = ["RecurrentWeights", "get_weights", "set_weights", "copy_weights", "forward_numpy"]

#: One direction of one layer: (weight_ih (G*H, D_l), weight_hh (G*H, H), bias_ih (G*H,), bias_hh (G*H,)).
LayerWeights = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class RecurrentWeights(NamedTuple):
    """Every weight of a recurrent model, in PyTorch's layout and gate order.

    Attributes
    ----------
    cell : {"lstm", "gru", "rnn"}
    layers : list of list of LayerWeights
        ``layers[l][k]`` is direction ``k`` (0 forward, 1 backward) of layer ``l``:
        ``(weight_ih (G*H, D_l), weight_hh (G*H, H), bias_ih (G*H,), bias_hh (G*H,))``.
    head_weight : ndarray of shape (O, K*H)
        The dense head, as ``torch.nn.Linear.weight`` (Keras's kernel transposed).
    head_bias : ndarray of shape (O,)
    """

    cell: str
    layers: list[list[LayerWeights]]
    head_weight: np.ndarray
    head_bias: np.ndarray


def _framework(model: Any, func: str) -> str:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        from coursepkg.recurrent.torch import RecurrentNet

        if not isinstance(model, RecurrentNet):
            raise TypeError(
                f"{func}: a PyTorch model must be a RecurrentNet built by coursepkg.recurrent.torch "
                f"(sequence_classifier, sequence_regressor, notes_lstm). Received: {type(model).__name__}."
            )
        return "torch"
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(model, keras.Model):
        return "keras"
    raise TypeError(
        f"{func}: `model` must be a model built by coursepkg.recurrent.torch or coursepkg.recurrent.keras. "
        f"Received an object of type {type(model).__name__}."
    )


# ------------------------------------------------------------------------------------------- PyTorch


def _torch_get(model: Any) -> RecurrentWeights:
    spec = model.spec

    def array(p: Any) -> np.ndarray:
        return p.detach().cpu().numpy().copy()

    params = {name: array(p) for name, p in model.rnn.named_parameters()}  # weight_ih_l0, ..._reverse
    kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    layers = [
        [tuple(params[f"{kind}_l{layer}{suffix}"] for kind in kinds) for suffix in ("", "_reverse")[: spec.directions]]
        for layer in range(spec.num_layers)
    ]
    return RecurrentWeights(spec.cell, layers, array(model.head.weight), array(model.head.bias))


def _torch_set(model: Any, weights: RecurrentWeights) -> None:
    import torch

    params = dict(model.rnn.named_parameters())
    with torch.no_grad():
        for layer, directions in enumerate(weights.layers):
            for k, arrays in enumerate(directions):
                suffix = "_reverse" if k else ""
                for kind, array in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), arrays):
                    p = params[f"{kind}_l{layer}{suffix}"]
                    p.copy_(torch.as_tensor(array, dtype=p.dtype))
        model.head.weight.copy_(torch.as_tensor(weights.head_weight, dtype=model.head.weight.dtype))
        model.head.bias.copy_(torch.as_tensor(weights.head_bias, dtype=model.head.bias.dtype))


# --------------------------------------------------------------------------------------------- Keras


def _keras_structure(model: Any, func: str) -> tuple[str, list[list[Any]], Any]:
    """``(cell, layers[l][k] = Keras RNN layer, head Dense)`` of a Keras model built by coursepkg.recurrent."""
    import keras

    cells = {keras.layers.LSTM: "lstm", keras.layers.GRU: "gru", keras.layers.SimpleRNN: "rnn"}
    found, head, cell = [], None, None
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            directions = [layer.forward_layer, layer.backward_layer]
        elif type(layer) in cells:
            directions = [layer]
        elif isinstance(layer, keras.layers.Dense):
            head = layer
            continue
        elif isinstance(layer, (keras.layers.Dropout, keras.layers.InputLayer)):
            continue
        else:
            raise TypeError(
                f"{func}: the Keras model has a {type(layer).__name__} layer ({layer.name!r}); only models built "
                "by coursepkg.recurrent.keras (recurrent layers, Dropout, one Dense head) can be converted."
            )
        kinds = {cells.get(type(d)) for d in directions}
        if len(kinds) != 1 or None in kinds or (cell is not None and kinds != {cell}):
            raise TypeError(
                f"{func}: the recurrent layers of the Keras model must all be of one kind (LSTM, GRU or SimpleRNN)."
            )
        cell = kinds.pop()
        if cell == "rnn" and any(d.activation is not keras.activations.tanh for d in directions):
            raise TypeError(f"{func}: the SimpleRNN layer {layer.name!r} must use tanh, as torch.nn.RNN does here.")
        found.append(directions)
    if head is None or not found:
        raise TypeError(
            f"{func}: the Keras model needs recurrent layers and a Dense head; it has "
            f"{[layer.name for layer in model.layers]}."
        )
    return cell, found, head


def _keras_get(model: Any, func: str) -> RecurrentWeights:
    cell, layers, head = _keras_structure(model, func)
    out = [[weights_from_keras(d.get_weights(), cell=cell) for d in directions] for directions in layers]
    kernel, bias = head.get_weights()  # (K*H, O), (O,)
    return RecurrentWeights(cell, out, np.ascontiguousarray(kernel.T), bias.copy())


def _keras_set(model: Any, weights: RecurrentWeights, func: str) -> None:
    cell, layers, head = _keras_structure(model, func)
    for directions, arrays in zip(layers, weights.layers):
        for d, w in zip(directions, arrays):
            d.set_weights(weights_to_keras(*w, cell=cell))  # Keras casts to the variables' dtype
    head.set_weights([np.ascontiguousarray(weights.head_weight.T), weights.head_bias])


# ----------------------------------------------------------------------------------------- public API


def get_weights(model: Any) -> RecurrentWeights:
    """Read every weight of a model built by :mod:`coursepkg.recurrent` into PyTorch-layout NumPy arrays.

    Parameters
    ----------
    model : RecurrentNet or keras.Model
        Built by ``sequence_classifier``, ``sequence_regressor`` or ``notes_lstm`` of either framework.

    Returns
    -------
    RecurrentWeights
        Copies, in the model's dtype (float32).

    Raises
    ------
    TypeError
        If ``model`` was not built by :mod:`coursepkg.recurrent`.
    """
    func = "get_weights"
    if _framework(model, func) == "torch":
        return _torch_get(model)
    return _keras_get(model, func)


def _check_compatible(weights: RecurrentWeights, target: RecurrentWeights, func: str) -> None:
    """Raise ValueError naming the first difference in cell, layout or shape."""
    if not isinstance(weights, RecurrentWeights):
        raise TypeError(
            f"{func}: `weights` must be a RecurrentWeights from get_weights. Received: {type(weights).__name__}."
        )
    if weights.cell != target.cell:
        raise ValueError(
            f"{func}: the weights are those of a {weights.cell!r} network but the model is a {target.cell!r} "
            "network. Build it with the same cell."
        )
    if [len(d) for d in weights.layers] != [len(d) for d in target.layers]:
        raise ValueError(
            f"{func}: the weights have {len(weights.layers)} layer(s) with {len(weights.layers[0])} direction(s) but "
            f"the model has {len(target.layers)} with {len(target.layers[0])}. Build it with the same num_layers "
            "and bidirectional."
        )
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    for layer, (src, dst) in enumerate(zip(weights.layers, target.layers)):
        for k, (a, b) in enumerate(zip(src, dst)):
            for name, x, y in zip(names, a, b):
                if np.shape(x) != np.shape(y):
                    raise ValueError(
                        f"{func}: layer {layer}, direction {k}: `{name}` has shape {np.shape(x)} but the model expects "
                        f"{np.shape(y)}. Build it with the same input_size and hidden_size."
                    )
    for name in ("head_weight", "head_bias"):
        if np.shape(getattr(weights, name)) != np.shape(getattr(target, name)):
            raise ValueError(
                f"{func}: `{name}` has shape {np.shape(getattr(weights, name))} but the model expects "
                f"{np.shape(getattr(target, name))}. Build it with the same num_outputs (horizon)."
            )


def set_weights(model: Any, weights: RecurrentWeights) -> None:
    """Write ``weights`` (from :func:`get_weights` of either twin) into ``model``, in place.

    Parameters
    ----------
    model : RecurrentNet or keras.Model
        Built by :mod:`coursepkg.recurrent` with the same cell, sizes, layers and directions.
    weights : RecurrentWeights

    Raises
    ------
    TypeError
        If ``model`` was not built by :mod:`coursepkg.recurrent`.
    ValueError
        If the cell, the number of layers or directions, or a shape differs; the message names it.
    """
    func = "set_weights"
    framework = _framework(model, func)
    _check_compatible(weights, get_weights(model), func)
    if framework == "torch":
        _torch_set(model, weights)
    else:
        _keras_set(model, weights, func)


def copy_weights(source: Any, target: Any) -> Any:
    """Copy every weight of ``source`` into ``target`` (PyTorch -> Keras, Keras -> PyTorch, or same framework).

    Parameters
    ----------
    source, target : RecurrentNet or keras.Model
        Twins: built by the same builder with the same arguments.

    Returns
    -------
    target
        The same object, changed in place.

    Raises
    ------
    TypeError, ValueError
        As :func:`set_weights`.

    Notes
    -----
    PyTorch -> Keras is exact up to the float32 rounding of ``bias_ih + bias_hh`` (LSTM, RNN); Keras -> PyTorch
    is exact. Outputs then agree to float32 round-off (about 1e-6).
    """
    set_weights(target, get_weights(source))
    return target


def forward_numpy(weights: RecurrentWeights, x: np.ndarray) -> np.ndarray:
    """The output of the model holding ``weights``, computed with :mod:`coursepkg.rnn` (no framework).

    Parameters
    ----------
    weights : RecurrentWeights
    x : ndarray of shape (N, T, D)

    Returns
    -------
    ndarray of shape (N, O)
        Logits (no sigmoid), in the dtype of ``x`` and the weights (float64 if either is).

    Raises
    ------
    ValueError
        If ``x`` is not 3-D or its ``D`` does not match the first layer.

    Notes
    -----
    The backward direction reads ``x[:, ::-1]``; its outputs are flipped back so that step ``t`` of both
    directions is concatenated into the next layer's input ``(N, T, 2H)``; the head reads the forward state
    at ``T`` and the backward state at ``1`` (after it has read the whole sequence).
    """
    func = "forward_numpy"
    x = as_numeric_array(x, "x", func)
    check_ndim(x, (3,), "x", func, "(N, T, D) (batch first)")
    D = weights.layers[0][0][0].shape[1]
    if x.shape[2] != D:
        raise ValueError(
            f"{func}: x has D={x.shape[2]} features but the first layer expects D={D} (x.shape={x.shape})."
        )
    run = {"rnn": lambda s, w: rnn_forward(s, None, *w), "lstm": lambda s, w: lstm_forward(s, None, None, *w),
           "gru": lambda s, w: gru_forward(s, None, *w)}[weights.cell]
    seq = x  # (N, T, D_l)
    for directions in weights.layers:
        outs = []
        for k, w in enumerate(directions):
            hs, _ = run(seq[:, ::-1] if k else seq, w)  # (N, T, H), in reading order
            outs.append(hs[:, ::-1] if k else hs)  # (N, T, H), in time order
        seq = np.concatenate(outs, axis=-1)  # (N, T, K*H)
    H = weights.layers[0][0][1].shape[1]
    last = seq[:, -1, :H] if len(weights.layers[-1]) == 1 else np.concatenate([seq[:, -1, :H], seq[:, 0, H:]], axis=-1)
    return last @ weights.head_weight.T + weights.head_bias  # (N, K*H) @ (K*H, O) -> (N, O)
