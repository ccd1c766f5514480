"""The hidden checks of the assignment ``architectures``: reference solution, mutants, blank release, messages.

:func:`autograder.inprocess.grade_in_process` executes the source notebook
(``assignments/source/architectures/architectures.md``) in this process, as ``nbgrader autograde`` would run a
submission: the instructor's test cells (visible tests plus the hidden block) after the answer cells, which are
the reference solution (PyTorch, the notebook's default ``FRAMEWORK``), a mutant's replacements or the
release's stubs. A test cell passes when it raises nothing and writes nothing to stderr.

Also here: the judges' own references (parameter counts and NumPy forward passes) against the course's PyTorch
blocks, other correct solutions that must pass (PyTorch written differently; Keras, marked slow because
TensorFlow takes seconds to import), and the messages students get for the usual mistakes.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from autograder.checks import Check
from autograder.course import load_source, source_dir
from autograder.hidden import architectures as hidden
from autograder.hidden.architectures import CHECKS
from autograder.inprocess import clear_answers, grade_in_process
from autograder.kernel import run_hidden
from autograder.mutants import Mutant, mutants_of
from coursepkg.models import torch as tm

from tests.grading.hidden.source_cells import answer_cells, answer_source, graded, test_cells

ASSIGNMENT = "architectures"
MUTANTS = mutants_of(ASSIGNMENT)

# The function each test cell grades: a failing cell's report must name it.
GRADED_FUNCTION = {
    "test_table_shapes": "layer_table",
    "test_table_params": "layer_table",
    "test_residual_identity": "residual_block",
    "test_residual_projection": "residual_block",
    "test_dense_block": "dense_block",
    "test_small_resnet": "small_resnet",
}






# --- structure --------------------------------------------------------------------------------------------


def test_every_test_cell_has_hidden_checks_and_nothing_else():
    assert sorted(CHECKS) == sorted(test_cells(ASSIGNMENT)) == sorted(GRADED_FUNCTION)
    for grade_id, checks in CHECKS.items():
        assert checks and all(isinstance(check, Check) for check in checks), grade_id
        assert all("coursepkg" in check.forbid for check in checks), f"{grade_id}: coursepkg must be refused"


def test_cases_are_deterministic_and_include_random_ones():
    for grade_id, checks in CHECKS.items():
        for check in checks:
            cases = check.cases()
            assert len(cases) >= 3, f"{grade_id} / {check.name}: only {len(cases)} cases"
            assert repr(check.cases()) == repr(cases), f"{grade_id} / {check.name}: the cases must be deterministic"
    assert len(hidden._table_cases()) == len(hidden.TABLE_CASES) + 6  # explicit edge cases + hypothesis draws


def test_the_notebook_states_two_manually_graded_answers():
    written = [cell for cell in load_source(ASSIGNMENT).cells
               if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution")]
    assert [cell.metadata["nbgrader"]["grade_id"] for cell in written] == ["why_residual", "dense_vs_residual"]
    assert all(cell.metadata["nbgrader"]["points"] == 2 for cell in written)


def test_mutants_replace_answer_cells_and_every_test_cell_fails_on_one():
    answers, tests = set(answer_cells(ASSIGNMENT)), set(test_cells(ASSIGNMENT))
    assert len(MUTANTS) >= 4 and len({m.name for m in MUTANTS}) == len(MUTANTS)
    for mutant in MUTANTS:
        assert set(mutant.replace) <= answers, mutant.name
        assert mutant.fails <= tests, mutant.name
    caught = set().union(*(m.fails for m in MUTANTS))
    assert caught == tests, f"no mutant fails {sorted(tests - caught)}: add one, or the check is a defect"


def test_blank_stub_keeps_signature_and_docstring():
    source = answer_source(ASSIGNMENT, "residual_block")
    stubbed = clear_answers(source)
    assert "### BEGIN SOLUTION" not in stubbed and "nn.Conv2d" not in stubbed and "keras.Input" not in stubbed
    assert stubbed.startswith("def residual_block(in_channels, out_channels, stride=1):")
    assert '"""A basic residual block' in stubbed
    assert stubbed.rstrip().endswith("    # YOUR CODE HERE\n    raise NotImplementedError()")


# --- reference, blank release and mutants -------------------------------------------------------------------


