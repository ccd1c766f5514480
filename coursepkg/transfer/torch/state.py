"""A PyTorch model's weights as NumPy arrays, in and out: the exchange format with Keras and the ``.npz`` files.

Explained in {ref}`sec-transfer`. The arrays carry :meth:`torch.nn.Module.state_dict`'s names and layouts
(conv ``(F, C, KH, KW)``, dense ``(out, in)``) without ``num_batches_tracked``; :mod:`coursepkg.transfer.weights`
saves and loads them, and :mod:`coursepkg.transfer.keras.state` maps them to Keras's layouts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from ..weights import check_state_names

__all__ = ["load_state_dict", "state_dict"]


def state_dict(model: nn.Module) -> dict[str, np.ndarray]:
    """The model's parameters and BatchNorm running statistics as NumPy arrays (no ``num_batches_tracked``)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


@torch.no_grad()
def load_state_dict(model: nn.Module, state: Mapping[str, Any]) -> nn.Module:
    """Copy NumPy arrays named as in :func:`state_dict` into ``model``; returns ``model``.

    Raises
    ------
    ValueError
        If names are missing or unexpected, or a shape differs; the message lists them.
    """
    own = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    check_state_names(own, state, "load_state_dict")
    for k, v in own.items():
        arr = np.asarray(state[k])
        if tuple(arr.shape) != tuple(v.shape):
            raise ValueError(f"load_state_dict: {k!r} has shape {arr.shape} but the model expects {tuple(v.shape)}.")
        v.copy_(torch.as_tensor(arr, dtype=v.dtype))
    return model
