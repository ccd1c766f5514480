"""The early-stopping rule."""

import pytest

from coursepkg.train import EarlyStopping


def test_stops_after_patience_epochs_without_improvement():
    es = EarlyStopping(monitor="val_loss", patience=2)
    history = {"val_loss": []}
    decisions = []
    for epoch, value in enumerate([1.0, 0.8, 0.9, 0.85]):
        history["val_loss"].append(value)
        decisions.append(es.update(history, epoch))
    assert decisions == [(True, False), (True, False), (False, False), (False, True)]
    assert es.best == 0.8 and es.best_epoch == 1


def test_accuracy_is_maximised_and_min_delta_counts():
    es = EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.01)
    assert es.mode == "max"
    h = {"val_accuracy": [0.5]}
    assert es.update(h, 0) == (True, False)
    h["val_accuracy"].append(0.505)  # not better by more than min_delta
    assert es.update(h, 1) == (False, True)


def test_errors():
    with pytest.raises(ValueError, match=r"`patience` must be an int >= 1. Received: patience=0"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match=r"the history has no 'val_loss'; it has \['loss'\]"):
        EarlyStopping().update({"loss": [1.0]}, 0)
