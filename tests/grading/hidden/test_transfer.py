"""The hidden checks of the ``transfer`` assignment on the reference solution, the blank release and the mutants.

Fast tier: the notebook's setup cells run once; then, for the reference, the blank release (answers cleared as
nbgrader clears them) and every mutant, the answer cells run in a fresh copy of that namespace and every test
cell's hidden checks run on it (:func:`autograder.kernel.run_hidden`), a few seconds each. Slow tier: the whole
notebook, visible tests included, with :func:`autograder.inprocess.grade_in_process`, and a Keras solution,
since the assignment lets the student choose the framework.
"""

from __future__ import annotations

import contextlib
import io
import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from autograder.course import load_source, source_dir  # noqa: E402
from autograder.hidden import transfer as hidden  # noqa: E402
from autograder.inprocess import clear_answers, grade_in_process  # noqa: E402
from autograder.kernel import run_hidden  # noqa: E402
from autograder.mutants import mutants_of  # noqa: E402

ASSIGNMENT = "transfer"
MUTANTS = {mutant.name: mutant for mutant in mutants_of(ASSIGNMENT)}
POINTS = {"test_build_model": 2, "test_freeze": 2, "test_predict": 1, "test_feature_extraction": 3,
          "test_fine_tuning": 3}


def _code_cells(framework: str = "torch") -> list[tuple[str, str, dict]]:
    """``(cell id, source, nbgrader metadata)`` of every code cell; the first cell picks the framework."""
    cells = []
    for cell in load_source(ASSIGNMENT).cells:
        if cell.cell_type == "code":
            meta = dict(cell.metadata.get("nbgrader", {}))
            source = cell.source
            if source.startswith("FRAMEWORK ="):
                source = f'FRAMEWORK = "{framework}"'
            cells.append((meta.get("grade_id", cell.get("id")), source, meta))
    return cells


def _is_answer(meta: dict) -> bool:
    return bool(meta.get("solution"))


def _is_test(meta: dict) -> bool:
    return bool(meta.get("grade")) and not meta.get("solution")


def _run_cell(source: str, namespace: dict, name: str) -> str:
    """Execute a cell as the kernel would (in the source folder); return what it wrote to stderr."""
    stderr = io.StringIO()
    previous = os.getcwd()
    os.chdir(source_dir(ASSIGNMENT))
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
            exec(compile(source, f"<{name}>", "exec"), namespace)  # noqa: S102 - the course's own notebook
    finally:
        os.chdir(previous)
    return stderr.getvalue()


def _setup_namespace(framework: str = "torch") -> dict:
    """The namespace after the code cells that come before the first answer cell (imports, data, baseline)."""
    namespace: dict = {"__name__": "__main__"}
    for cell_id, source, meta in _code_cells(framework):
        if _is_answer(meta):
            break
        _run_cell(source, namespace, cell_id)
    return namespace


@pytest.fixture(scope="module")
def setup_namespace() -> dict:
    return _setup_namespace()


def _hidden_results(
    setup: dict, *, replace: dict[str, str] | None = None, blank: bool = False, only: str | None = None
) -> dict:
    """Run the answer cells (replaced, cleared or as written) on a copy of ``setup``, then the hidden checks of
    every test cell (or of the test cell ``only``)."""
    namespace = dict(setup)
    replace = replace or {}
    tests = []
    for cell_id, source, meta in _code_cells():
        if _is_answer(meta):
            _run_cell(replace.get(cell_id, clear_answers(source) if blank else source), namespace, cell_id)
        elif _is_test(meta) and only in (None, cell_id):
            tests.append(cell_id)
    return {cell: run_hidden(ASSIGNMENT, cell, namespace) for cell in tests}


_MUTANT_RESULTS: dict[str, dict] = {}


def _mutant_results(setup: dict, name: str) -> dict:
    """The hidden results of a mutant, computed once per session (the rubric and the messages tests share them)."""
    if name not in _MUTANT_RESULTS:
        _MUTANT_RESULTS[name] = _hidden_results(setup, replace=MUTANTS[name].replace)
    return _MUTANT_RESULTS[name]


