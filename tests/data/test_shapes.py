"""Tests for coursepkg.data.shapes: the synthetic shapes data set."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from coursepkg.data.shapes import SHAPE_CLASSES, Shapes, _inside, make_shapes

EIGHT_NEIGHBOURS = np.ones((3, 3), dtype=int)


# --- tier 1: the geometry of each shape, by hand -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "inside", "outside"),
    [
        ("circle", [(0, 0), (0.99, 0), (0, -0.99), (0.7, 0.7)], [(0.72, 0.72), (1.01, 0)]),
        ("ring", [(0.75, 0), (0, 0.99), (-0.51, 0)], [(0, 0), (0.49, 0), (1.01, 0)]),
        ("square", [(0, 0), (0.7, 0.7), (-0.7, 0.7)], [(0.72, 0), (0, -0.72)]),
        ("diamond", [(0, 0), (0.99, 0), (0, -0.99), (0.49, 0.49)], [(0.51, 0.51), (0.7, 0.7)]),
        # vertices at 90, 210, 330 degrees; the edge facing a vertex is at distance 1/2 from the centre
        ("triangle", [(0, 0), (0, 0.99), (0, -0.49), (0.85, -0.49)], [(0, -0.51), (0.5, 0.5), (0, 1.01)]),
        ("cross", [(0, 0), (0.95, 0), (0, -0.95), (0.29, 0.9)], [(0.5, 0.5), (0.31, 0.9), (0.96, 0)]),
    ],
)
def test_shape_membership_by_hand(name, inside, outside):
    u, v = np.array(inside + outside, dtype=float).T
    expected = [True] * len(inside) + [False] * len(outside)
    assert _inside(name, u, v).tolist() == expected


@pytest.mark.parametrize(
    ("name", "area"),
    [
        ("circle", math.pi),
        ("ring", math.pi * (1 - 0.5**2)),
        ("square", 2.0),  # side sqrt(2)
        ("diamond", 2.0),
        ("triangle", 3 * math.sqrt(3) / 4),  # equilateral, circumradius 1
        ("cross", 8 * 0.3 * math.sqrt(1 - 0.09) - 4 * 0.09),  # two 2L x 2w bars minus their overlap
    ],
)
def test_shape_areas(name, area):
    t = (np.arange(2000) + 0.5) / 1000 - 1  # midpoints of a fine grid over [-1, 1]^2
    u, v = np.meshgrid(t, t)
    assert _inside(name, u, v).mean() * 4 == pytest.approx(area, rel=2e-3)


# --- the generator ---------------------------------------------------------------------------------


def test_shapes_dtypes_and_ranges():
    data = make_shapes(50, size=32, rng=0)
    assert isinstance(data, Shapes)
    assert data.images.shape == (50, 1, 32, 32) and data.images.dtype == np.float32
    assert data.masks.shape == (50, 32, 32) and data.masks.dtype == np.int64
    assert data.labels.shape == (50,) and data.labels.dtype == np.int64
    assert data.counts.shape == (50, len(SHAPE_CLASSES)) and data.counts.dtype == np.int64
    assert data.class_names == SHAPE_CLASSES
    assert 0.0 <= data.images.min() and data.images.max() <= 1.0
    assert set(np.unique(data.masks)) <= set(range(len(SHAPE_CLASSES) + 1))
    # one shape per image: its mask value is the label, its count is one-hot
    assert [set(np.unique(m)) - {0} for m in data.masks] == [{k + 1} for k in data.labels]
    np.testing.assert_array_equal(data.counts, np.eye(len(SHAPE_CLASSES), dtype=np.int64)[data.labels])


def test_deterministic_per_seed_and_different_across_seeds():
    a, b, c = (make_shapes(20, size=24, shapes_per_image=2, channels=3, noise=0.1, rng=s) for s in (7, 7, 8))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a.images, c.images)
    assert not np.array_equal(a.masks, c.masks)
    gen = np.random.default_rng(0)
    assert not np.array_equal(make_shapes(3, rng=gen).images, make_shapes(3, rng=gen).images)


def test_classes_are_balanced_and_all_drawn():
    data = make_shapes(1200, size=16, rng=1)
    counts = np.bincount(data.labels, minlength=len(SHAPE_CLASSES))
    assert counts.min() > 150  # 200 expected for each of the six classes


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("shapes_per_image", [1, 3])
def test_masks_match_the_drawn_pixels(channels, shapes_per_image):
    """Without noise, a pixel differs from the background exactly where the mask says a shape is."""
    data = make_shapes(30, size=32, shapes_per_image=shapes_per_image, channels=channels, rng=2)
    for img, mask in zip(data.images, data.masks):  # img (C, H, W), mask (H, W)
        background = img[:, mask == 0]  # (C, n_background)
        assert np.all(background == background[:, :1])  # one flat background colour
        assert np.all(img[:, mask > 0] >= background[:, :1] + 0.15)  # shapes are brighter, in every channel
        # each shape is filled with one colour
        labelled, n = ndimage.label(mask > 0, structure=EIGHT_NEIGHBOURS)
        assert n == shapes_per_image
        for k in range(1, n + 1):
            pixels = img[:, labelled == k]
            assert np.all(pixels == pixels[:, :1])


def test_noise_is_added_and_clipped():
    clean = make_shapes(20, size=32, rng=3)
    noisy = make_shapes(20, size=32, noise=0.05, rng=3)
    assert 0.0 <= noisy.images.min() and noisy.images.max() <= 1.0
    first = noisy.images[0, 0][noisy.masks[0] == 0]
    assert 0.03 < first.std() < 0.07
    np.testing.assert_array_equal(noisy.masks[0], clean.masks[0])  # same geometry, the noise comes last


def test_class_subset_defines_the_labels():
    data = make_shapes(100, size=16, classes=("triangle", "circle"), rng=4)
    assert data.class_names == ("triangle", "circle")
    assert set(np.unique(data.labels)) == {0, 1}
    assert set(np.unique(data.masks)) == {0, 1, 2}
    assert data.counts.shape == (100, 2)


@pytest.mark.parametrize(("size", "shapes_per_image"), [(8, 1), (15, 2), (15, 4), (23, 5), (23, 9), (9, 1)])
def test_smallest_sizes_work(size, shapes_per_image):
    data = make_shapes(20, size=size, shapes_per_image=shapes_per_image, rng=5)
    assert data.counts.sum(axis=1).tolist() == [shapes_per_image] * 20


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    size=st.integers(8, 64),
    shapes_per_image=st.integers(1, 4),
    channels=st.sampled_from([1, 3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_shapes_are_separate_and_not_degenerate(size, shapes_per_image, channels, seed):
    if size < 15 and shapes_per_image > 1:
        with pytest.raises(ValueError, match=r"Use size >= 15"):
            make_shapes(1, size=size, shapes_per_image=shapes_per_image)
        return
    data = make_shapes(4, size=size, shapes_per_image=shapes_per_image, channels=channels, rng=seed)
    for mask, label, count in zip(data.masks, data.labels, data.counts):
        labelled, n = ndimage.label(mask > 0, structure=EIGHT_NEIGHBOURS)
        assert n == shapes_per_image  # the shapes never touch, not even diagonally
        areas = np.bincount(labelled.ravel())[1:]
        assert areas.min() >= 9, "a shape covers fewer than 9 pixels"
        classes = [int(np.unique(mask[labelled == k])[0]) - 1 for k in range(1, n + 1)]
        assert all(len(np.unique(mask[labelled == k])) == 1 for k in range(1, n + 1))
        assert np.bincount(classes, minlength=len(SHAPE_CLASSES)).tolist() == count.tolist()
        assert areas[np.array(classes) == label].max() == areas.max()  # the label is a largest shape's class


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 0}, ValueError, r"`n` must be >= 1"),
        ({"size": 7}, ValueError, r"`size` must be >= 8. Received: size=7"),
        ({"size": 14, "shapes_per_image": 2}, ValueError, r"size=14 is too small for shapes_per_image=2.*size >= 15"),
        ({"size": 22, "shapes_per_image": 5}, ValueError, r"Use size >= 23"),
        ({"shapes_per_image": 0}, ValueError, r"`shapes_per_image` must be >= 1"),
        ({"channels": 0}, ValueError, r"`channels` must be >= 1"),
        ({"classes": "circle"}, TypeError, r"sequence of shape names, e.g. \('circle', 'square'\)"),
        ({"classes": ("circle", "hexagon")}, ValueError, r"unknown shape name\(s\) \['hexagon'\].*circle, square"),
        ({"classes": ()}, ValueError, r"at least one shape"),
        ({"classes": ("ring", "ring")}, ValueError, r"must not repeat a name"),
        ({"noise": -0.1}, ValueError, r"`noise` is a standard deviation and must be >= 0"),
        ({"noise": "high"}, TypeError, r"`noise` must be a float"),
        ({"noise": float("nan")}, ValueError, r"must be >= 0. Received: noise=nan"),
        ({"rng": 1.5}, TypeError, r"`rng` must be None, an int seed or a numpy.random.Generator"),
    ],
)
def test_errors(kwargs, error, match):
    kwargs = {"n": 2, **kwargs}
    with pytest.raises(error, match=match):
        make_shapes(**kwargs)
