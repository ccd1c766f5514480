"""Converting between PyTorch's layouts (which the course uses) and Keras's.

PyTorch: images (N, C, H, W), conv weights (F, C, KH, KW), dense weights (out, in).
Keras:   images (N, H, W, C), conv weights (KH, KW, C, F), dense weights (in, out).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_numeric_array


def _check(x: Any, ndim: int, name: str, func: str, layout: str) -> np.ndarray:
    arr = as_numeric_array(x, name, func)
    if arr.ndim != ndim:
        raise ValueError(f"{func}: `{name}` must have shape {layout}; got shape {arr.shape}.")
    return arr


def nchw_to_nhwc(x: Any) -> np.ndarray:
    """(N, C, H, W) -> (N, H, W, C)."""
    return np.ascontiguousarray(_check(x, 4, "x", "nchw_to_nhwc", "(N, C, H, W)").transpose(0, 2, 3, 1))


def nhwc_to_nchw(x: Any) -> np.ndarray:
    """(N, H, W, C) -> (N, C, H, W)."""
    return np.ascontiguousarray(_check(x, 4, "x", "nhwc_to_nchw", "(N, H, W, C)").transpose(0, 3, 1, 2))


def conv_weight_to_keras(w: Any) -> np.ndarray:
    """(F, C, KH, KW) -> (KH, KW, C, F)."""
    return np.ascontiguousarray(_check(w, 4, "w", "conv_weight_to_keras", "(F, C, KH, KW)").transpose(2, 3, 1, 0))


def conv_weight_from_keras(w: Any) -> np.ndarray:
    """(KH, KW, C, F) -> (F, C, KH, KW)."""
    return np.ascontiguousarray(_check(w, 4, "w", "conv_weight_from_keras", "(KH, KW, C, F)").transpose(3, 2, 0, 1))


def dense_weight_to_keras(w: Any) -> np.ndarray:
    """(out, in) -> (in, out)."""
    return np.ascontiguousarray(_check(w, 2, "w", "dense_weight_to_keras", "(out, in)").T)


def dense_weight_from_keras(w: Any) -> np.ndarray:
    """(in, out) -> (out, in)."""
    return np.ascontiguousarray(_check(w, 2, "w", "dense_weight_from_keras", "(in, out)").T)


def flatten_dense_weight_to_keras(w: Any, chw: tuple[int, int, int]) -> np.ndarray:
    """Weights of a dense layer after ``Flatten``, (out, C*H*W) in NCHW order -> (H*W*C, out) in NHWC order.

    Flattening an NCHW feature map and an NHWC one orders the same numbers differently, so a dense layer
    that follows a Flatten must have its input axis permuted when weights move between the frameworks.
    """
    func = "flatten_dense_weight_to_keras"
    w = _check(w, 2, "w", func, "(out, C*H*W)")
    c, h, wd = chw
    if w.shape[1] != c * h * wd:
        raise ValueError(f"{func}: `w` has {w.shape[1]} inputs but chw={chw} gives {c * h * wd}.")
    return np.ascontiguousarray(w.reshape(-1, c, h, wd).transpose(2, 3, 1, 0).reshape(h * wd * c, -1))
