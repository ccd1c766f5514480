"""coursepkg.transfer.domain: shifted digit domains, and the DANN schedule, loop and domain accuracy."""

import math

import numpy as np
import pytest

from coursepkg.ops import nchw_to_nhwc
from coursepkg.transfer.domain import SHIFTS, check_dann_data, dann_lambda, dann_loop, domain_accuracy, shift_domain


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(0, 1, size=(3, 1, 9, 7)).astype(np.float32)


def test_hand_computed_shifts():
    x = np.array([[[[0.0, 0.25], [0.5, 1.0]]]], np.float32)
    np.testing.assert_allclose(shift_domain(x, "invert")[0, 0], [[1.0, 0.75], [0.5, 0.0]])
    np.testing.assert_allclose(shift_domain(x, "contrast", amount=0.5)[0, 0], [[0.25, 0.375], [0.5, 0.75]])
    np.testing.assert_allclose(shift_domain(x, "brightness", amount=0.5)[0, 0], [[0.5, 0.625], [0.75, 1.0]])
    np.testing.assert_allclose(shift_domain(x, "noise", amount=0.0, rng=0), x)
    np.testing.assert_allclose(shift_domain(x, "rotate", amount=0.0), x, atol=1e-6)


def test_rotate_by_90_degrees_moves_a_corner():
    x = np.zeros((1, 1, 5, 5), np.float32)
    x[0, 0, 0, 4] = 1.0  # top right
    out = shift_domain(x, "rotate", amount=90)
    assert np.unravel_index(out[0, 0].argmax(), (5, 5)) == (0, 0)  # top right -> top left: counter-clockwise
    np.testing.assert_allclose(np.sort(out.ravel())[-1], 1.0, atol=1e-6)


@pytest.mark.parametrize("kind", sorted(SHIFTS))
def test_every_shift_keeps_shape_dtype_range_and_layout(images, kind):
    before = images.copy()
    out = shift_domain(images, kind, rng=0)
    np.testing.assert_array_equal(images, before)  # the input is not modified
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= -1e-6 and out.max() <= 1 + 1e-6
    assert not np.allclose(out, images)
    out_last = shift_domain(nchw_to_nhwc(images), kind, channels_last=True, rng=0)
    if kind != "noise":  # noise draws in array order, which differs between the layouts
        np.testing.assert_allclose(out_last, nchw_to_nhwc(out), atol=1e-6)


def test_noise_is_seeded(images):
    np.testing.assert_array_equal(shift_domain(images, "noise", rng=3), shift_domain(images, "noise", rng=3))


def test_shift_errors(images):
    with pytest.raises(ValueError, match=r"`kind` must be one of \['blur', 'brightness'"):
        shift_domain(images, "sepia")
    with pytest.raises(ValueError, match=r"Add the channel axis with images\[:, None\]"):
        shift_domain(images[:, 0], "invert")
    with pytest.raises(ValueError, match=r"for kind='contrast', `amount` must be in \(0, 1\]. Received: amount=0.0"):
        shift_domain(images, "contrast", amount=0)
    with pytest.raises(ValueError, match=r"for kind='noise', `amount` \(the noise std\) must be >= 0"):
        shift_domain(images, "noise", amount=-0.1)


def test_dann_lambda_schedule():
    assert dann_lambda(0.0) == 0.0
    assert dann_lambda(0.5) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert dann_lambda(1.0, lambda_max=0.3) == pytest.approx(0.3 * (2 / (1 + math.exp(-10)) - 1))
    values = [dann_lambda(p / 10) for p in range(11)]
    assert values == sorted(values)
    with pytest.raises(ValueError, match=r"`progress` must be in \[0, 1\]"):
        dann_lambda(1.5)


def test_check_dann_data():
    x, y = np.zeros((4, 1, 2, 2)), np.zeros(4)
    assert check_dann_data(x, y, x[:1], epochs=np.int64(2), batch_size=3, func="dann_fit") == (2, 3)
    with pytest.raises(ValueError, match=r"^dann_fit: `x_source` has 4 samples but `y_source` has 3; they must match.$"):
        check_dann_data(x, y[:3], x, epochs=1, batch_size=1, func="dann_fit")
    with pytest.raises(ValueError, match=r"both domains need samples. Received: len\(x_source\)=4, len\(x_target\)=0"):
        check_dann_data(x, y, x[:0], epochs=1, batch_size=1, func="dann_fit")
    with pytest.raises(ValueError, match=r"`epochs` must be >= 1"):
        check_dann_data(x, y, x, epochs=0, batch_size=1, func="dann_fit")
    with pytest.raises(TypeError, match=r"`batch_size` must be an integer"):
        check_dann_data(x, y, x, epochs=1, batch_size=2.0, func="dann_fit")


