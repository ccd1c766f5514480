"""Tests of coursepkg.models.common: what the PyTorch and Keras twins share, in NumPy only.

Geometry and specifications are checked against the hand-computed numbers the builders' docstrings state;
the pixel sample and the mean IoU by hand; and both framework packages must re-export these very objects
(one implementation, so the twins cannot drift apart).
"""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import numpy as np
import pytest

from coursepkg.data import make_shapes
from coursepkg.models import common
from coursepkg.models.common import (
    ALEXNET_WINDOWS,
    GOOGLENET_AUX_POOL,
    GOOGLENET_AUX_WINDOWS,
    GOOGLENET_TABLE,
    GOOGLENET_TO_4A,
    GOOGLENET_WINDOWS,
    LENET5_WINDOWS,
    RESNET_CONFIGS,
    RESNET_WIDTHS,
    RESNET_WINDOWS,
    SIMPLE_CNN_WINDOWS,
    VGG_CONFIGS,
    ZFNET_WINDOWS,
    Window,
    as_bool,
    as_positive_float,
    as_rate,
    check_common,
    check_densenet_args,
    check_pixelnet_args,
    densenet_windows,
    inception_widths,
    mean_iou,
    minimum_size,
    pixel_sample_weights,
    sample_pixels,
    spatial_size,
    vgg_windows,
)

# --- one module, NumPy only, shared by both frameworks ----------------------------------------------------


