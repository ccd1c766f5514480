"""Copy weights between a PyTorch model and its Keras twin, layer by layer.

Used in the chapter "Classic CNN architectures" ({ref}`sec-degradation`, {ref}`sec-pixelnet`) and on the
parity page ({ref}`sec-parity`). The builders of :mod:`coursepkg.models.torch` and
:mod:`coursepkg.models.keras` build the same layers in the same order; :func:`torch_to_keras` and
:func:`keras_to_torch` pair the *weighted* layers of two models built by the same builder with the same
arguments (convolutions, dense layers and batch normalisations; pooling, activations, dropout, LRN and
padding have no weights) and copy each weight with the layout conversion it needs:

==========================  ===========================================  ==========================
PyTorch                     Keras                                        conversion
==========================  ===========================================  ==========================
``Conv2d.weight``           ``Conv2D.kernel``                            (F, C, KH, KW) -> (KH, KW, C, F)
``Linear.weight``           ``Dense.kernel``                             (out, in) -> (in, out)
``Linear.weight`` after a   ``Dense.kernel`` after a ``Flatten`` of an   (out, C*H*W) -> (H*W*C, out),
``Flatten`` of (C, H, W)    (H, W, C) map                                the rows permuted
``bias``                    ``bias``                                     none
``BatchNorm2d`` weight,     ``BatchNormalization`` gamma, beta,          none; ``eps`` -> ``epsilon``,
bias, running_mean,         moving_mean, moving_variance                 ``momentum`` -> ``1 - momentum``
running_var
==========================  ===========================================  ==========================

**Order.** PyTorch: the order in which the modules are registered (``model.named_modules()``), which is
the order of the code of ``__init__``. Keras: the order in which a depth-first evaluation of the outputs
first computes each layer, taking the inputs of a ``Concatenate`` left to right (the order of the channels,
as ``torch.cat`` takes them) and those of an ``Add`` longest branch first (the residual branch ``F(x)``
before the shortcut, as a residual block's code computes them). ``model.layers`` is not used: Keras sorts it
by depth, which interleaves the branches of a block (keras.applications' ResNet50 lists ``conv2_block1_0_conv``,
the shortcut, between ``conv2_block1_2_bn`` and ``conv2_block1_3_conv``).

**Checks.** Both lists are built and every pair checked (same kind, same shapes after conversion, both
with or without bias) before anything is copied; the first pair that does not line up is named in a
``ValueError`` with its shapes. Batch-norm epsilon and momentum are copied too: they change what the layer
computes (PyTorch's default epsilon is 1e-5; Keras's 1e-3 and keras.applications' 1.001e-5; the course's
Keras builders use 1e-5 already).

**Scope.** Models whose layers are not all ``Conv2d``/``Linear``/``BatchNorm2d`` (``BatchNorm1d``) on one
side and ``Conv2D``/``Dense``/``BatchNormalization`` on the other raise a ``TypeError``, as do Keras layers
called more than once. GoogLeNet with ``aux_logits=True`` is not supported (the auxiliary heads are
registered at the end in PyTorch but computed in the middle in Keras).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import torch  # noqa: E402
from keras import layers  # noqa: E402
from torch import nn  # noqa: E402

from ..ops import (  # noqa: E402
    conv_weight_from_keras,
    conv_weight_to_keras,
    dense_weight_from_keras,
    dense_weight_to_keras,
    flatten_dense_weight_to_keras,
)

__all__ = ["keras_to_torch", "pair_layers", "torch_to_keras"]

_TORCH_KINDS = (nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.BatchNorm1d)
_KERAS_KINDS = (layers.Conv2D, layers.Dense, layers.BatchNormalization)
_MATCH = {nn.Conv2d: layers.Conv2D, nn.Linear: layers.Dense, nn.BatchNorm2d: layers.BatchNormalization,
          nn.BatchNorm1d: layers.BatchNormalization}  # fmt: skip
# Layers a Dense may sit behind while still reading a Flatten's output unchanged.
_PASS_THROUGH = (layers.Dropout, layers.Activation, layers.ReLU, layers.Identity)


# ----------------------------------------------------------------------------------------------- ordering
def _torch_layers(module: nn.Module, func: str) -> list[tuple[str, nn.Module]]:
    """Weighted modules in registration order; TypeError for a module with weights we cannot convert."""
    out = []
    for name, m in module.named_modules():
        if isinstance(m, _TORCH_KINDS):
            if isinstance(m, nn.Conv2d) and m.groups != 1:
                raise TypeError(f"{func}: PyTorch module {name!r} is a grouped convolution (groups={m.groups}); "
                                "only groups=1 has a Keras Conv2D twin.")  # fmt: skip
            out.append((name, m))
        elif any(True for _ in m.parameters(recurse=False)) or any(True for _ in m.buffers(recurse=False)):
            raise TypeError(
                f"{func}: PyTorch module {name!r} ({type(m).__name__}) has weights, but only Conv2d, Linear and "
                "BatchNorm layers can be transferred."
            )
    return out


def _producer(tensor: Any) -> layers.Layer:
    return tensor._keras_history[0]  # the layer whose output this symbolic tensor is


def _parents(layer: layers.Layer, func: str) -> list[layers.Layer]:
    nodes = layer._inbound_nodes
    if len(nodes) > 1:
        raise TypeError(
            f"{func}: Keras layer {layer.name!r} is called {len(nodes)} times (a shared layer); the transfer "
            "pairs each layer with one PyTorch module and supports layers called once."
        )
    if not nodes or isinstance(layer, keras.layers.InputLayer):
        return []
    return [_producer(t) for t in nodes[0].input_tensors]


def _keras_layers(model: keras.Model, func: str) -> list[layers.Layer]:
    """Weighted layers of a functional model in the order of a depth-first evaluation (see module docstring)."""
    if not isinstance(model, keras.Model) or not hasattr(model, "outputs") or model.outputs is None:
        raise TypeError(f"{func}: `keras_model` must be a functional keras.Model (as the course's builders "
                        f"return). Received an object of type {type(model).__name__}.")  # fmt: skip
    depth: dict[int, int] = {}  # id(layer) -> length of the longest chain of layers back to an input
    for layer in model.layers:  # topologically sorted
        parents = _parents(layer, func)
        depth[id(layer)] = 1 + max((depth.get(id(p), 0) for p in parents), default=0)

    def ordered_parents(layer: layers.Layer) -> list[layers.Layer]:
        parents = _parents(layer, func)
        if isinstance(layer, layers.Add):  # residual branch first, shortcut last; stable for ties
            parents = sorted(parents, key=lambda p: -depth.get(id(p), 0))
        return parents

    order: list[layers.Layer] = []
    visited: set[int] = set()
    for out in model.outputs:
        root = _producer(out)
        if id(root) in visited:
            continue
        visited.add(id(root))
        stack = [(root, iter(ordered_parents(root)))]
        while stack:  # iterative post-order: a layer is listed after all its inputs, first-input first
            layer, parents = stack[-1]
            for p in parents:
                if id(p) not in visited:
                    visited.add(id(p))
                    stack.append((p, iter(ordered_parents(p))))
                    break
            else:
                stack.pop()
                order.append(layer)
    weighted = []
    for layer in order:
        if isinstance(layer, keras.Model):
            raise TypeError(f"{func}: Keras layer {layer.name!r} is a nested model; build the model flat, as the "
                            "course's builders do.")  # fmt: skip
        if isinstance(layer, _KERAS_KINDS):
            if isinstance(layer, layers.Conv2D) and layer.groups != 1:
                raise TypeError(f"{func}: Keras layer {layer.name!r} is a grouped convolution (groups={layer.groups}); "
                                "only groups=1 is supported.")  # fmt: skip
            weighted.append(layer)
        elif layer.weights:
            raise TypeError(
                f"{func}: Keras layer {layer.name!r} ({type(layer).__name__}) has weights, but only Conv2D, Dense "
                "and BatchNormalization layers can be transferred."
            )
    return weighted


def pair_layers(torch_module: nn.Module, keras_model: keras.Model) -> list[tuple[str, nn.Module, layers.Layer]]:
    """The weighted layers of the two models, paired in order: ``[(torch_name, torch_module, keras_layer)]``.

    Parameters
    ----------
    torch_module : torch.nn.Module
    keras_model : keras.Model
        A functional model.

    Returns
    -------
    list of (str, torch.nn.Module, keras.layers.Layer)
        One entry per convolution, dense layer and batch normalisation, checked as :func:`torch_to_keras`
        checks them (same kinds, same shapes after conversion, same number of layers).

    Raises
    ------
    ValueError
        If the weighted layers do not line up (the first mismatching pair is named with its shapes).
    TypeError
        If a model has a layer with weights of another kind.
    """
    return [(name, m, layer) for name, m, layer, _ in _pairs(torch_module, keras_model, "pair_layers")]


def _describe(name: str, m: nn.Module) -> str:
    shape = tuple(m.weight.shape) if getattr(m, "weight", None) is not None else ()
    return f"PyTorch {name!r} ({type(m).__name__}, weight {shape})"


def _kdescribe(layer: layers.Layer) -> str:
    shapes = ", ".join(f"{w.name} {tuple(w.shape)}" for w in layer.weights)
    return f"Keras {layer.name!r} ({type(layer).__name__}, {shapes})"


def _keras_kind(m: nn.Module) -> type:
    """The Keras layer class that is the twin of a PyTorch module's class."""
    return next(kk for kind, kk in _MATCH.items() if isinstance(m, kind))


