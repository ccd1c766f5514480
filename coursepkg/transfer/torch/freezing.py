"""Freezing in PyTorch: which parameters train, and BatchNorm layers that stay in evaluation mode when frozen.

Explained in {ref}`sec-transfer`. :func:`freeze` and :func:`unfreeze` set ``requires_grad`` on the layers that
``layers`` selects (:mod:`coursepkg.transfer.selection`: ``"all"``, an int, or names as in
:meth:`torch.nn.Module.named_modules`); :func:`trainable_summary` counts what trains. The package docstring
(:mod:`coursepkg.transfer.torch`) explains why frozen BatchNorm layers need :func:`set_bn_eval`, and
``_FrozenBNEval`` is the mixin of the course's modules that calls it in ``train()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..results import TrainableSummary
from ..selection import resolve_layer, select_layers

__all__ = ["freeze", "set_bn_eval", "trainable_summary", "unfreeze"]


def set_bn_eval(model: nn.Module) -> list[str]:
    """Put every BatchNorm layer whose affine parameters are all frozen in evaluation mode.

    Such a layer then normalises with its running statistics and stops updating them. BatchNorm layers
    without affine parameters are left alone. Returns the names of the layers switched.
    """
    names = []
    for name, m in model.named_modules():
        params = list(m.parameters(recurse=False))
        if isinstance(m, _BatchNorm) and params and not any(p.requires_grad for p in params):
            m.eval()
            names.append(name)
    return names


class _FrozenBNEval:
    """Mixin: ``train(True)`` keeps frozen BatchNorm layers in evaluation mode (see :func:`set_bn_eval`)."""

    def train(self, mode: bool = True):
        super().train(mode)  # type: ignore[misc]
        if mode:
            set_bn_eval(self)  # type: ignore[arg-type]
        return self


def _resolve(model: nn.Module, name: str, func: str) -> nn.Module:
    layers = [((n,), n, m) for n, m in model.named_modules() if n]
    return resolve_layer(name, layers, [n for n, _ in model.named_children()], func)


def _select(model: nn.Module, layers: Any, func: str, *, last: bool) -> list[nn.Module]:
    top = [(n, m) for n, m in model.named_children() if any(True for _ in m.parameters())]
    return select_layers(model, layers, top=top, resolve=lambda name: _resolve(model, name, func), last=last, func=func)


def _set_requires_grad(modules: list[nn.Module], flag: bool) -> None:
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(flag)


def freeze(model: nn.Module, *, layers: str | int | Sequence[str] = "all") -> nn.Module:
    """Stop training some layers (``requires_grad = False``); returns ``model``.

    Parameters
    ----------
    model : torch.nn.Module
    layers : "all", int or list of str
        ``"all"``; an int ``k``: every top-level layer with parameters except the last ``k`` (those are left
        as they are); or layer names (``"block3"``, ``"base.block3"``).

    Raises
    ------
    ValueError
        If a name matches no layer or several, or ``k`` exceeds the number of top-level layers.

    Notes
    -----
    Frozen BatchNorm layers keep updating their running statistics in training mode unless they are put
    in evaluation mode: the course's models do it in ``train()``; see the package docstring.
    """
    _set_requires_grad(_select(model, layers, "freeze", last=False), False)
    if model.training:
        set_bn_eval(model)
    return model


def unfreeze(model: nn.Module, *, layers: str | int | Sequence[str] = "all") -> nn.Module:
    """Train some layers again (``requires_grad = True``); an int ``k`` selects the last ``k`` top-level layers."""
    selected = _select(model, layers, "unfreeze", last=True)
    _set_requires_grad(selected, True)
    if model.training:
        for m in selected:
            m.train()
    return model


def trainable_summary(model: nn.Module) -> TrainableSummary:
    """Counts of trainable and frozen parameters (shared parameters once; BatchNorm running stats excluded).

    Examples
    --------
    >>> from coursepkg.transfer.torch import source_cnn
    >>> trainable_summary(freeze(source_cnn(), layers=1))
    TrainableSummary(trainable=18560, frozen=4848)
    """
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return TrainableSummary(int(trainable), int(frozen))
