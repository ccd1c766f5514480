"""coursepkg.transfer.keras.source: the source CNN and its committed weights, in Keras 3 (NHWC)."""

import pytest

from coursepkg.train.keras import evaluate
from coursepkg.transfer.keras import load_pretrained, source_cnn, trainable_summary


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


def test_committed_weights_classify_held_out_source_digits(tasks_nhwc):
    source, _ = tasks_nhwc
    accuracy = evaluate(load_pretrained(include_top=True), source.x_test, source.y_test)["accuracy"]
    assert accuracy > 0.95  # measured 0.991, as in PyTorch (the same arrays through the layout mapping)
    assert load_pretrained().output_shape == (None, 4, 4, 64)