def _failed(results: dict) -> set[str]:
    return {cell for cell, result in results.items() if not result.passed}


@pytest.fixture(scope="module")
def reference_results(setup_namespace: dict) -> dict:
    return _hidden_results(setup_namespace)


# --------------------------------------------------------------------------------------------- structure


def test_every_test_cell_has_hidden_checks_and_its_points():
    cells = {cell_id: meta for cell_id, _, meta in _code_cells() if _is_test(meta)}
    assert set(cells) == set(hidden.CHECKS) == set(POINTS)
    assert {cell: meta["points"] for cell, meta in cells.items()} == POINTS
    for cell_id, source, meta in _code_cells():
        if _is_test(meta):
            assert f'run_hidden("{ASSIGNMENT}", "{cell_id}", globals())' in source


def test_there_is_a_manually_graded_written_answer():
    written = [cell for cell in load_source(ASSIGNMENT).cells
               if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution")]
    assert [cell.metadata["nbgrader"]["grade_id"] for cell in written] == ["when_to_fine_tune"]
    assert written[0].metadata["nbgrader"]["points"] == 3
    assert "negative transfer" in written[0].source.lower()


def test_every_test_cell_fails_on_some_mutant():
    assert set().union(*(mutant.fails for mutant in MUTANTS.values())) == set(POINTS)
    assert {"base-not-frozen", "head-five-classes", "random-base", "destructive-learning-rate",
            "hard-coded-predictions"} <= set(MUTANTS)


def test_the_notebook_states_the_graders_numbers():
    text = (source_dir(ASSIGNMENT) / f"{ASSIGNMENT}.md").read_text()
    assert "MARGIN = 0.05" in text and hidden.MARGIN == 0.05
    assert "SEEDS = (0, 1, 2)" in text and hidden.SEEDS == (0, 1, 2)
    assert f"at most **{hidden.TIME_BUDGET:g} seconds**" in text
    assert "sample_per_class(target.x_train, target.y_train, 5, rng=0)" in text and hidden.PER_CLASS == 5


# --------------------------------------------------------------------------------------------- data


def test_held_out_digits_are_balanced_and_new_to_the_notebook(setup_namespace: dict):
    task = hidden.held_out_task()
    assert task["x_train"].shape == (25, 1, 16, 16) and task["x_train"].dtype == np.float32
    assert np.bincount(task["y_train"]).tolist() == [5] * 5
    assert task["x_held"].shape == (1096, 1, 16, 16) and len(task["y_held"]) == 1096
    assert np.bincount(task["y_held"]).min() >= 200
    target = setup_namespace["target"]
    seen = {image.tobytes() for image in np.concatenate([target.x_train, target.x_test])}
    assert not any(image.tobytes() in seen for image in np.concatenate([task["x_train"], task["x_held"]]))


def test_held_out_baseline_is_what_training_from_scratch_scores():
    import torch

    from coursepkg.transfer import torch as reference

    torch.set_num_threads(1)
    task = hidden.held_out_task()
    accuracies = []
    for seed in hidden.SEEDS:
        model, _ = reference.train_from_scratch(reference.source_cnn(rng=seed), task["x_train"], task["y_train"],
                                                seed=seed)
        accuracies.append(reference.evaluate(model, task["x_held"], task["y_held"])["accuracy"])
    assert np.mean(accuracies) == pytest.approx(hidden.HELD_OUT_BASELINE, abs=0.01)


def test_pretrained_arrays_are_recognised_in_either_layout():
    from coursepkg.transfer import load_state

    state = load_state()
    torch_layout = [array for name, array in state.items() if "running" not in name]
    keras_layout = [array.transpose(2, 3, 1, 0) if array.ndim == 4 else array for array in torch_layout]
    assert len(hidden.pretrained_arrays_kept(torch_layout)) == 9
    assert len(hidden.pretrained_arrays_kept(keras_layout)) == 9
    changed = [array + 1e-3 if array.ndim == 4 else array for array in torch_layout]
    assert len(hidden.pretrained_arrays_kept(changed)) == 6  # the three conv kernels moved
    assert hidden.pretrained_arrays_kept("not a list") == []


# --------------------------------------------------------------------------------------------- fast tier


def test_reference_passes_every_hidden_check(reference_results: dict):
    for cell, result in reference_results.items():
        assert result.passed, f"{cell}: {result.report}"
        assert result.report.startswith("all ")


def test_blank_release_fails_every_hidden_check(setup_namespace: dict):
    results = _hidden_results(setup_namespace, blank=True)
    assert _failed(results) == set(POINTS)
    for cell, result in results.items():
        assert "raised NotImplementedError" in result.report, f"{cell}: {result.report}"


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_fails_exactly_its_cells(setup_namespace: dict, name: str):
    mutant = MUTANTS[name]
    results = _mutant_results(setup_namespace, name)
    assert _failed(results) == mutant.fails, {cell: r.report for cell, r in results.items()}
    for cell in mutant.fails:
        report = results[cell].report
        assert re.search(r"build_model|predict|train_feature_extractor|fine_tune", report), report


# Each pinned message: (mutant, test cell, pattern the report must match).
MESSAGES = [
    ("base-not-frozen", "test_freeze",
     r"build_model\(5, seed=0\): 0 of the model's 28,533 parameters are frozen; with freeze_base=True exactly "
     r"the base's 23,408 must be"),
    ("base-not-frozen", "test_feature_extraction",
     r"train_feature_extractor\(x, y, seed=0\) returned a model with 28,533 trainable and 0 frozen parameters"),
    ("head-five-classes", "test_build_model",
     r"build_model\(3, seed=1\) should give logits of shape \(1, 3\).*it gave array of shape \(1, 5\)"),
    ("random-base", "test_build_model",
     r"9 of the base's 9 pretrained arrays \(conv kernels, batch-norm scales and shifts\) are not in the model"),
    ("random-base", "test_feature_extraction", r"mean 0\.\d+; at least 0\.605 is required"),
    ("unseeded-head", "test_build_model", r"logits of two models built with build_model\(5, seed=4\)"),
    ("freeze-with-coursepkg", "test_freeze",
     r"build_model must be written from scratch, but it called coursepkg\.transfer\.torch\.freezing\.freeze"),
    ("hard-coded-predictions", "test_predict",
     r"predict\(build_model\(5, seed=0\), x\) for 1 image disagrees with the model's own logits|"
     r"predict\(build_model\(5, seed=\d\), x\) for \d+ images? returned shape"),
    ("linear-probe-shortcut", "test_feature_extraction",
     r"train_feature_extractor must be written from scratch, but it called coursepkg\.transfer\.torch\.strategies"),
    ("destructive-learning-rate", "test_fine_tuning",
     r"fine_tune: your models \(seeds 0, 1, 2\) classified .* mean 0\.\d+; at least 0\.605 is required: training "
     r"from scratch scores 0\.555 on them"),
    ("fine-tune-still-frozen", "test_fine_tuning", r"only the head was trained, which is feature extraction"),
]


@pytest.mark.parametrize(("name", "cell", "pattern"), MESSAGES, ids=[f"{m}-{c}" for m, c, _ in MESSAGES])
def test_reports_say_what_went_wrong(setup_namespace: dict, name: str, cell: str, pattern: str):
    report = _mutant_results(setup_namespace, name)[cell].report
    assert re.search(pattern, report, flags=re.DOTALL), report
    assert "(input: " in report or "must be written from scratch" in report


def test_a_model_without_the_right_output_is_reported_with_its_shape(setup_namespace: dict):
    replace = {"train_feature_extractor": (
        "def train_feature_extractor(x, y, seed=0):\n"
        "    model = build_model(10, seed=seed)  # ten digits, but the task has five classes\n"
        "    train.fit(model, x, y, epochs=2, batch_size=16, lr=3e-3, seed=seed, progress=False)\n"
        "    return model\n"
    )}
    report = _hidden_results(setup_namespace, replace=replace, only="test_feature_extraction")[
        "test_feature_extraction"].report
    assert re.search(r"train_feature_extractor\(x, y, seed=0\) should give logits of shape \(1096, 5\).*"
                     r"array of shape \(1096, 10\)", report, flags=re.DOTALL), report


def test_a_predict_that_returns_a_tensor_is_told_what_to_return(setup_namespace: dict):
    replace = {"predict": (
        "def predict(model, x):\n"
        "    model.eval()\n"
        "    return model(torch.as_tensor(x)).argmax(dim=1)\n"
    )}
    report = _hidden_results(setup_namespace, replace=replace, only="test_predict")["test_predict"].report
    assert "return a NumPy array (tensor.detach().cpu().numpy())" in report, report


# --------------------------------------------------------------------------------------------- slow tier


@pytest.mark.slow
def test_whole_notebook_reference_and_blank_in_process():
    grade = grade_in_process(ASSIGNMENT)
    assert grade.failed == set(), {cell: r.message for cell, r in grade.tests.items()}
    assert grade.errors == {}
    blank = grade_in_process(ASSIGNMENT, blank=True)
    assert blank.failed == set(POINTS)
    # cells outside the tests fail only because the answers are missing, never for another reason
    assert all(error.startswith("NotImplementedError") for error in blank.errors.values()), blank.errors


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_whole_notebook_mutant_in_process(name: str):
    mutant = MUTANTS[name]
    grade = grade_in_process(ASSIGNMENT, replace=mutant.replace)
    assert grade.failed == mutant.fails, {cell: r.message for cell, r in grade.tests.items()}


KERAS_ANSWERS = {
    "build_model": '''def build_model(num_classes, freeze_base=True, seed=0):
    base = load_pretrained()  # (N, 16, 16, 1) -> (N, 4, 4, 64)
    if freeze_base:
        base.trainable = False  # every layer of the base; frozen batch norm runs in inference mode
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((16, 16, 1)), base, layers.Flatten(), layers.Dense(num_classes)])
''',
    "predict": '''def predict(model, x):
    logits = model(nchw_to_nhwc(np.asarray(x, dtype=np.float32)), training=False)  # (N, K)
    return np.asarray(logits).argmax(axis=1)
''',
    "train_feature_extractor": '''def train_feature_extractor(x, y, seed=0):
    model = build_model(int(np.max(y)) + 1, freeze_base=True, seed=seed)
    train.fit(model, nchw_to_nhwc(x), y, epochs=40, batch_size=16, lr=3e-3, seed=seed, progress=False)
    return model
''',
    "fine_tune": '''def fine_tune(x, y, seed=0):
    x = nchw_to_nhwc(x)
    model = build_model(int(np.max(y)) + 1, freeze_base=True, seed=seed)
    train.fit(model, x, y, epochs=40, batch_size=16, lr=3e-3, seed=seed, progress=False)
    model.layers[0].trainable = True  # the base; fit compiles again with the new flags
    train.fit(model, x, y, epochs=20, batch_size=16, lr=3e-4, seed=seed + 1, progress=False)
    return model
''',
}


@pytest.mark.slow
def test_a_keras_solution_passes_the_visible_and_hidden_tests():
    """The student may choose Keras: its models go through the same checks (NHWC inside, NCHW outside)."""
    namespace: dict = {"__name__": "__main__"}
    outcomes = {}
    for cell_id, source, meta in _code_cells("keras"):
        if _is_answer(meta):
            source = KERAS_ANSWERS[cell_id]
        try:
            stderr = _run_cell(source, namespace, cell_id)
        except Exception as error:  # noqa: BLE001 - reported below
            outcomes[cell_id] = f"{type(error).__name__}: {error}"
            if _is_test(meta):
                continue
            raise
        if _is_test(meta):
            outcomes[cell_id] = f"wrote to stderr: {stderr}" if stderr else "passed"
        if cell_id == "test_fine_tuning":
            break  # the comparisons of part 5 add nothing for the framework
    assert {cell: outcome for cell, outcome in outcomes.items() if cell in POINTS} == {
        cell: "passed" for cell in POINTS
    }
    assert type(namespace["build_model"](5)).__module__.startswith("keras")
