"""coursepkg.transfer.torch.adaptation: AdaBN, gradient reversal and DANN, in PyTorch."""

import numpy as np
import pytest
import torch
from torch import nn

from coursepkg.train.torch import evaluate
from coursepkg.transfer import shift_domain
from coursepkg.transfer.torch import (
    DANN,
    GradientReversal,
    adabn,
    attach_head,
    dann_fit,
    dann_model,
    domain_accuracy,
    grad_reverse,
    load_pretrained,
    source_cnn,
    state_dict,
)


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


def test_dann_fit_records_validation_on_the_target(tasks_nchw):
    source, _ = tasks_nchw
    xs, ys, xt, _ = _dann_domains(source)
    model = dann_model(source_cnn(rng=0), 5, rng=0)
    history = dann_fit(model, xs[:40], ys[:40], xt[:24], epochs=2, batch_size=16, validation_data=(xs[40:60], ys[40:60]),
                       progress=False)
    assert list(history) == ["loss", "label_loss", "accuracy", "domain_loss", "domain_accuracy", "lambda", "val_loss",
                             "val_accuracy", "epoch_time"]
    assert all(len(v) == 2 for v in history.values()) and 0.0 <= history["val_accuracy"][-1] <= 1.0
    assert history["val_accuracy"][-1] == evaluate(model, xs[40:60], ys[40:60])["accuracy"]
    assert not model.training  # dann_fit leaves the model in evaluation mode
