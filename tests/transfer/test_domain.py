"""coursepkg.transfer.domain: shifted digit domains and the DANN schedule."""

import math

import numpy as np
import pytest

from coursepkg.ops import nchw_to_nhwc
from coursepkg.transfer.domain import SHIFTS, dann_lambda, shift_domain


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(0, 1, size=(3, 1, 9, 7)).astype(np.float32)


def test_hand_computed_shifts():
    x = np.array([[[[0.0, 0.25], [0.5, 1.0]]]], np.float32)
    np.testing.assert_allclose(shift_domain(x, "invert")[0, 0], [[1.0, 0.75], [0.5, 0.0]])
    np.testing.assert_allclose(shift_domain(x, "contrast", amount=0.5)[0, 0], [[0.25, 0.375], [0.5, 0.75]])
    np.testing.assert_allclose(shift_domain(x, "brightness", amount=0.5)[0, 0], [[0.5, 0.625], [0.75, 1.0]])
    np.testing.assert_allclose(shift_domain(x, "noise", amount=0.0, rng=0), x)
    np.testing.assert_allclose(shift_domain(x, "rotate", amount=0.0), x, atol=1e-6)


def test_rotate_by_90_degrees_moves_a_corner():
    x = np.zeros((1, 1, 5, 5), np.float32)
    x[0, 0, 0, 4] = 1.0  # top right
    out = shift_domain(x, "rotate", amount=90)
    assert np.unravel_index(out[0, 0].argmax(), (5, 5)) == (0, 0)  # top right -> top left: counter-clockwise
    np.testing.assert_allclose(np.sort(out.ravel())[-1], 1.0, atol=1e-6)


@pytest.mark.parametrize("kind", sorted(SHIFTS))
def test_every_shift_keeps_shape_dtype_range_and_layout(images, kind):
    before = images.copy()
    out = shift_domain(images, kind, rng=0)
    np.testing.assert_array_equal(images, before)  # the input is not modified
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= -1e-6 and out.max() <= 1 + 1e-6
    assert not np.allclose(out, images)
    out_last = shift_domain(nchw_to_nhwc(images), kind, channels_last=True, rng=0)
    if kind != "noise":  # noise draws in array order, which differs between the layouts
        np.testing.assert_allclose(out_last, nchw_to_nhwc(out), atol=1e-6)


def test_noise_is_seeded(images):
    np.testing.assert_array_equal(shift_domain(images, "noise", rng=3), shift_domain(images, "noise", rng=3))


def test_shift_errors(images):
    with pytest.raises(ValueError, match=r"`kind` must be one of \['blur', 'brightness'"):
        shift_domain(images, "sepia")
    with pytest.raises(ValueError, match=r"Add the channel axis with images\[:, None\]"):
        shift_domain(images[:, 0], "invert")
    with pytest.raises(ValueError, match=r"for kind='contrast', `amount` must be in \(0, 1\]. Received: amount=0.0"):
        shift_domain(images, "contrast", amount=0)
    with pytest.raises(ValueError, match=r"for kind='noise', `amount` \(the noise std\) must be >= 0"):
        shift_domain(images, "noise", amount=-0.1)


def test_dann_lambda_schedule():
    assert dann_lambda(0.0) == 0.0
    assert dann_lambda(0.5) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert dann_lambda(1.0, lambda_max=0.3) == pytest.approx(0.3 * (2 / (1 + math.exp(-10)) - 1))
    values = [dann_lambda(p / 10) for p in range(11)]
    assert values == sorted(values)
    with pytest.raises(ValueError, match=r"`progress` must be in \[0, 1\]"):
        dann_lambda(1.5)
