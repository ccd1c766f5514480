"""The hidden checks of the assignment ``conv``, run on its reference solution, its mutants and its blank release.

:func:`autograder.inprocess.grade_in_process` executes the source notebook (``assignments/source/conv/conv.md``)
in this process, as ``nbgrader autograde`` would run a submission: the instructor's test cells (visible tests
plus the hidden block) after the answer cells, which are the reference solution, a mutant's replacements or
the release's stubs. A test cell passes when it raises nothing and writes nothing to stderr. Also pinned here:
the messages the checks give students for the usual mistakes.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from autograder.checks import Check
from autograder.hidden.conv import CHECKS
from autograder.inprocess import clear_answers
from autograder.kernel import run_hidden
from autograder.mutants import Mutant, mutants_of

from tests.grading.hidden.source_cells import answer_cells, answer_source, graded, test_cells

ASSIGNMENT = "conv"
MUTANTS = mutants_of(ASSIGNMENT)

# The function each test cell grades: a failing cell's report must name it.
GRADED_FUNCTION = {
    "test_pad2d": "pad2d",
    "test_conv_output_size": "conv_output_size",
    "test_conv2d_single": "conv2d_single",
    "test_conv2d_multichannel": "conv2d",
    "test_conv2d_stride": "conv2d",
    "test_edges": "edge_maps",
    "test_params": "_params",
}






# --- structure --------------------------------------------------------------------------------------------


def test_every_test_cell_has_hidden_checks_and_nothing_else():
    assert sorted(CHECKS) == sorted(test_cells(ASSIGNMENT))
    for grade_id, checks in CHECKS.items():
        assert checks, grade_id
        assert all(isinstance(check, Check) for check in checks)
        assert all(check.forbid for check in checks), f"{grade_id}: every task of conv is from scratch"


def test_every_check_has_edge_cases_and_random_ones():
    for grade_id, checks in CHECKS.items():
        for check in checks:
            cases = check.cases()
            assert len(cases) >= 10, f"{grade_id} / {check.name}: only {len(cases)} cases"
            assert _same_cases(check.cases(), cases), f"{grade_id} / {check.name}: the cases must be deterministic"


def _same_cases(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_cases(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(_same_cases, a, b))
    return a == b


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
    source = answer_source(ASSIGNMENT, "pad2d")
    stubbed = clear_answers(source)
    assert "### BEGIN SOLUTION" not in stubbed and "np.zeros" not in stubbed
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()" in stubbed
    assert stubbed.startswith("def pad2d(x, p):") and '"""Pad the last two axes' in stubbed


# --- reference, blank release and mutants -------------------------------------------------------------------


def test_reference_solution_passes_every_test_cell():
    grade = graded(ASSIGNMENT, "reference")
    assert set(grade.tests) == set(test_cells(ASSIGNMENT))
    assert not grade.failed, {g: grade.tests[g].message for g in grade.failed}
    assert not grade.errors, grade.errors  # the plots and the other cells run too


def test_blank_release_fails_every_test_cell():
    grade = graded(ASSIGNMENT, "blank")
    assert grade.failed == set(test_cells(ASSIGNMENT)), f"test cells that pass with no answer: {set(grade.tests) - grade.failed}"
    assert all("NotImplementedError" in result.message for result in grade.tests.values())
    # the other cells fail only because an answer is missing, never for a reason of their own
    assert all("NotImplementedError" in error for error in grade.errors.values()), grade.errors


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_fails_exactly_its_cells(mutant: Mutant):
    grade = graded(ASSIGNMENT, mutant.name)
    assert grade.failed == mutant.fails, (
        f"{mutant.name}: expected {sorted(mutant.fails)} to fail, got {sorted(grade.failed)}\n"
        + "\n".join(f"{g}: {grade.tests[g].message}" for g in sorted(grade.failed ^ mutant.fails) if g in grade.tests)
    )
    for grade_id in grade.failed:
        report = grade.tests[grade_id].message
        assert GRADED_FUNCTION[grade_id] in report, f"{mutant.name}/{grade_id}: report names no function:\n{report}"
        assert "Hint" in report or "from scratch" in report or "ValueError" in report, report


