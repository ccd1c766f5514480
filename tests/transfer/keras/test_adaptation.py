"""coursepkg.transfer.keras.adaptation: AdaBN, gradient reversal and DANN, in Keras 3 (NHWC)."""

import numpy as np
import pytest

from coursepkg.train.keras import evaluate
from coursepkg.transfer import shift_domain
from coursepkg.transfer.keras import (
    DANN,
    GradientReversal,
    adabn,
    dann_fit,
    dann_model,
    domain_accuracy,
    freeze,
    grad_reverse,
    load_pretrained,
    source_cnn,
    trainable_summary,
)

import tensorflow as tf  # noqa: E402


def test_adabn_sets_the_statistics_of_the_target_data(tasks_nhwc):
    source, _ = tasks_nhwc
    x = shift_domain(source.x_train[:200], "contrast", channels_last=True)
    model = load_pretrained(include_top=True)
    block1 = model.get_layer("base").get_layer("block1")
    adabn(model, x, batch_size=len(x))
    conv = block1.get_layer("block1_conv")(x).numpy()  # (N, 16, 16, 16)
    bn = block1.get_layer("block1_bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), conv.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), conv.var(axis=(0, 1, 2)), rtol=1e-3, atol=1e-5)  # biased
    assert bn.momentum == pytest.approx(0.9)


def test_adabn_recovers_accuracy_on_a_shifted_domain(tasks_nhwc):
    """Measured: 0.262 before AdaBN, 0.911 after, on the washed-out held-out source digits (as in PyTorch)."""
    source, _ = tasks_nhwc
    x_target = shift_domain(source.x_train, "contrast", channels_last=True)
    x_test = shift_domain(source.x_test, "contrast", channels_last=True)
    model = load_pretrained(include_top=True)
    freeze(model)  # AdaBN must reach frozen BatchNorm layers too
    before = evaluate(model, x_test, source.y_test)["accuracy"]
    adabn(model, x_target)
    after = evaluate(model, x_test, source.y_test)["accuracy"]
    assert before < 0.4 and after > 0.85
    assert trainable_summary(model).trainable == 0  # the flags are restored


@pytest.mark.parametrize("scale", [1.0, 0.25, 0.0])
def test_gradient_reversal_is_identity_forward_and_negates_gradients(scale):
    gen = np.random.default_rng(0)
    x = tf.constant(gen.normal(size=(3, 4)))
    upstream = gen.normal(size=(3, 4))
    layer = GradientReversal(scale)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = layer(x * 2.0)
        z = grad_reverse(x, scale)
        loss_y, loss_z = tf.reduce_sum(y * upstream), tf.reduce_sum(z * upstream)
    np.testing.assert_allclose(y.numpy(), 2.0 * x.numpy())
    np.testing.assert_allclose(tape.gradient(loss_y, x).numpy(), -scale * 2.0 * upstream)
    np.testing.assert_allclose(tape.gradient(loss_z, x).numpy(), -scale * upstream)


def test_dann_fools_its_domain_classifier_and_keeps_the_labels(tasks_nhwc):
    """As in PyTorch. Measured, last epoch of 15, seed 0: domain accuracy 0.994 without reversal, 0.500 with it;
    source label accuracy 0.988 / 0.982; noisy test digits 0.582 -> 0.618."""
    source, _ = tasks_nhwc
    n = len(source.x_train) // 2
    xs, ys = source.x_train[:n], source.y_train[:n]
    xt = shift_domain(source.x_train[n:], "noise", channels_last=True, rng=1)
    results = {}
    for lam in (0.0, 1.0):
        model = dann_model(source_cnn(rng=0), 5, rng=0)
        results[lam] = dann_fit(model, xs, ys, xt, epochs=15, batch_size=32, lambda_max=lam, seed=0, progress=False)
        assert isinstance(model, DANN) and model(xs[:2]).shape == (2, 5)
    assert results[0.0]["domain_accuracy"][-1] > 0.9
    assert results[1.0]["domain_accuracy"][-1] < 0.65
    assert results[1.0]["accuracy"][-1] > 0.9
    assert 0.0 <= domain_accuracy(model, xs[:20], xt[:20]) <= 1.0


def test_dann_fit_records_validation_on_the_target(tasks_nhwc):
    source, _ = tasks_nhwc
    xs, ys = source.x_train[:40], source.y_train[:40]
    xt = shift_domain(source.x_train[40:64], "noise", channels_last=True, rng=1)
    model = dann_model(source_cnn(rng=0), 5, rng=0)
    history = dann_fit(model, xs, ys, xt, epochs=2, batch_size=16,
                       validation_data=(source.x_train[64:84], source.y_train[64:84]), progress=False)
    assert list(history) == ["loss", "label_loss", "accuracy", "domain_loss", "domain_accuracy", "lambda", "val_loss",
                             "val_accuracy", "epoch_time"]
    assert all(len(v) == 2 for v in history.values()) and 0.0 <= history["val_accuracy"][-1] <= 1.0
    assert history["val_accuracy"][-1] == pytest.approx(
        evaluate(model, source.x_train[64:84], source.y_train[64:84])["accuracy"])
