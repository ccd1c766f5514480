"""coursepkg.transfer.keras.heads: attach_head, in Keras 3 (NHWC)."""

import pytest

from coursepkg.transfer.keras import attach_head, source_cnn, trainable_summary

import keras  # noqa: E402


@pytest.mark.parametrize(
    "pooling, hidden, dropout, head_params",
    [("avg", (), 0.0, 64 * 5 + 5), ("max", (8,), 0.0, 64 * 8 + 8 + 8 * 5 + 5),
     ("flatten", (16, 4), 0.2, 1024 * 16 + 16 + 16 * 4 + 4 + 4 * 5 + 5)],
)
def test_attach_head_shapes_and_parameters(pooling, hidden, dropout, head_params):
    base = source_cnn(rng=0)
    model = attach_head(base, 5, pooling=pooling, hidden=hidden, dropout=dropout, rng=0)
    assert isinstance(model, keras.Model) and model.name == "transfer_model"
    assert model.get_layer("base") is base
    assert model.output_shape == (None, 5)
    assert trainable_summary(model.get_layer("head")).total == head_params
    n_dropout = sum(isinstance(layer, keras.layers.Dropout) for layer in model.get_layer("head").layers)
    assert n_dropout == (len(hidden) + 1 if dropout else 0)


def test_attach_head_errors_and_vector_bases():
    vec = keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Flatten(), keras.layers.Dense(6)])
    with pytest.raises(ValueError, match=r'already outputs vectors of shape \(N, 6\); use pooling="flatten"'):
        attach_head(vec, 2)
    assert attach_head(vec, 2, pooling="flatten").output_shape == (None, 2)
    with pytest.raises(TypeError, match=r"`base` must be a Keras model or layer"):
        attach_head("vgg", 2)
