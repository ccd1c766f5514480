"""What every PyTorch model of the course shares: the base class that checks inputs, counts, stage shapes.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-arch-measure`). What the PyTorch models share with
their Keras twins (the geometry of :class:`Window`, :func:`spatial_size` and :func:`minimum_size`, the argument
checks, the architectures' specifications) lives in the framework-free :mod:`coursepkg.models.common`; the names of
the geometry are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils.weak import WeakIdKeyDictionary

from ..common import Window, as_bool, minimum_size, spatial_size

__all__ = ["Window", "count_params", "minimum_size", "model_depth", "spatial_size", "stage_shapes"]


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


#: The functions that apply a layer with weights, as ``nn.Conv*d`` and ``nn.Linear`` call them.
WEIGHTED_FUNCTIONS = frozenset({
    F.conv1d, F.conv2d, F.conv3d, F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d, F.linear, F.bilinear,
})  # fmt: skip


def _tensors(obj: Any):
    """The tensors in nested arguments or outputs (``torch.cat`` takes a list, GoogLeNet returns a tuple)."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _tensors(item)
    elif isinstance(obj, dict):
        yield from _tensors(list(obj.values()))


class _LongestChain(TorchFunctionMode):
    """Labels every tensor of a forward pass with the number of weighted layers on its longest path back."""

    def __init__(self) -> None:
        super().__init__()
        self.depth: WeakIdKeyDictionary = WeakIdKeyDictionary()

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        d = max((self.depth.get(t, 0) for t in _tensors((args, kwargs))), default=0)
        d += func in WEIGHTED_FUNCTIONS  # a weighted layer adds one; weights themselves are depth 0
        for t in _tensors(out):
            self.depth[t] = d
        return out


def model_depth(model: nn.Module, x: torch.Tensor | None = None) -> int:
    """Depth as the papers count it: weighted layers (convolutions, dense) on the longest input-output path.

    VGG-16, ResNet-50 and DenseNet-121 are named after this number. Pooling, activations, normalisation,
    dropout and LRN do not count, and neither do layers on a parallel branch that is shorter than another,
    such as a projection shortcut or the shallow branches of an Inception module. Explained in
    {ref}`sec-arch-measure`.

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor of shape (N, C, H, W), optional
        The input. By default one zero image of the size the model was built for (``model.input_size``),
        on the model's device; on ``meta`` only shapes propagate, so even ResNet-152 is measured at once.

    Returns
    -------
    int
        The longest chain of ``F.conv*d`` / ``F.conv_transpose*d`` / ``F.linear`` / ``F.bilinear`` calls
        from the input to an output (the deepest output, if there are several).

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module``.
    ValueError
        If ``x`` is not given and the model does not record its input size.

    Notes
    -----
    A ``TorchFunctionMode`` sees every PyTorch function the forward pass calls and labels its result with
    the longest chain behind its inputs, plus one for a convolution or a dense layer. The model runs once,
    in evaluation mode (restored afterwards) and without gradients. Recurrent layers (``nn.LSTM``, ...) are
    not counted.

    Examples
    --------
    >>> model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
    >>> model_depth(model, torch.zeros(1, 1, 8, 8))
    2
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"model_depth: `model` must be a torch.nn.Module. Received an object of type {type(model).__name__}."
        )
    if x is None:
        if not hasattr(model, "input_size"):
            raise ValueError(
                "model_depth: pass an input `x`, e.g. torch.zeros(1, C, H, W); this model does not record its "
                "input_size."
            )
        device = next(model.parameters()).device
        x = torch.zeros(1, model.in_channels, *model.input_size, device=device)
    was_training = model.training
    model.eval()  # batch norm on a batch of one, dropout off
    try:
        with torch.no_grad(), _LongestChain() as chain:
            out = model(x)
        return max((chain.depth.get(t, 0) for t in _tensors(out)), default=0)
    finally:
        model.train(was_training)


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
