"""simple_cnn and LeNet-5 in Keras: published counts, shapes layer by layer."""

from __future__ import annotations

from coursepkg.models import keras as mk


def test_simple_cnn_count_and_shapes():
    model = mk.simple_cnn()
    assert mk.count_params(model) == 693_962 == 320 + (5408 * 128 + 128) + 1290
    assert mk.stage_shapes(model, ["conv1", "pool1", "flatten", "fc1", "fc2"]) == {
        "conv1": (None, 26, 26, 32),
        "pool1": (None, 13, 13, 32),
        "flatten": (None, 5408),
        "fc1": (None, 128),
        "fc2": (None, 10),
    }


def test_simple_cnn_dense_width_follows_the_input():
    model = mk.simple_cnn(num_classes=3, in_channels=3, input_size=(10, 12))  # 8x10 -> 4x5
    assert model.get_layer("flatten").output.shape == (None, 4 * 5 * 32)


def test_lenet5_count_and_shapes():
    model = mk.lenet5()
    assert mk.count_params(model) == 61_706 == 156 + 2_416 + 48_120 + 10_164 + 850
    shapes = mk.stage_shapes(model, ["c1", "s2", "c3", "s4", "c5", "f6", "output"])
    assert list(shapes.values()) == [
        (None, 28, 28, 6), (None, 14, 14, 6), (None, 10, 10, 16), (None, 5, 5, 16), (None, 1, 1, 120),
        (None, 84), (None, 10),
    ]  # fmt: skip


def test_lenet5_activations_are_tanh_and_logits_are_linear():
    model = mk.lenet5()
    for name in ("c1", "c3", "c5", "f6"):
        assert model.get_layer(name).activation.__name__ == "tanh"
    assert model.get_layer("output").activation.__name__ == "linear"
