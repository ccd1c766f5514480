"""run_hidden: the verdict and report of a test cell's hidden checks, as nbgrader's kernel sees them."""

import sys
import warnings

import numpy as np
import pytest

from autograder.checks import Call
from autograder.kernel import describe_call, hidden_checks, run_hidden
from autograder.checks import Ref


def relu(x):
    return np.where(x > 0, x, 0.0)


def test_a_right_answer_passes():
    result = run_hidden("_selftest", "test_relu", {"relu": relu})
    assert result.passed and result.report == "all 1 hidden checks passed"


def test_a_wrong_answer_fails_with_input_expected_and_received():
    result = run_hidden("_selftest", "test_leaky_relu", {"leaky_relu": lambda x, slope: np.where(x > 0, x, 0.1 * x)})
    assert not result.passed
    assert "1 of 1 hidden checks failed" in result.report
    assert "leaky_relu with other slopes" in result.report
    assert "(input: leaky_relu(array of shape (2, 2) float64, 0.2))" in result.report
    assert "Hint: use the slope argument" in result.report


def test_a_from_scratch_answer_that_calls_the_reference_fails_and_says_why():
    from coursepkg import ops

    result = run_hidden("_selftest", "test_relu", {"relu": lambda x: ops.relu(x)})
    assert not result.passed and "must be written from scratch, but it called coursepkg" in result.report


def test_an_object_claiming_equality_earns_nothing():
    class Liar:
        def __eq__(self, other):
            return True

    result = run_hidden("_selftest", "test_relu", {"relu": lambda x: Liar()})
    assert not result.passed and "returned a " in result.report


def test_warnings_and_stderr_of_the_answer_are_silenced(capfd):
    def noisy(x):
        warnings.warn("deprecated!", DeprecationWarning)
        print("to stderr", file=sys.stderr)
        return relu(x)

    assert run_hidden("_selftest", "test_relu", {"relu": noisy}).passed
    assert capfd.readouterr().err == ""


def test_unknown_cells_name_the_known_ones():
    with pytest.raises(KeyError, match="has no checks for the test cell 'test_nope'"):
        hidden_checks("_selftest", "test_nope")


def test_describe_call_summarises_arrays_and_refs():
    call = Call("conv2d", (np.ones((1, 3, 7, 5)), Ref("model")), {"stride": 2})
    assert describe_call(call) == "conv2d(array of shape (1, 3, 7, 5) float64, <your model>, stride=2)"


def test_a_check_may_demand_an_error():
    from autograder.checks import Check
    from autograder.kernel import judge_case
    from autograder.probe import run_calls

    check = Check(
        name="impossible sizes raise",
        cases=lambda: [None],
        calls=lambda case: [Call("size", (2, 5))],
        judge=lambda case, out: None if (out[0].error or "").startswith("ValueError") else "expected a ValueError",
        judge_errors=True,
    )

    def raising(n, f):
        raise ValueError("kernel larger than input")

    calls = list(check.calls(None))
    assert judge_case(check, None, calls, run_calls({"size": raising}, calls)) is None
    assert "expected a ValueError" in judge_case(check, None, calls, run_calls({"size": lambda n, f: -2}, calls))