# --------------------------------------------------------------------------------------------- conversion
def _flatten_source(layer: layers.Layer) -> tuple[int, int, int] | None:
    """``(C, H, W)`` of the map a Dense layer reads through a Flatten (and dropout), or None."""
    src = _producer(layer._inbound_nodes[0].input_tensors[0])
    while isinstance(src, _PASS_THROUGH):
        src = _producer(src._inbound_nodes[0].input_tensors[0])
    if not isinstance(src, layers.Flatten):
        return None
    shape = tuple(src._inbound_nodes[0].input_tensors[0].shape)
    if len(shape) != 4:
        return None
    if getattr(src, "data_format", "channels_last") != "channels_last":
        raise TypeError(f"Flatten layer {src.name!r} is channels_first; the course's Keras models are channels_last.")
    _, h, w, c = shape
    return (int(c), int(h), int(w))


def _flatten_dense_weight_from_keras(w: np.ndarray, chw: tuple[int, int, int]) -> np.ndarray:
    """Inverse of :func:`coursepkg.ops.flatten_dense_weight_to_keras`: (H*W*C, out) -> (out, C*H*W)."""
    c, h, wd = chw
    return np.ascontiguousarray(w.reshape(h, wd, c, -1).transpose(3, 2, 0, 1).reshape(-1, c * h * wd))


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _torch_arrays(m: nn.Module, layer: layers.Layer) -> list[np.ndarray]:
    """The weights of a PyTorch module in the order and layout of the Keras layer's ``weights``."""
    if isinstance(m, nn.Conv2d):
        arrays = [conv_weight_to_keras(_np(m.weight))]  # (KH, KW, C, F)
    elif isinstance(m, nn.Linear):
        chw = _flatten_source(layer)
        w = _np(m.weight)  # (out, in)
        if chw and w.shape[1] == math.prod(chw):
            arrays = [flatten_dense_weight_to_keras(w, chw)]  # (H*W*C, out), rows in Keras's flatten order
        else:  # no Flatten in front, or a size mismatch that _check_shapes reports with both layers' names
            arrays = [dense_weight_to_keras(w)]  # (in, out)
    else:  # batch norm: gamma, beta, moving mean, moving variance
        arrays = [_np(m.weight), _np(m.bias)] if m.affine else []
        arrays += [_np(m.running_mean), _np(m.running_var)]
        return arrays
    if m.bias is not None:
        arrays.append(_np(m.bias))
    return arrays


