"""Every Keras builder: a small variant runs a forward pass; the arguments are checked with useful messages."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursepkg.models import ARCHITECTURES
from coursepkg.models import keras as mk

# Small variants: few classes, small inputs, so that each builds and runs in well under a second
# (resnet101/152 and the VGGs keep their width: they are the slowest, a second or two each).
SMALL = {
    "simple_cnn": dict(num_classes=10, in_channels=3, input_size=32),
    "lenet5": dict(num_classes=10, in_channels=3, input_size=(32, 36)),
    "alexnet": dict(num_classes=10, in_channels=1, input_size=67),
    "zfnet": dict(num_classes=10, in_channels=1, input_size=53),
    "vgg11": dict(num_classes=10, in_channels=1, input_size=32),
    "vgg16": dict(num_classes=10, in_channels=3, input_size=32, batch_norm=True),
    "vgg19": dict(num_classes=10, in_channels=1, input_size=32),
    "googlenet": dict(num_classes=10, in_channels=1, input_size=32),
    "resnet18": dict(num_classes=10, in_channels=1, input_size=32),
    "resnet34": dict(num_classes=10, in_channels=3, input_size=33, conv_bias=False),
    "resnet50": dict(num_classes=10, in_channels=1, input_size=32, stride_on="3x3"),
    "resnet101": dict(num_classes=10, in_channels=3, input_size=32),
    "resnet152": dict(num_classes=10, in_channels=1, input_size=32, conv_bias=False),
    "densenet121": dict(num_classes=10, in_channels=1, input_size=32),
    "pixelnet": dict(num_classes=3, in_channels=1, input_size=(16, 20)),
}


def test_every_architecture_has_a_small_variant():
    assert set(SMALL) == set(ARCHITECTURES)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_small_variant_forward_pass(name):
    keras.utils.set_random_seed(0)
    kwargs = SMALL[name]
    model = getattr(mk, name)(**kwargs)
    h, w = (kwargs["input_size"],) * 2 if isinstance(kwargs["input_size"], int) else kwargs["input_size"]
    x = np.random.default_rng(0).standard_normal((2, h, w, kwargs["in_channels"])).astype(np.float32)  # batch of 2
    y = np.asarray(model(x, training=False))
    expected = (2, h, w, kwargs["num_classes"]) if name == "pixelnet" else (2, kwargs["num_classes"])
    assert y.shape == expected
    assert np.isfinite(y).all()
    assert model.input_shape == (None, h, w, kwargs["in_channels"])


# The smallest input each builder accepts, as its docstring states. ResNets take any size from 1 up.
MINIMUM = {"simple_cnn": 4, "lenet5": 32, "alexnet": 67, "zfnet": 53, "vgg11": 32, "vgg16": 32, "vgg19": 32,
           "googlenet": 31, "densenet121": 29, "pixelnet": 4}  # fmt: skip


@pytest.mark.parametrize("name", sorted(MINIMUM))
def test_too_small_input_says_how_large_it_must_be(name):
    least = MINIMUM[name]
    with pytest.raises(ValueError, match=rf"{name}: input_size=\({least - 1}, 64\) is too small .* >= {least} "):
        getattr(mk, name)(input_size=(least - 1, 64))


def test_googlenet_aux_heads_need_79_pixels():
    with pytest.raises(ValueError, match="GoogLeNet with aux_logits=True.* >= 79"):
        mk.googlenet(input_size=78, aux_logits=True)


def test_tiny_inputs_where_the_architecture_allows_them():
    assert mk.resnet18(num_classes=2, input_size=1).output_shape == (None, 2)
    assert mk.simple_cnn(num_classes=2, input_size=4).output_shape == (None, 2)
    assert mk.pixelnet(num_classes=2, input_size=4, widths=(4, 4, 4), hidden=4).output_shape == (None, 4, 4, 2)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_argument_errors(name):
    builder = getattr(mk, name)
    with pytest.raises(ValueError, match=r"`num_classes` must be >= 1. Received: num_classes=0"):
        builder(num_classes=0)
    with pytest.raises(TypeError, match=r"`in_channels` must be an integer. Received: in_channels=True"):
        builder(in_channels=True)
    with pytest.raises(ValueError, match=r"`input_size` must be an int or an \(h, w\) pair"):
        builder(input_size=(32, 32, 3))


def test_hyperparameters_are_keyword_only():
    with pytest.raises(TypeError):
        mk.resnet18(10, 1)  # in_channels must be named
