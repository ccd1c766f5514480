"""New heads for a pretrained base in PyTorch: pooling or flattening, optional hidden layers, the logits.

Explained in {ref}`sec-transfer`. :func:`attach_head` returns a :class:`TransferModel` ``(base, head)``; the
head's initial weights are drawn with NumPy (:func:`coursepkg.transfer.weights.init_head_state`), so the same
``rng`` gives the same head in :mod:`coursepkg.transfer.keras.heads`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..._validation import as_int
from ..weights import POOLINGS, head_features, init_head_state
from .freezing import _FrozenBNEval
from .state import load_state_dict

__all__ = ["POOLINGS", "TransferModel", "attach_head"]


class TransferModel(_FrozenBNEval, nn.Sequential):
    """``nn.Sequential(base, head)`` whose ``train()`` keeps frozen BatchNorm layers in evaluation mode."""

    def __init__(self, base: nn.Module, head: nn.Module, input_shape: tuple[int, ...]) -> None:
        super().__init__(OrderedDict(base=base, head=head))
        self.input_shape = input_shape


def _base_output_shape(base: nn.Module, input_shape: Any, func: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if input_shape is None:
        input_shape = getattr(base, "input_shape", None)
        if input_shape is None:
            raise ValueError(
                f"{func}: cannot tell the base's input shape; pass input_shape=(C, H, W) (the shape of one image)."
            )
    input_shape = tuple(int(s) for s in input_shape)
    param = next(base.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    was_training = base.training
    base.eval()
    with torch.no_grad():
        out = base(torch.zeros((1, *input_shape), device=device))
    base.train(was_training)
    return input_shape, tuple(out.shape[1:])


def _make_head(
    feature_shape: tuple[int, ...], num_classes: int, *, pooling: str, hidden: Sequence[int], dropout: float, rng: Any, func: str
) -> nn.Sequential:
    pool, features = head_features(feature_shape, pooling=pooling, dropout=dropout, channel_axis=0, func=func)
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    if pool:
        layers["pool"] = nn.AdaptiveAvgPool2d(1) if pooling == "avg" else nn.AdaptiveMaxPool2d(1)  # (N, C, 1, 1)
    layers["flatten"] = nn.Flatten()  # (N, F)
    state = init_head_state(features, as_int(num_classes, "num_classes", func, minimum=1), hidden=hidden, rng=rng)
    fan_in = features
    for j, h in enumerate(hidden):
        if dropout:
            layers[f"dropout{j}"] = nn.Dropout(dropout)
        layers[f"hidden{j}"], layers[f"relu{j}"] = nn.Linear(fan_in, int(h)), nn.ReLU()  # (N, h)
        fan_in = int(h)
    if dropout:
        layers["dropout"] = nn.Dropout(dropout)
    layers["logits"] = nn.Linear(fan_in, int(num_classes))  # (N, K)
    head = nn.Sequential(layers)
    load_state_dict(head, state)
    return head


def attach_head(
    base: nn.Module,
    num_classes: int,
    *,
    pooling: str = "avg",
    hidden: Sequence[int] = (),
    dropout: float = 0.0,
    input_shape: Sequence[int] | None = None,
    rng: Any = None,
) -> TransferModel:
    """A new model ``TransferModel(base, head)``: ``base`` (shared, not copied) followed by a new classifier.

    Parameters
    ----------
    base : torch.nn.Module
        Outputs feature maps ``(N, C, H, W)`` (or vectors ``(N, F)``, with ``pooling="flatten"``).
    num_classes : int
        K, the number of logits.
    pooling : {"avg", "max", "flatten"}
        Global average or max pooling to ``(N, C)``, or flattening to ``(N, C*H*W)``.
    hidden : sequence of int
        Widths of hidden dense layers (ReLU) before the logits; empty gives a linear classifier.
    dropout : float
        Dropout rate before every dense layer (0 disables it).
    input_shape : (C, H, W), optional
        Shape of one input image; defaults to ``base.input_shape`` (set by :func:`source_cnn`).
    rng : None, int or numpy.random.Generator
        Initial head weights (PyTorch's ``nn.Linear`` scheme drawn with NumPy; Keras gives the same head).

    Returns
    -------
    TransferModel
        Logits ``(N, K)``. The head is ``model.head`` with layers ``pool``, ``flatten``, ``hidden{j}``, ``logits``;
        it has ``F*h0 + h0 + ... + h_last*K + K`` parameters (``64*K + K`` for the source CNN, avg pooling).

    Examples
    --------
    >>> import torch
    >>> from coursepkg.transfer.torch import source_cnn, trainable_summary
    >>> model = attach_head(source_cnn(rng=0), 5, rng=0)
    >>> model(torch.zeros(3, 1, 16, 16)).shape, trainable_summary(model.head).total
    (torch.Size([3, 5]), 325)
    """
    func = "attach_head"
    if not isinstance(base, nn.Module):
        raise TypeError(f"{func}: `base` must be a torch.nn.Module. Received an object of type {type(base).__name__}.")
    shape_in, feature_shape = _base_output_shape(base, input_shape, func)
    head = _make_head(feature_shape, num_classes, pooling=pooling, hidden=hidden, dropout=dropout, rng=rng, func=func)
    param = next(base.parameters(), None)
    if param is not None:
        head.to(param.device)
    return TransferModel(base, head, shape_in)
