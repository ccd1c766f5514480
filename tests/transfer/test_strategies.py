"""coursepkg.transfer.strategies: the strategy logic shared by both frameworks, on a fake backend."""

import types

import numpy as np
import pytest

from coursepkg.transfer.results import StrategyResult, TrainableSummary
from coursepkg.transfer.strategies import (
    DEFAULT_LR,
    STRATEGIES,
    accuracy_vs_labels,
    check_strategies,
    compare_strategies,
    train_strategy,
)


def fake_backend(log):
    """A backend that records what the strategies ask of it."""

    def freeze(base, *, layers="all"):
        log.append(("freeze", layers))

    def unfreeze(base, *, layers="all"):
        log.append(("unfreeze", layers))

    def attach_head(base, k, **kwargs):
        log.append(("attach_head", k, kwargs["pooling"], kwargs["rng"]))
        return ("model", base)

    def fit(model, x, y, **kwargs):
        log.append(("fit", kwargs["lr"], kwargs["epochs"]))
        return {"loss": [1.0]}

    return types.SimpleNamespace(
        freeze=freeze, unfreeze=unfreeze, attach_head=attach_head, fit=fit,
        evaluate=lambda model, x, y: {"accuracy": 0.5 if model[1] == "random" else 0.75},
        trainable_summary=lambda model: TrainableSummary(7, 3),
        load_pretrained=lambda: "pretrained", source_cnn=lambda rng: "random",
    )


@pytest.mark.parametrize(
    "strategy, flags",
    [("scratch", [("unfreeze", "all")]), ("feature_extraction", [("freeze", "all")]),
     ("partial", [("unfreeze", "all"), ("freeze", 2)]), ("full", [("unfreeze", "all")])],
)
def test_train_strategy_sets_the_flags_then_trains(strategy, flags):
    log = []
    model, history = train_strategy(fake_backend(log), strategy, "base", np.zeros(4), np.array([0, 1, 2, 1]),
                                    blocks=2, seed=5)
    assert log == flags + [("attach_head", 3, "flatten", 5), ("fit", DEFAULT_LR[strategy], 40)]
    assert model == ("model", "base") and history == {"loss": [1.0]}


def test_compare_strategies_rows_and_learning_rates():
    log = []
    rows = compare_strategies(fake_backend(log), None, np.zeros(2), np.array([0, 1]), None, None,
                              strategies=("scratch", "full"), lr={"full": 0.5}, seed=3)
    assert [(r.strategy, r.trainable_params, r.test_accuracy, r.seed) for r in rows] == [
        ("scratch", 7, 0.5, 3), ("full", 7, 0.75, 3)]
    assert [e[1] for e in log if e[0] == "fit"] == [DEFAULT_LR["scratch"], 0.5]
    assert all(r.seconds >= 0 for r in rows)


def test_check_strategies():
    assert tuple(STRATEGIES) == ("scratch", "feature_extraction", "partial", "full")
    assert check_strategies("full", "f") == ("full",)
    with pytest.raises(ValueError, match=r"f: `strategies` must be a non-empty subset of \('scratch', "):
        check_strategies(("linear",), "f")
    with pytest.raises(ValueError, match=r"must be a non-empty subset"):
        check_strategies((), "f")


def test_accuracy_vs_labels_samples_once_per_n_and_seed():
    calls = []

    def compare(x_tr, y_tr, x_te, y_te, *, seed):
        calls.append((len(x_tr), seed))
        return [StrategyResult("full", 1, float(len(x_tr)), 0.0)]

    x, y = np.arange(40), np.arange(40) % 2
    rows = accuracy_vs_labels(compare, x, y, x, y, per_class=(1, 3), seeds=(0, 7))
    assert calls == [(2, 0), (2, 7), (6, 0), (6, 7)]
    assert [(r.n_per_class, r.seed) for r in rows] == [(1, 0), (1, 7), (3, 0), (3, 7)]
    with pytest.raises(ValueError, match=r"`per_class` and `seeds` must not be empty"):
        accuracy_vs_labels(compare, x, y, x, y, per_class=(), seeds=(0,))
