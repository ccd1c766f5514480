"""Which layers ``freeze`` and ``unfreeze`` select: the argument ``layers`` and layer names, framework-free.

Explained in {ref}`sec-transfer`. ``freeze(model, layers=...)`` and ``unfreeze`` accept the same ``layers`` in
both frameworks: ``"all"``, an int ``k`` (counted over the top-level layers that have parameters), or a
list of layer names, each a full dotted path (``"base.block3"``) or a last path component that names a single
layer (``"block3"``). :mod:`coursepkg.transfer.torch.freezing` and :mod:`coursepkg.transfer.keras.freezing`
describe their model as a list of named layers and let these two functions do the rest, so that the twins
accept the same arguments and fail with the same messages. Importing this module imports NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validation import as_int

__all__ = ["resolve_layer", "select_layers"]


def resolve_layer(name: str, layers: Sequence[tuple[Sequence[str], str, Any]], top: Sequence[str], func: str) -> Any:
    """The layer called ``name``: one whose path is ``name``, else the only one whose last path component is.

    Parameters
    ----------
    name : str
    layers : sequence of (paths, shown, layer)
        Every layer below the model, parents before children: the dotted paths that name it (PyTorch's; in
        Keras also Keras's own), the path error messages show, and the layer.
    top : sequence of str
        Names of the model's top-level layers, listed when no layer matches.
    func : str
        The public function, named in error messages.

    Raises
    ------
    ValueError
        If no layer matches, or the last component matches several layers (the message lists them).

    Examples
    --------
    >>> layers = [(("a",), "a", 1), (("a.conv",), "a.conv", 2), (("b",), "b", 3), (("b.conv",), "b.conv", 4)]
    >>> resolve_layer("a.conv", layers, ["a", "b"], "freeze"), resolve_layer("b", layers, ["a", "b"], "freeze")
    (2, 3)
    >>> resolve_layer("conv", layers, ["a", "b"], "freeze")
    Traceback (most recent call last):
    ...
    ValueError: freeze: the name 'conv' is ambiguous; it matches ['a.conv', 'b.conv']. Use the full dotted name.
    """
    for paths, _, layer in layers:
        if name in paths:
            return layer
    hits = {id(layer): layer for paths, _, layer in layers if name in [p.split(".")[-1] for p in paths]}
    if len(hits) == 1:
        return next(iter(hits.values()))
    if hits:
        names = [shown for _, shown, layer in layers if id(layer) in hits]
        raise ValueError(f"{func}: the name {name!r} is ambiguous; it matches {names}. Use the full dotted name.")
    raise ValueError(f"{func}: the model has no layer named {name!r}. Its top-level layers are {list(top)}.")


def select_layers(
    model: Any,
    layers: Any,
    *,
    top: Sequence[tuple[str, Any]],
    resolve: Callable[[str], Any],
    last: bool,
    func: str,
) -> list[Any]:
    """The layers ``layers`` selects in ``model``, for ``freeze`` (``last=False``) or ``unfreeze`` (``last=True``).

    Parameters
    ----------
    model : the model
        Returned alone for ``layers="all"``.
    layers : "all", int or sequence of str
        An int ``k`` selects the top-level layers with parameters but the last ``k`` (``last=False``) or the
        last ``k`` (``last=True``); names are looked up with ``resolve``.
    top : sequence of (name, layer)
        The model's top-level layers that have parameters, in order.
    resolve : callable
        ``resolve(name)`` returns the layer of that name or raises (see :func:`resolve_layer`).
    last : bool
    func : str
        The public function, named in error messages.

    Raises
    ------
    ValueError
        If ``layers`` is a string other than ``"all"``, or ``k`` exceeds the number of top-level layers.
    TypeError
        If ``layers`` is of another type.

    Examples
    --------
    >>> top = [("block1", 1), ("block2", 2), ("head", 3)]
    >>> select_layers("m", 1, top=top, resolve=None, last=False, func="freeze")
    [1, 2]
    >>> select_layers("m", 1, top=top, resolve=None, last=True, func="unfreeze")
    [3]
    """
    if isinstance(layers, str):
        if layers == "all":
            return [model]
        raise ValueError(
            f'{func}: `layers` must be "all", an int or a list of layer names. Received: layers={layers!r}; '
            f"to select one layer pass layers=[{layers!r}]."
        )
    if isinstance(layers, (int, np.integer)) and not isinstance(layers, bool):
        k = as_int(layers, "layers", func, minimum=0)
        if k > len(top):
            raise ValueError(
                f"{func}: `layers`={k} but the model has only {len(top)} top-level layers with parameters "
                f"({[n for n, _ in top]})."
            )
        chosen = [layer for _, layer in top]
        return chosen[len(chosen) - k :] if last else chosen[: len(chosen) - k]
    if isinstance(layers, Sequence):
        return [resolve(str(n)) for n in layers]
    raise TypeError(f'{func}: `layers` must be "all", an int or a list of layer names. Received: {layers!r}.')
