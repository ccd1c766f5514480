"""PixelNet in Keras: shapes and a short training run that segments the shapes data set.

The pixel sample, its weights and the mean IoU are NumPy functions of coursepkg.models.common, tested in
tests/models/test_common.py.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursepkg.data import make_shapes
from coursepkg.models import keras as mk
from coursepkg.ops import nchw_to_nhwc


def test_count_and_shapes():
    model = mk.pixelnet()
    assert mk.count_params(model) == 104_343
    assert mk.count_params(model, trainable_only=True) == 103_895 == 72_016 + 31_879  # as in PyTorch
    names = ["block1_relu2", "block2_relu2", "block3_relu2", "block2_up", "hypercolumns", "head_fc3"]
    assert [s[1:] for s in mk.stage_shapes(model, names).values()] == [
        (32, 32, 16), (16, 16, 32), (8, 8, 64), (32, 32, 32), (32, 32, 112), (32, 32, 7),
    ]  # fmt: skip


def test_hypercolumn_is_a_bilinear_upsampling():
    layer = mk.BilinearResize((4, 4))
    x = np.arange(4, dtype=np.float32).reshape(1, 2, 2, 1)  # [[0, 1], [2, 3]]
    y = np.asarray(layer(x))[0, :, :, 0]
    # pixel centres: output row i reads input row (i + 0.5) / 2 - 0.5, clamped: 0, 0.25, 0.75, 1
    rows = np.array([0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(y, 2 * rows[:, None] + rows[None, :], rtol=1e-6)
    clone = mk.BilinearResize.from_config(layer.get_config())
    assert clone.size == (4, 4)


def test_pixelnet_argument_errors():
    with pytest.raises(TypeError, match="`widths` must be a non-empty sequence"):
        mk.pixelnet(widths=16)
    with pytest.raises(ValueError, match=r"pixelnet: input_size=3 is too small for PixelNet: .* at least 4x4"):
        mk.pixelnet(input_size=3)


def test_pixelnet_learns_to_segment_shapes():
    """240 Adam steps of 16 images, 16 pixels per class and image: held-out mean IoU above 0.7 (about 0.97).

    After 120 steps the IoU still swung from 0.31 to 0.84 with TensorFlow's op determinism and thread count
    (global settings other tests of the same process change); after 180 steps it is above 0.94 either way.
    """
    keras.utils.set_random_seed(0)
    train, test = make_shapes(240, size=32, rng=0), make_shapes(64, size=32, rng=1)
    x, masks = nchw_to_nhwc(train.images), train.masks  # (240, 32, 32, 1), (240, 32, 32)
    model = mk.pixelnet()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)  # averaged over the N H W weighted pixels
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss)
    rng = np.random.default_rng(0)
    for _ in range(16):  # a fresh pixel sample every epoch
        model.fit(x, masks, sample_weight=mk.pixel_sample_weights(masks, 16, rng), batch_size=16, epochs=1, verbose=0)
    pred = np.asarray(model.predict(nchw_to_nhwc(test.images), verbose=0)).argmax(-1)  # (64, 32, 32)
    iou = mk.mean_iou(pred, test.masks, num_classes=7)
    assert iou > 0.7, f"mean IoU {iou:.3f} on held-out shapes; expected > 0.7 after 240 steps"
