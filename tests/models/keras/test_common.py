"""The shared pieces of the Keras models: padding as PyTorch defines it, ceil-mode pooling, counts, shapes, depth,
imports."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import keras
import numpy as np
import pytest

from coursepkg.models import ARCHITECTURES
from coursepkg.models import keras as mk
from coursepkg.models.common import Window, spatial_size
from coursepkg.models.keras._common import conv2d, max_pool
from coursepkg.ops import conv2d as np_conv2d, conv_weight_to_keras, nchw_to_nhwc, nhwc_to_nchw


def test_every_architecture_has_a_keras_builder():
    for name in ARCHITECTURES:
        assert callable(getattr(mk, name)), name
    assert not [n for n in mk.__all__ if not hasattr(mk, n)]


def test_importing_coursepkg_models_loads_no_framework():
    code = "import sys, coursepkg.models; print([m for m in ('keras', 'tensorflow', 'torch') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["_common", "simple", "alexnet", "googlenet", "pixelnet", "degradation"])
def test_docstring_examples(module):
    mod = importlib.import_module(f"coursepkg.models.keras.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding"),
    [(8, 3, 2, 1), (7, 3, 2, 1), (6, 7, 2, 3), (5, 3, 1, 1), (9, 5, 1, 2), (5, 1, 2, 0), (6, 5, 2, 0)],
)
def test_conv2d_pads_like_pytorch(size, kernel, stride, padding):
    """Keras's "same" with stride 2 pads (0, 1) on an even input; the helper pads (p, p) like PyTorch."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, size, size)).astype(np.float32)  # (N, C, H, W)
    w = rng.standard_normal((4, 3, kernel, kernel)).astype(np.float32)  # (F, C, KH, KW)
    b = rng.standard_normal(4).astype(np.float32)
    inputs = keras.Input((size, size, 3))
    model = keras.Model(inputs, conv2d(inputs, 4, kernel, strides=stride, padding=padding, name="conv"))
    model.get_layer("conv").set_weights([conv_weight_to_keras(w), b])
    got = nhwc_to_nchw(np.asarray(model(nchw_to_nhwc(x))))
    np.testing.assert_allclose(got, np_conv2d(x, w, b, stride, padding), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size", [4, 5, 7, 8, 2])
def test_max_pool_ceil_mode_matches_the_formula(size):
    """3x3/2 pooling in ceil mode: ceil((n - 3) / 2) + 1 windows, the last one cut by the border."""
    x = np.random.default_rng(1).uniform(0, 1, (1, size, size, 2)).astype(np.float32)  # >= 0, as after a ReLU
    inputs = keras.Input((size, size, 2))
    model = keras.Model(inputs, max_pool(inputs, 3, strides=2, ceil_mode=True, name="pool"))
    out = spatial_size(size, [Window(3, 0, 2, ceil=True)])
    expected = np.empty((1, out, out, 2), dtype=np.float32)
    for i in range(out):
        for j in range(out):
            expected[0, i, j] = x[0, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].max(axis=(0, 1))
    np.testing.assert_array_equal(np.asarray(model(x)), expected)


def test_max_pool_stride_one_ignores_padding_even_for_negative_inputs():
    x = -np.arange(1, 17, dtype=np.float32).reshape(1, 4, 4, 1)  # all negative: zero padding would win
    inputs = keras.Input((4, 4, 1))
    y = np.asarray(keras.Model(inputs, max_pool(inputs, 3, strides=1, padding=1, name="pool"))(x))
    assert y.max() < 0
    assert y[0, 0, 0, 0] == -1.0


def test_count_params_counts_moving_statistics_unless_asked_not_to():
    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Conv2D(8, 3), keras.layers.BatchNormalization()])
    assert mk.count_params(model) == 3 * 9 * 8 + 8 + 4 * 8
    assert mk.count_params(model, trainable_only=True) == 3 * 9 * 8 + 8 + 2 * 8


def test_count_params_errors():
    with pytest.raises(TypeError, match="must be a keras.Model"):
        mk.count_params("resnet50")
    with pytest.raises(ValueError, match="not built yet"):
        mk.count_params(keras.Sequential([keras.layers.Dense(3)]))
    with pytest.raises(TypeError, match="trainable_only"):
        mk.count_params(mk.lenet5(), trainable_only=1)


def test_stage_shapes_names_an_unknown_layer():
    model = mk.simple_cnn()
    assert mk.stage_shapes(model, ["conv1", "pool1"]) == {"conv1": (None, 26, 26, 32), "pool1": (None, 13, 13, 32)}
    with pytest.raises(ValueError, match="no layer named 'conv9'.*conv1"):
        mk.stage_shapes(model, ["conv9"])


def test_batch_norm_uses_pytorch_hyperparameters():
    model = mk.resnet18(num_classes=3, input_size=32)
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert bns and all(bn.epsilon == 1e-5 and bn.momentum == 0.9 for bn in bns)


# The papers' depths, as tests/models/torch/test_common.py states them.
DEPTHS = {
    "simple_cnn": 3, "lenet5": 5, "alexnet": 8, "zfnet": 8, "vgg16": 16, "googlenet": 22, "resnet18": 18,
    "resnet50": 50, "densenet121": 121, "pixelnet": 9,
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(DEPTHS))
def test_model_depth_is_the_papers_count(name):
    model = getattr(mk, name)()
    assert mk.model_depth(model) == DEPTHS[name]
    del model
    keras.backend.clear_session()


def test_model_depth_counts_the_longest_path_nested_models_and_sequential():
    inputs = keras.Input((5, 5, 2))
    long = inputs
    for i in range(3):
        long = keras.layers.Conv2D(2, 3, padding="same", name=f"long{i}")(long)
    short = keras.layers.Conv2D(2, 1, name="short")(inputs)
    x = keras.layers.Concatenate()([long, short])
    x = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(x))
    branches = keras.Model(inputs, x)
    assert mk.model_depth(branches) == 4
    outer_in = keras.Input((5, 5, 2))
    outer = keras.Model(outer_in, keras.layers.Dense(2)(branches(outer_in)))
    assert mk.model_depth(outer) == 5  # the nested model counts with its own depth
    seq = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4), keras.layers.ReLU(), keras.layers.Dense(2)])
    assert mk.model_depth(seq) == 2
    timed = keras.Sequential([keras.Input((3, 8)), keras.layers.TimeDistributed(keras.layers.Dense(4))])
    assert mk.model_depth(timed) == 1


def test_model_depth_errors():
    with pytest.raises(TypeError, match=r"model_depth: `model` must be a keras.Model. Received an object of type "
                                        r"Dense"):
        mk.model_depth(keras.layers.Dense(2))
    with pytest.raises(ValueError, match=r"model_depth: the model 'empty' has no graph of layers yet. Give a "
                                         r"Sequential model an input first"):
        mk.model_depth(keras.Sequential([keras.layers.Dense(2)], name="empty"))
