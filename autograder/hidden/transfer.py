"""Hidden checks of the ``transfer`` assignment: a frozen pretrained base, a new head, and two ways to train it.

Each test cell's ``grade_id`` maps to its checks. The student may work in PyTorch or in Keras: the checks only
call the student's functions with NumPy arrays (NCHW images) and look at the models they return through the
grader's operations (``@forward``, ``@parameters``, ``@count_params``, ``@count_trainable_params``,
``@framework``), which accept either framework.

- ``test_build_model``: logits of shape ``(N, num_classes)`` for other numbers of classes and a batch of one;
  the base carries the committed pretrained weights (:func:`coursepkg.transfer.load_state`, in either
  framework's layout); the same seed gives the same model and another seed another head.
- ``test_freeze``: the frozen base contributes no trainable parameter, the head trains, and
  ``freeze_base=False`` trains everything. ``coursepkg``'s ``freeze``/``unfreeze`` and strategy functions are
  the reference for the very thing asked (:data:`SHORTCUTS`); the training cells forbid the strategies, and
  fine-tuning ``unfreeze`` too.
- ``test_predict``: the labels are the argmax of the model's own logits on digits the notebook does not have,
  one integer per image, for a batch of one and for more images than a batch of 256.
- ``test_feature_extraction`` and ``test_fine_tuning``: the grader calls the student's training function
  itself, with seeds :data:`SEEDS`, on :data:`PER_CLASS` labelled digits per class that it draws and jitters with
  its own seed, and classifies held-out digits jittered with that seed (:func:`held_out_task`). The mean
  accuracy must beat :data:`HELD_OUT_BASELINE`, the from-scratch reference on the same digits, by
  :data:`MARGIN`; feature extraction must leave the base frozen and unchanged, fine-tuning must change it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from hypothesis import strategies as st

from autograder.checks import Call, Check, Outcome, Ref, compare_array, describe_value, draw_cases

#: The seed of the student's process: before the first cell runs, the grader seeds Python's ``random``,
#: NumPy's global generator, and torch and TensorFlow when the notebook's imports are already loaded. The
#: hidden checks draw their own cases with seeds of their own; this one is recorded with every score.
SEED = 20261105

__all__ = [
    "BASE_PARAMETERS",
    "CHECKS",
    "HELD_OUT_BASELINE",
    "MARGIN",
    "PER_CLASS",
    "SEEDS",
    "SHORTCUTS",
    "STRATEGY_SHORTCUTS",
    "TIME_BUDGET",
    "UNFREEZE_SHORTCUTS",
    "held_out_task",
    "pretrained_arrays_kept",
]

#: Seeds the grader passes to the training functions; the judged accuracy is the mean over them.
SEEDS = (0, 1, 2)
#: Labelled training digits per class (5 classes), as in the notebook.
PER_CLASS = 5
#: Points of accuracy (as a fraction) by which the mean must beat the from-scratch baseline (stated in the notebook).
MARGIN = 0.05
#: Mean accuracy over :data:`SEEDS` of ``coursepkg.transfer.torch.train_from_scratch`` (random base, 40 epochs of
#: Adam at 3e-3, flattening head) trained on the grader's digits and scored on its held-out ones. A unit test
#: (tests/grading/hidden/test_transfer.py) recomputes it.
HELD_OUT_BASELINE = 0.555
#: Seconds one training call may take (stated in the notebook); a case runs one call per seed.
TIME_BUDGET = 30.0
#: Learned parameters of the pretrained base (conv kernels, batch-norm scales and shifts).
BASE_PARAMETERS = 23_408
#: Keras counts the batch-norm moving statistics among a model's (non-trainable) weights: 2 x (16 + 32 + 64).
_KERAS_BN_STATISTICS = 224

#: ``coursepkg`` functions that do what the assignment asks, by dotted prefix. Each cell forbids what it tests:
#: ``test_freeze`` freezing and unfreezing (and the strategies), the training cells the strategies (which do a
#: whole task), ``test_fine_tuning`` also ``unfreeze``; so freezing with ``coursepkg`` in ``build_model`` costs
#: ``test_freeze`` only. ``load_pretrained`` (which builds its own head internally) and ``fit`` are allowed.
STRATEGY_SHORTCUTS: tuple[str, ...] = (
    "coursepkg.transfer.strategies",
    "coursepkg.transfer.torch.strategies",
    "coursepkg.transfer.keras.strategies",
)
UNFREEZE_SHORTCUTS: tuple[str, ...] = (
    "coursepkg.transfer.torch.freezing.unfreeze",
    "coursepkg.transfer.keras.freezing.unfreeze",
)
SHORTCUTS: tuple[str, ...] = (
    *STRATEGY_SHORTCUTS,
    "coursepkg.transfer.torch.freezing.freeze",
    "coursepkg.transfer.keras.freezing.freeze",
    *UNFREEZE_SHORTCUTS,
)

# The grader's own draw of the few labels and jitter of the held-out digits: a seed the notebook does not use.
_TASK_SEED = 20_240_611


# --------------------------------------------------------------------------------------------- data


@cache
def held_out_task() -> dict[str, np.ndarray]:
    """The grader's training digits and held-out digits, NCHW float32, labels 0-4.

    The digits 5-9 of the notebook's split, before any jitter (``source_target_digits(jitter=False)``):
    :data:`PER_CLASS` training digits per class drawn from the training pool and jittered, and, held out, the
    test digits jittered twice plus the rest of the training pool jittered once, all with :data:`_TASK_SEED`.
    The notebook has the same digits only under another jitter, so the images are new to the student's code.
    """
    from coursepkg.transfer import sample_per_class, source_target_digits
    from coursepkg.transfer.tasks import jitter_digits

    _, centred = source_target_digits(jitter=False)
    gen = np.random.default_rng(_TASK_SEED)
    pool = np.arange(len(centred.y_train))
    index, y_train = sample_per_class(pool, centred.y_train, PER_CLASS, rng=gen)
    x_train = jitter_digits(centred.x_train[index], rng=gen)  # (25, 1, 16, 16)
    rest = np.setdiff1d(pool, index)
    x_held = np.concatenate([
        jitter_digits(centred.x_test, rng=gen),
        jitter_digits(centred.x_test, rng=gen),
        jitter_digits(centred.x_train[rest], rng=gen),
    ])  # (M, 1, 16, 16)
    y_held = np.concatenate([centred.y_test, centred.y_test, centred.y_train[rest]])
    return {
        "x_train": x_train.astype(np.float32),
        "y_train": y_train.astype(np.int64),
        "x_held": x_held.astype(np.float32),
        "y_held": y_held.astype(np.int64),
    }


def _images(n: int, offset: int = 0) -> np.ndarray:
    """``n`` held-out images, (n, 1, 16, 16)."""
    return held_out_task()["x_held"][offset : offset + n]


@cache
def _pretrained_base() -> dict[str, np.ndarray]:
    """The base's learned arrays of the committed weights, PyTorch names and layout (9 arrays)."""
    from coursepkg.transfer import load_state

    state = load_state()
    return {
        name[len("base."):]: np.asarray(array)
        for name, array in state.items()
        if name.startswith("base.") and name.endswith(("conv.weight", "bn.weight", "bn.bias"))
    }