def _check_shapes(func: str, i: int, name: str, m: nn.Module, layer: layers.Layer, arrays: list[np.ndarray]) -> None:
    want = [tuple(w.shape) for w in layer.weights]
    got = [a.shape for a in arrays]
    if want != got:
        hint = ""
        if len(want) != len(got) and not isinstance(layer, layers.BatchNormalization):
            hint = " One has a bias and the other not: build both with the same conv_bias."
        raise ValueError(
            f"{func}: weighted layer #{i} does not line up: {_describe(name, m)} gives Keras-layout weights "
            f"{got}, but {_kdescribe(layer)} has {want}.{hint} Build both models with the same builder and the "
            "same arguments (num_classes, in_channels, input_size, ...)."
        )


def _pairs(torch_module: Any, keras_model: Any, func: str) -> list[tuple[str, nn.Module, layers.Layer, list]]:
    """Pair the weighted layers and check each pair in order; also return the PyTorch weights in Keras layout."""
    if not isinstance(torch_module, nn.Module):
        raise TypeError(f"{func}: `torch_module` must be a torch.nn.Module. Received an object of type "
                        f"{type(torch_module).__name__}.")  # fmt: skip
    t_layers = _torch_layers(torch_module, func)
    k_layers = _keras_layers(keras_model, func)
    pairs = []
    for i, ((name, m), layer) in enumerate(zip(t_layers, k_layers)):
        if not isinstance(layer, _keras_kind(m)):
            raise ValueError(
                f"{func}: weighted layer #{i} does not line up: {_describe(name, m)} is paired with "
                f"{_kdescribe(layer)}. Build both models with the same builder and the same arguments."
            )
        arrays = _torch_arrays(m, layer)
        _check_shapes(func, i, name, m, layer, arrays)
        pairs.append((name, m, layer, arrays))
    if len(t_layers) != len(k_layers):
        n = min(len(t_layers), len(k_layers))
        extra = (f"the first unpaired one is {_describe(*t_layers[n])}" if len(t_layers) > n
                 else f"the first unpaired one is {_kdescribe(k_layers[n])}")  # fmt: skip
        raise ValueError(
            f"{func}: the PyTorch model has {len(t_layers)} weighted layers (Conv2d, Linear, BatchNorm) but the "
            f"Keras model has {len(k_layers)}; {extra}. Build both models with the same builder and the same "
            "arguments."
        )
    return pairs


