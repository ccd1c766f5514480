"""coursepkg.transfer.keras: the same promises as the PyTorch module, in Keras 3 (NHWC)."""

import numpy as np
import pytest

from coursepkg.train.keras import evaluate, fit
from coursepkg.transfer import sample_per_class, shift_domain
from coursepkg.transfer.keras import (
    DANN,
    GradientReversal,
    accuracy_vs_labels,
    adabn,
    attach_head,
    compare_strategies,
    dann_fit,
    dann_model,
    domain_accuracy,
    freeze,
    full_fine_tuning,
    grad_reverse,
    linear_probe,
    load_pretrained,
    load_state_dict,
    partial_fine_tuning,
    set_bn_eval,
    source_cnn,
    state_dict,
    trainable_summary,
    unfreeze,
)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402


# --------------------------------------------------------------------------------------------- models
def test_source_cnn_shapes_and_parameter_count():
    base = source_cnn(rng=0)
    assert base.name == "base" and [layer.name for layer in base.layers] == ["block1", "block2", "block3"]
    assert base.output_shape == (None, 4, 4, 64)
    assert trainable_summary(base) == (23408, 0)
    assert source_cnn(input_size=28).output_shape == (None, 7, 7, 64)
    assert source_cnn(input_size=9, channels=(4, 8)).output_shape == (None, 4, 4, 8)
    bn = base.get_layer("block1").get_layer("block1_bn")
    assert bn.epsilon == 1e-5 and bn.momentum == pytest.approx(0.9)


def test_source_cnn_errors():
    with pytest.raises(ValueError, match=r"`input_size`=3 is too small for 3 blocks: .* at least 4"):
        source_cnn(input_size=3)


@pytest.mark.parametrize(
    "pooling, hidden, dropout, head_params",
    [("avg", (), 0.0, 64 * 5 + 5), ("max", (8,), 0.0, 64 * 8 + 8 + 8 * 5 + 5),
     ("flatten", (16, 4), 0.2, 1024 * 16 + 16 + 16 * 4 + 4 + 4 * 5 + 5)],
)
def test_attach_head_shapes_and_parameters(pooling, hidden, dropout, head_params):
    base = source_cnn(rng=0)
    model = attach_head(base, 5, pooling=pooling, hidden=hidden, dropout=dropout, rng=0)
    assert isinstance(model, keras.Model) and model.name == "transfer_model"
    assert model.get_layer("base") is base
    assert model.output_shape == (None, 5)
    assert trainable_summary(model.get_layer("head")).total == head_params
    n_dropout = sum(isinstance(layer, keras.layers.Dropout) for layer in model.get_layer("head").layers)
    assert n_dropout == (len(hidden) + 1 if dropout else 0)


def test_attach_head_errors_and_vector_bases():
    vec = keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Flatten(), keras.layers.Dense(6)])
    with pytest.raises(ValueError, match=r'already outputs vectors of shape \(N, 6\); use pooling="flatten"'):
        attach_head(vec, 2)
    assert attach_head(vec, 2, pooling="flatten").output_shape == (None, 2)
    with pytest.raises(TypeError, match=r"`base` must be a Keras model or layer"):
        attach_head("vgg", 2)


# --------------------------------------------------------------------------------------------- freezing
def test_freeze_unfreeze_by_all_count_and_name():
    model = attach_head(source_cnn(rng=0), 5, rng=0)
    assert trainable_summary(freeze(model)) == (0, 23733)
    assert trainable_summary(unfreeze(model, layers=1)) == (325, 23408)
    unfreeze(model, layers=["block3"])
    assert trainable_summary(model) == (325 + 18432 + 128, 4848)
    freeze(unfreeze(model), layers=["base.block3.bn", "head"])  # PyTorch's name of block3_bn
    assert trainable_summary(model) == (23408 - 128, 325 + 128)
    freeze(unfreeze(model), layers=["block3_bn"])  # Keras's name
    assert trainable_summary(model) == (23733 - 128, 128)
    assert trainable_summary(freeze(source_cnn(), layers=1)) == (18560, 4848)


def test_unfreezing_a_layer_inside_a_frozen_container():
    """Keras hides every weight of a container with trainable=False; unfreeze must reach through it."""
    base = source_cnn()
    base.trainable = False  # the usual Keras idiom
    unfreeze(base, layers=["block3"])
    assert trainable_summary(base) == (18432 + 128, 4848)
    assert base.trainable and not base.get_layer("block1").get_layer("block1_conv").trainable


def test_freeze_errors():
    model = attach_head(source_cnn(), 5)
    with pytest.raises(ValueError, match=r"the name 'conv' is ambiguous; it matches \['base.block1.block1_conv'"):
        freeze(model, layers=["conv"])
    with pytest.raises(ValueError, match=r"no layer named 'block9'. Its top-level layers are \['base', 'head'\]"):
        freeze(model, layers=["block9"])
    with pytest.raises(ValueError, match=r"`layers`=3 but the model has only 2 top-level layers"):
        freeze(model, layers=3)