def pretrained_arrays_kept(parameters: Any) -> list[str]:
    """Names of the pretrained base arrays that appear, unchanged, among ``parameters`` (either layout)."""
    arrays = [p for p in parameters if isinstance(p, np.ndarray)] if isinstance(parameters, list) else []
    kept = []
    for name, array in _pretrained_base().items():
        layouts = [array] + ([array.transpose(2, 3, 1, 0)] if array.ndim == 4 else [])  # PyTorch, Keras
        if any(
            p.shape == a.shape and np.allclose(p, a, rtol=0.0, atol=1e-6) for a in layouts for p in arrays
        ):
            kept.append(name)
    return kept


def _frozen_expected(framework: Any, frozen: bool) -> int:
    extra = _KERAS_BN_STATISTICS if framework == "keras" else 0
    return (BASE_PARAMETERS if frozen else 0) + extra


def _logits_problem(logits: Any, n: int, k: int, what: str) -> str | None:
    if not isinstance(logits, np.ndarray) or logits.shape != (n, k):
        return (
            f"{what} should give logits of shape ({n}, {k}), one per class for each of the {n} images; "
            f"it gave {describe_value(logits)}. Hint: the head maps the 1,024 flattened features of the base "
            "to num_classes outputs, with no argmax or softmax in the model."
        )
    if not np.all(np.isfinite(logits)):
        return f"{what} gave logits with NaN or infinity: did training diverge (too high a learning rate)?"
    return None


