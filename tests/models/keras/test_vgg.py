"""VGG-11/16/19 in Keras: published counts, the five blocks' shapes, keras.applications' weights by order."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursepkg.models import keras as mk


@pytest.fixture(scope="module")
def vgg16():
    model = mk.vgg16()  # 138M parameters: built once for the module
    yield model
    del model
    keras.backend.clear_session()


@pytest.mark.parametrize(("name", "count"), [("vgg11", 132_863_336), ("vgg19", 143_667_240)])
def test_published_counts(name, count):
    model = getattr(mk, name)()
    assert mk.count_params(model) == count
    dense = sum(mk.count_params(model.get_layer(n)) for n in ("fc1", "fc2", "predictions"))
    assert dense == 123_642_856 == (25088 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)


def test_vgg16_count_and_block_shapes(vgg16):
    assert mk.count_params(vgg16) == 138_357_544
    shapes = mk.stage_shapes(vgg16, [f"block{b}_pool" for b in range(1, 6)])
    assert [s[1:] for s in shapes.values()] == [
        (112, 112, 64), (56, 56, 128), (28, 28, 256), (14, 14, 512), (7, 7, 512)
    ]  # fmt: skip
    assert vgg16.get_layer("flatten").output.shape == (None, 25088)


def test_vgg16_weights_line_up_with_keras_applications(vgg16):
    reference = keras.applications.VGG16(weights=None)
    assert mk.count_params(reference) == mk.count_params(vgg16)
    ours = [(w.path, tuple(w.shape)) for w in vgg16.weights]
    theirs = [(w.path, tuple(w.shape)) for w in reference.weights]
    assert ours == theirs  # same names, same shapes, same order: set_weights(reference.get_weights()) works
    del reference


def test_keras_applications_weights_load_by_order_and_compute_the_same():
    keras.utils.set_random_seed(1)
    reference = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    model = mk.vgg16(num_classes=10, input_size=32)
    trunk = keras.Model(model.input, model.get_layer("block5_pool").output)
    trunk.set_weights(reference.get_weights())
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(trunk(x)), np.asarray(reference(x)), rtol=1e-5, atol=1e-4)


def test_batch_norm_variant():
    model = mk.vgg11(num_classes=10, input_size=32, batch_norm=True)
    plain = mk.vgg11(num_classes=10, input_size=32)
    widths = [64, 128, 256, 256, 512, 512, 512, 512]
    assert mk.count_params(model) - mk.count_params(plain) == 4 * sum(widths)
    assert [layer.name for layer in model.layers[1:5]] == ["block1_conv1", "block1_bn1", "block1_relu1", "block1_pool"]
    assert model.name == "vgg11_bn"
    with pytest.raises(TypeError, match="`batch_norm` must be True or False"):
        mk.vgg16(batch_norm=1)


def test_vgg_block_halves_the_size():
    x = keras.Input((9, 7, 5))
    y = mk.vgg_block(x, (8, 16), name="b")
    assert y.shape == (None, 4, 3, 16)
