"""coursepkg.transfer.torch: freezing, heads, pretrained weights, strategies, AdaBN and DANN in PyTorch."""

import numpy as np
import pytest
import torch
from torch import nn

from coursepkg.train.torch import evaluate, fit
from coursepkg.transfer import sample_per_class, shift_domain
from coursepkg.transfer.torch import (
    DANN,
    GradientReversal,
    SourceCNN,
    TransferModel,
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


# --------------------------------------------------------------------------------------------- models
def test_source_cnn_shapes_and_parameter_count():
    base = source_cnn(rng=0)
    assert isinstance(base, SourceCNN) and [n for n, _ in base.named_children()] == ["block1", "block2", "block3"]
    assert base(torch.zeros(2, 1, 16, 16)).shape == (2, 64, 4, 4)
    assert trainable_summary(base) == (23408, 0)
    assert source_cnn(input_size=28)(torch.zeros(1, 1, 28, 28)).shape == (1, 64, 7, 7)
    assert source_cnn(input_size=9, channels=(4, 8))(torch.zeros(1, 1, 9, 9)).shape == (1, 8, 4, 4)  # odd side floors


def test_source_cnn_errors():
    with pytest.raises(ValueError, match=r"`input_size`=3 is too small for 3 blocks: .* at least 4"):
        source_cnn(input_size=3)
    with pytest.raises(TypeError, match=r"`channels` must be a non-empty sequence of ints"):
        source_cnn(channels=16)


@pytest.mark.parametrize(
    "pooling, hidden, dropout, head_params",
    [("avg", (), 0.0, 64 * 5 + 5), ("max", (8,), 0.0, 64 * 8 + 8 + 8 * 5 + 5),
     ("flatten", (), 0.5, 1024 * 5 + 5), ("flatten", (16, 4), 0.2, 1024 * 16 + 16 + 16 * 4 + 4 + 4 * 5 + 5)],
)
def test_attach_head_shapes_and_parameters(pooling, hidden, dropout, head_params):
    base = source_cnn(rng=0)
    model = attach_head(base, 5, pooling=pooling, hidden=hidden, dropout=dropout, rng=0)
    assert isinstance(model, TransferModel) and isinstance(model, nn.Sequential)
    assert model.base is base  # shared, not copied
    assert model(torch.zeros(3, 1, 16, 16)).shape == (3, 5)
    assert trainable_summary(model.head).total == head_params
    assert sum(isinstance(m, nn.Dropout) for m in model.head) == (len(hidden) + 1 if dropout else 0)


def test_attach_head_on_a_plain_module_needs_the_input_shape():
    base = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    with pytest.raises(ValueError, match=r"pass input_shape=\(C, H, W\)"):
        attach_head(base, 2)
    assert attach_head(base, 2, input_shape=(3, 8, 8))(torch.zeros(1, 3, 8, 8)).shape == (1, 2)
    vec = nn.Sequential(nn.Flatten(), nn.Linear(12, 6))
    with pytest.raises(ValueError, match=r'already outputs vectors of shape \(N, 6\); use pooling="flatten"'):
        attach_head(vec, 2, input_shape=(3, 2, 2))
    with pytest.raises(ValueError, match=r"`pooling` must be one of \('avg', 'max', 'flatten'\)"):
        attach_head(source_cnn(), 2, pooling="sum")
    with pytest.raises(TypeError, match=r"`base` must be a torch.nn.Module"):
        attach_head("vgg", 2)


# --------------------------------------------------------------------------------------------- freezing
def test_freeze_unfreeze_by_all_count_and_name():
    model = attach_head(source_cnn(rng=0), 5, rng=0)
    assert trainable_summary(freeze(model)) == (0, 23733)
    assert trainable_summary(unfreeze(model, layers=1)) == (325, 23408)  # the last top-level layer: the head
    unfreeze(model, layers=["block3"])
    assert trainable_summary(model) == (325 + 18432 + 128, 4848)
    freeze(unfreeze(model), layers=["base.block3.bn", "head"])
    assert trainable_summary(model) == (23408 - 128, 325 + 128)
    base = source_cnn()
    assert trainable_summary(freeze(base, layers=1)) == (18560, 4848)  # all blocks but the last
    assert trainable_summary(freeze(source_cnn(), layers=0)).trainable == 0


def test_freeze_errors():
    model = attach_head(source_cnn(), 5)
    with pytest.raises(ValueError, match=r"the name 'conv' is ambiguous; it matches \['base.block1.conv'"):
        freeze(model, layers=["conv"])
    with pytest.raises(ValueError, match=r"no layer named 'block9'. Its top-level layers are \['base', 'head'\]"):
        freeze(model, layers=["block9"])
    with pytest.raises(ValueError, match=r"`layers`=3 but the model has only 2 top-level layers"):
        freeze(model, layers=3)
    with pytest.raises(ValueError, match=r"to select one layer pass layers=\['head'\]"):
        freeze(model, layers="head")
    with pytest.raises(TypeError, match=r'`layers` must be "all", an int or a list of layer names'):
        freeze(model, layers=1.5)


def test_frozen_batchnorm_keeps_its_statistics_during_fit(tasks_nchw):
    """A frozen base must not drift: TransferModel.train() keeps frozen BatchNorm in eval mode."""
    _, target = tasks_nchw
    x, y = target.x_train[:64], target.y_train[:64]
    model = attach_head(load_pretrained(), 5, rng=0)
    freeze(model.base)
    before = state_dict(model)
    fit(model, x, y, epochs=1, batch_size=16, progress=False)
    after = state_dict(model)
    for k in before:
        same = np.array_equal(before[k], after[k])
        assert same == k.startswith("base."), k  # base (weights and running stats) unchanged, head trained
    assert model.training and not model.base.block1.bn.training
    assert set_bn_eval(model) == ["base.block1.bn", "base.block2.bn", "base.block3.bn"]

    # the pitfall the override prevents: a plain nn.Sequential updates the frozen running statistics
    blocks = nn.Sequential(*load_pretrained().children())  # the same layers without SourceCNN's train() override
    plain = nn.Sequential(blocks, nn.Flatten(), nn.Linear(1024, 5))
    for p in blocks.parameters():
        p.requires_grad_(False)
    stats = blocks[0].bn.running_mean.clone()
    fit(plain, x, y, epochs=1, batch_size=16, progress=False)
    assert not torch.equal(stats, blocks[0].bn.running_mean)


def test_partial_fine_tuning_trains_the_last_block_and_its_batchnorm(tasks_nchw):
    _, target = tasks_nchw
    base = load_pretrained()
    model, history = partial_fine_tuning(base, target.x_train[:40], target.y_train[:40], blocks=1, epochs=1)
    assert trainable_summary(model) == (18432 + 128 + 1024 * 5 + 5, 4848)
    model.train()
    assert not model.base.block2.bn.training and model.base.block3.bn.training
    assert set(history) >= {"loss", "accuracy"}


# --------------------------------------------------------------------------------------------- pretrained weights
def test_committed_weights_classify_held_out_source_digits(tasks_nchw):
    source, _ = tasks_nchw
    model = load_pretrained(include_top=True)
    assert isinstance(model, TransferModel) and not model.training
    accuracy = evaluate(model, source.x_test, source.y_test)["accuracy"]
    assert accuracy > 0.95  # measured 0.991 (223 of 225)
    assert isinstance(load_pretrained(), SourceCNN)


def test_state_dict_round_trip_and_errors():
    a, b = attach_head(source_cnn(rng=0), 3, rng=0), attach_head(source_cnn(rng=1), 3, rng=1)
    load_state_dict(b, state_dict(a))
    x = torch.randn(2, 1, 16, 16)
    a.eval(), b.eval()
    torch.testing.assert_close(a(x), b(x))
    state = state_dict(a)
    del state["head.logits.bias"]
    with pytest.raises(ValueError, match=r"Missing: \['head.logits.bias'\]; unexpected: \[\]"):
        load_state_dict(b, state)
    state["head.logits.bias"] = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"'head.logits.bias' has shape \(4,\) but the model expects \(3,\)"):
        load_state_dict(b, state)


