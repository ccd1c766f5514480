"""Hidden checks of the ``pooling_cnn`` assignment: pooling forward and backward from scratch, and a trained CNN.

Each test cell's ``grade_id`` maps to its checks. The pooling checks call the student's functions on explicit
edge cases (non-square maps, strides that do not divide, strides larger than the window, 1x1 windows, a batch
of one, all-negative maps, ties) and on random cases drawn with hypothesis, and compare with the reference,
:mod:`coursepkg.ops.pooling`. Those functions must be written from scratch (``forbid=FROM_SCRATCH``).

The training check calls ``train_digit_classifier`` itself on a training split of the digits that the grader
draws with its own seed, then classifies held-out digits the notebook never sees: the rest of that split,
with a seeded change of contrast and added noise. The student's model must contain a convolution (a 4-D
weight) and reach :data:`REQUIRED_ACCURACY` within :data:`TIME_BUDGET` seconds of training.

The cells are split so that each typical mistake costs its own points: the stride (``test_max_pool2d_stride``)
apart from the default non-overlapping windows (``test_max_pool2d``); gradients of non-overlapping windows,
overlapping windows (accumulation) and ties (first maximum in row-major order) in three cells.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from hypothesis import strategies as st

from autograder.checks import FROM_SCRATCH, Call, Check, Outcome, Ref, compare_array, describe_value, draw_cases
from coursepkg import ops

#: The seed of the student's process: before the first cell runs, the grader seeds Python's ``random``,
#: NumPy's global generator, and torch and TensorFlow when the notebook's imports are already loaded. The
#: hidden checks draw their own cases with seeds of their own; this one is recorded with every score.
SEED = 20261102

__all__ = ["CHECKS", "REQUIRED_ACCURACY", "TIME_BUDGET"]

#: Accuracy the trained model must reach on the grader's held-out digits (stated in the notebook).
REQUIRED_ACCURACY = 0.90
#: Seconds ``train_digit_classifier`` (plus the grader's forward pass) may take (stated in the notebook).
TIME_BUDGET = 60.0

# The grader's own split and perturbation: seeds the notebook does not use.
_SPLIT_SEED = 20_240_917
_PERTURB_SEED = 31_337
_TRAIN_SEED = 7

_SHAPE_HINT = "the output has floor((H - size) / stride) + 1 rows and floor((W - size) / stride) + 1 columns"


# --------------------------------------------------------------------------------------------- cases


def _call_args(case: dict[str, Any]) -> dict[str, Any]:
    """``stride=`` only when the case sets it, so that the default (``stride=None``: the window size) is tested."""
    return {} if case["stride"] is None else {"stride": case["stride"]}


def _what(function: str, case: dict[str, Any], *, backward: bool = False) -> str:
    stride = "" if case["stride"] is None else f", stride={case['stride']}"
    args = "dout, x" if backward else "x"
    return f"{function}({args}, {case['size']}{stride})"


def _out_shape(shape: tuple[int, ...], size: int, stride: int | None) -> tuple[int, int, int, int]:
    s = size if stride is None else stride
    n, c, h, w = shape
    return n, c, (h - size) // s + 1, (w - size) // s + 1


def _explicit(x: np.ndarray, size: int, stride: int | None, hint: str, *, dout: Any = None, seed: int = 0) -> dict:
    """One hand-picked case; ``dout`` (for the backward checks) is drawn from ``seed`` when not given."""
    x = np.asarray(x, dtype=np.float64) if x.dtype.kind != "i" else x
    if dout is None:
        dout = np.random.default_rng(seed).standard_normal(_out_shape(x.shape, size, stride))
    return {"x": x, "size": size, "stride": stride, "dout": np.asarray(dout, dtype=np.float64), "hint": hint}


@st.composite
def _geometry(draw: Any, windows: str) -> dict[str, Any]:
    """Shapes, window and stride of a random case.

    ``windows``: ``"default"`` (no stride argument), ``"any"`` (stride 1..4), ``"apart"`` (stride >= size:
    windows do not overlap) or ``"overlap"`` (stride < size).
    """
    if windows == "overlap":
        size = draw(st.integers(2, 4))
        stride = draw(st.integers(1, size - 1))
    else:
        size = draw(st.integers(1, 4))
        stride = {
            "default": None,
            "any": draw(st.integers(1, 4)),
            "apart": draw(st.integers(size, size + 2)),
        }[windows]
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(size, size + 8)), draw(st.integers(size, size + 8))
    return {"shape": (n, c, h, w), "size": size, "stride": stride, "seed": draw(st.integers(0, 2**32 - 1))}


def _random_cases(windows: str, n: int, seed: int, *, ties: bool = False) -> list[dict[str, Any]]:
    """Random cases from :func:`_geometry`; float values (no ties), or small integers (many ties)."""
    cases = []
    for geometry in draw_cases(_geometry(windows), n, seed=seed):
        rng = np.random.default_rng(geometry["seed"])
        shape, size, stride = geometry["shape"], geometry["size"], geometry["stride"]
        x = rng.integers(0, 3, size=shape).astype(np.float64) if ties else rng.standard_normal(shape)
        dout = rng.standard_normal(_out_shape(shape, size, stride))
        cases.append({"x": x, "size": size, "stride": stride, "dout": dout, "hint": ""})
    return cases


def _x4() -> np.ndarray:
    """The 4x4 map of the book's pooling examples, as one (1, 1, 4, 4) integer image."""
    return np.array([[1, 4, 2, 1], [5, 8, 3, 4], [7, 6, 4, 5], [1, 3, 1, 2]])[None, None]


