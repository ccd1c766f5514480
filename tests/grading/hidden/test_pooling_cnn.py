"""The hidden checks of the assignment ``pooling_cnn``, run on its reference solution, its mutants and its blank release.

:func:`autograder.inprocess.grade_in_process` executes the source notebook
(``assignments/source/pooling_cnn/pooling_cnn.md``) in this process, as ``nbgrader autograde`` would run a
submission: the instructor's test cells (visible tests plus the hidden block) after the answer cells, which are
the reference solution, a mutant's replacements or the release's stubs. A test cell passes when it raises
nothing and writes nothing to stderr.

The training task may be solved in PyTorch (the notebook's reference) or Keras: :data:`KERAS_SOLUTION` is the
Keras twin of the reference answer, and must pass every test cell too. Also pinned here: the messages the
checks give students for the usual mistakes.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import numpy as np
import pytest

from autograder.checks import Call, Check, Outcome
from autograder.hidden.pooling_cnn import CHECKS, REQUIRED_ACCURACY, TIME_BUDGET
from autograder.inprocess import InProcessGrade, clear_answers, grade_in_process
from autograder.kernel import judge_case, run_hidden
from autograder.mutants import Mutant, mutants_of

from tests.grading.hidden.source_cells import answer_cells, answer_source, graded, test_cells

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ASSIGNMENT = "pooling_cnn"
MUTANTS = mutants_of(ASSIGNMENT)

# The function each test cell grades: a failing cell's report must name it.
GRADED_FUNCTION = {
    "test_max_pool2d": "max_pool2d",
    "test_max_pool2d_stride": "max_pool2d",
    "test_avg_pool2d": "avg_pool2d",
    "test_max_pool2d_backward": "max_pool2d_backward",
    "test_max_pool2d_backward_overlap": "max_pool2d_backward",
    "test_max_pool2d_backward_ties": "max_pool2d_backward",
    "test_avg_pool2d_backward": "avg_pool2d_backward",
    "test_digit_classifier": "train_digit_classifier",
}

# The Keras answer to the training task: the same network as the notebook's PyTorch reference.
KERAS_SOLUTION = '''\
def train_digit_classifier(x_train, y_train, seed=0):
    """Build a small CNN in Keras and train it on 8x8 digits (NCHW in, a channels-last model out)."""
    import keras

    keras.utils.set_random_seed(seed)  # initial weights and batch order
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),                                    # Keras is channels-last
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),  # (N, 8, 8, 32)
        keras.layers.MaxPooling2D(2),                                    # (N, 4, 4, 32)
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),  # (N, 4, 4, 64)
        keras.layers.MaxPooling2D(2),                                    # (N, 2, 2, 64)
        keras.layers.Flatten(),                                          # (N, 256)
        keras.layers.Dense(10),                                          # (N, 10): logits
    ])
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x_train.transpose(0, 2, 3, 1), y_train, epochs=15, batch_size=32, verbose=0)  # NCHW -> NHWC
    return model
'''

# The same with the course's training helper: what a student who reads coursepkg.train may write.
FIT_HELPER_SOLUTION = '''\
def train_digit_classifier(x_train, y_train, seed=0):
    """The book's simple CNN, trained with coursepkg.train.torch.fit."""
    from coursepkg.models.torch import simple_cnn
    from coursepkg.train import torch as torch_train

    torch_train.seed_everything(seed)
    model = simple_cnn(num_classes=10, in_channels=1, input_size=8)
    torch_train.fit(model, x_train, y_train, epochs=15, batch_size=32, lr=3e-3, seed=seed, progress=False)
    return model