def test_frozen_batchnorm_runs_in_inference_mode_and_keeps_its_statistics(tasks_nhwc):
    _, target = tasks_nhwc
    x, y = target.x_train[:64], target.y_train[:64]
    model = attach_head(load_pretrained(), 5, rng=0)
    freeze(model.get_layer("base"))
    before = state_dict(model)
    np.testing.assert_allclose(model(x[:8], training=True), model(x[:8], training=False), atol=1e-6)
    fit(model, x, y, epochs=1, batch_size=16, progress=False)
    after = state_dict(model)
    for k in before:
        assert np.array_equal(before[k], after[k]) == k.startswith("base."), k
    assert set_bn_eval(model) == ["base.block1.bn", "base.block2.bn", "base.block3.bn"]
    unfreeze(model)  # a trainable BatchNorm uses the batch statistics in training mode
    assert not np.allclose(model(x[:8], training=True), model(x[:8], training=False), atol=1e-3)


def test_partial_fine_tuning_trains_the_last_block(tasks_nhwc):
    _, target = tasks_nhwc
    model, history = partial_fine_tuning(load_pretrained(), target.x_train[:40], target.y_train[:40], epochs=1)
    assert trainable_summary(model) == (18432 + 128 + 1024 * 5 + 5, 4848)
    assert set_bn_eval(model) == ["base.block1.bn", "base.block2.bn"]


# --------------------------------------------------------------------------------------------- pretrained weights
def test_committed_weights_classify_held_out_source_digits(tasks_nhwc):
    source, _ = tasks_nhwc
    accuracy = evaluate(load_pretrained(include_top=True), source.x_test, source.y_test)["accuracy"]
    assert accuracy > 0.95  # measured 0.991, as in PyTorch (the same arrays through the layout mapping)
    assert load_pretrained().output_shape == (None, 4, 4, 64)


def test_load_state_dict_errors():
    model = attach_head(source_cnn(), 3)
    state = state_dict(model)
    del state["base.block1.conv.weight"]
    with pytest.raises(ValueError, match=r"Missing: \['base.block1.conv.weight'\]; unexpected: \[\]"):
        load_state_dict(model, state)
    state["base.block1.conv.weight"] = np.zeros((16, 2, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"'base.block1.conv.weight' gives shape \(3, 3, 2, 16\) in Keras's layout"):
        load_state_dict(model, state)


# --------------------------------------------------------------------------------------------- strategies
def test_pretrained_base_beats_training_from_scratch_with_10_labels_per_class(tasks_nhwc):
    """Target task, 10 labels per class, mean over seeds 0 and 1 (NHWC, Keras's Adam and shuffling).

    Measured: scratch 0.633, feature extraction 0.716, full fine-tuning 0.740 (partial, not run here: 0.744).
    """
    _, target = tasks_nhwc
    rows = []
    for seed in (0, 1):
        x, y = sample_per_class(target.x_train, target.y_train, 10, rng=seed)
        rows += compare_strategies(None, x, y, target.x_test, target.y_test, seed=seed,
                                   strategies=("scratch", "feature_extraction", "full"))
    acc = {s: np.mean([r.test_accuracy for r in rows if r.strategy == s]) for s in ("scratch", "feature_extraction", "full")}
    assert acc["feature_extraction"] > acc["scratch"] + 0.02
    assert acc["full"] > acc["scratch"] + 0.04
    assert {r.strategy: r.trainable_params for r in rows} == {"scratch": 28533, "feature_extraction": 5125, "full": 28533}


def test_strategy_functions_and_accuracy_vs_labels(tasks_nhwc):
    _, target = tasks_nhwc
    x, y = target.x_train[:30], target.y_train[:30]
    model, history = linear_probe(load_pretrained(), x, y, epochs=1)
    assert trainable_summary(model) == (5125, 23408) and len(history["loss"]) == 1
    model, _ = full_fine_tuning(load_pretrained(), x, y, epochs=1, pooling="avg", hidden=(8,))
    assert trainable_summary(model) == (23408 + 64 * 8 + 8 + 8 * 5 + 5, 0)
    rows = accuracy_vs_labels(None, target.x_train, target.y_train, target.x_test[:50], target.y_test[:50],
                              per_class=(2,), seeds=(0,), strategies=("feature_extraction",), epochs=1)
    assert [(r.strategy, r.n_per_class, r.seed) for r in rows] == [("feature_extraction", 2, 0)]


# --------------------------------------------------------------------------------------------- AdaBN
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


# --------------------------------------------------------------------------------------------- gradient reversal, DANN
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
