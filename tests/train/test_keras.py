"""coursepkg.train.keras: the same promises as the PyTorch loop."""

import numpy as np
import pytest

from coursepkg.data import load_digits_split
from coursepkg.train import EarlyStopping
from coursepkg.train.keras import evaluate, fit, predict, seed_everything

import keras  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return load_digits_split(size=8, channels_last=True, rng=0)


def small_cnn():
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10),
    ])


def test_fit_learns_digits_and_records_history(digits):
    x_tr, y_tr, x_te, y_te = digits
    seed_everything(0)
    model = small_cnn()
    history = fit(model, x_tr, y_tr, epochs=8, lr=3e-3, validation_data=(x_te, y_te), progress=False)
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy", "epoch_time"}
    assert all(len(v) == 8 for v in history.values())
    assert history["loss"][-1] < history["loss"][0] / 3
    result = evaluate(model, x_te, y_te)
    assert result["accuracy"] > 0.9
    assert result["accuracy"] == pytest.approx(history["val_accuracy"][-1], abs=1e-6)
    assert predict(model, x_te[:5]).shape == (5, 10)


def test_same_seed_same_history(digits):
    x_tr, y_tr, _, _ = digits
    runs = []
    for _ in range(2):
        seed_everything(1)
        runs.append(fit(small_cnn(), x_tr[:300], y_tr[:300], epochs=2, progress=False, seed=5)["loss"])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-6)


def test_early_stopping_restores_the_best_weights(digits):
    x_tr, y_tr, x_te, y_te = digits
    seed_everything(0)
    model = small_cnn()
    es = EarlyStopping(monitor="val_loss", patience=2)
    history = fit(model, x_tr, y_tr, epochs=30, lr=0.5, optimizer="sgd_momentum",
                  validation_data=(x_te, y_te), early_stopping=es, progress=False)
    assert len(history["loss"]) < 30
    assert evaluate(model, x_te, y_te)["loss"] == pytest.approx(min(history["val_loss"]), rel=1e-4)


def test_errors(digits):
    x_tr, y_tr, _, _ = digits
    with pytest.raises(ValueError, match=r"`x` has 10 samples but `y` has 9"):
        fit(small_cnn(), x_tr[:10], y_tr[:9])
    with pytest.raises(ValueError, match=r"`loss` must be one of"):
        fit(small_cnn(), x_tr[:10], y_tr[:10], loss="hinge")


def test_same_signature_as_the_pytorch_loop():
    import inspect

    from coursepkg.train import torch as torch_train

    for name in ("fit", "evaluate", "predict"):
        ours = inspect.signature(globals()[name]).parameters
        theirs = inspect.signature(getattr(torch_train, name)).parameters
        assert [p for p in ours if p != "device"] == [p for p in theirs if p != "device"], name


@pytest.mark.parametrize(("n", "batch_size"), [(100, 32), (96, 32)])
def test_drop_last_skips_the_incomplete_batch(digits, n, batch_size):
    x_tr, y_tr, _, _ = digits
    steps = {}
    for drop_last in (False, True):
        seed_everything(0)
        model = small_cnn()
        history = fit(model, x_tr[:n], y_tr[:n], epochs=2, batch_size=batch_size, drop_last=drop_last,
                      progress=False)
        assert len(history["loss"]) == 2
        steps[drop_last] = int(model.optimizer.iterations.numpy())
    assert steps == {False: 2 * -(-n // batch_size), True: 2 * (n // batch_size)}


def test_drop_last_errors(digits):
    x_tr, y_tr, _, _ = digits
    with pytest.raises(ValueError, match=r"fit: with drop_last=True and batch_size=64 > 10 samples"):
        fit(small_cnn(), x_tr[:10], y_tr[:10], batch_size=64, drop_last=True)
    with pytest.raises(TypeError, match=r"fit: `drop_last` must be True or False. Received: drop_last=1"):
        fit(small_cnn(), x_tr[:10], y_tr[:10], drop_last=1)