def test_reference_solution_passes_every_test_cell():
    grade = graded(ASSIGNMENT, "reference")
    assert set(grade.tests) == set(test_cells(ASSIGNMENT))
    assert not grade.failed, {g: grade.tests[g].message for g in grade.failed}
    assert not grade.errors, grade.errors  # the plots and the training run too


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
        assert "Hint" in report or "from scratch" in report, f"{mutant.name}/{grade_id}: no hint:\n{report}"


# Mutants whose mistakes the visible tests cannot see: the hidden block must catch them, with these words.
HIDDEN_ONLY = {
    "table-pool-halves": ("test_table_shapes", r"layer_table: output shapes match coursepkg\.params: output shape of "
                          r"layer 2, \('pool', 2, 1\), on an input of shape \(3, 4, 3\): expected \[2, 3, 3\], "
                          r"got \[3, 4, 3\]\. Hint: floor\(\(n \+ 2p - k\) / s\) \+ 1"),
    "table-calls-coursepkg": ("test_table_params", r"layer_table must be written from scratch, but it called "
                              r"coursepkg\.params"),
    "residual-calls-coursepkg": ("test_residual_identity", r"residual_block must be written from scratch, but it "
                                 r"called coursepkg\.models\.torch\.resnet"),
    "small-resnet-no-stride": ("test_small_resnet", r"small_resnet: computes the specified network: "
                               r"small_resnet\(num_classes=10, in_channels=1\) on x of shape \(2, 1, 8, 8\), compared "
                               r"with the specified network computed from your own weights: .* values differ"),
    "small-resnet-max-pool": ("test_small_resnet", r"Hint: stem, residual_block\(16, 16\), \(16, 32, stride=2\), "
                              r"\(32, 64, stride=2\), global average pooling, dense"),
}


@pytest.mark.parametrize("name", sorted(HIDDEN_ONLY))
def test_hidden_block_catches_what_the_visible_tests_miss(name: str):
    grade_id, pattern = HIDDEN_ONLY[name]
    report = graded(ASSIGNMENT, name).tests[grade_id].message
    assert report.startswith("AssertionError: ") and "hidden checks failed" in report, report
    with pytest.raises(AssertionError, match=pattern):
        raise AssertionError(report)


# --- other correct solutions pass -----------------------------------------------------------------------------

ALTERNATIVE_TORCH = {
    # Shortcut registered first, the main path a Sequential, F.relu, in-place ReLU.
    "residual_block": '''\
import torch.nn.functional as F


class MyBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.shortcut = None
        if stride > 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size=1, stride=stride, bias=False),
                                          nn.BatchNorm2d(c_out))
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        skip = x if self.shortcut is None else self.shortcut(x)
        return F.relu(self.body(x) + skip)


def residual_block(in_channels, out_channels, stride=1):
    return MyBlock(in_channels, out_channels, stride)
''',
    # Layers as named attributes, the features concatenated as they come.
    "dense_block": '''\
class MyDense(nn.Module):
    def __init__(self, c0, n, k):
        super().__init__()
        self.n = n
        for i in range(n):
            c = c0 + i * k
            setattr(self, f"layer{i}", nn.Sequential(
                nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, 4 * k, kernel_size=1, bias=False),
                nn.BatchNorm2d(4 * k), nn.ReLU(), nn.Conv2d(4 * k, k, kernel_size=3, padding=1, bias=False)))

    def forward(self, x):
        out = x
        for i in range(self.n):
            out = torch.cat([out, getattr(self, f"layer{i}")(out)], dim=1)
        return out


def dense_block(in_channels, num_layers, growth_rate):
    return MyDense(in_channels, num_layers, growth_rate)
''',
    # A class with the pooling written as a mean.
    "small_resnet": '''\
class SmallResNet(nn.Module):
    def __init__(self, num_classes, in_channels):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.blocks = nn.Sequential(residual_block(16, 16), residual_block(16, 32, stride=2),
                                    residual_block(32, 64, stride=2))
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean(dim=(2, 3)))


def small_resnet(num_classes=10, in_channels=1):
    return SmallResNet(num_classes, in_channels)
''',
}


def test_correct_torch_solutions_written_differently_pass():
    grade = grade_in_process(ASSIGNMENT, replace=ALTERNATIVE_TORCH)
    assert not grade.failed, {g: grade.tests[g].message for g in grade.failed}
    assert not grade.errors, grade.errors


