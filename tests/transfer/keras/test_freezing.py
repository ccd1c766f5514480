"""coursepkg.transfer.keras.freezing: freeze, unfreeze, trainable_summary and frozen BatchNorm, in Keras 3 (NHWC)."""

import numpy as np
import pytest

from coursepkg.train.keras import fit
from coursepkg.transfer.keras import (
    attach_head,
    freeze,
    load_pretrained,
    set_bn_eval,
    source_cnn,
    state_dict,
    trainable_summary,
    unfreeze,
)


def test_freeze_unfreeze_by_all_count_and_name():
    model = attach_head(source_cnn(rng=0), 5, rng=0)
    assert trainable_summary(freeze(model)) == (0, 23733)
    assert trainable_summary(unfreeze(model, layers=1)) == (325, 23408)
    unfreeze(model, layers=["block3"])
    assert trainable_summary(model) == (325 + 18432 + 128, 4848)
    freeze(unfreeze(model), layers=["base.block3.bn", "head"])  # PyTorch's name of block3_bn
    assert trainable_summary(model) == (23408 - 128, 325 + 128)
    freeze(unfreeze(model), layers=["block3_bn"])  # Keras's name
    assert trainable_summary(model) == (23733 - 128, 128)
    assert trainable_summary(freeze(source_cnn(), layers=1)) == (18560, 4848)


def test_unfreezing_a_layer_inside_a_frozen_container():
    """Keras hides every weight of a container with trainable=False; unfreeze must reach through it."""
    base = source_cnn()
    base.trainable = False  # the usual Keras idiom
    unfreeze(base, layers=["block3"])
    assert trainable_summary(base) == (18432 + 128, 4848)
    assert base.trainable and not base.get_layer("block1").get_layer("block1_conv").trainable


def test_freeze_errors():
    model = attach_head(source_cnn(), 5)
    with pytest.raises(ValueError, match=r"the name 'conv' is ambiguous; it matches \['base.block1.block1_conv'"):
        freeze(model, layers=["conv"])
    with pytest.raises(ValueError, match=r"no layer named 'block9'. Its top-level layers are \['base', 'head'\]"):
        freeze(model, layers=["block9"])
    with pytest.raises(ValueError, match=r"`layers`=3 but the model has only 2 top-level layers"):
        freeze(model, layers=3)


def test_frozen_batchnorm_runs_in_inference_mode_and_keeps_its_statistics(tasks_nhwc):
    _, target = tasks_nhwc
    x, y = target.x_train[:64], target.y_train[:64]
    model = attach_head(load_pretrained(), 5, rng=0)
    freeze(model.get_layer("base"))
    before = state_dict(model)
    np.testing.assert_allclose(model(x[:8], training=True), model(x[:8], training=False), atol=1e-6)
    fit(model, x, y, epochs=1, batch_size=16, progress=False)
    after = state_dict(model)
    for k in before:
        assert np.array_equal(before[k], after[k]) == k.startswith("base."), k
    assert set_bn_eval(model) == ["base.block1.bn", "base.block2.bn", "base.block3.bn"]
    unfreeze(model)  # a trainable BatchNorm uses the batch statistics in training mode
    assert not np.allclose(model(x[:8], training=True), model(x[:8], training=False), atol=1e-3)
