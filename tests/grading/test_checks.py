"""Plain-data conversion, comparison messages and reproducible case drawing (autograder.checks)."""

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from autograder.checks import compare_array, compare_number, draw_cases, expect_value, to_plain


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.zeros(3)


class SneakyArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)


def test_plain_data_passes_through_and_tuples_become_lists():
    plain = to_plain((1, 2.5, "a", None, [np.int64(3), np.float32(0.5)], {"k": np.arange(3)}))
    assert plain[:4] == [1, 2.5, "a", None]
    assert plain[4] == [3, 0.5] and type(plain[4][0]) is int
    np.testing.assert_array_equal(plain[5]["k"], [0, 1, 2])


@pytest.mark.parametrize(
    "value, message",
    [
        (AlwaysEqual(), "AlwaysEqual; return numbers"),
        (np.zeros(3).view(SneakyArray), "SneakyArray"),
        (np.array([object()]), "dtype object"),
        (torch.zeros(2), r"tensor.detach\(\).cpu\(\).numpy\(\)"),
        ({1: 2}, "keys are not all strings"),
        ([[[[[[[[1]]]]]]]], "nested more than"),
    ],
)
def test_objects_that_are_not_plain_data_are_refused(value, message):
    with pytest.raises(TypeError, match=message):
        to_plain(value)


def test_returned_arrays_are_copies():
    array = np.arange(4.0)
    plain = to_plain(array)
    array[0] = 99
    assert plain[0] == 0


def test_compare_array_names_shape_and_first_difference():
    assert compare_array(np.ones((2, 2)), np.ones((2, 2)), what="f(x)") is None
    assert "expected an output of shape (2, 3), got shape (3, 2)" in compare_array(np.ones((3, 2)), np.ones((2, 3)), what="f(x)")
    message = compare_array(np.array([1.0, 2.0, 5.0]), np.array([1.0, 2.0, 3.0]), what="f(x)", hint="check the bias")
    assert "1 of 3 values differ; at index (2,) expected 3, got 5" in message and message.endswith("Hint: check the bias")
    assert "expected a NumPy array" in compare_array([1, 2], np.array([1, 2]), what="f(x)")
    assert "index (1,)" in compare_array(np.array([1.0, np.nan]), np.array([1.0, 2.0]), what="f(x)")


def test_compare_number_and_expect_value():
    assert compare_number(63, 63, what="size") is None
    assert compare_number(62, 63, what="size") == "size: expected 63, got 62."
    assert "expected the number" in compare_number("63", 63, what="size")
    assert compare_number(True, 1, what="size") is not None
    assert compare_number(np.int64(63), 63, what="size") is None
    assert compare_number(np.float64(0.5), 0.25, what="p") == "p: expected 0.25, got 0.5."
    assert expect_value([63, 25], (63, 25), what="shape") is None
    assert expect_value([62, 24], (63, 25), what="shape") == "shape: expected [63, 25], got [62, 24]."


def test_draw_cases_is_reproducible_and_varied():
    strategy = st.tuples(st.integers(1, 50), st.integers(1, 50))
    first, second = draw_cases(strategy, 20, seed=3), draw_cases(strategy, 20, seed=3)
    assert first == second and len(first) == 20
    assert len(set(first)) > 10
    assert draw_cases(strategy, 20, seed=4) != first
