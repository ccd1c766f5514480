"""What every PyTorch model of the course shares: the base class that checks inputs, counts, stage shapes.

Explained in the chapter on classic architectures. What the PyTorch models share with their Keras twins
(the geometry of :class:`Window`, :func:`spatial_size` and :func:`minimum_size`, the argument checks, the
architectures' specifications) lives in the framework-free :mod:`coursepkg.models.common`; the names of
the geometry are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..common import Window, as_bool, minimum_size, spatial_size

__all__ = ["Window", "count_params", "minimum_size", "spatial_size", "stage_shapes"]


class ImageModel(nn.Module):
    """Base class of the course's image models: remembers the input it was built for and checks inputs.

    Attributes
    ----------
    in_channels : int
    input_size : (int, int)
        ``(H, W)`` the model was built for. Models with a dense classifier on flattened features accept only
        this size (``fixed_size = True``); models with global pooling accept any size at least
        ``min_size``.
    min_size : int
        The smallest height and width the model accepts.
    """

    fixed_size: bool = False

    def __init__(self, in_channels: int, input_size: tuple[int, int], min_size: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.input_size = input_size
        self.min_size = min_size

    def check_input(self, x: torch.Tensor) -> None:
        """Raise ValueError when ``x`` is not an ``(N, C, H, W)`` batch this model can take."""
        name = type(self).__name__
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name}: the input must be a torch.Tensor. Received an object of type {type(x).__name__}.")
        if x.ndim != 4:
            hint = " Add a batch axis with x[None]." if x.ndim == 3 else ""
            raise ValueError(f"{name}: the input must have shape (N, C, H, W); got shape {tuple(x.shape)}.{hint}")
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"{name}: the model was built with in_channels={self.in_channels} but the input has "
                f"C={x.shape[1]} (shape {tuple(x.shape)}). Rebuild it with in_channels={x.shape[1]}, or check "
                "that the batch is channels-first (N, C, H, W) and not (N, H, W, C)."
            )
        hw = tuple(x.shape[2:])
        if self.fixed_size and hw != self.input_size:
            raise ValueError(
                f"{name}: the model was built for input_size={self.input_size} (its dense layers expect that "
                f"many features) but the input is {hw[0]}x{hw[1]}. Rebuild it with input_size={hw}, or resize "
                "the images."
            )
        if min(hw) < self.min_size:
            raise ValueError(
                f"{name}: the input is {hw[0]}x{hw[1]} but this model needs at least "
                f"{self.min_size}x{self.min_size} pixels. Resize or pad the images."
            )


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of a PyTorch model, ``sum(p.numel())``.

    Works on models built on the ``meta`` device (``with torch.device("meta"): ...``), which allocate no
    memory. Buffers (batch-norm running statistics) are not parameters and are not counted; Keras's
    ``count_params`` counts them as non-trainable weights, which explains most differences between the
    two frameworks' totals.

    Parameters
    ----------
    model : torch.nn.Module
    trainable_only : bool, default False
        Count only parameters with ``requires_grad=True``.

    Returns
    -------
    int

    Examples
    --------
    >>> count_params(nn.Linear(9216, 4096))  # AlexNet's fc6
    37752832
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"count_params: `model` must be a torch.nn.Module. Received an object of type {type(model).__name__}."
        )
    trainable_only = as_bool(trainable_only, "trainable_only", "count_params")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def stage_shapes(
    model: nn.Module, names: Sequence[str], x: torch.Tensor | None = None
) -> dict[str, tuple[int, ...]]:
    """Output shape of each named submodule during one forward pass.

    Parameters
    ----------
    model : torch.nn.Module
    names : sequence of str
        Dotted submodule names, as in ``model.named_modules()`` (e.g. ``"layer1"``, ``"features.pool0"``).
    x : torch.Tensor of shape (N, C, H, W), optional
        The input. By default one zero image of the size the model was built for (``model.input_size``),
        on the model's device: on ``meta`` nothing is computed, only shapes propagate.

    Returns
    -------
    dict of str to tuple of int
        ``{name: (N, C, H, W)}`` in the order given; for a module called more than once, its last call.

    Examples
    --------
    >>> with torch.device("meta"):
    ...     model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.MaxPool2d(2))
    >>> stage_shapes(model, ["0", "1"], torch.empty(1, 3, 32, 32, device="meta"))
    {'0': (1, 8, 30, 30), '1': (1, 8, 15, 15)}
    """
    if x is None:
        if not hasattr(model, "input_size"):
            raise ValueError("stage_shapes: pass an input `x`; this model does not record its input_size.")
        device = next(model.parameters()).device
        x = torch.zeros(1, model.in_channels, *model.input_size, device=device)
    shapes: dict[str, tuple[int, ...]] = {}
    handles = []
    try:
        for name in names:
            try:
                module = model.get_submodule(name)
            except AttributeError:
                children = [n for n, _ in model.named_modules() if n][:40]
                raise ValueError(
                    f"stage_shapes: {type(model).__name__} has no submodule named {name!r}. "
                    f"Names look like: {', '.join(children)}."
                ) from None

            def hook(_mod: nn.Module, _inp: Any, out: torch.Tensor, name: str = name) -> None:
                shapes[name] = tuple(out.shape)

            handles.append(module.register_forward_hook(hook))
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return {name: shapes[name] for name in names}
