"""Tests of coursepkg.models.torch.pixelnet: sampled = dense predictions, and training.

The pixel sample and the mean IoU are NumPy functions of coursepkg.models.common, tested in
tests/models/test_common.py.

The training test is the contract of the segmentation chapter: a default PixelNet trained for a few seconds
on a CPU (300 Adam steps of 16 images, 16 pixels per class and image, one-cycle learning rate peaking at
3e-3) segments held-out shapes. Measured with seeds 0 to 5 (torch.manual_seed and the sampling Generator)
on one thread: mean IoU 0.971 to 0.986 over the 7 classes (background and 6 shapes) of 200 held-out
images, 5-12 s of training on a busy 2-core machine; the test uses seed 0 (0.982) and asserts > 0.9.
Without the schedule (constant 3e-3) the same budget gave 0.50 to 0.97 depending on the seed: the
batch-norm running statistics lag behind weights that still move fast at the end.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coursepkg.data import make_shapes
from coursepkg.models.torch import mean_iou, pixelnet, sample_pixels


@pytest.mark.parametrize("h, w", [(32, 32), (30, 27)])
def test_sampled_logits_equal_dense_logits(h, w):
    torch.manual_seed(0)
    model = pixelnet(5, in_channels=3, input_size=(h, w)).eval()
    x = torch.randn(3, 3, h, w)
    masks = np.random.default_rng(0).integers(0, 5, size=(3, h, w))
    idx = sample_pixels(masks, 4, rng=0)
    idx = np.concatenate([idx, [[0, 0, 0], [1, h - 1, w - 1], [2, 0, w - 1]]])  # the corners, where rows clamp
    pixels = torch.from_numpy(idx)
    dense = model(x)  # (N, K, H, W)
    assert dense.shape == (3, 5, h, w)
    sampled = model(x, pixels)  # (M, K)
    torch.testing.assert_close(sampled, dense[pixels[:, 0], :, pixels[:, 1], pixels[:, 2]], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"`pixels` must be an int64 tensor of shape \(M, 3\)"):
        model(x, pixels[:, :2])
    with pytest.raises(ValueError, match=r"rows outside the batch of shape \(2, 3, "):
        model(x[:2], pixels)  # pixels of image 2 in a batch of 2


def test_pixelnet_trains_on_shapes():
    train, test = make_shapes(200, size=32, rng=1), make_shapes(200, size=32, rng=2)
    x, masks = torch.from_numpy(train.images), train.masks
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = pixelnet(len(train.class_names) + 1)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=300)
    start = time.perf_counter()
    for _ in range(300):
        batch = rng.choice(len(masks), size=16, replace=False)
        idx = sample_pixels(masks[batch], 16, rng)  # (M, 3), 16 pixels per class and image
        labels = torch.from_numpy(masks[batch][idx[:, 0], idx[:, 1], idx[:, 2]])  # (M,)
        loss = F.cross_entropy(model(x[batch], torch.from_numpy(idx)), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(test.images)).argmax(1).numpy()  # (N, H, W)
    iou = mean_iou(pred, test.masks, num_classes=7)
    assert iou > 0.9, f"mean IoU {iou:.3f} after {seconds:.1f} s of training (measured 0.971 to 0.986)"
