"""PixelNet in Keras: shapes, the pixel sample, and a short training run that segments the shapes data set."""

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


def test_sample_pixels_is_stratified_and_seeded():
    masks = make_shapes(6, size=16, rng=0).masks
    idx = mk.sample_pixels(masks, 5, rng=3)
    labels = masks[idx[:, 0], idx[:, 1], idx[:, 2]]
    for n in range(6):
        present, counts = np.unique(labels[idx[:, 0] == n], return_counts=True)
        assert present.tolist() == np.unique(masks[n]).tolist() and (counts == 5).all()
    np.testing.assert_array_equal(idx, mk.sample_pixels(masks, 5, rng=3))


def test_sample_pixels_equals_the_pytorch_modules():
    from coursepkg.models.torch.pixelnet import mean_iou, sample_pixels  # the module, not the builder

    masks = make_shapes(4, size=16, rng=1).masks
    np.testing.assert_array_equal(mk.sample_pixels(masks, 7, rng=5), sample_pixels(masks, 7, rng=5))
    pred = np.random.default_rng(0).integers(0, 3, masks.shape)
    assert mk.mean_iou(pred, masks, num_classes=7) == mean_iou(pred, masks, num_classes=7)


def test_pixel_sample_weights_average_one_on_the_sample():
    masks = make_shapes(3, size=16, rng=2).masks
    w = mk.pixel_sample_weights(masks, 4, rng=0)
    idx = mk.sample_pixels(masks, 4, rng=0)
    assert w.shape == masks.shape and w.dtype == np.float32
    assert np.isclose(w.mean(), 1.0)
    assert set(zip(*np.nonzero(w))) == {tuple(row) for row in idx}


def test_sample_pixels_errors():
    with pytest.raises(TypeError, match=r"must hold integer class labels.*astype\(np.int64\)"):
        mk.sample_pixels(np.zeros((1, 4, 4)), 2)
    with pytest.raises(ValueError, match=r"shape \(N, H, W\); got shape \(4, 4\). For one mask use masks\[None\]"):
        mk.sample_pixels(np.zeros((4, 4), dtype=int), 2)
    with pytest.raises(TypeError, match="`widths` must be a non-empty sequence"):
        mk.pixelnet(widths=16)


def test_pixelnet_learns_to_segment_shapes():
    """120 Adam steps of 16 images, 16 pixels per class and image: held-out mean IoU above 0.7 (about 0.84)."""
    keras.utils.set_random_seed(0)
    train, test = make_shapes(240, size=32, rng=0), make_shapes(64, size=32, rng=1)
    x, masks = nchw_to_nhwc(train.images), train.masks  # (240, 32, 32, 1), (240, 32, 32)
    model = mk.pixelnet()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)  # averaged over the N H W weighted pixels
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss)
    rng = np.random.default_rng(0)
    for _ in range(8):  # a fresh pixel sample every epoch
        model.fit(x, masks, sample_weight=mk.pixel_sample_weights(masks, 16, rng), batch_size=16, epochs=1, verbose=0)
    pred = np.asarray(model.predict(nchw_to_nhwc(test.images), verbose=0)).argmax(-1)  # (64, 32, 32)
    iou = mk.mean_iou(pred, test.masks, num_classes=7)
    assert iou > 0.7, f"mean IoU {iou:.3f} on held-out shapes; expected > 0.7 after 120 steps"