'''

ALTERNATIVES = {"keras": KERAS_SOLUTION, "fit-helper": FIT_HELPER_SOLUTION}


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One CPU thread, as the notebook asks: small networks train fastest so on a small, shared machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)




@cache
def _graded(variant: str) -> InProcessGrade:
    """The in-process grade of an alternative solution (once each), or of ``source_cells.graded``'s variants."""
    if variant in ALTERNATIVES:
        return grade_in_process(ASSIGNMENT, replace={"train_digit_classifier": ALTERNATIVES[variant]})
    return graded(ASSIGNMENT, variant)


# --- structure --------------------------------------------------------------------------------------------


def test_every_test_cell_has_hidden_checks_and_nothing_else():
    assert sorted(CHECKS) == sorted(test_cells(ASSIGNMENT)) == sorted(GRADED_FUNCTION)
    for grade_id, checks in CHECKS.items():
        assert checks and all(isinstance(check, Check) for check in checks), grade_id
        from_scratch = grade_id != "test_digit_classifier"
        assert all(bool(check.forbid) == from_scratch for check in checks), f"{grade_id}: forbid is wrong"


def _same_cases(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_cases(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(_same_cases, a, b))
    return a == b


def test_pooling_checks_have_edge_cases_and_random_ones_and_are_deterministic():
    for grade_id, checks in CHECKS.items():
        if grade_id == "test_digit_classifier":
            continue
        for check in checks:
            cases = check.cases()
            assert len(cases) >= 12, f"{grade_id}: only {len(cases)} cases"
            assert _same_cases(check.cases(), cases), f"{grade_id}: the cases must be deterministic"
            explicit = [case for case in cases if case["hint"]]
            assert 3 <= len(explicit) < len(cases), f"{grade_id}: edge cases and random ones, both"
            shapes = [case["x"].shape for case in cases]
            assert any(h != w for _, _, h, w in shapes), f"{grade_id}: no non-square input"
            assert any(n == 1 for n, _, _, _ in shapes), f"{grade_id}: no batch of one"


def test_the_grader_uses_data_the_notebook_never_sees():
    from coursepkg.data import load_digits, load_digits_split

    case = CHECKS["test_digit_classifier"][0].cases()[0]
    x_public, _, _, _ = load_digits_split()
    assert case["x_train"].shape == x_public.shape and not np.array_equal(case["x_train"], x_public)
    held_out = case["x_held_out"].reshape(len(case["x_held_out"]), -1)  # (450, 64)
    every_digit = load_digits()[0].reshape(1797, -1)  # (1797, 64)
    nearest = np.min(((held_out[:, None, :] - every_digit[None]) ** 2).sum(axis=2), axis=1)  # (450,)
    assert nearest.min() > 0.05, "a held-out digit is an unperturbed copy of a public one"
    assert case["y_held_out"].shape == (450,) and set(np.unique(case["y_held_out"])) == set(range(10))


def test_mutants_replace_answer_cells_and_name_test_cells():
    answers, tests = set(answer_cells(ASSIGNMENT)), set(test_cells(ASSIGNMENT))
    assert len(MUTANTS) >= 4
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    for mutant in MUTANTS:
        assert set(mutant.replace) <= answers, mutant.name
        assert mutant.fails <= tests, mutant.name
    caught = set().union(*(m.fails for m in MUTANTS))
    assert caught == tests, f"no mutant fails {sorted(tests - caught)}: add one, or the check is a defect"


def test_blank_stub_keeps_signature_and_docstring():
    source = answer_source(ASSIGNMENT, "max_pool2d_backward")
    stubbed = clear_answers(source)
    assert "### BEGIN SOLUTION" not in stubbed and "argmax" not in stubbed.split('"""')[-1]
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()" in stubbed
    assert stubbed.startswith("def max_pool2d_backward(dout, x, size, stride=None):")
    assert "first maximum in\n        row-major order" in stubbed  # the tie rule is stated to the student


# --- reference, alternatives, blank release and mutants --------------------------------------------------------


def test_reference_solution_passes_every_test_cell():
    grade = _graded("reference")
    assert set(grade.tests) == set(test_cells(ASSIGNMENT))
    assert not grade.failed, {g: grade.tests[g].message for g in grade.failed}
    assert not grade.errors, grade.errors  # the plots and the other cells run too


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_alternative_training_solutions_pass_every_test_cell(name: str):
    grade = _graded(name)
    assert not grade.failed, {g: grade.tests[g].message for g in grade.failed}
    assert not grade.errors, grade.errors


@pytest.mark.parametrize("solution", [None, KERAS_SOLUTION], ids=["torch", "keras"])
def test_both_frameworks_pass_the_training_check_with_a_margin(solution: str | None):
    """The reference networks must clear the stated accuracy comfortably, not by luck of a seed."""
    from autograder.hidden import pooling_cnn
    from autograder.operations import forward

    namespace: dict[str, Any] = {}
    source = solution or answer_source(ASSIGNMENT, "train_digit_classifier")
    exec(compile(source, "<train_digit_classifier>", "exec"), namespace)  # noqa: S102 - the course's own code
    case = CHECKS["test_digit_classifier"][0].cases()[0]
    for seed in (0, 1):
        model = namespace["train_digit_classifier"](case["x_train"], case["y_train"], seed=seed)
        accuracy = np.mean(forward(model, case["x_held_out"]).argmax(axis=1) == case["y_held_out"])
        assert accuracy >= pooling_cnn.REQUIRED_ACCURACY + 0.05, f"seed {seed}: {accuracy:.3f}"


def test_blank_release_fails_every_test_cell():
    grade = _graded("blank")
    assert grade.failed == set(test_cells(ASSIGNMENT)), f"test cells that pass with no answer: {set(grade.tests) - grade.failed}"
    assert all("NotImplementedError" in result.message for result in grade.tests.values())
    # the other cells fail only because an answer is missing, never for a reason of their own
    assert all("NotImplementedError" in error for error in grade.errors.values()), grade.errors


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_fails_exactly_its_cells(mutant: Mutant):
    grade = _graded(mutant.name)
    assert grade.failed == mutant.fails, (
        f"{mutant.name}: expected {sorted(mutant.fails)} to fail, got {sorted(grade.failed)}\n"
        + "\n".join(f"{g}: {grade.tests[g].message}" for g in sorted(grade.failed ^ mutant.fails) if g in grade.tests)
    )
    for grade_id in grade.failed:
        report = grade.tests[grade_id].message
        assert GRADED_FUNCTION[grade_id] in report, f"{mutant.name}/{grade_id}: report names no function:\n{report}"
        assert "Hint" in report or "from scratch" in report or "required" in report, report


# Mutants whose mistakes the visible tests cannot see: the hidden block must catch them, with these words.
HIDDEN_ONLY = {
    "max-calls-reference": (
        "test_max_pool2d",
        r"max_pool2d must be written from scratch, but it called coursepkg\.ops\.pooling\.max_pool2d",
    ),
    "max-running-max-from-zero": (
        "test_max_pool2d_stride",
        r"max_pool2d\(x, 2, stride=3\): 1 of 24 values differ; .* Hint: where a window holds only negative values "
        r"you return 0.*\n +\(input: max_pool2d\(array of shape \(2, 2, 7, 8\) float64, 2, stride=3\)\)",
    ),
    "avg-divides-by-four": (
        "test_avg_pool2d",
        r"avg_pool2d\(x, 3\): 12 of 12 values differ; .* Hint: every value is 2\.25 times the expected one: a 3x3 "
        r"window has 9 cells, so divide by size \* size = 9",
    ),
    "avg-backward-autograd": (
        "test_avg_pool2d_backward",
        r"avg_pool2d_backward must be written from scratch, but it called torch\.",
    ),
    "classifier-without-convolution": (
        "test_digit_classifier",
        r"the PyTorch model returned by train_digit_classifier has no convolution layer \(no 4-D weight; its "
        r"weights have shapes \(128, 64\), \(128,\), \(10, 128\), \(10,\)\)\. Hint: the task is a CNN",
    ),
}


@pytest.mark.parametrize("name", sorted(HIDDEN_ONLY))
def test_hidden_block_catches_what_the_visible_tests_miss(name: str):
    grade_id, pattern = HIDDEN_ONLY[name]
    report = _graded(name).tests[grade_id].message
    assert report.startswith("AssertionError: 1 of 1 hidden checks failed"), report
    with pytest.raises(AssertionError, match=pattern):
        raise AssertionError(report)


# --- messages, on namespaces built here -----------------------------------------------------------------------


def _hidden(cell: str, **functions: Any):
    return run_hidden(ASSIGNMENT, cell, functions)


def _max_pool(x, size, stride=None):
    stride = size if stride is None else stride
    n, c, h, w = x.shape
    out = np.empty((n, c, (h - size) // stride + 1, (w - size) // stride + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size].max(axis=(2, 3))
    return out


def _max_pool_backward(dout, x, size, stride=None, *, accumulate=True, tie="first"):
    """A from-scratch max pooling backward; ``accumulate=False`` assigns, ``tie="last"`` picks the last maximum."""
    stride = size if stride is None else stride
    dx = np.zeros(x.shape)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * stride:i * stride + size, j * stride:j * stride + size]
                    flat = window.ravel()
                    k = flat.argmax() if tie == "first" else flat.size - 1 - flat[::-1].argmax()
                    r, s = i * stride + k // size, j * stride + k % size
                    if accumulate:
                        dx[n, c, r, s] += dout[n, c, i, j]
                    else:
                        dx[n, c, r, s] = dout[n, c, i, j]
    return dx


def test_missing_function_is_named():
    result = _hidden("test_avg_pool2d")
    with pytest.raises(AssertionError, match=r"the notebook does not define a function named 'avg_pool2d'"):
        assert result.passed, result.report


def test_element_loop_solutions_pass():
    assert _hidden("test_max_pool2d", max_pool2d=_max_pool).passed
    assert _hidden("test_max_pool2d_stride", max_pool2d=_max_pool).passed
    for cell in ("test_max_pool2d_backward", "test_max_pool2d_backward_overlap", "test_max_pool2d_backward_ties"):
        assert _hidden(cell, max_pool2d_backward=_max_pool_backward).passed, cell


def test_last_maximum_on_ties_is_explained():
    def last(dout, x, size, stride=None):
        return _max_pool_backward(dout, x, size, stride, tie="last")

    assert _hidden("test_max_pool2d_backward", max_pool2d_backward=last).passed  # no ties there
    result = _hidden("test_max_pool2d_backward_ties", max_pool2d_backward=last)
    with pytest.raises(AssertionError, match=r"max_pool2d_backward\(dout, x, 2\): 8 of 16 values differ; .*Hint: "
                       r"cells that won no window received a gradient: only one cell per window gets it, the first "
                       r"maximum in row-major order"):
        assert result.passed, result.report


def test_overwriting_gradients_is_explained():
    def assigns(dout, x, size, stride=None):
        return _max_pool_backward(dout, x, size, stride, accumulate=False)

    result = _hidden("test_max_pool2d_backward_overlap", max_pool2d_backward=assigns)
    with pytest.raises(AssertionError, match=r"max_pool2d_backward\(dout, x, 3, stride=1\): 1 of 25 values differ; "
                       r"at index \(0, 0, 2, 2\) expected 9, got 1 .*Hint: some gradient is missing where windows "
                       r"overlap.*add into dx \(\+=\)"):
        assert result.passed, result.report


def test_wrong_shape_gets_the_formula():
    def ceil_mode(x, size, stride=None):
        stride = size if stride is None else stride
        return _max_pool(np.pad(x, ((0, 0), (0, 0), (0, stride), (0, stride)), constant_values=-np.inf), size, stride)

    result = _hidden("test_max_pool2d_stride", max_pool2d=ceil_mode)
    with pytest.raises(AssertionError, match=r"expected an output of shape \(1, 1, 3, 3\), got shape \(1, 1, 4, 4\)\. "
                       r"Hint: the output has floor\(\(H - size\) / stride\) \+ 1 rows"):
        assert result.passed, result.report


def test_a_list_result_is_refused_with_the_expected_shape():
    result = _hidden("test_max_pool2d", max_pool2d=lambda x, size, stride=None: _max_pool(x, size, stride).tolist())
    with pytest.raises(AssertionError, match=r"max_pool2d\(x, 2\): expected a NumPy array of shape \(1, 1, 2, 2\), "
                       r"got \[\[\[\[8\.0, 4\.0\], \[7\.0, 5\.0\]\]\]\]"):
        assert result.passed, result.report


# --- the training check's judge, on outcomes made up here -----------------------------------------------------


def _training_verdict(*outcomes: Outcome) -> str | None:
    check = CHECKS["test_digit_classifier"][0]
    case = check.cases()[0]
    return judge_case(check, case, list(check.calls(case)), list(outcomes))


def _ok(value: Any, seconds: float = 1.0) -> Outcome:
    return Outcome(value, None, seconds)


def test_training_judge_passes_good_predictions():
    labels = CHECKS["test_digit_classifier"][0].cases()[0]["y_held_out"]
    logits = np.eye(10)[labels]  # (450, 10), all right
    conv = [np.zeros((32, 1, 3, 3)), np.zeros(32)]
    assert _training_verdict(_ok(None), _ok("torch"), _ok(conv), _ok(logits)) is None


def test_training_judge_explains_a_model_that_predicts_one_class():
    labels = CHECKS["test_digit_classifier"][0].cases()[0]["y_held_out"]
    logits = np.tile(np.eye(10)[3], (len(labels), 1))  # always "3"
    verdict = _training_verdict(_ok(None), _ok("keras"), _ok([np.zeros((3, 3, 1, 8))]), _ok(logits))
    assert verdict is not None
    with pytest.raises(AssertionError, match=rf"your Keras model classified \d+\.\d% of the grader's 450 held-out "
                       rf"digits correctly; at least {REQUIRED_ACCURACY:.0%} is required\. Hint: it predicts only 1 of "
                       r"the 10 classes, so it has not learned: check that the labels are shuffled together with the "
                       r"images"):
        raise AssertionError(verdict)


def test_training_judge_explains_a_wrong_output_shape_and_the_time_budget():
    conv = [np.zeros((32, 1, 3, 3))]
    verdict = _training_verdict(_ok(None), _ok("torch"), _ok(conv), _ok(np.zeros((450, 1))))
    with pytest.raises(AssertionError, match=r"should map the 450 held-out digits, .* to 10 scores per digit, shape "
                       r"\(450, 10\); it returned array of shape \(450, 1\)"):
        raise AssertionError(verdict)
    slow = _training_verdict(_ok(None, TIME_BUDGET + 1), _ok("torch"), _ok(conv), _ok(np.zeros((450, 10))))
    with pytest.raises(AssertionError, match=rf"took {TIME_BUDGET + 4:.1f} s, more than the {TIME_BUDGET:g} s allowed"):
        raise AssertionError(slow)


def test_training_check_calls_the_students_function_with_the_graders_seed():
    check = CHECKS["test_digit_classifier"][0]
    case = check.cases()[0]
    calls = list(check.calls(case))
    assert calls[0] == Call("train_digit_classifier", calls[0].args, {"seed": case["seed"]}, store="model")
    assert case["seed"] != 0  # not the seed of the notebook's own run
    assert [call.function for call in calls[1:]] == ["@framework", "@parameters", "@forward"]
    assert check.time_limit == TIME_BUDGET