def _keras_course(tmp_path: Path) -> Path:
    """A copy of the course whose notebook says FRAMEWORK = "keras"."""
    course = tmp_path / "course"
    target = source_dir(ASSIGNMENT, course)
    target.mkdir(parents=True)
    text = (source_dir(ASSIGNMENT) / f"{ASSIGNMENT}.md").read_text()
    assert text.count('FRAMEWORK = "torch"') == 1
    (target / f"{ASSIGNMENT}.md").write_text(text.replace('FRAMEWORK = "torch"', 'FRAMEWORK = "keras"'))
    for extra in source_dir(ASSIGNMENT).iterdir():  # data files, if the assignment ever has some
        if extra.suffix not in (".md", ".ipynb") and extra.is_file():
            shutil.copy(extra, target)
    return course


@pytest.mark.slow
def test_the_keras_solution_passes_every_test_cell(tmp_path: Path):
    grade = grade_in_process(ASSIGNMENT, course_dir=_keras_course(tmp_path))
    assert set(grade.tests) == set(test_cells(ASSIGNMENT))
    assert not grade.failed, {g: grade.tests[g].message for g in grade.failed}
    assert not grade.errors, grade.errors


def _keras_residual_block(bn: dict, strided_padding: str):
    """A Keras student's residual_block: batch norms with ``bn``; the strided conv padded as ``strided_padding``."""
    import keras
    from keras import layers

    def residual_block(in_channels, out_channels, stride=1):
        inputs = keras.Input((None, None, in_channels))
        if strided_padding == "explicit":
            y = layers.Conv2D(out_channels, 3, strides=stride, use_bias=False)(layers.ZeroPadding2D(1)(inputs))
        else:
            y = layers.Conv2D(out_channels, 3, strides=stride, padding="same", use_bias=False)(inputs)
        y = layers.ReLU()(layers.BatchNormalization(**bn)(y))
        y = layers.BatchNormalization(**bn)(layers.Conv2D(out_channels, 3, padding="same", use_bias=False)(y))
        shortcut = inputs
        if stride != 1 or in_channels != out_channels:
            shortcut = layers.Conv2D(out_channels, 1, strides=stride, use_bias=False)(inputs)
            shortcut = layers.BatchNormalization(**bn)(shortcut)
        return keras.Model(inputs, layers.ReLU()(layers.Add()([shortcut, y])))

    return residual_block


@pytest.mark.slow
def test_keras_blocks_with_default_batch_norm_pass_and_same_padding_with_stride_2_is_explained():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    default_bn = _keras_residual_block({}, "explicit")  # Keras's epsilon 1e-3 and momentum 0.99
    for cell in ("test_residual_identity", "test_residual_projection"):
        result = run_hidden(ASSIGNMENT, cell, {"residual_block": default_bn})
        assert result.passed, result.report

    same = _keras_residual_block({"epsilon": 1e-5}, "same")
    assert run_hidden(ASSIGNMENT, "test_residual_identity", {"residual_block": same}).passed  # stride 1: the same
    result = run_hidden(ASSIGNMENT, "test_residual_projection", {"residual_block": same})
    with pytest.raises(AssertionError, match=r"residual_block \(projection shortcut\): computes relu\(F\(x\) \+ "
                       r"shortcut\(x\)\): residual_block\(8, 8, stride=2\) on x of shape \(1, 8, 8, 8\).*Keras: "
                       r"ZeroPadding2D\(1\), not padding='same', for stride 2"):
        assert result.passed, result.report


# --- the judges' references against the course's blocks -------------------------------------------------------


@pytest.mark.parametrize("c_in, c_out, stride", [(8, 8, 1), (4, 8, 1), (8, 8, 2), (3, 6, 2), (6, 4, 3), (1, 1, 1)])
def test_residual_count_and_forward_match_the_course_basic_block(c_in: int, c_out: int, stride: int):
    torch.manual_seed(0)
    block = tm.BasicBlock(c_in, c_out, stride=stride).eval()
    assert hidden.residual_params(c_in, c_out, stride) == tm.count_params(block)
    x = np.random.default_rng(0).standard_normal((2, c_in, 7, 6)).astype(np.float32)
    with torch.no_grad():
        expected = block(torch.from_numpy(x)).numpy()
    projection = None if block.downsample is None else block.downsample[0].weight.detach().numpy()
    got = hidden.residual_forward(x, block.conv1.weight.detach().numpy(), block.conv2.weight.detach().numpy(),
                                  projection, stride, eps=block.bn1.eps)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("c_in, num_layers, k", [(3, 2, 4), (1, 1, 2), (8, 4, 1), (64, 6, 32)])
