"""Tests for coursepkg.filters: kernel values, compass geometry, and parity with scipy and scikit-image."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal
import skimage.color
import skimage.data
import skimage.filters

from coursepkg import filters
from coursepkg.filters import DIRECTIONS, KERNELS, compass_kernels, edges


@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    return skimage.data.camera()[::4, ::4].astype(np.float64)  # (128, 128), values in [0, 255]


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    return skimage.data.astronaut()[::8, ::8] / 255.0  # (64, 64, 3) in [0, 1]


def step_image(h: int = 6, w: int = 7, col: int = 3) -> np.ndarray:
    """0 left of column `col`, 1 from it on: a vertical edge, brighter to the right."""
    img = np.zeros((h, w))
    img[:, col:] = 1.0
    return img


# --- tier 1: the textbook definitions -------------------------------------------------------------------

# Prewitt (1970), Sobel & Feldman (1968), e.g. Gonzalez & Woods, Digital Image Processing, 4th ed., Fig. 10.14,
# written for cross-correlation (positive weights on the right / bottom).
EXPECTED = {
    "prewitt_x": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "prewitt_y": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "laplacian_4": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "laplacian_8": [[1, 1, 1], [1, -8, 1], [1, 1, 1]],
}

# Kirsch (1971) masks as listed e.g. on Wikipedia "Kirsch operator", g(1)..g(8) = N, NW, W, SW, S, SE, E, NE.
KIRSCH = {
    "N": [[5, 5, 5], [-3, 0, -3], [-3, -3, -3]],
    "NW": [[5, 5, -3], [5, 0, -3], [-3, -3, -3]],
    "W": [[5, -3, -3], [5, 0, -3], [5, -3, -3]],
    "SW": [[-3, -3, -3], [5, 0, -3], [5, 5, -3]],
    "S": [[-3, -3, -3], [-3, 0, -3], [5, 5, 5]],
    "SE": [[-3, -3, -3], [-3, 0, 5], [-3, 5, 5]],
    "E": [[-3, -3, 5], [-3, 0, 5], [-3, -3, 5]],
    "NE": [[-3, 5, 5], [-3, 0, 5], [-3, -3, -3]],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_kernel_values(name):
    k = getattr(filters, name)
    assert k is KERNELS[name]
    assert k.dtype == np.float64 and k.shape == (3, 3)
    np.testing.assert_array_equal(k, EXPECTED[name])


def test_kernels_are_read_only():
    with pytest.raises(ValueError, match="read-only"):
        filters.sobel_x[0, 0] = 5.0
    ks, _ = compass_kernels("kirsch")
    ks[0, 0, 0] = 99.0  # compass_kernels returns a copy
    assert filters.kirsch[0, 0, 0] == 5.0


def test_kirsch_matches_the_published_masks():
    ks, dirs = compass_kernels("kirsch")
    assert dirs == DIRECTIONS == ("N", "NW", "W", "SW", "S", "SE", "E", "NE")
    for k, d in zip(ks, dirs):
        np.testing.assert_array_equal(k, KIRSCH[d], err_msg=f"kirsch {d}")
        np.testing.assert_array_equal(KERNELS[f"kirsch_{d.lower()}"], KIRSCH[d])


def test_robinson_values_and_relation_to_sobel():
    ks, _ = compass_kernels("robinson")
    np.testing.assert_array_equal(ks[0], [[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
    np.testing.assert_array_equal(ks[1], [[2, 1, 0], [1, 0, -1], [0, -1, -2]])
    np.testing.assert_array_equal(KERNELS["robinson_e"], filters.sobel_x)
    np.testing.assert_array_equal(KERNELS["robinson_s"], filters.sobel_y)
    np.testing.assert_array_equal(ks[4:], -ks[:4])  # opposite directions are negatives


RING = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]  # clockwise from the top-left


@pytest.mark.parametrize("family", ["robinson", "kirsch"])
def test_compass_kernels_are_rotations_summing_to_zero(family):
    ks, dirs = compass_kernels(family)
    assert ks.shape == (8, 3, 3) and len(dirs) == 8
    rows, cols = np.array(RING).T
    for k in range(8):
        assert ks[k].sum() == 0.0, f"{family} {dirs[k]} sums to {ks[k].sum()}"
        assert ks[k, 1, 1] == ks[0, 1, 1]
        # 45 degrees: the ring moves one place counter-clockwise ...
        np.testing.assert_array_equal(ks[(k + 1) % 8][rows, cols], np.roll(ks[k][rows, cols], -1))
        # ... and two steps are a 90-degree rotation
        np.testing.assert_array_equal(ks[(k + 2) % 8], np.rot90(ks[k]))
    assert len({k.tobytes() for k in ks}) == 8


def test_every_kernel_sums_to_zero():
    for name, k in KERNELS.items():
        assert k.sum() == 0.0, name  # flat regions give no response


# --- behaviour on a step edge ---------------------------------------------------------------------------


def test_sobel_x_on_vertical_step_edge():
    img = step_image(col=3)
    gx = edges(img, "sobel_x")
    assert gx.shape == img.shape
    # brighter to the right -> positive, on the two columns that straddle the edge, 1 + 2 + 1 = 4
    expected = np.zeros_like(img)
    expected[:, 2:4] = 4.0
    np.testing.assert_array_equal(gx, expected)
    np.testing.assert_array_equal(edges(img[:, ::-1], "sobel_x"), -expected[:, ::-1])  # darker -> negative
    np.testing.assert_array_equal(edges(img, "sobel_y"), 0.0)
    np.testing.assert_array_equal(edges(img, "sobel"), expected)
    np.testing.assert_array_equal(edges(img.T, "sobel_y"), expected.T)


def test_compass_direction_of_step_edge():
    img = step_image(col=3)  # bright side to the east
    out, comps = edges(img, "kirsch", return_components=True)
    assert list(comps) == [f"kirsch_{d.lower()}" for d in DIRECTIONS]
    stack = np.stack(list(comps.values()))  # (8, H, W)
    np.testing.assert_array_equal(out, stack.max(axis=0))
    assert DIRECTIONS[int(stack[:, 0, 2].argmax())] == "E"
    out_r, comps_r = edges(img, "robinson", return_components=True)
    np.testing.assert_array_equal(comps_r["robinson_e"], edges(img, "sobel_x"))
    np.testing.assert_array_equal(out_r[:, 2:4], 4.0)


def test_laplacian_is_absolute_and_single_kernel_is_signed():
    img = step_image(col=3)
    raw = edges(img, "laplacian_4")
    np.testing.assert_array_equal(raw[0], [0, 0, 1, -1, 0, 0, 0])
    np.testing.assert_array_equal(edges(img, "laplacian4"), np.abs(raw))
    np.testing.assert_array_equal(edges(img, "laplacian8"), np.abs(edges(img, "laplacian_8")))
    np.testing.assert_array_equal(edges(img, "LAPLACIAN8"), edges(img, "laplacian8"))


def test_components_of_gradient_pair(camera):
    mag, comps = edges(camera, "sobel", return_components=True)
    assert list(comps) == ["sobel_x", "sobel_y"]
    np.testing.assert_allclose(mag, np.sqrt(comps["sobel_x"] ** 2 + comps["sobel_y"] ** 2))
    np.testing.assert_array_equal(comps["sobel_x"], edges(camera, "sobel_x"))


def test_constant_image_has_no_edges():
    for name in (*filters.FAMILIES, *KERNELS):
        np.testing.assert_array_equal(edges(np.full((5, 4), 7.0), name), 0.0, err_msg=name)


# --- parity with scipy and scikit-image -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_matches_scipy_correlate(camera, name):
    # np.pad "reflect" is scipy.ndimage "mirror"; np.pad "symmetric" is scipy.ndimage "reflect"
    for ours, theirs in [("reflect", "mirror"), ("symmetric", "reflect"), ("edge", "nearest"), ("wrap", "wrap")]:
        np.testing.assert_allclose(
            edges(camera, name, padding=ours),
            ndi.correlate(camera, KERNELS[name], mode=theirs),
            atol=1e-9,
            err_msg=f"{name}, padding={ours}",
        )
    np.testing.assert_allclose(
        edges(camera, name, padding="constant"), ndi.correlate(camera, KERNELS[name], mode="constant", cval=0.0),
        atol=1e-9,
    )


def test_scipy_convolve2d_negates_sobel_but_not_laplacian(camera):
    valid = edges(camera, "sobel_x", padding="valid")
    assert valid.shape == (camera.shape[0] - 2, camera.shape[1] - 2)
    np.testing.assert_allclose(scipy.signal.convolve2d(camera, filters.sobel_x, mode="valid"), -valid)
    np.testing.assert_allclose(
        scipy.signal.convolve2d(camera, filters.laplacian_8, mode="valid"),
        edges(camera, "laplacian_8", padding="valid"),
    )
    np.testing.assert_allclose(
        scipy.signal.convolve2d(camera, filters.kirsch[0], mode="valid"),
        edges(camera, "kirsch_s", padding="valid"),  # flipping N gives S
    )


@pytest.mark.parametrize("name, smooth", [("sobel", 4.0), ("prewitt", 3.0)])
def test_matches_skimage_up_to_normalisation(name, smooth):
    # scikit-image: uint8 -> [0, 1] (divide by 255), kernels divided by their smoothing sum (4 for [1, 2, 1],
    # 3 for [1, 1, 1]), magnitude sqrt((gx^2 + gy^2) / 2). Hence skimage = ours / (255 * smooth * sqrt(2)).
    cam = skimage.data.camera()  # (512, 512) uint8
    theirs = getattr(skimage.filters, name)(cam)
    ours = edges(cam, name)
    scale = 255.0 * smooth * np.sqrt(2.0)
    inner = (slice(1, -1), slice(1, -1))  # the borders differ only by padding convention
    np.testing.assert_allclose(ours[inner] / scale, theirs[inner], rtol=1e-10, atol=1e-12)
    # with np.pad "symmetric" (= scipy "reflect", skimage's default) the borders agree too
    np.testing.assert_allclose(edges(cam, name, padding="symmetric") / scale, theirs, rtol=1e-10, atol=1e-12)


def test_rgb_equals_result_on_rgb2gray(rgb):
    gray = skimage.color.rgb2gray(rgb)
    np.testing.assert_allclose(filters.to_gray(rgb), gray, atol=1e-12)
    for name in ("sobel", "kirsch", "laplacian4", "prewitt_y"):
        np.testing.assert_allclose(edges(rgb, name), edges(gray, name), atol=1e-12, err_msg=name)
    # uint8 values are not rescaled, whereas rgb2gray converts to [0, 1] first
    u8 = (rgb * 255).round().astype(np.uint8)
    np.testing.assert_allclose(edges(u8, "sobel"), 255 * edges(skimage.color.rgb2gray(u8), "sobel"), atol=1e-9)


def test_dtype_and_integer_input():
    img = step_image().astype(np.uint8)
    out = edges(img, "sobel")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, edges(img.astype(float), "sobel"))


# --- errors ---------------------------------------------------------------------------------------------


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"`name` must be one of .*'sobel'.*'kirsch_ne'.*Received: name='canny'"):
        edges(np.zeros((4, 4)), "canny")
    with pytest.raises(TypeError, match="`name` must be a string"):
        edges(np.zeros((4, 4)), 3)
    with pytest.raises(ValueError, match=r"must be one of \['kirsch', 'robinson'\]. Received: name='sobel'"):
        compass_kernels("sobel")


@pytest.mark.parametrize(
    "shape, hint",
    [
        ((3, 8, 8), "channels-first"),
        ((8, 8, 4), "alpha"),
        ((1, 8, 8, 3), "batch of one"),
        ((8,), ""),
    ],
)
def test_wrong_shape_gives_hint(shape, hint):
    with pytest.raises(ValueError, match=r"edges: `image` must be grayscale \(H, W\) or RGB \(H, W, 3\)") as e:
        edges(np.zeros(shape), "sobel")
    assert hint in str(e.value)


def test_bad_padding_and_dtype():
    with pytest.raises(ValueError, match=r"`padding` must be one of .*Received: padding='mirror'"):
        edges(np.zeros((4, 4)), "sobel", padding="mirror")
    with pytest.raises(ValueError, match='padding="valid" needs an image of at least 3x3'):
        edges(np.zeros((2, 5)), "sobel", padding="valid")
    with pytest.raises(TypeError, match="edges: `image` must hold real numbers"):
        edges(np.array([["a", "b"], ["c", "d"]]), "sobel")