@pytest.mark.parametrize("n_source, n_target, batch_size", [(10, 4, 4), (7, 20, 3), (5, 2, 5), (1, 1, 1)])
def test_dann_loop_pairs_batches_and_follows_the_schedule(n_source, n_target, batch_size):
    calls, epochs_started = [], []

    def step(rows, target_rows, lam):
        calls.append((rows.copy(), target_rows.copy(), lam))
        return 1.0, 0.25, 0.5, float(len(rows)), 0.0  # every label right, every domain wrong

    epochs = 3
    history = dann_loop(step, n_source, n_target, epochs=epochs, batch_size=batch_size, gamma=10.0, lambda_max=0.5,
                        rng=np.random.default_rng(0), on_epoch=lambda: epochs_started.append(len(calls)))
    per_epoch = -(-n_source // batch_size)
    assert len(calls) == epochs * per_epoch and epochs_started == [e * per_epoch for e in range(epochs)]
    total = len(calls)
    for i, (rows, target_rows, lam) in enumerate(calls):
        assert lam == dann_lambda(i / max(total - 1, 1), gamma=10.0, lambda_max=0.5)
        assert len(target_rows) == min(len(rows), n_target)
        assert len(set(target_rows.tolist())) == len(target_rows) and target_rows.max() < n_target
    for e in range(epochs):  # every source row once per epoch
        rows = np.concatenate([c[0] for c in calls[e * per_epoch : (e + 1) * per_epoch]])
        assert sorted(rows.tolist()) == list(range(n_source))
    assert list(history) == ["loss", "label_loss", "accuracy", "domain_loss", "domain_accuracy", "lambda", "epoch_time"]
    assert history["loss"] == [1.0] * epochs and history["label_loss"] == [0.25] * epochs
    assert history["accuracy"] == [1.0] * epochs and history["domain_accuracy"] == [0.0] * epochs
    assert history["domain_loss"] == [0.5] * epochs
    assert history["lambda"] == [calls[(e + 1) * per_epoch - 1][2] for e in range(epochs)]
    assert all(t >= 0 for t in history["epoch_time"])


def test_dann_loop_weights_the_metrics_by_examples_and_records_validation():
    """Source batches of 3 and 1 rows, each paired with as many target rows."""
    steps = iter([(2.0, 1.0, 0.5, 3.0, 4.0), (6.0, 5.0, 1.5, 0.0, 1.0)])
    history = dann_loop(lambda rows, target_rows, lam: next(steps), 4, 10, epochs=1, batch_size=3, gamma=10.0,
                        lambda_max=1.0, rng=np.random.default_rng(1), validate=lambda: {"loss": 0.7, "accuracy": 0.6})
    assert history["loss"] == [pytest.approx((2.0 * 3 + 6.0 * 1) / 4)]
    assert history["label_loss"] == [pytest.approx((1.0 * 3 + 5.0 * 1) / 4)]
    assert history["accuracy"] == [pytest.approx(3.0 / 4)]
    assert history["domain_loss"] == [pytest.approx((0.5 * 6 + 1.5 * 2) / 8)]
    assert history["domain_accuracy"] == [pytest.approx(5.0 / 8)]
    assert history["lambda"] == [pytest.approx(dann_lambda(1.0))]
    assert history["val_loss"] == [0.7] and history["val_accuracy"] == [0.6]


def test_dann_loop_draws_only_from_its_rng():
    def run(seed):
        calls = []
        dann_loop(lambda r, t, lam: calls.append((r.tolist(), t.tolist())) or (0.0, 0.0, 0.0, 0.0, 0.0), 9, 5,
                  epochs=2, batch_size=4, gamma=10.0, lambda_max=1.0, rng=np.random.default_rng(seed))
        return calls

    assert run(3) == run(3) and run(3) != run(4)


def test_domain_accuracy_counts_both_domains():
    logits = lambda x: x[:, 0]  # noqa: E731
    source = np.array([[-1.0], [-2.0], [0.5]])  # two right (negative), one wrong
    target = np.array([[1.0], [0.0]])  # one right (positive), one wrong (0 is not > 0)
    for batch_size in (1, 2, 10):
        assert domain_accuracy(logits, source, target, batch_size=batch_size) == pytest.approx(3 / 5)
