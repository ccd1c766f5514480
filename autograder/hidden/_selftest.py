"""Hidden checks of the autograder's self-test assignment (tests/grading/selftest_course)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from autograder.checks import FROM_SCRATCH, Call, Check, compare_array, draw_cases

#: The seed of the student's process: before the first cell runs, the grader seeds Python's ``random``,
#: NumPy's global generator, and torch and TensorFlow when the notebook's imports are already loaded. The
#: hidden checks draw their own cases with seeds of their own; this one is recorded with every score.
SEED = 20261100


def _cases() -> list[dict]:
    edge = [{"x": np.array([[-2.0, 0.0], [0.5, 3.0]]), "slope": 0.2}, {"x": np.zeros((1, 1, 1)), "slope": 0.5}]
    drawn = draw_cases(st.tuples(st.integers(0, 2**16), st.integers(1, 6), st.floats(0.01, 0.5)), 8, seed=7)
    return edge + [
        {"x": np.random.default_rng(seed).normal(size=(n, n + 1)), "slope": slope} for seed, n, slope in drawn
    ]


CHECKS = {
    "test_relu": [
        Check(
            name="relu on random arrays",
            cases=_cases,
            calls=lambda case: [Call("relu", (case["x"],))],
            judge=lambda case, out: compare_array(out[0].value, np.maximum(case["x"], 0), what="relu(x)"),
            forbid=FROM_SCRATCH,
        )
    ],
    "test_leaky_relu": [
        Check(
            name="leaky_relu with other slopes",
            cases=_cases,
            calls=lambda case: [Call("leaky_relu", (case["x"], case["slope"]))],
            judge=lambda case, out: compare_array(
                out[0].value,
                np.where(case["x"] > 0, case["x"], case["slope"] * case["x"]),
                what="leaky_relu(x, slope)",
                hint="use the slope argument, not a constant",
            ),
        )
    ],
}
