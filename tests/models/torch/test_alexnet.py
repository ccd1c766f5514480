"""Tests of coursepkg.models.torch.alexnet: LRN against Krizhevsky's formula, AlexNet and ZFNet shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from coursepkg.models.torch import LRN, alexnet, count_params, stage_shapes, zfnet
from coursepkg.params import Conv2D, Dense, Flatten, MaxPool, layer_table

STAGES = ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"]


def lrn_numpy(a: np.ndarray, size: int, alpha: float, beta: float, k: float) -> np.ndarray:
    """Krizhevsky et al. (2012), section 3.3, for odd ``size``: a loop over channels, as the paper writes it."""
    n_channels = a.shape[1]
    b = np.empty_like(a)
    for i in range(n_channels):
        lo, hi = max(0, i - size // 2), min(n_channels - 1, i + size // 2)
        b[:, i] = a[:, i] / (k + alpha * np.sum(a[:, lo : hi + 1] ** 2, axis=1)) ** beta
    return b


@pytest.mark.parametrize(
    "size, alpha, beta, k",
    [(5, 1e-4, 0.75, 2.0), (3, 0.3, 0.5, 1.0), (1, 0.1, 0.75, 2.0), (9, 0.05, 0.75, 2.0)],  # 9 > C: edge windows
)
def test_lrn_equals_krizhevsky_formula(size, alpha, beta, k):
    rng = np.random.default_rng(0)
    a = rng.normal(scale=3.0, size=(2, 7, 3, 4))  # large activations, so the normalisation matters
    expected = lrn_numpy(a, size, alpha, beta, k)
    got = LRN(size, alpha=alpha, beta=beta, k=k)(torch.from_numpy(a)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    assert not np.allclose(expected, a / k**beta)  # the neighbours do contribute


def test_lrn_defaults_and_errors():
    lrn = LRN()
    assert (lrn.size, lrn.paper_alpha, lrn.beta, lrn.k) == (5, 1e-4, 0.75, 2.0)
    assert lrn.alpha == pytest.approx(5e-4)  # what torch.nn.LocalResponseNorm divides by size
    assert count_params(lrn) == 0
    with pytest.raises(ValueError, match=r"LRN: `alpha` must be > 0. Received: alpha=0"):
        LRN(alpha=0)
    with pytest.raises(TypeError, match=r"LRN: `size` must be an integer. Received: size=5.0"):
        LRN(5.0)


def test_alexnet_stage_shapes():
    with torch.device("meta"):
        model = alexnet()
    shapes = stage_shapes(model, STAGES)
    assert [s[1:] for s in shapes.values()] == [
        (96, 55, 55), (96, 27, 27), (256, 27, 27), (256, 13, 13),
        (384, 13, 13), (384, 13, 13), (256, 13, 13), (256, 6, 6),
    ]  # fmt: skip


def test_alexnet_matches_the_layer_table_of_the_notes():
    rows = layer_table((227, 227, 3), [
        Conv2D(96, 11, stride=4), MaxPool(3, stride=2), Conv2D(256, 5, padding=2), MaxPool(3, stride=2),
        Conv2D(384, 3, padding=1), Conv2D(384, 3, padding=1), Conv2D(256, 3, padding=1), MaxPool(3, stride=2),
        Flatten(), Dense(4096), Dense(4096), Dense(1000),
    ])  # fmt: skip
    by_name = {r.name: r for r in rows}
    with torch.device("meta"):
        model = alexnet()
    shapes = stage_shapes(model, STAGES)
    for ours, theirs in zip(STAGES, ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool3"]):
        n, c, h, w = shapes[ours]
        assert (h, w, c) == by_name[theirs].output_shape, ours
    for ours, theirs in zip(["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"],
                            ["conv1", "conv2", "conv3", "conv4", "conv5", "fc1", "fc2", "fc3"]):
        assert count_params(getattr(model, ours)) == by_name[theirs].params, ours


def test_alexnet_options():
    with torch.device("meta"):
        plain = alexnet(lrn=False, dropout=0.0)
    assert isinstance(plain.norm1, nn.Identity) and plain.drop6.p == 0.0
    assert count_params(plain) == 62_378_344  # LRN and dropout have no parameters
    with pytest.raises(ValueError, match=r"`dropout` is the fraction .* must be in \[0, 1\).*Received: dropout=1.0"):
        alexnet(dropout=1.0)
    with pytest.raises(TypeError, match=r"alexnet: `lrn` must be True or False. Received: lrn='yes'"):
        alexnet(lrn="yes")


def test_alexnet_dropout_is_off_in_eval_mode():
    torch.manual_seed(0)
    model = alexnet(10, in_channels=1, input_size=67).eval()
    x = torch.randn(2, 1, 67, 67)
    torch.testing.assert_close(model(x), model(x))


def test_zfnet_stage_shapes():
    with torch.device("meta"):
        model = zfnet()
    shapes = stage_shapes(model, STAGES)
    assert [s[1:] for s in shapes.values()] == [
        (96, 110, 110), (96, 55, 55), (256, 26, 26), (256, 13, 13),
        (384, 13, 13), (384, 13, 13), (256, 13, 13), (256, 6, 6),
    ]  # fmt: skip
    assert count_params(model) == 62_378_344 - 96 * 3 * (11 * 11 - 7 * 7)  # only conv1 differs from AlexNet
