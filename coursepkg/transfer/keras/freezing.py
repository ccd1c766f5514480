"""Freezing in Keras 3: trainable flags on the leaves, and frozen BatchNorm layers in inference mode.

Explained in {ref}`sec-transfer`. :func:`freeze` and :func:`unfreeze` set ``trainable`` on the leaves of the
layers that ``layers`` selects (:mod:`coursepkg.transfer.selection`: ``"all"``, an int, or names in either
framework's spelling, :mod:`~coursepkg.transfer.keras.paths`); containers stay trainable, so that unfreezing a
layer inside a frozen container works. :func:`trainable_summary` counts what trains, as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from ..results import TrainableSummary
from ..selection import resolve_layer, select_layers
from .paths import children, leaves, tree

__all__ = ["freeze", "set_bn_eval", "trainable_summary", "unfreeze"]


def _resolve(model: Any, name: str, func: str) -> Any:
    layers = [((tpath, kpath), kpath, layer) for tpath, kpath, layer in tree(model)]
    return resolve_layer(name, layers, [s.name for s in children(model)], func)


def _select(model: Any, layers: Any, func: str, *, last: bool) -> list[Any]:
    top = [(s.name, s) for s in children(model) if s.weights]
    return select_layers(model, layers, top=top, resolve=lambda name: _resolve(model, name, func), last=last, func=func)


def _containers_trainable(model: Any) -> None:
    """Make every container trainable without changing any leaf's flag (the flags live on the leaves)."""
    layers = [model] + [layer for _, _, layer in tree(model)]
    flags = {id(leaf): leaf.trainable for leaf in leaves(model)}
    for layer in layers:
        if children(layer) and not layer.trainable:
            layer.trainable = True  # propagates down: restore the leaves below
    for leaf in leaves(model):
        if leaf.trainable != flags[id(leaf)]:
            leaf.trainable = flags[id(leaf)]


def freeze(model: Any, *, layers: str | int | Sequence[str] = "all") -> Any:
    """Stop training some layers (``trainable = False`` on their leaves); returns ``model``.

    ``layers`` is ``"all"``; an int ``k``: every top-level layer with weights except the last ``k`` (left as
    they are); or layer names. Frozen ``BatchNormalization`` layers run in inference mode (Keras 3).

    Raises
    ------
    ValueError
        If a name matches no layer or several, or ``k`` exceeds the number of top-level layers.
    """
    _containers_trainable(model)
    for layer in _select(model, layers, "freeze", last=False):
        for leaf in leaves(layer):
            leaf.trainable = False
    return model


def unfreeze(model: Any, *, layers: str | int | Sequence[str] = "all") -> Any:
    """Train some layers again; an int ``k`` selects the last ``k`` top-level layers. Returns ``model``."""
    _containers_trainable(model)
    for layer in _select(model, layers, "unfreeze", last=True):
        for leaf in leaves(layer):
            leaf.trainable = True
    return model


def _moving_stats(model: Any) -> set[int]:
    return {
        id(v) for leaf in leaves(model) if isinstance(leaf, keras.layers.BatchNormalization)
        for v in (leaf.moving_mean, leaf.moving_variance)
    }


def trainable_summary(model: Any) -> TrainableSummary:
    """Counts of trainable and frozen parameters (BatchNorm moving statistics are state and not counted).

    Examples
    --------
    >>> from coursepkg.transfer.keras import source_cnn
    >>> trainable_summary(freeze(source_cnn(), layers=1))
    TrainableSummary(trainable=18560, frozen=4848)
    """
    stats = _moving_stats(model)
    trainable = {id(v) for v in model.trainable_weights}
    counts = [0, 0]
    seen: set[int] = set()
    for v in model.weights:
        if id(v) in seen or id(v) in stats:
            continue
        seen.add(id(v))
        counts[id(v) not in trainable] += int(np.prod(v.shape))
    return TrainableSummary(*counts)


def set_bn_eval(model: Any) -> list[str]:
    """Names of the ``BatchNormalization`` layers that run in inference mode because they are frozen.

    Nothing to switch in Keras 3 (a frozen BatchNorm layer always runs in inference mode); the function
    exists so that code written for :func:`coursepkg.transfer.torch.set_bn_eval` runs unchanged.
    """
    return [t for t, _, layer in tree(model) if isinstance(layer, keras.layers.BatchNormalization) and not layer.trainable]
