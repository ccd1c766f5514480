"""AlexNet, ZFNet and local response normalisation in Keras."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursepkg.models import keras as mk


@pytest.fixture(scope="module")
def alexnet():
    model = mk.alexnet()  # 62M parameters: built once for the module
    yield model
    del model
    keras.backend.clear_session()


def test_alexnet_count(alexnet):
    assert mk.count_params(alexnet) == 62_378_344
    assert mk.count_params(alexnet.get_layer("fc6")) == 37_752_832


def test_alexnet_shapes(alexnet):
    names = ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "flatten", "fc8"]
    shapes = [s[1:] for s in mk.stage_shapes(alexnet, names).values()]
    assert shapes == [
        (55, 55, 96), (27, 27, 96), (27, 27, 256), (13, 13, 256), (13, 13, 384), (13, 13, 384), (13, 13, 256),
        (6, 6, 256), (9216,), (1000,),
    ]  # fmt: skip


def test_alexnet_lrn_and_dropout_switches():
    with_lrn = mk.alexnet(num_classes=2, input_size=67, dropout=0.25)
    without = mk.alexnet(num_classes=2, input_size=67, lrn=False)
    assert [layer.name for layer in with_lrn.layers if isinstance(layer, mk.LRN)] == ["norm1", "norm2"]
    assert not [layer for layer in without.layers if isinstance(layer, mk.LRN)]
    assert with_lrn.get_layer("drop6").rate == 0.25
    assert mk.count_params(with_lrn) == mk.count_params(without)
    with pytest.raises(ValueError, match=r"`dropout` is the fraction .* Received: dropout=1.0"):
        mk.alexnet(dropout=1.0)
    with pytest.raises(TypeError, match="`lrn` must be True or False"):
        mk.alexnet(lrn="yes")


def test_zfnet_count_and_shapes():
    model = mk.zfnet()
    assert mk.count_params(model) == 62_357_608 == 62_378_344 - 3 * 96 * (11 * 11 - 7 * 7)
    names = ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"]
    assert [s[1:3] for s in mk.stage_shapes(model, names).values()] == [
        (110, 110), (55, 55), (26, 26), (13, 13), (13, 13), (13, 13), (13, 13), (6, 6),
    ]  # fmt: skip


def lrn_reference(a: np.ndarray, size: int, alpha: float, beta: float, k: float) -> np.ndarray:
    """Krizhevsky et al. (2012), section 3.3, with explicit loops over the channels; a is (N, H, W, C)."""
    c = a.shape[-1]
    b = np.empty_like(a)
    for i in range(c):
        lo, hi = max(0, i - size // 2), min(c - 1, i + size // 2)
        b[..., i] = a[..., i] / (k + alpha * (a[..., lo : hi + 1] ** 2).sum(axis=-1)) ** beta
    return b


@pytest.mark.parametrize(
    ("size", "alpha", "beta", "k", "channels"),
    [(5, 1e-4, 0.75, 2.0, 96), (3, 0.5, 1.0, 1.0, 4), (5, 0.1, 0.75, 2.0, 3), (1, 1.0, 0.5, 1.0, 2)],
)
def test_lrn_is_krizhevskys_formula(size, alpha, beta, k, channels):
    a = np.random.default_rng(size).normal(0, 3, (2, 3, 4, channels)).astype(np.float32)
    got = np.asarray(mk.LRN(size, alpha=alpha, beta=beta, k=k)(a))
    np.testing.assert_allclose(got, lrn_reference(a.astype(np.float64), size, alpha, beta, k), rtol=2e-5, atol=1e-6)


def test_lrn_matches_the_pytorch_twin():
    import torch

    from coursepkg.models.torch import LRN as TorchLRN
    from coursepkg.ops import nchw_to_nhwc

    a = np.random.default_rng(0).normal(0, 10, (2, 8, 5, 5)).astype(np.float32)  # (N, C, H, W), large: LRN bites
    expected = TorchLRN()(torch.from_numpy(a)).numpy()
    got = np.asarray(mk.LRN()(nchw_to_nhwc(a))).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert np.abs(got - a).max() > 0.1  # the normalisation did something


def test_lrn_serialises():
    layer = mk.LRN(3, alpha=2e-4, beta=0.5, k=1.5, name="norm")
    config = layer.get_config()
    assert {key: config[key] for key in ("size", "alpha", "beta", "k", "name")} == {
        "size": 3, "alpha": 2e-4, "beta": 0.5, "k": 1.5, "name": "norm"
    }  # fmt: skip
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(clone, mk.LRN) and clone.get_config() == config


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # inside Keras's saving code
def test_lrn_model_round_trips_through_a_keras_file(tmp_path):
    model = keras.Sequential([keras.Input((5, 5, 8)), keras.layers.Conv2D(8, 1), mk.LRN(3, alpha=0.1, name="norm")])
    x = np.random.default_rng(0).normal(0, 3, (1, 5, 5, 8)).astype(np.float32)
    path = tmp_path / "lrn.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.get_layer("norm"), mk.LRN) and loaded.get_layer("norm").alpha == 0.1
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6, atol=1e-6)


def test_lrn_argument_errors():
    with pytest.raises(ValueError, match=r"`size` must be odd .* Received: size=4"):
        mk.LRN(4)
    with pytest.raises(ValueError, match=r"`beta` must be > 0. Received: beta=0"):
        mk.LRN(beta=0)
    with pytest.raises(TypeError, match="`alpha` must be a finite float"):
        mk.LRN(alpha="1e-4")
