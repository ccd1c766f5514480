"""Tests for coursepkg.data.images: the photographs shipped with scikit-image."""

import socket

import numpy as np
import pytest

from coursepkg.data.images import _IMAGES, IMAGE_NAMES, load_faces, load_image


@pytest.fixture
def offline(monkeypatch):
    """Make any attempt to open a network connection fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("the test tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_names_include_the_classics():
    for name in ("camera", "astronaut", "coins", "chelsea", "coffee", "rocket", "moon", "brick", "grass"):
        assert name in IMAGE_NAMES
    assert len(set(IMAGE_NAMES)) == len(IMAGE_NAMES)


@pytest.mark.parametrize("name", IMAGE_NAMES)
def test_every_listed_image_loads_offline(offline, name):
    img = load_image(name)
    colour, description = _IMAGES[name]
    h, w = (int(v) for v in description.rsplit(" ", 1)[1].split("x"))  # "..., 512x512"
    assert img.shape == ((h, w) if colour == "gray" else (h, w, 3))
    assert img.dtype == np.float32
    assert 0.0 <= img.min() < img.max() <= 1.0


def test_values_are_bytes_over_255():
    import skimage.data

    np.testing.assert_allclose(load_image("camera", dtype=np.float64), skimage.data.camera() / 255.0, atol=1e-12)


def test_gray_converts_colour_and_keeps_grey():
    rgb = load_image("astronaut", dtype=np.float64)
    grey = load_image("astronaut", gray=True, dtype=np.float64)
    assert grey.shape == rgb.shape[:2]
    np.testing.assert_allclose(grey, rgb @ np.array([0.2125, 0.7154, 0.0721]), atol=1e-12)  # ITU-R 709 luma
    assert load_image("camera", gray=True).shape == (512, 512)


@pytest.mark.parametrize(
    ("name", "size", "shape"),
    [
        ("camera", 64, (64, 64)),
        ("chelsea", 64, (64, 96, 3)),  # 300x451 -> shorter side 64, 451 * 64 / 300 = 96.2
        ("coins", 101, (101, 128)),  # 303x384
        ("rocket", (30, 20), (30, 20, 3)),
        ("microaneurysms", 204, (204, 204)),  # enlarging works too
        ("camera", 512, (512, 512)),
    ],
)
def test_resize(name, size, shape):
    img = load_image(name, size=size)
    assert img.shape == shape and img.dtype == np.float32
    assert 0.0 <= img.min() and img.max() <= 1.0


def test_shrinking_is_anti_aliased():
    small = load_image("camera", size=64, dtype=np.float64)
    full = load_image("camera", dtype=np.float64)
    block_means = full.reshape(64, 8, 64, 8).mean(axis=(1, 3))
    assert np.abs(small - block_means).mean() < 0.02  # close to averaging, unlike naive subsampling
    assert np.abs(full[::8, ::8] - block_means).mean() > np.abs(small - block_means).mean()


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("lena",), {}, ValueError, r"unknown image name='lena'. Available offline: camera, astronaut"),
        ((3,), {}, TypeError, r"`name` must be a string"),
        (("camera",), {"size": 0}, ValueError, r"`size` must be >= 1. Received: size=0"),
        (("camera",), {"size": (10, 20, 3)}, ValueError, r"int or an \(h, w\) pair"),
        (("camera",), {"size": 10.5}, TypeError, r"`size` must be an integer"),
        (("camera",), {"dtype": np.uint8}, TypeError, r"floating dtype"),
    ],
)
def test_load_image_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_image(*args, **kwargs)


def test_load_faces(offline):
    x, y = load_faces()
    assert x.shape == (200, 1, 25, 25) and x.dtype == np.float32
    assert y.tolist() == [1] * 100 + [0] * 100 and y.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert load_faces(channels_last=True)[0].shape == (200, 25, 25, 1)