def _normal(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _forward_default_cases() -> list[dict[str, Any]]:
    """Non-overlapping windows with the default stride."""
    return [
        _explicit(_x4().astype(np.float64), 2, None, "the book's 4x4 example: 2x2 windows, stride 2"),
        _explicit(_normal((2, 3, 6, 4), 1), 2, None,
                  "a batch of 2 images of 3 channels, 6x4 (H != W): pool every image and channel on its own"),
        _explicit(-np.abs(_normal((1, 2, 4, 6), 2)) - 0.5, 2, None,
                  "every value is negative: a running maximum must start at -inf or at a value of the "
                  "window, not at 0"),
        _explicit(_normal((1, 1, 5, 7), 3), 2, None,
                  "5x7 with 2x2 windows: the last row and column fit no window and are left out "
                  "(floor division)"),
        _explicit(_normal((1, 4, 3, 3), 4), 3, None, "the window covers the whole 3x3 map: one output per channel"),
        _explicit(_normal((3, 1, 2, 5), 5), 1, None, "a 1x1 window returns the input unchanged"),
    ] + _random_cases("default", 10, seed=101)


def _forward_stride_cases() -> list[dict[str, Any]]:
    """Strides different from the window: overlapping windows, strides that do not divide, gaps."""
    x5 = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]])
    return [
        _explicit(x5[None, None].astype(np.float64), 3, 1,
                  "the book's 5x5 example: 3x3 windows at stride 1 overlap"),
        _explicit(_normal((1, 1, 7, 5), 11), 3, 2,
                  "7x5 with 3x3 windows at stride 2: (7 - 3) // 2 + 1 = 3 rows, (5 - 3) // 2 + 1 = 2 columns"),
        _explicit(_normal((2, 2, 7, 8), 12), 2, 3,
                  "stride 3 > window 2: the windows leave gaps between them"),
        _explicit(_normal((1, 3, 4, 9), 13), 2, 1, "stride 1 on a 4x9 map: every position is a window"),
        _explicit(_normal((1, 1, 6, 6), 14), 1, 2, "a 1x1 window at stride 2 keeps every second pixel"),
    ] + _random_cases("any", 12, seed=102)


