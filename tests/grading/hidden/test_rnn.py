"""The hidden checks of the assignment ``rnn``, run on its reference solution, its mutants and its blank release.

Two ways of running them. :func:`autograder.inprocess.grade_in_process` executes the whole source notebook
(``assignments/source/rnn/rnn.md``) in this process, as ``nbgrader autograde`` would run a submission: visible
tests plus the hidden block of every test cell. That is the reference, the blank release and (marked slow,
since each run trains the GRU twice) every mutant. The fast tests build the namespace a submission would have
(the setup cell and the answer cells) and call :func:`autograder.kernel.run_hidden` on it directly, cell by
cell: every mutant must fail exactly its cells in the hidden block alone, with the message that names the
mistake. Also pinned here: the messages for wrong return types, a missing function, and a Keras answer to
the training task (slow: it imports TensorFlow).
"""

from __future__ import annotations

import re
import time
from functools import cache
from typing import Any

import numpy as np
import pytest

from autograder.checks import FROM_SCRATCH, Check
from autograder.course import source_dir
from autograder.hidden import rnn as hidden_rnn
from autograder.hidden.rnn import CHECKS
from autograder.inprocess import clear_answers
from autograder.kernel import run_hidden
from autograder.mutants import Mutant, mutants_of

from tests.grading.hidden.source_cells import answer_cells, answer_source, code_cells, graded, test_cells

ASSIGNMENT = "rnn"
MUTANTS = mutants_of(ASSIGNMENT)
TRAINING = "test_train_sequence_model"

# The function each test cell grades: a failing cell's report must name it.
GRADED_FUNCTION = {
    "test_rnn_step": "rnn_step",
    "test_lstm_step": "lstm_step",
    "test_gru_step": "gru_step",
    "test_rnn_forward": "rnn_forward",
    "test_rnn_backward": "rnn_backward",
    "test_gradient_check": "rnn_numerical_gradients",
    "test_clip_grad_norm": "clip_grad_norm",
    TRAINING: "train_sequence_model",
}




def _namespace(replace: dict[str, str] | None = None) -> dict[str, Any]:
    """What a submission defines: the setup cell (imports, ``sigmoid``) and the answer cells, nothing else."""
    replace = replace or {}
    namespace: dict[str, Any] = {"__name__": "__main__"}
    setup = code_cells(ASSIGNMENT)[0][3]
    assert "def sigmoid" in setup, "the first code cell of rnn.md is expected to be the setup cell"
    exec(compile(setup, "<setup>", "exec"), namespace)  # noqa: S102 - the course's own code
    for grade_id, is_answer, _, source in code_cells(ASSIGNMENT):
        if is_answer:
            exec(compile(replace.get(grade_id, source), f"<{grade_id}>", "exec"), namespace)  # noqa: S102
    return namespace


@cache
def _hidden_failures(variant: str) -> dict[str, str]:
    """test cell -> report, for the hidden checks that fail on ``"reference"`` or a mutant (each run once).

    A mutant that leaves ``train_sequence_model`` alone is not retrained: the training check calls nothing else,
    and the reference's training is checked on its own.
    """
    if variant == "reference":
        replace, cells = {}, list(CHECKS)
    else:
        mutant = _mutant(variant)
        replace = mutant.replace
        cells = [cell for cell in CHECKS if cell != TRAINING or "train_sequence_model" in replace]
    namespace = _namespace(replace)
    failures = {}
    for cell in cells:
        result = run_hidden(ASSIGNMENT, cell, namespace)
        if not result.passed:
            failures[cell] = result.report
    return failures


def _mutant(name: str) -> Mutant:
    return next(m for m in MUTANTS if m.name == name)




def _hidden(cell: str, **functions: Any):
    return run_hidden(ASSIGNMENT, cell, functions)


# --- structure --------------------------------------------------------------------------------------------


def test_every_test_cell_has_hidden_checks_and_nothing_else():
    assert sorted(CHECKS) == sorted(test_cells(ASSIGNMENT))
    for grade_id, checks in CHECKS.items():
        assert checks and all(isinstance(check, Check) for check in checks), grade_id
        if grade_id == TRAINING:  # a framework task: the course's own builders and fit are off limits
            assert all(check.forbid == ("coursepkg",) for check in checks)
            assert all(check.time_limit == hidden_rnn.TRAIN_SECONDS for check in checks)
        else:  # the NumPy tasks are from scratch
            assert all(check.forbid == FROM_SCRATCH for check in checks), grade_id


