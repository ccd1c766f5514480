"""Input checks shared by the public functions of :mod:`coursepkg`.

Every public function validates at its boundary with ``TypeError`` / ``ValueError`` whose message says
what was wrong and how to fix it; these helpers keep the wording consistent.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

RNGLike = "None | int | numpy.random.Generator"


def as_numeric_array(x: Any, name: str, func: str) -> np.ndarray:
    """Return ``x`` as an ndarray of a real numeric dtype (bool, int, unsigned or float).

    Raises:
        TypeError: if ``x`` cannot be read as an array of real numbers.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(
            f"{func}: `{name}` must be an array of real numbers. Received an object of type "
            f"{type(x).__name__} that NumPy cannot convert ({exc})."
        ) from exc
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{func}: `{name}` must hold real numbers, but its dtype is {arr.dtype}. "
            f"Convert it first, e.g. np.asarray({name}, dtype=np.float32)."
        )
    return arr


def float_dtype(*arrays: np.ndarray) -> np.dtype:
    """The floating dtype results are computed in: float32 if every input is float32 or narrower, else float64."""
    dtype = np.result_type(*arrays)
    if dtype.kind != "f":
        return np.dtype(np.float64)
    if dtype.itemsize < 4:
        return np.dtype(np.float32)
    return dtype


def check_ndim(arr: np.ndarray, allowed: tuple[int, ...], name: str, func: str, layout: str) -> None:
    """Raise ValueError naming the expected layout when ``arr.ndim`` is not allowed."""
    if arr.ndim not in allowed:
        expected = " or ".join(str(n) for n in allowed)
        raise ValueError(
            f"{func}: `{name}` must have {expected} dimensions {layout}, got shape {arr.shape} "
            f"({arr.ndim} dimensions)."
            + (" Add a batch axis with x[None]." if arr.ndim + 1 in allowed else "")
        )


def as_int(value: Any, name: str, func: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as a Python int, checking it is an integer (not bool) and at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func}: `{name}` must be an integer. Received: {name}={value!r}.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{func}: `{name}` must be >= {minimum}. Received: {name}={value}.")
    return value


def as_pair(value: Any, name: str, func: str, *, minimum: int | None = None) -> tuple[int, int]:
    """Read an int or an ``(h, w)`` pair of ints as a pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"{func}: `{name}` must be an int or an (h, w) pair. Received: {name}={value!r}."
            )
        return (
            as_int(value[0], name, func, minimum=minimum),
            as_int(value[1], name, func, minimum=minimum),
        )
    v = as_int(value, name, func, minimum=minimum)
    return v, v


def as_rng(rng: Any, func: str) -> np.random.Generator:
    """Turn ``None | int | Generator`` into a Generator (the scikit-learn convention)."""
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(
        f"{func}: `rng` must be None, an int seed or a numpy.random.Generator. "
        f"Received an object of type {type(rng).__name__}."
    )