def _backward_apart_cases() -> list[dict[str, Any]]:
    """Windows that do not overlap and values without ties."""
    return [
        _explicit(_x4().astype(np.float64), 2, None, "the book's exercise: each window's gradient goes to its maximum",
                  dout=[[[[1.0, 2.0], [3.0, 4.0]]]]),
        _explicit(_normal((2, 3, 6, 4), 21), 2, None,
                  "a batch of 2 images of 3 channels, 6x4 (H != W)"),
        _explicit(-np.abs(_normal((1, 2, 4, 6), 22)) - 0.5, 2, None, "every value is negative", seed=22),
        _explicit(_normal((1, 1, 5, 7), 23), 2, None,
                  "5x7 with 2x2 windows: the last row and column are in no window, so their gradient is 0"),
        _explicit(_normal((2, 2, 7, 8), 24), 2, 3,
                  "stride 3 > window 2: cells between the windows get no gradient"),
        _explicit(_normal((3, 1, 2, 5), 25), 1, None, "a 1x1 window passes the gradient through unchanged"),
    ] + _random_cases("apart", 10, seed=103)


def _backward_overlap_cases() -> list[dict[str, Any]]:
    """Overlapping windows (stride < size), values without ties: a cell can win several windows."""
    peak = np.arange(25, dtype=np.float64).reshape(5, 5) / 100.0
    peak[2, 2] = 9.0  # the centre wins all nine 3x3 windows
    return [
        _explicit(peak[None, None], 3, 1,
                  "the centre of this 5x5 map is the maximum of all nine 3x3 windows: its gradient is the sum "
                  "of the nine output gradients, so add (+=) rather than assign",
                  dout=np.ones((1, 1, 3, 3))),
        _explicit(_normal((1, 2, 7, 5), 31), 3, 2,
                  "3x3 windows at stride 2 share a row and a column: add the gradients of every window a cell wins"),
        _explicit(_normal((2, 1, 4, 9), 32), 2, 1, "2x2 windows at stride 1 on a 4x9 map"),
    ] + _random_cases("overlap", 10, seed=104)


def _backward_ties_cases() -> list[dict[str, Any]]:
    """Ties, in non-overlapping windows: the first maximum in row-major order takes the whole gradient."""
    tie_rule = ("on a tie the first maximum in row-major order (top row first, then left to right) takes the whole "
                "gradient, as in PyTorch")
    two_way = np.array([[1.0, 5.0, 0.0, 2.0], [5.0, 2.0, 2.0, 2.0]])[None, None]
    return [
        _explicit(np.zeros((1, 1, 4, 4)), 2, None, f"a constant map: every window is one big tie; {tie_rule}",
                  dout=[[[[1.0, 2.0], [3.0, 4.0]]]]),
        _explicit(two_way, 2, None, f"5 appears twice in the first window, 2 three times in the second; {tie_rule}",
                  dout=[[[[1.0, -1.0]]]]),
        _explicit(np.ones((2, 2, 3, 6)), 3, None, f"all ones, 3x3 windows; {tie_rule}", seed=41),
    ] + _random_cases("apart", 10, seed=105, ties=True)


def _avg_forward_cases() -> list[dict[str, Any]]:
    return [
        _explicit(_x4(), 2, 1, "the book's example, given as integers: the averages are not integers, "
                               "so build the output as floats"),
        _explicit(_normal((2, 3, 6, 4), 51), 3, None, "3x3 windows: divide by 9, the number of cells in a window"),
        _explicit(_normal((1, 1, 7, 5), 52), 3, 2,
                  "7x5 with 3x3 windows at stride 2: 3 rows and 2 columns of windows"),
        _explicit(_normal((1, 2, 6, 6), 53), 1, 2, "a 1x1 window: each output is one input value"),
        _explicit(_normal((1, 1, 5, 7), 54), 2, None, "5x7 with 2x2 windows: the last row and column are left out"),
    ] + _random_cases("default", 5, seed=106) + _random_cases("any", 8, seed=107)