# --------------------------------------------------------------------------------------------- strategies
def test_pretrained_base_beats_training_from_scratch_with_10_labels_per_class(tasks_nchw):
    """Target task (jittered digits 5-9), 10 labels per class, mean test accuracy over seeds 0 and 1.

    Measured (one CPU thread): scratch 0.656, feature extraction 0.709, partial 0.725, full fine-tuning 0.731.
    Over seeds 0-4: 0.655, 0.708, -, 0.748 (scratch with global average pooling instead: 0.632).
    """
    _, target = tasks_nchw
    rows = []
    for seed in (0, 1):
        x, y = sample_per_class(target.x_train, target.y_train, 10, rng=seed)
        rows += compare_strategies(None, x, y, target.x_test, target.y_test, seed=seed)
    acc = {s: np.mean([r.test_accuracy for r in rows if r.strategy == s]) for s in ("scratch", "feature_extraction",
                                                                                     "partial", "full")}
    assert acc["feature_extraction"] > acc["scratch"] + 0.02
    assert acc["partial"] > acc["scratch"] + 0.02
    assert acc["full"] > acc["scratch"] + 0.04
    params = {r.strategy: r.trainable_params for r in rows}
    assert params == {"scratch": 28533, "feature_extraction": 5125, "partial": 23685, "full": 28533}
    assert all(r.seconds > 0 for r in rows)