# Mutants whose mistakes the visible tests cannot see: the hidden block must catch them, with these words.
HIDDEN_ONLY = {
    "pad2d-np-pad": ("test_pad2d",
                     r"pad2d must be written from scratch, but it called numpy\.lib\.(_arraypad_impl|arraypad)\.pad"),
    "output-size-ceil": ("test_conv_output_size", r"conv_output_size\(7, 3, p=0, s=3\): expected 2, got 3\. Hint: "
                         r"round down \(floor\)"),
    "single-flipped-kernel": ("test_conv2d_single", r"you flipped the kernel \(a true convolution\)"),
    "single-hard-coded": ("test_conv2d_single",
                          r"conv2d_single\(image, kernel\): expected an output of shape \(4, 6\)"),
    "single-scipy": ("test_conv2d_single", r"conv2d_single must be written from scratch, but it called scipy\.signal"),
    "conv2d-calls-reference": ("test_conv2d_multichannel",
                               r"conv2d must be written from scratch, but it called coursepkg\.ops"),
}


@pytest.mark.parametrize("name", sorted(HIDDEN_ONLY))
def test_hidden_block_catches_what_the_visible_tests_miss(name: str):
    grade_id, pattern = HIDDEN_ONLY[name]
    report = graded(ASSIGNMENT, name).tests[grade_id].message
    assert report.startswith("AssertionError: 1 of 1 hidden checks failed"), report
    with pytest.raises(AssertionError, match=pattern):
        raise AssertionError(report)


# --- messages, on namespaces built here -----------------------------------------------------------------------


def _hidden(cell: str, **functions: Any):
    return run_hidden(ASSIGNMENT, cell, functions)


def test_missing_function_is_named():
    result = _hidden("test_pad2d")
    assert not result.passed
    with pytest.raises(AssertionError, match=r"the notebook does not define a function named 'pad2d'"):
        assert result.passed, result.report