def _avg_backward_cases() -> list[dict[str, Any]]:
    return [
        _explicit(_x4().astype(np.float64), 2, None,
                  "each cell of a 2x2 window gets a quarter of the window's gradient",
                  dout=[[[[1.0, 2.0], [3.0, 4.0]]]]),
        _explicit(_normal((2, 3, 6, 4), 61), 3, None, "3x3 windows: each cell gets 1/9 of its window's gradient"),
        _explicit(np.zeros((1, 1, 5, 5)), 3, 1,
                  "overlapping 3x3 windows: the centre is in all nine, so it collects nine shares (add, do not assign)",
                  dout=np.ones((1, 1, 3, 3))),
        _explicit(_normal((1, 2, 7, 5), 62), 3, 2, "3x3 windows at stride 2 overlap in one row and one column"),
        _explicit(_normal((1, 1, 5, 7), 63), 2, None,
                  "5x7 with 2x2 windows: the last row and column are in no window, so their gradient is 0"),
    ] + _random_cases("default", 5, seed=108) + _random_cases("any", 8, seed=109)


# --------------------------------------------------------------------------------------------- judges


def _differs(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    return ~np.isclose(got.astype(np.float64), expected, rtol=1e-5, atol=1e-7)


def _diagnose_max(got: np.ndarray, expected: np.ndarray, case: dict[str, Any]) -> str:
    """A window of negative values pooled to 0: the running maximum started at 0."""
    bad = _differs(got, expected)
    if bad.any() and np.all(got[bad] == 0) and np.all(expected[bad] < 0):
        return ("where a window holds only negative values you return 0: start the running maximum at -inf or at the "
                "window's own values (window.max()), not at 0")
    return ""


def _diagnose_scale(got: np.ndarray, expected: np.ndarray, case: dict[str, Any]) -> str:
    """Every value off by the same factor: a wrong divisor of the average."""
    nonzero = np.abs(expected) > 1e-9
    if not np.any(nonzero) or np.any(np.abs(got[~nonzero]) > 1e-9):
        return ""
    ratios = got[nonzero].astype(np.float64) / expected[nonzero]
    ratio = float(np.median(ratios))
    if np.allclose(ratios, ratio, rtol=1e-6) and not np.isclose(ratio, 1.0):
        area = case["size"] ** 2
        return (f"every value is {ratio:.4g} times the expected one: a {case['size']}x{case['size']} window has "
                f"{area} cells, so divide by size * size = {area}")
    return ""


def _diagnose_max_backward(got: np.ndarray, expected: np.ndarray, case: dict[str, Any]) -> str:
    """Gradient sent to cells that won nothing (the whole window, every tie), or lost where windows overlap."""
    got_cells, expected_cells = got != 0, expected != 0
    if np.any(got_cells & ~expected_cells):
        return ("cells that won no window received a gradient: only one cell per window gets it, the first maximum "
                "in row-major order (np.argmax of the flattened window)")
    if not np.isclose(got.sum(), expected.sum()) and not np.any(~got_cells & expected_cells & (got != expected)):
        return ("some gradient is missing where windows overlap: a cell that wins several windows must receive the "
                "sum of their gradients, so add into dx (+=) instead of assigning")
    return ""


def _judge_array(got: Any, expected: np.ndarray, *, what: str, case: dict[str, Any], shape_hint: str,
                 value_hint: str, diagnose: Any = None) -> str | None:
    """compare_array with the hint that fits the mistake: the shape formula, a diagnosis, the case's own hint."""
    if isinstance(got, np.ndarray) and got.shape != expected.shape:
        return compare_array(got, expected, what=what, hint=shape_hint)
    message = compare_array(got, expected, what=what)
    if message is None:
        return None
    diagnosable = (
        diagnose is not None and isinstance(got, np.ndarray) and got.dtype.kind in "biuf" and np.all(np.isfinite(got))
    )
    diagnosis = diagnose(got, expected, case) if diagnosable else ""
    return compare_array(got, expected, what=what, hint=diagnosis or case["hint"] or value_hint)


def _forward_check(function: str, name: str, cases: Any, reference: Any, value_hint: str,
                   diagnose: Any = None) -> Check:
    def calls(case: dict[str, Any]) -> list[Call]:
        return [Call(function, (case["x"], case["size"]), _call_args(case))]

    def judge(case: dict[str, Any], out: list[Outcome]) -> str | None:
        expected = reference(case["x"], case["size"], case["stride"])
        return _judge_array(out[0].value, expected, what=_what(function, case), case=case,
                            shape_hint=_SHAPE_HINT, value_hint=value_hint, diagnose=diagnose)

    return Check(name=name, cases=cases, calls=calls, judge=judge, forbid=FROM_SCRATCH, time_limit=10.0)


def _backward_check(function: str, name: str, cases: Any, reference: Any, value_hint: str,
                    diagnose: Any = None) -> Check:
    def calls(case: dict[str, Any]) -> list[Call]:
        return [Call(function, (case["dout"], case["x"], case["size"]), _call_args(case))]

    def judge(case: dict[str, Any], out: list[Outcome]) -> str | None:
        expected = reference(case["dout"], case["x"], case["size"], case["stride"])
        return _judge_array(out[0].value, expected, what=_what(function, case, backward=True), case=case,
                            shape_hint="dx has the shape of x: one gradient per input cell",
                            value_hint=value_hint, diagnose=diagnose)

    return Check(name=name, cases=cases, calls=calls, judge=judge, forbid=FROM_SCRATCH, time_limit=10.0)


# --------------------------------------------------------------------------------------------- training


@cache
def _digits_task() -> dict[str, np.ndarray]:
    """The grader's split of the digits, and held-out digits with a seeded change of contrast and noise."""
    from coursepkg.data import load_digits, train_test_split

    images, labels = load_digits()  # (1797, 1, 8, 8) float32 in [0, 1]
    x_train, y_train, x_test, y_test = train_test_split(images, labels, test_fraction=0.25, rng=_SPLIT_SEED)
    rng = np.random.default_rng(_PERTURB_SEED)
    contrast = rng.uniform(0.8, 1.1, size=(len(x_test), 1, 1, 1))  # (M, 1, 1, 1)
    noise = rng.normal(0.0, 0.08, size=x_test.shape)  # (M, 1, 8, 8)
    x_held_out = np.clip(x_test * contrast + noise, 0.0, 1.0).astype(np.float32)
    return {"x_train": x_train, "y_train": y_train, "x_held_out": x_held_out, "y_held_out": y_test}


def _training_cases() -> list[dict[str, Any]]:
    return [{**_digits_task(), "seed": _TRAIN_SEED}]


def _training_calls(case: dict[str, Any]) -> list[Call]:
    return [
        Call("train_digit_classifier", (case["x_train"], case["y_train"]), {"seed": case["seed"]}, store="model"),
        Call("@framework", (Ref("model"),)),
        Call("@parameters", (Ref("model"),)),
        Call("@forward", (Ref("model"), case["x_held_out"])),
    ]


def _judge_training(case: dict[str, Any], out: list[Outcome]) -> str | None:
    framework = "PyTorch" if out[1].value == "torch" else "Keras"
    weights = out[2].value
    if not any(isinstance(w, np.ndarray) and w.ndim == 4 for w in weights):
        shapes = ", ".join(str(tuple(w.shape)) for w in weights[:6] if isinstance(w, np.ndarray))
        return (
            f"the {framework} model returned by train_digit_classifier has no convolution layer (no 4-D weight; "
            f"its weights have shapes {shapes}{', ...' if len(weights) > 6 else ''}). Hint: the task is a CNN; "
            "start with a Conv2d (PyTorch) or Conv2D (Keras) layer."
        )
    logits = out[3].value
    n = len(case["y_held_out"])
    if not isinstance(logits, np.ndarray) or logits.shape != (n, 10):
        return (
            f"the {framework} model should map the {n} held-out digits, shape (n, 1, 8, 8) "
            f"({'(n, 8, 8, 1) for Keras' if framework == 'Keras' else 'NCHW'}), to 10 scores per digit, "
            f"shape ({n}, 10); it returned {describe_value(logits)}. Hint: end with a dense layer of 10 units "
            "and no softmax (the logits)."
        )
    if not np.all(np.isfinite(logits)):
        return (
            f"the {framework} model's outputs on the held-out digits contain NaN or infinity. Hint: training "
            "diverged; lower the learning rate."
        )
    predictions = logits.argmax(axis=1)
    accuracy = float((predictions == case["y_held_out"]).mean())
    if accuracy < REQUIRED_ACCURACY:
        classes = np.unique(predictions)
        if classes.size <= 3:
            hint = (
                f"it predicts only {classes.size} of the 10 classes, so it has not learned: check that the labels "
                "are shuffled together with the images, and that the optimiser steps after each batch"
            )
        else:
            hint = (
                "check it on x_test in the notebook first; train longer or with a larger learning rate (Adam with "
                "1e-3 to 3e-3), and make sure the model returns logits for the 10 classes"
            )
        return (
            f"your {framework} model classified {accuracy:.1%} of the grader's {n} held-out digits correctly; "
            f"at least {REQUIRED_ACCURACY:.0%} is required. Hint: {hint}."
        )
    return None


# --------------------------------------------------------------------------------------------- the cells

CHECKS: dict[str, list[Check]] = {
    "test_max_pool2d": [
        _forward_check(
            "max_pool2d", "max_pool2d with the default stride (non-overlapping windows)", _forward_default_cases,
            lambda x, size, stride: ops.max_pool2d(x, size, stride),
            "each output is the largest value of its size x size window", _diagnose_max,
        )
    ],
    "test_max_pool2d_stride": [
        _forward_check(
            "max_pool2d", "max_pool2d with a stride (overlapping windows, strides that do not divide, gaps)",
            _forward_stride_cases, lambda x, size, stride: ops.max_pool2d(x, size, stride),
            "window (i, j) starts at row i * stride and column j * stride", _diagnose_max,
        )
    ],
    "test_avg_pool2d": [
        _forward_check(
            "avg_pool2d", "avg_pool2d with and without a stride", _avg_forward_cases,
            lambda x, size, stride: ops.avg_pool2d(x, size, stride),
            "each output is the mean of its window: the sum divided by size * size", _diagnose_scale,
        )
    ],
    "test_max_pool2d_backward": [
        _backward_check(
            "max_pool2d_backward", "max_pool2d_backward with non-overlapping windows", _backward_apart_cases,
            lambda dout, x, size, stride: ops.max_pool2d_backward(dout, x, size, stride),
            "each output's gradient goes to the one cell that won its window; every other cell gets 0",
            _diagnose_max_backward,
        )
    ],
    "test_max_pool2d_backward_overlap": [
        _backward_check(
            "max_pool2d_backward", "max_pool2d_backward with overlapping windows (stride < size)",
            _backward_overlap_cases,
            lambda dout, x, size, stride: ops.max_pool2d_backward(dout, x, size, stride),
            "a cell that wins several windows receives the sum of their gradients (+=)", _diagnose_max_backward,
        )
    ],
    "test_max_pool2d_backward_ties": [
        _backward_check(
            "max_pool2d_backward", "max_pool2d_backward with ties (equal maxima in a window)", _backward_ties_cases,
            lambda dout, x, size, stride: ops.max_pool2d_backward(dout, x, size, stride),
            "on a tie only the first maximum in row-major order gets the gradient (np.argmax of the "
            "flattened window finds it)", _diagnose_max_backward,
        )
    ],
    "test_avg_pool2d_backward": [
        _backward_check(
            "avg_pool2d_backward", "avg_pool2d_backward with and without overlapping windows", _avg_backward_cases,
            lambda dout, x, size, stride: ops.avg_pool2d_backward(dout, x, size, stride),
            "each cell of a window receives the window's gradient divided by size * size; overlapping windows add up",
            _diagnose_scale,
        )
    ],
    "test_digit_classifier": [
        Check(
            name=(
                f"train_digit_classifier on the grader's digits, judged on held-out digits "
                f"(at least {REQUIRED_ACCURACY:.0%} correct, {TIME_BUDGET:g} s)"
            ),
            cases=_training_cases,
            calls=_training_calls,
            judge=_judge_training,
            time_limit=TIME_BUDGET,
        )
    ],
}
