"""Inverted dropout.

Explained in the layer-zoo chapter ({ref}`sec-dropout`). In training each unit is zeroed with probability
``rate`` and the survivors are scaled by ``1 / (1 - rate)``, so the expected activation is unchanged and
inference needs no rescaling. Dropout with ``rate=0.3`` drops about 30% of the units.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_numeric_array, as_rng, float_dtype


def dropout(
    x: Any, rate: float, rng: Any = None, training: bool = True, *, return_mask: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Inverted dropout.

    Parameters
    ----------
    x : array_like of any shape
    rate : float in [0, 1)
        Probability of dropping each unit (Keras's ``rate``, PyTorch's ``p``).
    rng : None, int or numpy.random.Generator
    training : bool
        At inference (``False``) ``x`` is returned unchanged.
    return_mask : bool
        Also return the scaled mask (``0`` or ``1 / (1 - rate)`` per unit), which the backward pass multiplies by.

    Returns
    -------
    out : ndarray of the shape of ``x``
    mask : ndarray of the shape of ``x``, only with ``return_mask=True``
    """
    func = "dropout"
    arr = as_numeric_array(x, "x", func)
    arr = arr.astype(float_dtype(arr), copy=False)
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or not 0 <= rate < 1:
        raise ValueError(
            f"{func}: `rate` is the probability of dropping a unit and must be in [0, 1). Received: rate={rate!r}."
        )
    if not training or rate == 0:
        mask = np.ones_like(arr)
    else:
        keep = as_rng(rng, func).random(arr.shape) >= rate
        mask = keep.astype(arr.dtype) / np.asarray(1.0 - rate, dtype=arr.dtype)
    out = arr * mask
    return (out, mask) if return_mask else out


def dropout_backward(dout: Any, mask: Any) -> np.ndarray:
    """Gradient of :func:`dropout`: ``dout * mask`` with the mask returned by the forward pass."""
    d = as_numeric_array(dout, "dout", "dropout_backward")
    m = as_numeric_array(mask, "mask", "dropout_backward")
    if d.shape != m.shape:
        raise ValueError(f"dropout_backward: `dout` has shape {d.shape} but `mask` has shape {m.shape}.")
    return d * m