def _loop_conv2d(x, w, b=None, stride=1, padding=0, *, strided=True):
    """A from-scratch conv2d for these tests; ``strided=False`` is the mistake of ignoring the stride."""
    n, _, h, wd = x.shape
    f, _, kh, kw = w.shape
    out = np.zeros((n, f, (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1))
    xp = np.zeros((*x.shape[:2], h + 2 * padding, wd + 2 * padding))
    xp[:, :, padding:padding + h, padding:padding + wd] = x
    step = stride if strided else 1
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            field = xp[:, :, i * step:i * step + kh, j * step:j * step + kw]  # (N, C, KH, KW)
            out[:, :, i, j] = np.tensordot(field, w, axes=([1, 2, 3], [1, 2, 3]))  # (N, F)
    return out if b is None else out + np.asarray(b)[None, :, None, None]


def test_a_from_scratch_conv2d_passes_both_cells():
    assert _hidden("test_conv2d_multichannel", conv2d=_loop_conv2d).passed
    assert _hidden("test_conv2d_stride", conv2d=_loop_conv2d).passed


def test_conv2d_messages_name_the_case_and_the_mistake():
    def no_bias(x, w, b=None, stride=1, padding=0):
        return _loop_conv2d(x, w, None, stride, padding)

    result = _hidden("test_conv2d_multichannel", conv2d=no_bias)
    with pytest.raises(AssertionError, match=r"conv2d\(x, w, b, stride=1, padding=0\): \d+ of \d+ values differ; "
                       r"at index \(0, 0, 0, 0\) expected .*Hint: the bias is missing.*\n +\(input: conv2d\(array "
                       r"of shape \(1, 3, 5, 7\) float64, array of shape \(2, 3, 3, 3\) float64"):
        assert result.passed, result.report


def test_stride_mistake_is_recognised():
    def unstrided(x, w, b=None, stride=1, padding=0):
        return _loop_conv2d(x, w, b, stride, padding, strided=False)

    assert _hidden("test_conv2d_multichannel", conv2d=unstrided).passed  # stride 1: nothing to see
    result = _hidden("test_conv2d_stride", conv2d=unstrided)
    with pytest.raises(AssertionError, match=r"Hint: output \(i, j\) must start at row stride \* i"):
        assert result.passed, result.report


def test_calling_the_reference_is_refused_whatever_the_values():
    from coursepkg import ops

    def reference(x, w, b=None, stride=1, padding=0):
        return ops.conv2d_naive(x, w, b, stride=stride, padding=padding)

    result = _hidden("test_conv2d_stride", conv2d=reference)
    with pytest.raises(AssertionError, match=r"conv2d must be written from scratch, but it called "
                       r"coursepkg\.ops\.conv\.conv2d_naive.*own implementation"):
        assert result.passed, result.report


def test_edges_wrong_return_type_is_explained():
    result = _hidden("test_edges", edge_maps=lambda image, kx, ky: {"gx": image})
    with pytest.raises(AssertionError, match=r"edge_maps\(image, kx, ky\) must return three arrays, gx, gy and "
                       r"magnitude; it returned dict"):
        assert result.passed, result.report


def test_edges_accepts_a_stacked_array_and_rejects_a_flip():
    def stacked(image, kx, ky):
        bank = np.stack([kx, ky])[:, None]
        xp = np.pad(image, 1)
        out = np.zeros((2, *image.shape))
        for i in range(image.shape[0]):
            for j in range(image.shape[1]):
                out[:, i, j] = np.sum(xp[i:i + 3, j:j + 3] * bank[:, 0], axis=(1, 2))
        return np.stack([out[0], out[1], np.hypot(out[0], out[1])])

    assert _hidden("test_edges", edge_maps=stacked).passed

    def flipped(image, kx, ky):
        gx, gy, magnitude = stacked(image, kx[::-1, ::-1], ky[::-1, ::-1])
        return gx, gy, magnitude

    result = _hidden("test_edges", edge_maps=flipped)
    with pytest.raises(AssertionError, match=r"gx of edge_maps\(image, kx, ky\): .*Hint: conv2d of the image with kx"):
        assert result.passed, result.report


def test_params_hints():
    result = _hidden("test_params", dense_params=lambda n_in, n_out: n_in * n_out,
                     conv2d_params=lambda c, f, k: f * (k * k + 1))
    assert result.report.startswith("2 of 2 hidden checks failed")
    assert re.search(r"dense_params\(1, 1\): expected 2, got 1\. Hint: add one bias per unit", result.report)
    assert re.search(r"conv2d_params\(3, 100, 5\): expected 7600, got 2600\. Hint: each filter has one KH x KW "
                     r"kernel per input channel", result.report)


def test_padding_and_size_hints():
    def top_left(x, p):
        out = np.zeros((*x.shape[:-2], x.shape[-2] + 2 * p, x.shape[-1] + 2 * p), dtype=x.dtype)
        out[..., :x.shape[-2], :x.shape[-1]] = x
        return out

    result = _hidden("test_pad2d", pad2d=top_left)
    with pytest.raises(AssertionError, match=r"pad2d\(x, 2\) for x of shape \(3, 5\): .*Hint: x belongs in the "
                       r"middle, out\[\.\.\., p:p \+ H, p:p \+ W\], not in the top-left corner"):
        assert result.passed, result.report

    result = _hidden("test_conv_output_size", conv_output_size=lambda n, f, p=0, s=1: (n + 2 * p - f) // s)
    with pytest.raises(AssertionError, match=r"conv_output_size\(125, 5, p=2, s=2\): expected 63, got 62\. "
                       r"Hint: add 1 for the first position"):
        assert result.passed, result.report