def test_strategy_functions_and_accuracy_vs_labels(tasks_nchw):
    _, target = tasks_nchw
    x, y = target.x_train[:30], target.y_train[:30]
    model, history = linear_probe(load_pretrained(), x, y, epochs=2)
    assert trainable_summary(model) == (5125, 23408) and len(history["loss"]) == 2
    model, _ = full_fine_tuning(load_pretrained(), x, y, epochs=1, pooling="avg", hidden=(8,))
    assert trainable_summary(model) == (23408 + 64 * 8 + 8 + 8 * 5 + 5, 0)
    rows = accuracy_vs_labels(None, target.x_train, target.y_train, target.x_test[:50], target.y_test[:50],
                              per_class=(1, 2), seeds=(0,), strategies=("feature_extraction",), epochs=1)
    assert [(r.strategy, r.n_per_class, r.seed) for r in rows] == [("feature_extraction", 1, 0), ("feature_extraction", 2, 0)]
    with pytest.raises(ValueError, match=r"`strategies` must be a non-empty subset"):
        compare_strategies(None, x, y, x, y, strategies=("finetune",))


# --------------------------------------------------------------------------------------------- AdaBN
def test_adabn_sets_the_statistics_of_the_target_data(tasks_nchw):
    source, _ = tasks_nchw
    x = shift_domain(source.x_train[:200], "contrast")
    model = load_pretrained(include_top=True)
    adabn(model, x, batch_size=len(x))  # one batch: the statistics are exactly the target's
    with torch.no_grad():
        conv = model.base.block1.conv(torch.as_tensor(x))  # (N, 16, 16, 16), what block1.bn normalises
    bn = model.base.block1.bn
    torch.testing.assert_close(bn.running_mean, conv.mean(dim=(0, 2, 3)), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(bn.running_var, conv.var(dim=(0, 2, 3), unbiased=True), rtol=1e-4, atol=1e-5)
    assert bn.momentum == 0.1 and not model.training
    with pytest.raises(ValueError, match=r"no BatchNorm layer"):
        adabn(nn.Linear(2, 2), np.zeros((4, 2)))


def test_adabn_recovers_accuracy_on_a_shifted_domain(tasks_nchw):
    """Washed-out source digits ("contrast", x * 0.3 + 0.35), adapted on the unlabelled shifted training digits.

    Measured on the held-out shifted source test digits: 0.262 before AdaBN, 0.911 after (Keras: the same).
    """
    source, _ = tasks_nchw
    x_target, x_test = shift_domain(source.x_train, "contrast"), shift_domain(source.x_test, "contrast")
    model = load_pretrained(include_top=True)
    before = evaluate(model, x_test, source.y_test)["accuracy"]
    weights = {k: v for k, v in state_dict(model).items() if "running" not in k}
    adabn(model, x_target)
    after = evaluate(model, x_test, source.y_test)["accuracy"]
    assert before < 0.4 and after > 0.85
    for k, v in weights.items():
        np.testing.assert_array_equal(state_dict(model)[k], v)  # only the statistics changed


# --------------------------------------------------------------------------------------------- gradient reversal, DANN
@pytest.mark.parametrize("scale", [1.0, 0.25, 0.0])
def test_gradient_reversal_is_identity_forward_and_negates_gradients(scale):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(3, 4, generator=gen, dtype=torch.float64)
    layer = GradientReversal(scale)
    y = layer(x * 2.0)
    torch.testing.assert_close(y, x * 2.0)
    (y * upstream).sum().backward()
    torch.testing.assert_close(x.grad, -scale * 2.0 * upstream)
    x.grad = None
    (grad_reverse(x, scale) * upstream).sum().backward()
    torch.testing.assert_close(x.grad, -scale * upstream)


def _dann_domains(source):
    n = len(source.x_train) // 2
    return (source.x_train[:n], source.y_train[:n], shift_domain(source.x_train[n:], "noise", rng=1),
            shift_domain(source.x_test, "noise", rng=2))


def test_dann_fools_its_domain_classifier_and_keeps_the_labels(tasks_nchw):
    """Source: jittered digits 0-4 (338); target: the other 338 with Gaussian noise (std 0.3), unlabelled.

    Measured, last epoch of 15, seed 0: domain accuracy 0.994 without reversal (lambda_max=0) and 0.500 with it;
    source label accuracy 0.988 / 0.982 (training batches); noisy test digits 0.587 -> 0.636.
    """
    source, _ = tasks_nchw
    xs, ys, xt, xt_test = _dann_domains(source)
    results = {}
    for lam in (0.0, 1.0):
        model = dann_model(source_cnn(rng=0), 5, rng=0)
        history = dann_fit(model, xs, ys, xt, epochs=15, batch_size=32, lambda_max=lam, seed=0, progress=False)
        results[lam] = history
        assert set(history) == {"loss", "label_loss", "domain_loss", "accuracy", "domain_accuracy", "lambda", "epoch_time"}
        assert isinstance(model, DANN) and model(torch.as_tensor(xs[:2])).shape == (2, 5)
    assert results[0.0]["domain_accuracy"][-1] > 0.9  # the domains are easy to tell apart
    assert results[1.0]["domain_accuracy"][-1] < 0.65  # ... until the features are trained to hide them
    assert results[1.0]["accuracy"][-1] > 0.9  # while the source labels are still learnt
    assert results[1.0]["lambda"][-1] == pytest.approx(1.0, abs=1e-3) and results[0.0]["lambda"][-1] == 0.0
    assert 0.0 <= domain_accuracy(model, source.x_test, xt_test) <= 1.0


def test_dann_errors():
    model = dann_model(source_cnn(), 5)
    with pytest.raises(TypeError, match=r"`model` must be a DANN"):
        dann_fit(attach_head(source_cnn(), 5), np.zeros((2, 1, 16, 16)), np.zeros(2), np.zeros((2, 1, 16, 16)))
    with pytest.raises(ValueError, match=r"`x_source` has 2 samples but `y_source` has 3"):
        dann_fit(model, np.zeros((2, 1, 16, 16)), np.zeros(3), np.zeros((2, 1, 16, 16)))
