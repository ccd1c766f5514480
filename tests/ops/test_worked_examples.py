"""The worked examples of the lecture notes, as tests (they appear again in the book)."""

import numpy as np
import pytest

from coursepkg.ops import avg_pool2d, conv2d, conv2d_naive, conv_output_size, max_pool2d, pad2d


def test_single_channel_5x5_example():
    x = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]])
    k = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    expected = [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
    np.testing.assert_array_equal(conv2d(x[None, None], k[None, None])[0, 0], expected)
    np.testing.assert_array_equal(conv2d_naive(x[None, None], k[None, None])[0, 0], expected)


def test_three_channel_example_with_bias_gives_minus_25():
    # The top-left 3x3 patch of the zero-padded RGB image and the three kernels of one filter.
    r = [[0, 0, 0], [0, 156, 155], [0, 153, 154]]
    g = [[0, 0, 0], [0, 167, 166], [0, 164, 165]]
    b = [[0, 0, 0], [0, 163, 162], [0, 160, 161]]
    kr = [[-1, -1, 1], [0, 1, -1], [0, 1, 1]]
    kg = [[1, 0, 0], [1, -1, -1], [1, 0, -1]]
    kb = [[0, 1, 1], [0, 1, 0], [1, -1, 1]]
    patch = np.array([r, g, b])[None]  # (1, 3, 3, 3)
    w = np.array([kr, kg, kb])[None]  # (1, 3, 3, 3)
    per_channel = [int(np.sum(np.array(c) * np.array(k))) for c, k in zip((r, g, b), (kr, kg, kb))]
    assert per_channel == [308, -498, 164]
    out = conv2d(patch, w, b=np.array([1]))
    assert out.shape == (1, 1, 1, 1)
    assert out.item() == 308 - 498 + 164 + 1 == -25


def test_three_channel_example_as_the_corner_of_a_padded_image():
    # The same number is the top-left output of a padding=1 convolution of the unpadded image.
    image = np.array(
        [[[156, 155], [153, 154]], [[167, 166], [164, 165]], [[163, 162], [160, 161]]]
    )[None]  # (1, 3, 2, 2)
    w = np.array(
        [[[-1, -1, 1], [0, 1, -1], [0, 1, 1]], [[1, 0, 0], [1, -1, -1], [1, 0, -1]], [[0, 1, 1], [0, 1, 0], [1, -1, 1]]]
    )[None]
    assert pad2d(image, 1)[0, 0, :3, :3].tolist() == [[0, 0, 0], [0, 156, 155], [0, 153, 154]]
    assert conv2d(image, w, np.array([1]), padding=1)[0, 0, 0, 0] == -25


def test_max_pool_3x3_stride_1_example():
    x = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]])
    np.testing.assert_array_equal(max_pool2d(x, 3, stride=1), [[3, 3, 3], [3, 3, 3], [3, 2, 3]])


def test_max_and_average_pool_4x4_example():
    x = np.array([[1, 4, 2, 1], [5, 8, 3, 4], [7, 6, 4, 5], [1, 3, 1, 2]])
    np.testing.assert_array_equal(max_pool2d(x, 2, stride=2), [[8, 4], [7, 5]])
    np.testing.assert_allclose(
        avg_pool2d(x, 2, stride=1), [[4.5, 4.25, 2.5], [6.5, 5.25, 4.0], [4.25, 3.5, 3.0]]
    )


@pytest.mark.parametrize(
    "n, f, p, s, expected",
    [
        (5, 3, 0, 1, 3),
        (8, 3, 1, 1, 8),
        (125, 5, 2, 2, 63),  # the notes say 62: floor((125 + 4 - 5) / 2) + 1 = 63
        (49, 5, 2, 2, 25),  # the notes say 24: floor((49 + 4 - 5) / 2) + 1 = 25
        (227, 11, 0, 4, 55),  # AlexNet conv1
        (55, 3, 0, 2, 27),  # AlexNet's first 3x3 stride-2 pooling
    ],
)
def test_output_sizes_of_the_notes(n, f, p, s, expected):
    assert conv_output_size(n, f, p, s) == expected


def test_125x49_input_really_gives_63x25():
    x = np.zeros((1, 1, 125, 49))
    w = np.zeros((1, 1, 5, 5))
    assert conv2d(x, w, stride=2, padding=2).shape == (1, 1, 63, 25)