# --------------------------------------------------------------------------------------------- build_model


def _shape_cases() -> list[dict[str, Any]]:
    explicit = [
        {"k": 5, "n": 4, "seed": 0},
        {"k": 3, "n": 1, "seed": 1},  # another number of classes, a batch of one
        {"k": 10, "n": 7, "seed": 2},
        {"k": 2, "n": 2, "seed": 5},
    ]
    drawn = draw_cases(
        st.fixed_dictionaries({"k": st.integers(2, 12), "n": st.integers(1, 9), "seed": st.integers(0, 999)}),
        2,
        seed=5_101,
    )
    return [{**case, "x": _images(case["n"], offset=7 * i)} for i, case in enumerate(explicit + drawn)]


def _judge_shape(case: dict[str, Any], out: list[Outcome]) -> str | None:
    return _logits_problem(out[1].value, case["n"], case["k"], f"build_model({case['k']}, seed={case['seed']})")


def _weights_cases() -> list[dict[str, Any]]:
    return [{"k": 5, "freeze_base": True}, {"k": 3, "freeze_base": False}]


def _judge_weights(case: dict[str, Any], out: list[Outcome]) -> str | None:
    kept = pretrained_arrays_kept(out[1].value)
    missing = [name for name in _pretrained_base() if name not in kept]
    if missing:
        shape = _pretrained_base()[missing[0]].shape
        return (
            f"build_model({case['k']}, freeze_base={case['freeze_base']}): {len(missing)} of the base's "
            f"{len(_pretrained_base())} pretrained arrays (conv kernels, batch-norm scales and shifts) are not in "
            f"the model, first {missing[0]} of shape {shape}. Hint: the base must be load_pretrained() with its "
            "weights as loaded, whatever freeze_base says; do not build or re-initialise it yourself."
        )
    return None


def _seed_cases() -> list[dict[str, Any]]:
    return [{"seed": 4, "other": 9, "x": _images(6, offset=50)}]


def _judge_seed(case: dict[str, Any], out: list[Outcome]) -> str | None:
    first, second, other = out[1].value, out[3].value, out[5].value
    for logits, seed in ((first, case["seed"]), (second, case["seed"]), (other, case["other"])):
        problem = _logits_problem(logits, len(case["x"]), 5, f"build_model(5, seed={seed})")
        if problem:
            return problem
    message = compare_array(
        second, first, what=f"logits of two models built with build_model(5, seed={case['seed']})", rtol=1e-5,
        atol=1e-6, hint="seed the head's initial weights with `seed` (torch.manual_seed(seed) or "
        "keras.utils.set_random_seed(seed)) just before creating the head",
    )
    if message:
        return message
    if np.allclose(first, other, rtol=1e-5, atol=1e-6):
        return (
            f"build_model(5, seed={case['seed']}) and build_model(5, seed={case['other']}) give the same logits: "
            "the seed is not used. Hint: seed the head's initialisation with the `seed` argument, not a constant."
        )
    return None


# --------------------------------------------------------------------------------------------- freezing


def _freeze_cases() -> list[dict[str, Any]]:
    return [{"k": 5, "seed": 0}, {"k": 3, "seed": 2}]


def _freeze_calls(freeze_base: bool) -> Any:
    def calls(case: dict[str, Any]) -> list[Call]:
        kwargs = {"seed": case["seed"]} if freeze_base else {"freeze_base": False, "seed": case["seed"]}
        return [
            Call("build_model", (case["k"],), kwargs, store="model"),
            Call("@framework", (Ref("model"),)),
            Call("@count_params", (Ref("model"),)),
            Call("@count_trainable_params", (Ref("model"),)),
        ]

    return calls


