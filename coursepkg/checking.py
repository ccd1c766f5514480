"""Comparisons that explain themselves: the messages of the assignments' checks, visible and hidden.

Each ``compare_*`` function returns ``None`` when the result is right and otherwise a message that names what
was computed, what was expected and what came back, with an optional hint; each ``assert_*`` twin raises an
``AssertionError`` with that message, for the visible tests of an assignment notebook::

    assert_array(conv2d(x, w), expected, what="conv2d of the worked 5x5 example",
                 hint="cross-correlate: do not flip the kernel")

The autograder's hidden checks use the same ``compare_*`` functions, so a student reads the same kind of
message from a visible test and from a hidden one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "assert_array",
    "assert_number",
    "assert_value",
    "compare_array",
    "compare_number",
    "describe_value",
    "expect_value",
]


def _normalise(value: Any) -> Any:
    """Tuples become lists and NumPy scalars Python numbers, so ``(63, 25)`` equals ``[np.int64(63), 25]``."""
    if isinstance(value, (list, tuple)):
        return [_normalise(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def describe_value(array: Any) -> str:
    """``"array of shape (2, 3) float64"`` for arrays, ``repr`` (shortened) for anything else."""
    if isinstance(array, np.ndarray):
        return f"array of shape {array.shape} {array.dtype}"
    text = repr(array)
    return text if len(text) <= 80 else text[:77] + "..."


def compare_array(
    got: Any,
    expected: np.ndarray,
    *,
    what: str,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    hint: str = "",
) -> str | None:
    """Compare a plain result with the expected array; the message names shapes and the worst element.

    Returns ``None`` when ``got`` is an array of the expected shape whose values are close
    (``|got - expected| <= atol + rtol * |expected|``), else a message such as ``"conv2d(x, w): expected an
    output of shape (1, 2, 4, 3), got (1, 2, 3, 2)"``.
    """
    expected = np.asarray(expected)
    suffix = f" Hint: {hint}" if hint else ""
    if not isinstance(got, np.ndarray):
        return f"{what}: expected a NumPy array of shape {expected.shape}, got {describe_value(got)}.{suffix}"
    if got.shape != expected.shape:
        return f"{what}: expected an output of shape {expected.shape}, got shape {got.shape}.{suffix}"
    if got.dtype.kind == "c" and expected.dtype.kind != "c":
        return f"{what}: expected real values, got complex ones ({got.dtype}).{suffix}"
    got_f = got.astype(np.float64)
    expected_f = expected.astype(np.float64)
    if not np.all(np.isfinite(got_f) == np.isfinite(expected_f)):
        index = tuple(int(i) for i in np.argwhere(np.isfinite(got_f) != np.isfinite(expected_f))[0])
        return f"{what}: the value at index {index} is {got_f[index]!r}, expected {expected_f[index]!r}.{suffix}"
    finite = np.isfinite(expected_f)
    error = np.where(finite, np.abs(got_f - expected_f), 0.0)
    bad = error > atol + rtol * np.abs(np.where(finite, expected_f, 0.0))
    bad |= ~finite & (got_f != expected_f)
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return (
            f"{what}: {int(bad.sum())} of {bad.size} values differ; at index {index} expected "
            f"{expected_f[index]:.6g}, got {got_f[index]:.6g} (largest difference {error.max():.3g}).{suffix}"
        )
    return None


def compare_number(
    got: Any, expected: float, *, what: str, rtol: float = 1e-6, atol: float = 1e-9, hint: str = ""
) -> str | None:
    """Compare a plain scalar result with the expected number (integers must match exactly)."""
    suffix = f" Hint: {hint}" if hint else ""
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.reshape(()).item()
    got = _normalise(got)
    if type(got) is bool or not isinstance(got, (int, float)):
        return f"{what}: expected the number {expected!r}, got {describe_value(got)}.{suffix}"
    if isinstance(expected, int) and not isinstance(expected, bool):
        if got != expected:
            return f"{what}: expected {expected}, got {got!r}.{suffix}"
        return None
    if not (math.isfinite(got) and abs(got - expected) <= atol + rtol * abs(expected)):
        return f"{what}: expected {expected:.6g}, got {got!r}.{suffix}"
    return None


def expect_value(got: Any, expected: Any, *, what: str, hint: str = "") -> str | None:
    """Exact comparison of plain data (tuples of ints, strings): ``None`` when equal, else a message."""
    suffix = f" Hint: {hint}" if hint else ""
    got, normalised = _normalise(got), _normalise(expected)
    if isinstance(got, np.ndarray) or isinstance(normalised, np.ndarray):
        return compare_array(got, np.asarray(normalised), what=what, rtol=0, atol=0, hint=hint)
    if type(got) is bool and type(normalised) is not bool:
        return f"{what}: expected {normalised!r}, got {got!r}.{suffix}"
    if got != normalised:
        return f"{what}: expected {normalised!r}, got {got!r}.{suffix}"
    return None


def assert_array(got: Any, expected: Any, *, what: str, rtol: float = 1e-5, atol: float = 1e-7, hint: str = "") -> None:
    """Raise ``AssertionError`` with :func:`compare_array`'s message unless ``got`` is close to ``expected``."""
    message = compare_array(got, np.asarray(expected), what=what, rtol=rtol, atol=atol, hint=hint)
    if message is not None:
        raise AssertionError(message)


def assert_number(got: Any, expected: float, *, what: str, rtol: float = 1e-6, atol: float = 1e-9, hint: str = "") -> None:
    """Raise ``AssertionError`` with :func:`compare_number`'s message unless ``got`` equals ``expected``."""
    message = compare_number(got, expected, what=what, rtol=rtol, atol=atol, hint=hint)
    if message is not None:
        raise AssertionError(message)


def assert_value(got: Any, expected: Any, *, what: str, hint: str = "") -> None:
    """Raise ``AssertionError`` with :func:`expect_value`'s message unless ``got == expected`` exactly."""
    message = expect_value(got, expected, what=what, hint=hint)
    if message is not None:
        raise AssertionError(message)