def test_dense_count_and_forward_match_the_course_dense_block(c_in: int, num_layers: int, k: int):
    torch.manual_seed(0)
    block = tm.DenseBlock(c_in, num_layers, growth_rate=k).eval()
    assert hidden.dense_params(c_in, num_layers, k) == tm.count_params(block)
    x = np.random.default_rng(1).standard_normal((2, c_in, 5, 4)).astype(np.float32)
    with torch.no_grad():
        expected = block(torch.from_numpy(x)).numpy()
    kernels = [(layer.conv1.weight.detach().numpy(), layer.conv2.weight.detach().numpy()) for layer in block.children()]
    np.testing.assert_allclose(hidden.dense_forward(x, kernels), expected, rtol=1e-4, atol=1e-5)


def test_small_resnet_count_is_the_stated_one_and_matches_the_course_blocks():
    assert hidden.small_resnet_params(10, 1) == 77_754  # the number the notebook states
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        *[tm.BasicBlock(c_in, c_out, stride=s) for c_in, c_out, s in hidden.SMALL_RESNET_BLOCKS],
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 5),
    ).eval()
    assert hidden.small_resnet_params(5, 3) == tm.count_params(model)
    weights = [p.detach().numpy() for p in model.parameters()]
    kernels, problem = hidden._assign(hidden._kernels("torch", weights), hidden._small_wanted(3), "small_resnet")
    assert problem is None
    dense, problem = hidden._dense_layer("torch", weights, 5)
    assert problem is None
    x = np.random.default_rng(2).standard_normal((2, 3, 13, 10)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(hidden.small_resnet_forward(x, kernels, dense), expected, rtol=1e-4, atol=1e-5)


def test_reference_table_gives_the_published_counts_and_every_case_is_valid():
    alexnet = [("conv", 96, 11, 4, 0), ("pool", 3, 2), ("conv", 256, 5, 1, 2), ("pool", 3, 2),
               ("conv", 384, 3, 1, 1), ("conv", 384, 3, 1, 1), ("conv", 256, 3, 1, 1), ("pool", 3, 2),
               ("flatten",), ("dense", 4096), ("dense", 4096), ("dense", 1000)]  # fmt: skip
    assert sum(params for _, params in hidden.reference_table((227, 227, 3), alexnet)) == 62_378_344
    vgg16 = []
    for widths in [(64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)]:
        vgg16 += [("conv", width, 3, 1, "same") for width in widths] + [("pool", 2, 2)]
    vgg16 += [("flatten",), ("dense", 4096), ("dense", 4096), ("dense", 1000)]
    assert sum(params for _, params in hidden.reference_table((224, 224, 3), vgg16)) == 138_357_544
    for case in hidden._table_cases():
        assert len(hidden.reference_table(case["input_shape"], case["layers"])) == len(case["layers"])


# --- messages, on namespaces built here -----------------------------------------------------------------------


def _table(*, bias: bool = True):
    def layer_table(input_shape, layers):
        shape, rows = tuple(input_shape), []
        for layer in layers:
            if layer[0] == "conv":
                _, f, k, s, p = layer
                h, w, c = shape
                p = 0 if p == "valid" else p
                shape = (h, w, f) if p == "same" else ((h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1, f)
                rows.append((shape, f * (k * k * c + bias)))
            elif layer[0] == "pool":
                _, k, s = layer
                shape = ((shape[0] - k) // s + 1, (shape[1] - k) // s + 1, shape[2])
                rows.append((shape, 0))
            elif layer[0] == "flatten":
                shape = (int(np.prod(shape)),)
                rows.append((shape, 0))
            else:
                rows.append(((layer[1],), (shape[0] + bias) * layer[1]))
                shape = (layer[1],)
        return rows

    return layer_table


def test_a_from_scratch_layer_table_passes_and_a_bias_free_one_is_told_why():
    assert run_hidden(ASSIGNMENT, "test_table_shapes", {"layer_table": _table()}).passed
    assert run_hidden(ASSIGNMENT, "test_table_params", {"layer_table": _table()}).passed
    assert run_hidden(ASSIGNMENT, "test_table_shapes", {"layer_table": _table(bias=False)}).passed
    result = run_hidden(ASSIGNMENT, "test_table_params", {"layer_table": _table(bias=False)})
    with pytest.raises(AssertionError, match=r"parameters of layer 0, \('conv', 8, 5, 2, 1\), on an input of shape "
                       r"\(31, 20, 3\): expected 608, got 600\. Hint: weights plus one bias per filter or unit"):
        assert result.passed, result.report


def test_layer_table_rows_of_the_wrong_form_are_explained():
    def one_short(shape, layers):
        return _table()(shape, layers)[1:]

    result = run_hidden(ASSIGNMENT, "test_table_shapes", {"layer_table": one_short})
    assert re.search(r"layer_table returned 3 rows for 4 layers; return one \(output_shape, params\) pair per layer",
                     result.report)
    result = run_hidden(ASSIGNMENT, "test_table_shapes", {"layer_table": lambda shape, layers: {"rows": []}})
    assert "layer_table must return a list" in result.report


def test_a_block_that_is_not_a_framework_object_is_named():
    def residual_block(in_channels, out_channels, stride=1):
        return np.eye(2)

    result = run_hidden(ASSIGNMENT, "test_residual_identity", {"residual_block": residual_block})
    with pytest.raises(AssertionError, match=r"@forward\(<your block>, array of shape \(2, 8, 7, 5\) float32\) raised "
                       r"TypeError: expected a PyTorch nn\.Module or a Keras Layer/Model, got a numpy\.ndarray"):
        assert result.passed, result.report


def test_missing_functions_are_named():
    result = run_hidden(ASSIGNMENT, "test_dense_block", {})
    with pytest.raises(AssertionError, match=r"the notebook does not define a function named 'dense_block'"):
        assert result.passed, result.report


def _namespace(mutant: str) -> dict[str, Any]:
    """The functions a mutant's cell defines, with the notebook's imports."""
    namespace: dict[str, Any] = {"torch": torch, "nn": nn, "np": np, "math": __import__("math")}
    for source in next(m for m in MUTANTS if m.name == mutant).replace.values():
        exec(compile(source, f"<mutant {mutant}>", "exec"), namespace)  # noqa: S102 - the course's own mutants
    return namespace


def test_a_plain_block_is_told_to_add_the_input_back():
    result = run_hidden(ASSIGNMENT, "test_residual_identity", _namespace("residual-no-shortcut"))
    assert result.report.startswith("1 of 3 hidden checks failed")  # same shape and parameters as the real block
    with pytest.raises(AssertionError, match=r"computes relu\(F\(x\) \+ shortcut\(x\)\): residual_block\(8, 8, "
                       r"stride=1\) on x of shape \(2, 8, 7, 5\), compared with relu\(F\(x\) \+ shortcut\(x\)\) "
                       r"computed from your block's own kernels: .*Hint: add the input x itself back"):
        assert result.passed, result.report


def test_dense_block_mistakes_are_explained():
    result = run_hidden(ASSIGNMENT, "test_dense_block", _namespace("dense-input-last"))
    assert re.search(r"the first 3 output channels of dense_block\(3, 2, growth_rate=4\): .*Hint: the output is the "
                     r"concatenation \[x, y_0, \.\.\., y_\(L-1\)\]: the block's input comes first", result.report)
    result = run_hidden(ASSIGNMENT, "test_dense_block", _namespace("dense-chain"))
    assert re.search(r"trainable parameters of dense_block\(3, 2, growth_rate=4\): expected 1396, got \d+\. "
                     r"Hint: layer l: BN on C0 \+ l k channels", result.report)
    assert re.search(r"found no convolution kernel of shape \(16, 7, 1, 1\) \(F, C, KH, KW\) for the 1x1 convolution "
                     r"of layer 1", result.report)


def test_a_projection_without_stride_fails_with_the_shape_error():
    result = run_hidden(ASSIGNMENT, "test_residual_projection", _namespace("residual-projection-without-stride"))
    assert re.search(r"residual_block \(projection shortcut\): output shape: @forward\(<your block>, array of shape "
                     r"\(1, 8, 8, 8\) float32\) raised RuntimeError", result.report)