def _judge_frozen(case: dict[str, Any], out: list[Outcome]) -> str | None:
    framework, total, trainable = out[1].value, out[2].value, out[3].value
    frozen, expected = total - trainable, _frozen_expected(framework, True)
    call = f"build_model({case['k']}, seed={case['seed']})"
    if frozen != expected:
        keras_note = " (Keras also counts the 224 batch-norm moving statistics)" if framework == "keras" else ""
        return (
            f"{call}: {frozen:,} of the model's {total:,} parameters are frozen; with freeze_base=True exactly "
            f"the base's {BASE_PARAMETERS:,} must be{keras_note}. Hint: set requires_grad = False on every "
            "parameter of the base (PyTorch), or base.trainable = False (Keras), and on nothing else."
        )
    if trainable <= 0:
        return f"{call}: no parameter is trainable; the new head must train. Hint: freeze the base only."
    return None


def _judge_unfrozen(case: dict[str, Any], out: list[Outcome]) -> str | None:
    framework, total, trainable = out[1].value, out[2].value, out[3].value
    frozen, expected = total - trainable, _frozen_expected(framework, False)
    if frozen != expected:
        return (
            f"build_model({case['k']}, freeze_base=False, seed={case['seed']}): {frozen - expected:,} of the "
            f"model's parameters are frozen; with freeze_base=False every parameter must train. Hint: freeze "
            "only when freeze_base is true."
        )
    return None


# --------------------------------------------------------------------------------------------- predict


def _predict_cases() -> list[dict[str, Any]]:
    return [
        {"seed": 0, "x": _images(1, offset=100)},  # a batch of one: one label, not a scalar
        {"seed": 1, "x": _images(6, offset=200)},
        {"seed": 2, "x": _images(300, offset=300)},  # more than a batch of 256
    ]


def _predict_calls(case: dict[str, Any]) -> list[Call]:
    return [
        Call("build_model", (5,), {"seed": case["seed"]}, store="model"),
        Call("predict", (Ref("model"), case["x"])),
        Call("@forward", (Ref("model"), case["x"])),
    ]


def _judge_predict(case: dict[str, Any], out: list[Outcome]) -> str | None:
    got, logits = out[1].value, out[2].value
    n = len(case["x"])
    what = f"predict(build_model(5, seed={case['seed']}), x) for {n} image{'s' if n > 1 else ''}"
    if not isinstance(got, np.ndarray):
        return f"{what} returned {describe_value(got)}; expected a NumPy array of {n} integer labels."
    if got.shape != (n,):
        squeeze = " Do not squeeze: a batch of one gives an array of one label." if n == 1 else ""
        return f"{what} returned shape {got.shape}; expected ({n},), one label per image.{squeeze}"
    if got.dtype.kind not in "iu":
        return f"{what} returned an array of dtype {got.dtype}; expected integer labels (the argmax of the logits)."
    problem = _logits_problem(logits, n, 5, f"build_model(5, seed={case['seed']})")
    if problem:
        return problem
    valid = (got >= 0) & (got < logits.shape[1])
    chosen = np.where(valid, logits[np.arange(n), np.clip(got, 0, logits.shape[1] - 1)], -np.inf)
    best = logits.max(axis=1)
    wrong = np.flatnonzero(chosen < best - 1e-5 * (1.0 + np.abs(best)))  # ties within float noise are fine
    if wrong.size:
        i = int(wrong[0])
        return (
            f"{what} disagrees with the model's own logits on {wrong.size} of {n} images; at image {i} it "
            f"predicted {int(got[i])} but the largest logit is that of class {int(logits[i].argmax())}. Hint: run "
            "the model on x, in inference mode, and return the argmax along the class axis (axis 1)."
        )
    return None


# --------------------------------------------------------------------------------------------- training


def _training_cases() -> list[dict[str, Any]]:
    return [held_out_task()]


