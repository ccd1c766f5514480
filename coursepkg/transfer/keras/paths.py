"""Keras layers addressed by dotted paths, in Keras's names and in PyTorch's.

Explained in {ref}`sec-transfer`. A Keras model nests layers in containers (``Sequential`` or functional
models); the course's models name a layer ``P_suffix`` inside a container ``P`` (``block1_conv`` in
``block1``). :func:`tree` lists every layer under a model with two dotted paths: Keras's (``base.block1.block1_conv``)
and PyTorch's (``base.block1.conv``, what :meth:`torch.nn.Module.named_modules` calls the same layer), so that
:mod:`~coursepkg.transfer.keras.freezing` accepts the names of both frameworks and
:mod:`~coursepkg.transfer.keras.state` writes PyTorch's ``state_dict`` names.
"""

from __future__ import annotations

from typing import Any

import keras

__all__ = ["children", "leaves", "tree"]


def children(layer: Any) -> list[Any]:
    """The layers directly inside ``layer`` (none for a leaf), without ``InputLayer``."""
    return [s for s in getattr(layer, "layers", []) if not isinstance(s, keras.layers.InputLayer)]


def tree(model: Any) -> list[tuple[str, str, Any]]:
    """Every layer under ``model`` as ``(torch_path, keras_path, layer)``, parents before children.

    The PyTorch-style name of a layer ``P_suffix`` inside a container ``P`` is ``suffix`` (``block1_conv`` in
    ``block1`` is ``block1.conv``); the model's own name is not part of the paths.
    """
    out: list[tuple[str, str, Any]] = []

    def walk(container: Any, tprefix: str, kprefix: str) -> None:
        for sub in children(container):
            comp = sub.name[len(container.name) + 1 :] if sub.name.startswith(container.name + "_") else sub.name
            tpath, kpath = tprefix + comp, kprefix + sub.name
            out.append((tpath, kpath, sub))
            walk(sub, tpath + ".", kpath + ".")

    walk(model, "", "")
    return out


def leaves(layer: Any) -> list[Any]:
    """The layers without sub-layers under ``layer`` (``[layer]`` itself for a leaf), in order."""
    subs = children(layer)
    return [layer] if not subs else [leaf for s in subs for leaf in leaves(s)]
