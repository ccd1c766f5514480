"""Running a check's calls on student functions: copies, tracing of forbidden calls, grader operations."""

import numpy as np
import pytest
import scipy.signal

from autograder.checks import FROM_SCRATCH, Call, Ref
from autograder.probe import RESULT_ERROR, run_calls
from coursepkg import ops


def _one(function, *args, forbid=FROM_SCRATCH):
    return run_calls({"f": function}, [Call("f", args)], forbid=forbid)[0]


def test_a_plain_result_comes_back_timed():
    outcome = _one(lambda x: x * 2, np.arange(3.0))
    np.testing.assert_array_equal(outcome.value, [0.0, 2.0, 4.0])
    assert outcome.error is None and outcome.forbidden == () and outcome.seconds >= 0


@pytest.mark.parametrize(
    "function, reached",
    [
        (lambda x: ops.relu(x), "coursepkg.ops.activations.relu"),
        (lambda x: scipy.signal.correlate2d(x, x), "scipy.signal._signaltools.correlate2d"),
        (lambda x: np.convolve(x.ravel(), x.ravel()), "numpy._core.numeric.convolve"),
    ],
)
def test_calls_into_forbidden_modules_are_recorded(function, reached):
    outcome = _one(function, np.ones((2, 2)))
    assert outcome.forbidden[0] == reached


def test_an_alias_does_not_hide_a_forbidden_call():
    hidden_name = getattr(__import__("coursepkg.ops", fromlist=["ops"]), "relu")
    assert _one(lambda x: hidden_name(x), np.ones(2)).forbidden


def test_switching_off_the_tracing_is_itself_recorded():
    import sys

    def sneaky(x):
        sys.setprofile(None)
        return ops.relu(x)

    outcome = _one(sneaky, np.ones(2))
    assert any("switched off" in reached for reached in outcome.forbidden)


def test_without_a_forbid_list_nothing_is_traced():
    assert _one(lambda x: ops.relu(x), np.ones(2), forbid=()).forbidden == ()


def test_student_code_cannot_change_the_inputs_of_later_calls():
    x = np.zeros(3)

    def vandal(a):
        a[:] = 7
        return a

    outcomes = run_calls({"f": vandal}, [Call("f", (x,)), Call("f", (x,))])
    assert x.sum() == 0 and outcomes[1].value.sum() == 21


def test_errors_missing_names_and_unusable_results_are_outcomes():
    assert _one(lambda: 1 / 0).error == "ZeroDivisionError: division by zero"
    missing = run_calls({}, [Call("conv2d")])[0]
    assert "does not define a function named 'conv2d'" in missing.error
    unusable = _one(lambda: object())
    assert unusable.error.startswith(RESULT_ERROR) and "builtins.object" in unusable.error


def test_a_failed_call_stops_the_case():
    outcomes = run_calls({"f": lambda: 1 / 0, "g": lambda: 1}, [Call("f"), Call("g")])
    assert len(outcomes) == 1


def test_stored_results_and_grader_operations_work_for_torch_and_keras():
    import keras
    import torch

    for build in (lambda: torch.nn.Conv2d(3, 2, 3), lambda: keras.layers.Conv2D(2, 3)):
        calls = [
            Call("build", store="layer"),
            Call("@forward", (Ref("layer"), np.ones((1, 3, 6, 5)))),
            Call("@count_params", (Ref("layer"),)),
            Call("@framework", (Ref("layer"),)),
        ]
        outcomes = run_calls({"build": build}, calls)
        assert [o.error for o in outcomes] == [None] * 4
        assert outcomes[1].value.shape == (1, 2, 4, 3)
        assert outcomes[2].value == 3 * 3 * 3 * 2 + 2
    assert "expected a PyTorch nn.Module or a Keras" in run_calls(
        {"build": lambda: 42}, [Call("build", store="m"), Call("@forward", (Ref("m"), np.ones(1)))]
    )[1].error