def test_importing_common_loads_numpy_and_no_framework():
    code = (
        "import sys; before = set(sys.modules); import coursepkg.models.common; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "print(' '.join(sorted(new - set(sys.stdlib_module_names) - {'coursepkg'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["numpy"], out.stdout


def test_docstring_examples():
    result = doctest.testmod(common, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0


def test_every_public_name_is_defined():
    assert not [name for name in common.__all__ if not hasattr(common, name)]


# The names each framework package (and its modules) exported before common.py existed: they must now be
# the single implementation, not a copy. (This replaces the test that the Keras sample_pixels and mean_iou
# compute what the PyTorch ones compute: there is one of each.)
REEXPORTS = {
    "torch": {
        "coursepkg.models.torch": ["sample_pixels", "mean_iou", "GOOGLENET_TABLE", "VGG_CONFIGS"],
        "coursepkg.models.torch._common": ["Window", "minimum_size", "spatial_size"],
        "coursepkg.models.torch.pixelnet": ["sample_pixels", "mean_iou"],
    },
    "keras": {
        "coursepkg.models.keras": [
            "sample_pixels", "mean_iou", "pixel_sample_weights", "GOOGLENET_TABLE", "VGG_CONFIGS"
        ],  # fmt: skip
        "coursepkg.models.keras._common": ["Window", "minimum_size", "spatial_size"],
        "coursepkg.models.keras.pixelnet": ["sample_pixels", "mean_iou", "pixel_sample_weights"],
    },
}


@pytest.mark.parametrize("framework", sorted(REEXPORTS))
def test_frameworks_reexport_the_single_implementation(framework):
    for module_name, names in REEXPORTS[framework].items():
        module = importlib.import_module(module_name)
        for name in names:
            assert name in module.__all__, (module_name, name)
            assert getattr(module, name) is getattr(common, name), (module_name, name)


# --- geometry -----------------------------------------------------------------------------------------------


def test_minimum_size_hand_computed():
    assert minimum_size((Window(3), Window(2, 0, 2))) == 4  # 4 -> 2 -> 1
    assert minimum_size((Window(11, 0, 4), Window(3, 0, 2))) == 19  # 19 -> 3 -> 1
    assert minimum_size((Window(3, 0, 2, ceil=True),)) == 2  # a window may hang over the end in ceil mode
    assert minimum_size(()) == 1
    assert minimum_size((Window(11, 0, 4), Window(3, 0, 2), Window(5, 2, 1), Window(3, 0, 2), Window(3, 0, 2))) == 67


@pytest.mark.parametrize(
    ("n", "window", "expected"),
    [
        (5, Window(3, 0, 2, ceil=True), 2),  # ceil((5 - 3) / 2) + 1 = 2, as floor
        (6, Window(3, 0, 2, ceil=True), 3),  # ceil(3 / 2) + 1 = 3; floor mode gives 2
        (6, Window(3, 0, 2), 2),
        (2, Window(3, 0, 2, ceil=True), 1),  # the window hangs over the end
        (4, Window(2, 1, 2, ceil=True), 3),  # ceil((4 + 2 - 2) / 2) + 1 = 3, the last window starting at pixel 3
        (3, Window(2, 1, 2, ceil=True), 2),  # ceil(3 / 2) + 1 = 3 would start in the right padding: dropped
        (7, Window(1, 0, 2), 4),  # 1x1 stride 2: floor((n - 1) / 2) + 1 = ceil(n / 2)
    ],
)
def test_spatial_size_hand_computed(n, window, expected):
    assert spatial_size(n, [window]) == expected


def test_spatial_size_rejects_a_window_that_does_not_fit():
    with pytest.raises(ValueError):
        spatial_size(2, [Window(3)])
    with pytest.raises(ValueError, match="ceil mode leaves no output for an input of size 1"):
        spatial_size(1, [Window(4, 0, 2, ceil=True)])


# The smallest inputs the builders' docstrings state, from the specifications here.
MINIMA = [
    ("simple_cnn", SIMPLE_CNN_WINDOWS, 4),
    ("lenet5", LENET5_WINDOWS, 32),
    ("alexnet", ALEXNET_WINDOWS, 67),
    ("zfnet", ZFNET_WINDOWS, 53),
    ("vgg16", vgg_windows(VGG_CONFIGS["vgg16"], "vgg16"), 32),
    ("googlenet", GOOGLENET_WINDOWS, 31),
    ("googlenet aux", GOOGLENET_AUX_WINDOWS, 79),
    ("resnet", RESNET_WINDOWS, 1),
    ("densenet121", densenet_windows(4), 29),
    ("pixelnet", check_pixelnet_args("pixelnet", (16, 32, 64), 128)[2], 4),
]


@pytest.mark.parametrize(("name", "windows", "least"), MINIMA, ids=[m[0] for m in MINIMA])
def test_architecture_minimum_sizes(name, windows, least):
    assert minimum_size(windows) == least


def test_default_input_sizes_give_the_published_feature_maps():
    assert spatial_size(28, SIMPLE_CNN_WINDOWS) == 13  # 26 -> 13
    assert spatial_size(32, LENET5_WINDOWS) == 1  # C5 is 1x1
    assert spatial_size(227, ALEXNET_WINDOWS) == 6  # pool5 6x6x256 = 9216 features
    assert spatial_size(224, ZFNET_WINDOWS) == 6
    assert spatial_size(224, vgg_windows(VGG_CONFIGS["vgg16"], "vgg16")) == 7
    assert spatial_size(224, GOOGLENET_TO_4A) == 14  # inception 4a's maps, where aux1 sits
    assert spatial_size(224, GOOGLENET_WINDOWS) == 7
    assert spatial_size(14, [GOOGLENET_AUX_POOL]) == 4  # the auxiliary heads' 4x4x128
    assert spatial_size(224, RESNET_WINDOWS) == 7
    assert spatial_size(224, densenet_windows(4)) == 7


def test_resnet_windows_are_the_1x1_stride_2_path_too():
    """Stages 3-5 halve with a 3x3 pad 1 (torchvision) or a 1x1 (keras.applications) stride-2 convolution."""
    one_by_one = (Window(7, 3, 2), Window(3, 1, 2)) + (Window(1, 0, 2),) * 3
    for n in range(1, 300):
        assert spatial_size(n, RESNET_WINDOWS) == spatial_size(n, one_by_one), n


# --- specifications -------------------------------------------------------------------------------------------


def test_vgg_configs_have_the_papers_depths():
    for name, depth in (("vgg11", 11), ("vgg16", 16), ("vgg19", 19)):
        config = VGG_CONFIGS[name]
        assert len(config) == 5 and sum(len(block) for block in config) + 3 == depth  # + 3 dense layers


def test_googlenet_table_output_channels():
    out = [w.ch1x1 + w.ch3x3 + w.ch5x5 + w.pool_proj for w in GOOGLENET_TABLE.values()]
    assert out == [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    assert GOOGLENET_TABLE["inception3a"]._asdict() == {
        "ch1x1": 64, "ch3x3red": 96, "ch3x3": 128, "ch5x5red": 16, "ch5x5": 32, "pool_proj": 32
    }  # fmt: skip


def test_resnet_configs_have_the_papers_depths():
    # depth = stem conv + layers per block * blocks + fc
    for name, config in RESNET_CONFIGS.items():
        per_block = 3 if config.bottleneck else 2
        assert 1 + per_block * sum(config.layers) + 1 == int(name.removeprefix("resnet")), name
    assert RESNET_WIDTHS == (64, 128, 256, 512)


# --- argument checks ----------------------------------------------------------------------------------------


def test_check_common_accepts_an_int_or_a_pair():
    assert check_common("f", 10, 3, 32, SIMPLE_CNN_WINDOWS, "m") == (10, 3, (32, 32))
    assert check_common("f", 10, 3, (32, 40), SIMPLE_CNN_WINDOWS, "m") == (10, 3, (32, 40))


def test_check_common_errors():
    with pytest.raises(ValueError, match=r"alexnet: `num_classes` must be >= 1. Received: num_classes=0"):
        check_common("alexnet", 0, 3, 227, ALEXNET_WINDOWS, "AlexNet")
    with pytest.raises(TypeError, match=r"vgg16: `in_channels` must be an integer. Received: in_channels=3.0"):
        check_common("vgg16", 10, 3.0, 224, (), "vgg16")
    with pytest.raises(ValueError, match=r"`input_size` must be an int or an \(h, w\) pair"):
        check_common("f", 10, 3, (32, 32, 3), (), "m")
    with pytest.raises(
        ValueError,
        match=r"alexnet: input_size=\(66, 300\) is too small for AlexNet: .* at least 67x67 pixels. "
        r"Use input_size >= 67",
    ):
        check_common("alexnet", 10, 3, (66, 300), ALEXNET_WINDOWS, "AlexNet")


def test_flag_rate_and_positive_float_checks():
    assert as_bool(True, "lrn", "f") is True
    with pytest.raises(TypeError, match=r"f: `lrn` must be True or False. Received: lrn=1"):
        as_bool(1, "lrn", "f")
    assert as_rate(0, "dropout", "f") == 0.0
    with pytest.raises(ValueError, match=r"must be in \[0, 1\); use 0.0 for no dropout. Received: dropout=1.0"):
        as_rate(1.0, "dropout", "f")
    with pytest.raises(TypeError, match=r"`dropout` must be a float in \[0, 1\). Received: dropout=True"):
        as_rate(True, "dropout", "f")
    assert as_positive_float(2, "k", "LRN") == 2.0
    with pytest.raises(ValueError, match=r"LRN: `alpha` must be > 0. Received: alpha=0"):
        as_positive_float(0, "alpha", "LRN")
    with pytest.raises(TypeError, match=r"`beta` must be a finite float. Received: beta=inf"):
        as_positive_float(float("inf"), "beta", "LRN")


def test_vgg_windows_errors():
    with pytest.raises(ValueError, match=r"VGG: `config` must list, for each .* Received: config=\(\(64,\), \(\)\)"):
        vgg_windows(((64,), ()), "VGG")
    with pytest.raises(ValueError, match="`config` must list"):
        vgg_windows((), "VGG")


def test_inception_widths():
    assert inception_widths("f", 64, 96, 128, 16, 32, 32) == GOOGLENET_TABLE["inception3a"]
    with pytest.raises(ValueError, match=r"InceptionModule: `ch5x5red` must be >= 1. Received: ch5x5red=0"):
        inception_widths("InceptionModule", 1, 2, 3, 0, 5, 6)


def test_check_densenet_args():
    args = check_densenet_args("densenet121", 32, [6, 12, 24, 16], 64, 4, 1)
    assert args == (32, (6, 12, 24, 16), 64, 4, 1.0) and isinstance(args[4], float)
    with pytest.raises(ValueError, match=r"`compression` is the fraction .* in \(0, 1\]. Received: compression=0"):
        check_densenet_args("densenet121", 32, (6,), 64, 4, 0)
    with pytest.raises(TypeError, match=r"`compression` must be a float in \(0, 1\]. Received: compression=True"):
        check_densenet_args("densenet121", 32, (6,), 64, 4, True)
    with pytest.raises(TypeError, match=r"`block_config` must be a non-empty sequence of layer counts"):
        check_densenet_args("densenet121", 32, "6", 64, 4, 0.5)
    with pytest.raises(ValueError, match=r"`block_config\[i\]` must be >= 1"):
        check_densenet_args("densenet121", 32, (6, 0), 64, 4, 0.5)


def test_check_pixelnet_args():
    widths, hidden, windows = check_pixelnet_args("pixelnet", [8, 16], 32)
    assert (widths, hidden, windows) == ((8, 16), 32, (Window(2, 0, 2),))
    with pytest.raises(TypeError, match=r"pixelnet: `widths` must be a non-empty sequence .* Received: widths=16"):
        check_pixelnet_args("pixelnet", 16, 32)
    with pytest.raises(ValueError, match=r"`hidden` must be >= 1. Received: hidden=0"):
        check_pixelnet_args("pixelnet", (8,), 0)


# --- PixelNet's pixel sample and the mean IoU -----------------------------------------------------------------


def test_sample_pixels_is_stratified():
    masks = make_shapes(6, size=32, rng=0).masks
    idx = sample_pixels(masks, 5, rng=1)
    labels = masks[idx[:, 0], idx[:, 1], idx[:, 2]]
    for n in range(len(masks)):
        present = np.unique(masks[n])
        assert len(present) == 2  # background and one shape
        for c in present:
            assert np.count_nonzero((idx[:, 0] == n) & (labels == c)) == 5
    assert idx.dtype == np.int64 and idx.shape == (6 * 2 * 5, 3)
    np.testing.assert_array_equal(idx, sample_pixels(masks, 5, rng=1))  # reproducible
    np.testing.assert_array_equal(idx, sample_pixels(masks, 5, rng=np.random.default_rng(1)))  # int or Generator


def test_sample_pixels_without_and_with_replacement():
    masks = np.zeros((1, 4, 4), dtype=np.int64)
    masks[0, 0, :3] = 2  # class 2 covers 3 pixels
    idx = sample_pixels(masks, 3, rng=0)
    rows = {tuple(r) for r in idx[3:]}  # the three class-2 pixels, each once
    assert rows == {(0, 0, 0), (0, 0, 1), (0, 0, 2)}
    idx = sample_pixels(masks, 8, rng=0)  # more than the 3 pixels: drawn with replacement
    assert np.all(masks[idx[8:, 0], idx[8:, 1], idx[8:, 2]] == 2)
    assert len({tuple(r) for r in idx[:8]}) == 8  # background has 13 pixels: without replacement


def test_sample_pixels_errors():
    with pytest.raises(TypeError, match=r"`masks` must hold integer class labels; its dtype is float32"):
        sample_pixels(np.zeros((1, 4, 4), np.float32), 2)
    with pytest.raises(TypeError, match=r"must hold integer class labels.*astype\(np.int64\)"):
        sample_pixels(np.zeros((1, 4, 4)), 2)
    with pytest.raises(ValueError, match=r"shape \(N, H, W\); got shape \(4, 4\). For one mask use masks\[None\]"):
        sample_pixels(np.zeros((4, 4), np.int64), 2)
    with pytest.raises(ValueError, match=r"`n_per_class` must be >= 1. Received: n_per_class=0"):
        sample_pixels(np.zeros((1, 4, 4), np.int64), 0)
    with pytest.raises(TypeError, match=r"`rng` must be None, an int seed or a numpy.random.Generator"):
        sample_pixels(np.zeros((1, 4, 4), np.int64), 2, rng="0")


def test_pixel_sample_weights_average_one_on_the_sample():
    masks = make_shapes(3, size=16, rng=2).masks
    w = pixel_sample_weights(masks, 4, rng=0)
    idx = sample_pixels(masks, 4, rng=0)
    assert w.shape == masks.shape and w.dtype == np.float32
    assert np.isclose(w.mean(), 1.0)
    assert set(zip(*np.nonzero(w))) == {tuple(row) for row in idx}


def test_pixel_sample_weights_count_repeated_draws():
    masks = np.zeros((1, 2, 2), dtype=np.int64)
    masks[0, 0, 0] = 1  # class 1 covers one pixel: drawn 3 times with replacement
    w = pixel_sample_weights(masks, 3, rng=0)
    # 6 draws over 4 pixels, scaled by 4 / 6: the class-1 pixel weighs 3 * 4 / 6 = 2
    assert w[0, 0, 0] == pytest.approx(2.0)
    assert w.sum() == pytest.approx(4.0)


def test_mean_iou_by_hand():
    pred = np.array([[0, 0, 1, 1], [2, 2, 2, 0]])
    target = np.array([[0, 1, 1, 1], [2, 2, 0, 0]])
    # class 0: 2 / 4, class 1: 2 / 3, class 2: 2 / 3
    assert mean_iou(pred, target, num_classes=3) == pytest.approx((1 / 2 + 2 / 3 + 2 / 3) / 3)
    assert mean_iou(target, target, num_classes=5) == 1.0  # absent classes are left out
    with pytest.raises(ValueError, match=r"same shape; got \(2, 4\) and \(8,\)"):
        mean_iou(pred, target.ravel(), num_classes=3)
    with pytest.raises(ValueError, match=r"mean_iou: `num_classes` must be >= 1. Received: num_classes=0"):
        mean_iou(pred, target, num_classes=0)