def test_every_numpy_check_has_edge_cases_and_random_ones():
    for grade_id, checks in CHECKS.items():
        if grade_id == TRAINING:
            continue
        for check in checks:
            cases = check.cases()
            assert len(cases) >= 5, f"{grade_id} / {check.name}: only {len(cases)} cases"
            labels = [case["label"] for case in cases]
            assert any(label.startswith("random case") for label in labels), grade_id
            assert sum(not label.startswith("random case") for label in labels) >= 3, grade_id
            assert _same_cases(check.cases(), cases), f"{grade_id} / {check.name}: the cases must be deterministic"


def _same_cases(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_cases(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(_same_cases, a, b))
    return a == b


def test_the_step_cases_include_a_batch_of_one_and_non_square_weights():
    for cell in ("test_rnn_step", "test_lstm_step", "test_gru_step"):
        cases = CHECKS[cell][0].cases()
        assert any(case["x"].shape[0] == 1 for case in cases), cell
        assert any(case["x"].shape[1] > case["h"].shape[1] for case in cases), cell
        assert any(case["x"].shape[1] < case["h"].shape[1] for case in cases), cell
        assert any(not case["h"].any() for case in cases), cell  # a zero previous state
    sequences = CHECKS["test_rnn_backward"][0].cases()
    assert any(case["x"].shape[1] == 1 for case in sequences)  # one time step
    assert any(not case["dhs"][:, :-1].any() for case in sequences)  # a loss on the last step only


def test_the_held_out_sequences_are_private_and_balanced():
    x, y = hidden_rnn._held_out(hidden_rnn.N_HELD_OUT, 10)
    assert x.shape == (hidden_rnn.N_HELD_OUT, 10, 1) and x.dtype == np.float32
    assert 0.45 < y.mean() < 0.55
    notebook = (source_dir(ASSIGNMENT) / f"{ASSIGNMENT}.md").read_text()
    for seed in (hidden_rnn._HELD_OUT_SEED, hidden_rnn.GRADER_SEED):
        assert str(seed) not in notebook and hex(seed) not in notebook.lower()
    (train_case,) = CHECKS[TRAINING][0].cases()
    from coursepkg.data import binary_sequences

    x_train, y_train = binary_sequences(4000, rng=0)  # what the notebook trains on
    assert np.array_equal(train_case["x_train"], x_train) and np.array_equal(train_case["y_train"], y_train)
    assert "x_train, y_train = binary_sequences(4000, rng=0)" in notebook


def test_mutants_replace_answer_cells_and_name_test_cells():
    answers, tests = set(answer_cells(ASSIGNMENT)), set(test_cells(ASSIGNMENT))
    assert len(MUTANTS) >= 4
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    for mutant in MUTANTS:
        assert set(mutant.replace) <= answers, mutant.name
        assert mutant.fails <= tests, mutant.name
        for source in mutant.replace.values():
            assert "### BEGIN SOLUTION" not in source and "### END SOLUTION" not in source, mutant.name
    caught = set().union(*(m.fails for m in MUTANTS))
    assert caught == tests, f"no mutant fails {sorted(tests - caught)}: add one, or the check is a defect"


def test_blank_stub_keeps_signature_and_docstring():
    source = answer_source(ASSIGNMENT, "lstm_step")
    stubbed = clear_answers(source)
    assert "### BEGIN SOLUTION" not in stubbed and "sigmoid(" not in stubbed
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()" in stubbed
    assert stubbed.startswith("def lstm_step(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):")
    assert "gate order i, f, g, o" in stubbed


def test_every_test_cell_ends_with_its_own_hidden_block():
    for grade_id, _, is_test, source in code_cells(ASSIGNMENT):
        if is_test:
            assert source.rstrip().endswith(
                "### BEGIN HIDDEN TESTS\nfrom autograder.kernel import run_hidden\n"
                f'_hidden = run_hidden("rnn", "{grade_id}", globals())\n'
                "assert _hidden.passed, _hidden.report\n### END HIDDEN TESTS"
            ), grade_id


# --- the hidden block alone, on namespaces built here (fast) ----------------------------------------------


def test_reference_passes_every_hidden_check():
    assert _hidden_failures("reference") == {}


def test_the_numpy_checks_run_in_a_few_seconds():
    namespace = _namespace()
    start = time.perf_counter()
    for cell in CHECKS:
        if cell != TRAINING:
            assert run_hidden(ASSIGNMENT, cell, namespace).passed, cell
    assert time.perf_counter() - start < 10.0


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_fails_exactly_its_cells_in_the_hidden_block(mutant: Mutant):
    failures = _hidden_failures(mutant.name)
    assert set(failures) == set(mutant.fails), (
        f"{mutant.name}: expected {sorted(mutant.fails)} to fail, got {sorted(failures)}\n"
        + "\n".join(failures.values())
    )
    for cell, report in failures.items():
        assert report.startswith("1 of 1 hidden checks failed"), report
        assert GRADED_FUNCTION[cell] in report, f"{mutant.name}/{cell}: the report names no function:\n{report}"
        assert "Hint" in report or "from scratch" in report or "raised" in report, report


# What each mutant's report must say: the mistake, named, in the words a student can act on.
DIAGNOSES = {
    "rnn-step-no-bias-hh": ("test_rnn_step", r"rnn_step, one unit, one input, a batch of one: h_next: 1 of 1 values "
                            r"differ; .* Hint: bias_hh is left out: add both biases"),
    "lstm-gate-order-ifog": ("test_lstm_step", r"lstm_step, .*: c_next: .*Hint: your gates come out as if the blocks "
                             r"were in the order i, f, o, g; PyTorch's order is i, f, g, o"),
    "lstm-no-forget-gate": ("test_lstm_step", r"Hint: the forget gate is missing: c_next = f \* c_prev \+ i \* g"),
    "lstm-calls-reference": ("test_lstm_step", r"lstm_step must be written from scratch, but it called "
                             r"coursepkg\.rnn\.cells\.lstm_step"),
    "gru-z-swapped": ("test_gru_step", r"Hint: z and 1 - z are swapped: h_next = \(1 - z\) \* n \+ z \* h_prev, so "
                      r"that z = 1 keeps the old state"),
    "gru-reset-before": ("test_gru_step", r"Hint: the reset gate is applied before the recurrent product, r \* h_prev "
                         r"\(Keras's reset_after=False\)"),
    "gru-calls-torch": ("test_gru_step", r"gru_step must be written from scratch, but it called torch\.nn"),
    "forward-ignores-h0": ("test_rnn_forward", r"rnn_forward, one time step \(T=1\): hs: .*Hint: the initial state h0 "
                           r"is ignored"),
    "bptt-no-tanh-derivative": ("test_rnn_backward", r"rnn_backward, one time step \(T=1\): grads\['dx'\]: .*Hint: "
                                r"the tanh derivative is missing: delta_t = dL/dh_t \* \(1 - h_t\*\*2\)"),
    "bptt-no-accumulation": ("test_rnn_backward", r"grads\['dweight_ih'\]: .*\(dweight_hh differ too\.\) Hint: "
                             r"grads\['dweight_ih'\] is the contribution of step 0 alone: .* add up \(\+=\)"),
    "bptt-no-recurrent-gradient": ("test_rnn_backward", r"Hint: the gradient from later steps is not carried back: "
                                   r"dL/dh_t = dhs\[:, t\] \+ delta_\{t\+1\} @ weight_hh"),
    "numgrad-one-sided": ("test_gradient_check", r"rnn_numerical_gradients\(\.\.\., eps=0\.0001\), .*Hint: these are "
                          r"one-sided differences"),
    "clip-per-array": ("test_clip_grad_norm", r"clip_grad_norm, a global norm of 50 clipped to 1: "
                       r"clipped\['dweight_ih'\]: .*Hint: each array is clipped by its own norm"),
    "clip-no-epsilon": ("test_clip_grad_norm", r"clip_grad_norm, a small norm just above max_norm \(the 1e-6 "
                        r"matters\): .*Hint: the 1e-6 is missing"),
    "clip-returns-norm-after": ("test_clip_grad_norm", r"the norm returned: expected 50, got 0\.99.*Hint: this is the "
                                r"norm after clipping; return the norm before clipping"),
    "train-does-not-converge": (TRAINING, r"accuracy on 2000 held-out sequences: expected at least 90%, got \d+\.\d%"
                                r" \(the grader trained your model with seed=\d+\)\. Hint: check that it trains"),
    "train-sigmoid-output": (TRAINING, r"Hint: your outputs all lie in \[0, 1\], like probabilities; return logits"),
    "train-last-step-only": (TRAINING, r"accuracy on 2000 held-out sequences: expected at least 90%, got (5|6)\d\.\d%"),
    "train-flattened-dense": (TRAINING, r"a recurrent model \(it reads sequences of any length\).*: @forward\(<your "
                              r"model>, array of shape \(64, 17, 1\) float32\) raised RuntimeError"),
}


def test_every_mutant_has_a_pinned_diagnosis():
    assert sorted(DIAGNOSES) == sorted(m.name for m in MUTANTS)


@pytest.mark.parametrize("name", sorted(DIAGNOSES))
def test_the_report_names_the_mistake(name: str):
    cell, pattern = DIAGNOSES[name]
    report = _hidden_failures(name)[cell]
    with pytest.raises(AssertionError, match=re.compile(pattern, re.DOTALL)):
        raise AssertionError(report)


# --- the whole notebook, as nbgrader runs it ----------------------------------------------------------------


def test_reference_solution_passes_every_test_cell():
    grade = graded(ASSIGNMENT, "reference")
    assert set(grade.tests) == set(test_cells(ASSIGNMENT))
    assert not grade.failed, {g: grade.tests[g].message for g in grade.failed}
    assert not grade.errors, grade.errors  # the plots, the gradient check and the training cell run too


def test_blank_release_fails_every_test_cell():
    grade = graded(ASSIGNMENT, "blank")
    assert grade.failed == set(test_cells(ASSIGNMENT)), f"test cells that pass with no answer: {set(grade.tests) - grade.failed}"
    for cell, result in grade.tests.items():
        if cell == TRAINING:  # its visible test reads what the (failing) training cell above would have made
            assert "val_logits is not defined" in result.message and "NotImplementedError" in result.message
        else:
            assert "NotImplementedError" in result.message, result.message
    # the other cells fail only because an answer is missing, never for a reason of their own
    assert all("NotImplementedError" in error for error in grade.errors.values()), grade.errors


# Mutants that pass every visible test: only the hidden block catches them.
HIDDEN_ONLY = ("lstm-calls-reference", "gru-calls-torch", "numgrad-one-sided", "clip-no-epsilon",
               "train-flattened-dense")


@pytest.mark.slow
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_fails_exactly_its_cells_in_the_notebook(mutant: Mutant):
    grade = graded(ASSIGNMENT, mutant.name)
    assert grade.failed == mutant.fails, (
        f"{mutant.name}: expected {sorted(mutant.fails)} to fail, got {sorted(grade.failed)}\n"
        + "\n".join(f"{g}: {grade.tests[g].message}" for g in sorted(grade.failed ^ mutant.fails) if g in grade.tests)
    )
    for cell in grade.failed:
        report = grade.tests[cell].message
        hidden_only = report.startswith("AssertionError: 1 of 1 hidden checks failed")
        assert hidden_only == (mutant.name in HIDDEN_ONLY), f"{mutant.name}/{cell}: {report}"


# --- messages for answers of the wrong shape, on namespaces built here ----------------------------------------


def test_missing_function_is_named():
    result = _hidden("test_rnn_step")
    with pytest.raises(AssertionError, match=r"the notebook does not define a function named 'rnn_step'"):
        assert result.passed, result.report


def test_an_lstm_step_returning_only_h_is_told_to_return_both_states():
    namespace = _namespace()
    result = _hidden("test_lstm_step", lstm_step=lambda *args: namespace["lstm_step"](*args)[0])
    with pytest.raises(AssertionError, match=r"lstm_step, one unit, one input, a batch of one: expected a tuple "
                       r"\(h_next, c_next\) of two arrays, got ndarray"):
        assert result.passed, result.report


def test_an_rnn_forward_returning_only_hs_is_told_about_the_cache():
    namespace = _namespace()
    result = _hidden("test_rnn_forward", rnn_forward=lambda *args: namespace["rnn_forward"](*args)[0])
    with pytest.raises(AssertionError, match=r"rnn_forward, one time step \(T=1\): expected the tuple \(hs, cache\)"):
        assert result.passed, result.report


def test_backward_gradients_as_a_tuple_or_with_a_missing_key_are_explained():
    namespace = _namespace()

    def as_tuple(dhs, cache):
        return tuple(namespace["rnn_backward"](dhs, cache).values())

    def without_dh0(dhs, cache):
        grads = namespace["rnn_backward"](dhs, cache)
        del grads["dh0"]
        return grads

    result = _hidden("test_rnn_backward", rnn_backward=as_tuple)
    with pytest.raises(AssertionError, match=r"rnn_backward, one time step \(T=1\): expected a dict with the keys dx, "
                       r"dh0, dweight_ih, dweight_hh, dbias_ih, dbias_hh, got list"):
        assert result.passed, result.report
    result = _hidden("test_rnn_backward", rnn_backward=without_dh0)
    with pytest.raises(AssertionError, match=r"the dict it returns lacks the key\(s\) dh0"):
        assert result.passed, result.report


def test_a_dh0_that_skips_the_first_weight_hh_is_recognised():
    namespace = _namespace()

    def dh0_too_early(dhs, cache):
        weight_hh = cache[4]
        grads = namespace["rnn_backward"](dhs, cache)
        grads["dh0"] = np.linalg.solve(weight_hh.T, grads["dh0"].T).T  # delta_1, before it goes through weight_hh
        return grads

    result = _hidden("test_rnn_backward", rnn_backward=dh0_too_early)
    with pytest.raises(AssertionError, match=r"grads\['dh0'\]: .*Hint: dh0 must go through the first step's weight_hh"):
        assert result.passed, result.report


def test_gru_gate_order_of_keras_is_recognised():
    namespace = _namespace()

    def keras_order(x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
        H = h_prev.shape[1]
        swap = np.r_[H:2 * H, 0:H, 2 * H:3 * H]  # reads block 0 as z and block 1 as r
        return namespace["gru_step"](x, h_prev, weight_ih[swap], weight_hh[swap], bias_ih[swap], bias_hh[swap])

    result = _hidden("test_gru_step", gru_step=keras_order)
    with pytest.raises(AssertionError, match=r"Hint: your gates come out as if the blocks were in the order z, r, n; "
                       r"PyTorch's order is r, z, n"):
        assert result.passed, result.report


def test_clip_grad_norm_that_scales_small_gradients_up_is_recognised():
    def always(grads, max_norm):
        norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
        return {k: g * (max_norm / (norm + 1e-6)) for k, g in grads.items()}, norm

    result = _hidden("test_clip_grad_norm", clip_grad_norm=always)
    with pytest.raises(AssertionError, match=r"a norm below max_norm \(no clipping\): .*Hint: the factor is min\(1, "
                       r"max_norm / \(norm \+ 1e-6\)\): gradients with a small norm are left unchanged"):
        assert result.passed, result.report


def test_clip_grad_norm_returning_only_the_dict_is_explained():
    namespace = _namespace()
    result = _hidden("test_clip_grad_norm", clip_grad_norm=lambda g, m: namespace["clip_grad_norm"](g, m)[0])
    with pytest.raises(AssertionError, match=r"expected the tuple \(clipped dict, norm\), got dict"):
        assert result.passed, result.report


def test_a_model_with_one_dimensional_output_is_told_the_shape():
    import torch

    namespace = _namespace()

    class Squeezed(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x)[:, 0]

    def train(x, y, *, seed=0):
        return Squeezed(namespace["train_sequence_model"](x, y, seed=seed))

    result = _hidden(TRAINING, train_sequence_model=train)
    with pytest.raises(AssertionError, match=r"the output of your trained model on 2000 new sequences of length 10: "
                       r"expected logits of shape \(2000, 1\), got \(2000,\)"):
        assert result.passed, result.report


def test_a_training_that_calls_the_course_builders_is_refused():
    def course_model(x, y, *, seed=0):
        from coursepkg.recurrent.torch import sequence_classifier

        return sequence_classifier(1, 8)

    result = _hidden(TRAINING, train_sequence_model=course_model)
    with pytest.raises(AssertionError, match=r"train_sequence_model must be written from scratch, but it called "
                       r"coursepkg\.recurrent"):
        assert result.passed, result.report


KERAS_ANSWER = '''\
def train_sequence_model(x, y, *, seed=0):
    """The Keras twin of the reference: GRU(32), a logit, Adam with a learning rate decaying to 0."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((None, 1)), keras.layers.GRU(32), keras.layers.Dense(1)])
    schedule = keras.optimizers.schedules.PolynomialDecay(1e-2, 6 * -(-len(x) // 64), 0.0)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(x, y.astype("float32"), epochs=6, batch_size=64, verbose=0)
    return model
'''


@pytest.mark.slow
def test_a_keras_answer_passes_the_training_cell():
    result = run_hidden(ASSIGNMENT, TRAINING, _namespace({"train_sequence_model": KERAS_ANSWER}))
    assert result.passed, result.report