def _copy_bn_hyperparameters_to_keras(m: nn.Module, layer: layers.Layer) -> bool:
    changed = False
    if layer.epsilon != m.eps:
        layer.epsilon, changed = float(m.eps), True
    if m.momentum is not None and not math.isclose(layer.momentum, 1.0 - m.momentum):
        layer.momentum, changed = float(1.0 - m.momentum), True
    return changed


def torch_to_keras(torch_module: nn.Module, keras_model: keras.Model) -> keras.Model:
    """Copy the weights of a PyTorch model into its Keras twin, layer by layer.

    Parameters
    ----------
    torch_module : torch.nn.Module
        Built by a builder of :mod:`coursepkg.models.torch`.
    keras_model : keras.Model
        Built by the builder of the same name in :mod:`coursepkg.models.keras`, with the same arguments.

    Returns
    -------
    keras.Model
        ``keras_model``, whose weights (and batch-norm epsilon and momentum) now equal ``torch_module`` 's:
        ``keras_model(nchw_to_nhwc(x), training=False)`` equals ``torch_module.eval()(x)`` up to float
        rounding.

    Raises
    ------
    ValueError
        If the weighted layers do not line up: a different number of them, or the first pair whose kinds
        or shapes differ, named with its shapes.
    TypeError
        If a model has a layer with weights that cannot be converted, or an argument is of the wrong type.

    Examples
    --------
    >>> from coursepkg.models import keras as mk, torch as mt  # doctest: +SKIP
    >>> tm = mt.resnet18(num_classes=10, input_size=32)  # doctest: +SKIP
    >>> km = mk.resnet18(num_classes=10, input_size=32, conv_bias=False)  # torchvision's default  # doctest: +SKIP
    >>> torch_to_keras(tm, km)  # doctest: +SKIP
    """
    func = "torch_to_keras"
    changed = False
    for _, m, layer, arrays in _pairs(torch_module, keras_model, func):  # every pair checked: now copy
        for var, arr in zip(layer.weights, arrays):
            var.assign(arr.astype(var.dtype))
        if isinstance(layer, layers.BatchNormalization):
            changed |= _copy_bn_hyperparameters_to_keras(m, layer)
    if changed:  # epsilon and momentum are Python floats baked into traced functions: trace again
        for attr in ("train_function", "test_function", "predict_function"):
            if getattr(keras_model, attr, None) is not None:
                setattr(keras_model, attr, None)
    return keras_model


def keras_to_torch(keras_model: keras.Model, torch_module: nn.Module) -> nn.Module:
    """Copy the weights of a Keras model into its PyTorch twin, layer by layer (the inverse of :func:`torch_to_keras`).

    Parameters
    ----------
    keras_model : keras.Model
        Built by a builder of :mod:`coursepkg.models.keras`.
    torch_module : torch.nn.Module
        Built by the builder of the same name in :mod:`coursepkg.models.torch`, with the same arguments.

    Returns
    -------
    torch.nn.Module
        ``torch_module``, whose parameters, batch-norm buffers, ``eps`` and ``momentum`` now equal
        ``keras_model`` 's.

    Raises
    ------
    ValueError
        If the weighted layers do not line up (the first mismatching pair is named with its shapes).
    TypeError
        If a model has a layer with weights that cannot be converted, or an argument is of the wrong type.
    """
    func = "keras_to_torch"
    plan = []
    for _, m, layer, _ in _pairs(torch_module, keras_model, func):  # every pair checked before anything is copied
        values = [np.asarray(w.numpy()) for w in layer.weights]
        if isinstance(m, nn.Conv2d):
            tensors = [m.weight, m.bias][: len(values)]
            values[0] = conv_weight_from_keras(values[0])  # (F, C, KH, KW)
        elif isinstance(m, nn.Linear):
            tensors = [m.weight, m.bias][: len(values)]
            chw = _flatten_source(layer)
            values[0] = _flatten_dense_weight_from_keras(values[0], chw) if chw else dense_weight_from_keras(values[0])
        else:
            tensors = ([m.weight, m.bias] if m.affine else []) + [m.running_mean, m.running_var]
        plan.append((m, layer, tensors, values))
    with torch.no_grad():
        for m, layer, tensors, values in plan:
            for t, v in zip(tensors, values):
                t.copy_(torch.from_numpy(np.ascontiguousarray(v)).to(t.dtype))
            if isinstance(layer, layers.BatchNormalization):
                m.eps = float(layer.epsilon)
                m.momentum = float(1.0 - layer.momentum)
    return torch_module
