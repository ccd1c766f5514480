"""Argument checks shared by the modules of :mod:`coursepkg.data` (on top of :mod:`coursepkg._validation`)."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_float_dtype(dtype: Any, func: str) -> np.dtype:
    """Return ``dtype`` as a floating NumPy dtype, or raise TypeError naming ``func``."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{func}: `dtype` must be a NumPy floating dtype. Received: dtype={dtype!r}.") from exc
    if dt.kind != "f":
        raise TypeError(
            f"{func}: `dtype` must be a floating dtype such as np.float32 (the data are real numbers). "
            f"Received: dtype={dt}."
        )
    return dt