def _base_calls(function: str) -> Any:
    """One training (seed 0), then what the returned model is made of."""

    def calls(case: dict[str, Any]) -> list[Call]:
        return [
            Call(function, (case["x_train"], case["y_train"]), {"seed": 0}, store="model"),
            Call("@framework", (Ref("model"),)),
            Call("@count_params", (Ref("model"),)),
            Call("@count_trainable_params", (Ref("model"),)),
            Call("@parameters", (Ref("model"),)),
        ]

    return calls


def _accuracy_calls(function: str) -> Any:
    """One training per seed, each followed by the model's logits on the held-out digits."""

    def calls(case: dict[str, Any]) -> list[Call]:
        out = []
        for seed in SEEDS:
            out += [
                Call(function, (case["x_train"], case["y_train"]), {"seed": seed}, store=f"model{seed}"),
                Call("@forward", (Ref(f"model{seed}"), case["x_held"])),
            ]
        return out

    return calls


def _judge_accuracy(function: str, hint: str) -> Any:
    def judge(case: dict[str, Any], out: list[Outcome]) -> str | None:
        y = case["y_held"]
        accuracies = []
        for i, seed in enumerate(SEEDS):
            logits = out[2 * i + 1].value
            problem = _logits_problem(logits, len(y), 5, f"the model of {function}(x, y, seed={seed})")
            if problem:
                return problem
            accuracies.append(float(np.mean(logits.argmax(axis=1) == y)))
        mean, required = float(np.mean(accuracies)), HELD_OUT_BASELINE + MARGIN
        if mean < required - 1e-9:
            return (
                f"{function}: your models (seeds {', '.join(map(str, SEEDS))}) classified "
                f"{', '.join(f'{a:.3f}' for a in accuracies)} of the grader's {len(y)} held-out digits correctly, "
                f"mean {mean:.3f}; at least {required:.3f} is required: training from scratch scores "
                f"{HELD_OUT_BASELINE:.3f} on them, plus {MARGIN:.2f}. Hint: {hint}"
            )
        return None

    return judge


def _judge_base_kept(case: dict[str, Any], out: list[Outcome]) -> str | None:
    framework, total, trainable, parameters = (out[j].value for j in range(1, 5))
    frozen, expected = total - trainable, _frozen_expected(framework, True)
    call = "train_feature_extractor(x, y, seed=0)"
    if frozen != expected:
        return (
            f"{call} returned a model with {trainable:,} trainable and {frozen:,} frozen parameters; in feature "
            f"extraction the base's {BASE_PARAMETERS:,} stay frozen"
            f"{' (plus the 224 batch-norm statistics Keras counts)' if framework == 'keras' else ''}. "
            "Hint: build the model with freeze_base=True and train it as it is."
        )
    missing = [name for name in _pretrained_base() if name not in pretrained_arrays_kept(parameters)]
    if missing:
        return (
            f"{call}: {len(missing)} of the base's {len(_pretrained_base())} pretrained arrays changed during "
            f"training or are not in the model (first {missing[0]}). Feature extraction trains the head only: "
            "the base must keep the weights of load_pretrained()."
        )
    return None


def _judge_base_trained(case: dict[str, Any], out: list[Outcome]) -> str | None:
    if len(pretrained_arrays_kept(out[4].value)) == len(_pretrained_base()):
        return (
            "fine_tune(x, y, seed=0) returned a model whose base still has all its pretrained weights unchanged: "
            "only the head was trained, which is feature extraction. Hint: after training the head, unfreeze "
            "the base (requires_grad = True, or trainable = True and fit again) and train everything with a "
            "low learning rate."
        )
    return None


_FE_HINT = (
    "train the head on the frozen base long enough (the chapter uses 40 epochs of Adam at 3e-3, batches of 16), "
    "and flatten the feature maps: a frozen base cannot relearn where a feature fired, which global pooling "
    "throws away. Check it against the baseline in the notebook first."
)
_FT_HINT = (
    "train the head on the frozen base first, then everything with a learning rate about ten times lower "
    "(3e-4 with Adam); a high rate, or a random head trained together with the base from the start, destroys "
    "the pretrained features. Check it against the baseline in the notebook first."
)

