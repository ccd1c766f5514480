"""A Keras model's weights as NumPy arrays in PyTorch's names and layouts, in and out.

Explained in {ref}`sec-transfer`. :func:`state_dict` returns what :func:`coursepkg.transfer.torch.state_dict`
returns for the twin PyTorch model (names from :mod:`~coursepkg.transfer.keras.paths`, conv ``(F, C, KH, KW)``,
dense ``(out, in)``), and :func:`load_state_dict` loads such arrays through :mod:`coursepkg.ops.layout`: this
is how the committed weights, trained in PyTorch, reach Keras, and how a test checks that the twins agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import keras
import numpy as np

from ...ops.layout import conv_weight_from_keras, conv_weight_to_keras, dense_weight_to_keras, flatten_dense_weight_to_keras
from ..weights import check_state_names
from .paths import children, tree

__all__ = ["load_state_dict", "state_dict"]


def _leaf_arrays(leaf: Any, flatten_chw: tuple[int, int, int] | None) -> list[tuple[str, Any, Callable, Callable]]:
    """``(torch suffix, keras variable, to_keras, from_keras)`` for the weights of one leaf."""
    ident = lambda a: np.asarray(a)  # noqa: E731
    if isinstance(leaf, keras.layers.Conv2D):
        out = [("weight", leaf.kernel, conv_weight_to_keras, conv_weight_from_keras)]
        return out + ([("bias", leaf.bias, ident, ident)] if leaf.use_bias else [])
    if isinstance(leaf, keras.layers.BatchNormalization):
        out = []
        if leaf.scale:
            out.append(("weight", leaf.gamma, ident, ident))
        if leaf.center:
            out.append(("bias", leaf.beta, ident, ident))
        return out + [("running_mean", leaf.moving_mean, ident, ident), ("running_var", leaf.moving_variance, ident, ident)]
    if isinstance(leaf, keras.layers.Dense):
        if flatten_chw is not None:
            c, h, w = flatten_chw

            def to_k(a: Any, chw: tuple[int, int, int] = flatten_chw) -> np.ndarray:
                return flatten_dense_weight_to_keras(a, chw)

            def from_k(a: Any) -> np.ndarray:  # (H*W*C, out) -> (out, C*H*W)
                return np.ascontiguousarray(np.asarray(a).reshape(h, w, c, -1).transpose(3, 2, 0, 1).reshape(-1, c * h * w))
        else:
            to_k, from_k = dense_weight_to_keras, lambda a: np.ascontiguousarray(np.asarray(a).T)
        out = [("weight", leaf.kernel, to_k, from_k)]
        return out + ([("bias", leaf.bias, ident, ident)] if leaf.use_bias else [])
    if leaf.weights:
        raise ValueError(f"state_dict: no PyTorch mapping for the weights of layer {leaf.name!r} ({type(leaf).__name__}).")
    return []


def _mapping(model: Any) -> dict[str, tuple[Any, Callable, Callable]]:
    mapping: dict[str, tuple[Any, Callable, Callable]] = {}
    flatten_chw = None
    for tpath, _, layer in tree(model):
        if isinstance(layer, keras.layers.Flatten):
            shape = tuple(layer.input.shape[1:])
            flatten_chw = (shape[2], shape[0], shape[1]) if len(shape) == 3 else None
            continue
        if children(layer):
            continue
        for suffix, var, to_k, from_k in _leaf_arrays(layer, flatten_chw):
            mapping[f"{tpath}.{suffix}"] = (var, to_k, from_k)
        if isinstance(layer, keras.layers.Dense):
            flatten_chw = None
    return mapping


def state_dict(model: Any) -> dict[str, np.ndarray]:
    """The weights in PyTorch's names and layouts (what :func:`coursepkg.transfer.torch.state_dict` returns)."""
    return {k: from_k(var.numpy()) for k, (var, _, from_k) in _mapping(model).items()}


def load_state_dict(model: Any, state: Mapping[str, Any]) -> Any:
    """Load arrays in PyTorch's names and layouts (conv ``(F, C, KH, KW)``, dense ``(out, in)``) into ``model``.

    Flattened heads are permuted with :func:`coursepkg.ops.layout.flatten_dense_weight_to_keras`, so a model
    loaded from PyTorch arrays computes the same function. Returns ``model``.

    Raises
    ------
    ValueError
        If names are missing or unexpected, or a shape differs.
    """
    mapping = _mapping(model)
    check_state_names(mapping, state, "load_state_dict")
    for k, (var, to_k, _) in mapping.items():
        arr = to_k(np.asarray(state[k]))
        if tuple(arr.shape) != tuple(var.shape):
            raise ValueError(
                f"load_state_dict: {k!r} gives shape {arr.shape} in Keras's layout but the layer expects {tuple(var.shape)}."
            )
        var.assign(arr.astype(var.dtype))
    return model
