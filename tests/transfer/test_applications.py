"""coursepkg.transfer.applications: keras.applications wrappers, offline (weights=None) and their offline error."""

import socket
import urllib.error
import urllib.request

import numpy as np
import pytest

from coursepkg.transfer.applications import (
    APPLICATIONS,
    PretrainedWeightsUnavailableError,
    applications_model,
    preprocess_input,
)

import keras  # noqa: E402

SIDE = {"VGG16": 32, "ResNet50": 32, "InceptionV3": 75, "EfficientNetB0": 32}
FEATURES = {"VGG16": 512, "ResNet50": 2048, "InceptionV3": 2048, "EfficientNetB0": 1280}


@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_pooled_features_without_top(name):
    s = SIDE[name]
    model = applications_model(name, input_shape=(s, s, 3))
    assert model.output_shape == (None, FEATURES[name])


def test_pooling_max_and_none():
    assert applications_model("VGG16", input_shape=(32, 32, 3), pooling="max").output_shape == (None, 512)
    assert applications_model("VGG16", input_shape=(64, 64, 3), pooling=None).output_shape == (None, 2, 2, 512)
    with pytest.raises(ValueError, match=r'`pooling` must be "avg", "max" or None. Received: pooling=\'sum\''):
        applications_model("VGG16", pooling="sum")


@pytest.mark.parametrize("name", ["ResNet50", "EfficientNetB0"])
def test_top_with_ten_classes_outputs_logits(name):
    model = applications_model(name, include_top=True, classes=10, input_shape=(32, 32, 3))
    assert model.output_shape == (None, 10)
    assert model.layers[-1].activation is keras.activations.linear
    assert model.layers[-1].kernel.shape[-1] == 10


def test_input_tensor():
    inputs = keras.Input((48, 48, 3))
    model = applications_model("VGG16", input_tensor=inputs)
    assert model.inputs[0] is inputs and model.output_shape == (None, 512)


def test_unknown_name():
    with pytest.raises(ValueError, match=r"`name` must be one of \['EfficientNetB0', 'InceptionV3', 'ResNet50', 'VGG16'\]"):
        applications_model("ResNet18")


def test_imagenet_weights_offline_raise_an_error_that_says_what_to_do(tmp_path, monkeypatch):
    """Simulate a machine without network: an empty Keras cache and a DNS failure on every URL."""
    from keras.src.backend import config

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path))  # Keras reads $KERAS_HOME once, at import

    def offline(*args, **kwargs):
        raise urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(PretrainedWeightsUnavailableError) as info:
        applications_model("VGG16", input_shape=(32, 32, 3), weights="imagenet")
    err = info.value
    message = str(err)
    assert isinstance(err, ConnectionError)
    assert "could not download the ImageNet weights of VGG16 from https://storage.googleapis.com/" in message
    assert "Temporary failure in name resolution" in message
    assert "weights=None" in message
    fname = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert err.path == str(tmp_path / "models" / fname) and f"copy it to {err.path}" in message
    assert err.url.endswith(fname)
    assert not list((tmp_path / "models").glob("*.h5"))  # nothing half-downloaded left behind


def test_other_errors_pass_through():
    with pytest.raises(ValueError, match=r"classes"):
        applications_model("ResNet50", include_top=True, weights="imagenet", classes=10)


def test_preprocess_input_formulas():
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 4, 4, 3)).astype(np.float32)
    before = x.copy()
    caffe = x[..., ::-1] - np.array([103.939, 116.779, 123.68], np.float32)  # RGB -> BGR, minus the ImageNet mean
    np.testing.assert_allclose(preprocess_input("VGG16", x), caffe, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(preprocess_input("ResNet50", x), caffe, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(preprocess_input("InceptionV3", x), x / 127.5 - 1.0, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(preprocess_input("EfficientNetB0", x), x)
    np.testing.assert_array_equal(x, before)  # the input is not modified
    with pytest.raises(ValueError, match=r"RGB images with 3 channels last.*got shape \(2, 4, 4, 1\)"):
        preprocess_input("VGG16", x[..., :1])