_TRAINING_NAME = (
    f"on the grader's {5 * PER_CLASS} labelled digits, seeds {', '.join(map(str, SEEDS))}, judged on held-out "
    f"digits (mean accuracy at least the from-scratch baseline + {MARGIN:.2f}; {TIME_BUDGET:g} s per training)"
)

# --------------------------------------------------------------------------------------------- the cells

CHECKS: dict[str, list[Check]] = {
    "test_build_model": [
        Check(
            name="build_model gives one logit per class, for other numbers of classes and a batch of one",
            cases=_shape_cases,
            calls=lambda case: [
                Call("build_model", (case["k"],), {"seed": case["seed"]}, store="model"),
                Call("@forward", (Ref("model"), case["x"])),
            ],
            judge=_judge_shape,
        ),
        Check(
            name="the base of build_model has the pretrained weights of load_pretrained()",
            cases=_weights_cases,
            calls=lambda case: [
                Call("build_model", (case["k"],), {"freeze_base": case["freeze_base"]}, store="model"),
                Call("@parameters", (Ref("model"),)),
            ],
            judge=_judge_weights,
        ),
        Check(
            name="build_model is reproducible: the same seed gives the same model, another seed another head",
            cases=_seed_cases,
            calls=lambda case: [
                Call("build_model", (5,), {"seed": case["seed"]}, store="first"),
                Call("@forward", (Ref("first"), case["x"])),
                Call("build_model", (5,), {"seed": case["seed"]}, store="second"),
                Call("@forward", (Ref("second"), case["x"])),
                Call("build_model", (5,), {"seed": case["other"]}, store="other"),
                Call("@forward", (Ref("other"), case["x"])),
            ],
            judge=_judge_seed,
        ),
    ],
    "test_freeze": [
        Check(
            name="with freeze_base=True the base contributes no trainable parameter and the head trains",
            cases=_freeze_cases,
            calls=_freeze_calls(True),
            judge=_judge_frozen,
            forbid=SHORTCUTS,
        ),
        Check(
            name="with freeze_base=False every parameter trains",
            cases=_freeze_cases,
            calls=_freeze_calls(False),
            judge=_judge_unfrozen,
            forbid=SHORTCUTS,
        ),
    ],
    "test_predict": [
        Check(
            name="predict returns the argmax of the model's logits, one integer label per image",
            cases=_predict_cases,
            calls=_predict_calls,
            judge=_judge_predict,
        ),
    ],
    "test_feature_extraction": [
        Check(
            name="train_feature_extractor leaves the base frozen and unchanged (seed 0)",
            cases=_training_cases,
            calls=_base_calls("train_feature_extractor"),
            judge=_judge_base_kept,
            forbid=STRATEGY_SHORTCUTS,
            time_limit=TIME_BUDGET,
        ),
        Check(
            name=f"train_feature_extractor {_TRAINING_NAME}",
            cases=_training_cases,
            calls=_accuracy_calls("train_feature_extractor"),
            judge=_judge_accuracy("train_feature_extractor", _FE_HINT),
            forbid=STRATEGY_SHORTCUTS,
            time_limit=len(SEEDS) * TIME_BUDGET,
        ),
    ],
    "test_fine_tuning": [
        Check(
            name="fine_tune trains the base too (seed 0)",
            cases=_training_cases,
            calls=_base_calls("fine_tune"),
            judge=_judge_base_trained,
            forbid=STRATEGY_SHORTCUTS + UNFREEZE_SHORTCUTS,
            time_limit=TIME_BUDGET,
        ),
        Check(
            name=f"fine_tune {_TRAINING_NAME}",
            cases=_training_cases,
            calls=_accuracy_calls("fine_tune"),
            judge=_judge_accuracy("fine_tune", _FT_HINT),
            forbid=STRATEGY_SHORTCUTS + UNFREEZE_SHORTCUTS,
            time_limit=len(SEEDS) * TIME_BUDGET,
        ),
    ],
}
