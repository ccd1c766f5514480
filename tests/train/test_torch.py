"""coursepkg.train.torch: history, repeatability, early stopping, evaluation, losses."""

import numpy as np
import pytest
import torch
from torch import nn

from coursepkg.data import load_digits_split
from coursepkg.train import EarlyStopping
from coursepkg.train.torch import evaluate, fit, predict, seed_everything


@pytest.fixture(scope="module")
def digits():
    return load_digits_split(size=8, rng=0)


def small_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10)
    )


def test_fit_learns_digits_and_records_history(digits):
    x_tr, y_tr, x_te, y_te = digits
    seed_everything(0)
    model = small_cnn()
    history = fit(model, x_tr, y_tr, epochs=8, validation_data=(x_te, y_te), lr=3e-3, progress=False)
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy", "epoch_time"}
    assert all(len(v) == 8 for v in history.values())
    assert history["loss"][-1] < history["loss"][0] / 3
    result = evaluate(model, x_te, y_te)
    assert result["accuracy"] > 0.9
    assert result["accuracy"] == pytest.approx(history["val_accuracy"][-1])
    assert predict(model, x_te[:5]).shape == (5, 10)


def test_same_seed_same_history(digits):
    x_tr, y_tr, _, _ = digits
    runs = []
    for _ in range(2):
        seed_everything(1)
        model = nn.Sequential(small_cnn(), nn.Dropout(0.3))
        runs.append(fit(model, x_tr[:300], y_tr[:300], epochs=2, progress=False, seed=5)["loss"])
    assert runs[0] == runs[1]


def test_early_stopping_restores_the_best_weights(digits):
    x_tr, y_tr, x_te, y_te = digits
    seed_everything(0)
    model = small_cnn()
    # a learning rate so high that validation loss soon gets worse
    es = EarlyStopping(monitor="val_loss", patience=2)
    history = fit(model, x_tr, y_tr, epochs=30, lr=0.5, optimizer="sgd_momentum",
                  validation_data=(x_te, y_te), early_stopping=es, progress=False)
    assert len(history["loss"]) < 30
    assert evaluate(model, x_te, y_te)["loss"] == pytest.approx(min(history["val_loss"]), rel=1e-5)


def test_binary_and_regression_losses():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 4)).astype(np.float32)
    y_bin = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    seed_everything(0)
    clf = nn.Linear(4, 1)
    h = fit(clf, x, y_bin, loss="bce", epochs=30, lr=0.05, progress=False)
    assert h["accuracy"][-1] > 0.95
    y_reg = (x @ np.array([1.0, -2.0, 0.5, 0.0], dtype=np.float32))[:, None]
    reg = nn.Linear(4, 1)
    h = fit(reg, x, y_reg, loss="mse", epochs=40, lr=0.05, progress=False, clip_norm=10.0)
    assert "accuracy" not in h and h["loss"][-1] < 1e-3


def test_errors(digits):
    x_tr, y_tr, _, _ = digits
    with pytest.raises(ValueError, match=r"`x` has 10 samples but `y` has 9"):
        fit(small_cnn(), x_tr[:10], y_tr[:9])
    with pytest.raises(ValueError, match=r"`loss` must be one of"):
        fit(small_cnn(), x_tr[:10], y_tr[:10], loss="hinge")
    with pytest.raises(ValueError, match=r"`optimizer` must be"):
        fit(small_cnn(), x_tr[:10], y_tr[:10], optimizer="lbfgs")
    frozen = small_cnn().requires_grad_(False)
    with pytest.raises(ValueError, match=r"no trainable parameters; unfreeze"):
        fit(frozen, x_tr[:10], y_tr[:10])
    with pytest.raises(TypeError, match=r"`epochs` must be an integer"):
        fit(small_cnn(), x_tr[:10], y_tr[:10], epochs=2.5)


class BatchSizes(nn.Module):
    """A linear classifier that records the size of every training batch it sees."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(64, 10)
        self.sizes: list[int] = []

    def forward(self, x):
        if self.training:
            self.sizes.append(x.shape[0])
        return self.linear(x.reshape(len(x), -1))


@pytest.mark.parametrize(("n", "batch_size"), [(1347, 64), (100, 50), (7, 3), (5, 5)])
def test_drop_last_skips_the_incomplete_batch(digits, n, batch_size):
    x_tr, y_tr, _, _ = digits
    full, dropped = BatchSizes(), BatchSizes()
    fit(full, x_tr[:n], y_tr[:n], epochs=2, batch_size=batch_size, progress=False)
    fit(dropped, x_tr[:n], y_tr[:n], epochs=2, batch_size=batch_size, drop_last=True, progress=False)
    whole, rest = divmod(n, batch_size)
    assert dropped.sizes == [batch_size] * whole * 2
    assert full.sizes == ([batch_size] * whole + ([rest] if rest else [])) * 2


def test_drop_last_history_averages_the_examples_trained_on(digits):
    x_tr, y_tr, _, _ = digits
    x, y = x_tr[:10], y_tr[:10]
    model = BatchSizes()
    # lr = 0: the weights do not move, so each epoch's loss is that of the same model on its 8 examples
    history = fit(model, x, y, epochs=2, batch_size=4, drop_last=True, lr=0.0, optimizer="sgd", seed=3,
                  progress=False)
    order = np.random.default_rng(3)
    with torch.no_grad():
        per_example = nn.functional.cross_entropy(model(torch.as_tensor(x)), torch.as_tensor(y), reduction="none")
    for epoch in range(2):
        used = order.permutation(10)[:8]
        assert history["loss"][epoch] == pytest.approx(float(per_example[used].mean()), rel=1e-6)


def test_drop_last_errors(digits):
    x_tr, y_tr, _, _ = digits
    with pytest.raises(ValueError, match=r"fit: with drop_last=True and batch_size=64 > 10 samples, every batch is "
                                         r"incomplete and nothing would be trained"):
        fit(small_cnn(), x_tr[:10], y_tr[:10], batch_size=64, drop_last=True)
    with pytest.raises(TypeError, match=r"fit: `drop_last` must be True or False. Received: drop_last='yes'"):
        fit(small_cnn(), x_tr[:10], y_tr[:10], drop_last="yes")
