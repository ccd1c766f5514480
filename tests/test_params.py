"""Tests for coursepkg.params: worked examples of the notes, AlexNet and VGG16, and parity with PyTorch."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from coursepkg.params import (
    LRN,
    AvgPool,
    BatchNorm,
    BatchNormParams,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    LayerRow,
    MaxPool,
    ReLU,
    batchnorm_params,
    conv2d_params,
    dense_params,
    dense_vs_conv,
    format_table,
    input_size,
    layer_table,
    total_params,
)

META = torch.device("meta")  # shapes and parameter counts without allocating memory


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --- tier 1: the numbers of the notes -------------------------------------------------------------------


def test_input_size_of_the_notes():
    assert input_size((68, 68, 3)) == 13_872  # the notes say 12,288, which is 64 x 64 x 3
    assert input_size((64, 64, 3)) == 12_288
    assert input_size([227, 227, 3]) == 154_587
    assert "12,288" in input_size.__doc__ and "13,872" in input_size.__doc__


def test_single_layer_counts():
    assert dense_params(784, 10) == 7_850
    assert dense_params(784, 10, bias=False) == 7_840
    assert conv2d_params(3, 96, 11) == 34_944
    assert conv2d_params(3, 10, (3, 5), bias=False) == 450
    assert conv2d_params(32, 64, 3, groups=4) == 64 * 8 * 9 + 64
    assert batchnorm_params(64) == BatchNormParams(trainable=128, non_trainable=128)
    trainable, non_trainable = batchnorm_params(10)
    assert (trainable, non_trainable, batchnorm_params(10).total) == (20, 20, 40)


def test_dense_vs_conv():
    cmp = dense_vs_conv()
    assert cmp.input_shape == (68, 68, 3) and cmp.inputs == 13_872
    assert cmp.dense_params == 13_872 * 1000 + 1000
    assert cmp.conv_params == 10 * 3 * 3 * 3 + 10
    assert cmp.ratio == pytest.approx(13_873_000 / 280)
    cmp = dense_vs_conv((64, 64, 3), units=100, filters=16, kernel_size=5, bias=False)
    assert (cmp.inputs, cmp.dense_params, cmp.conv_params) == (12_288, 1_228_800, 1_200)
    assert cmp.ratio == 1024.0
    assert "12,288" in str(cmp) and "1,024 times fewer" in str(cmp)


def alexnet_specs() -> list:
    """Single-GPU AlexNet as in the notes (Krizhevsky et al. 2012, with 227x227 inputs)."""
    return [
        Conv2D(96, 11, stride=4, name="conv1"),
        ReLU(),
        LRN(),
        MaxPool(3, stride=2, name="pool1"),
        Conv2D(256, 5, padding=2, name="conv2"),
        ReLU(),
        LRN(),
        MaxPool(3, stride=2, name="pool2"),
        Conv2D(384, 3, padding=1, name="conv3"),
        ReLU(),
        Conv2D(384, 3, padding=1, name="conv4"),
        ReLU(),
        Conv2D(256, 3, padding=1, name="conv5"),
        ReLU(),
        MaxPool(3, stride=2, name="pool5"),
        Flatten(),
        Dropout(),
        Dense(4096, name="fc6"),
        ReLU(),
        Dropout(),
        Dense(4096, name="fc7"),
        ReLU(),
        Dense(1000, name="fc8"),
    ]


def torch_alexnet() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4, device=META), nn.ReLU(), nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, device=META), nn.ReLU(), nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1, device=META), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1, device=META), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, device=META), nn.ReLU(),
        nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Dropout(),
        nn.Linear(9216, 4096, device=META), nn.ReLU(), nn.Dropout(),
        nn.Linear(4096, 4096, device=META), nn.ReLU(),
        nn.Linear(4096, 1000, device=META),
    )  # fmt: skip


def nhwc_shapes(model: nn.Sequential, input_hwc: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Output shape of every module of `model`, written (H, W, C) or (D,) as in the notes."""
    h, w, c = input_hwc
    x = torch.empty(1, c, h, w, device=META)
    shapes = []
    for module in model:
        x = module(x)
        s = tuple(x.shape[1:])
        shapes.append((s[1], s[2], s[0]) if len(s) == 3 else s)
    return shapes


def test_alexnet_table():
    rows = layer_table((227, 227, 3), alexnet_specs())
    named = {r.name: r for r in rows}
    expected_shapes = {
        "conv1": (55, 55, 96),
        "pool1": (27, 27, 96),
        "conv2": (27, 27, 256),
        "pool2": (13, 13, 256),
        "conv3": (13, 13, 384),
        "conv4": (13, 13, 384),
        "conv5": (13, 13, 256),
        "pool5": (6, 6, 256),
        "flatten1": (9216,),
        "fc6": (4096,),
        "fc7": (4096,),
        "fc8": (1000,),
    }
    assert {k: named[k].output_shape for k in expected_shapes} == expected_shapes
    expected_params = {
        "conv1": 34_944,
        "conv2": 614_656,
        "conv3": 885_120,
        "conv4": 1_327_488,
        "conv5": 884_992,
        "fc6": 37_752_832,
        "fc7": 16_781_312,
        "fc8": 4_097_000,
    }
    assert {k: named[k].params for k in expected_params} == expected_params
    assert total_params(rows) == 62_378_344  # the "about 60 million" of the paper
    assert sum(expected_params.values()) == 62_378_344
    # the same network in PyTorch: same count and the same shape after every layer
    model = torch_alexnet()
    assert n_params(model) == 62_378_344
    assert [r.output_shape for r in rows[1:]] == nhwc_shapes(model, (227, 227, 3))
    assert [r.params for r in rows[1:]] == [n_params(m) for m in model]


def vgg16_specs() -> list:
    specs: list = []
    for block, (n_conv, filters) in enumerate([(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)], start=1):
        specs += [Conv2D(filters, 3, padding="same") for _ in range(n_conv)]
        specs.append({"type": "MaxPool2D", "size": 2, "name": f"block{block}_pool"})
    return specs + [Flatten(), Dense(4096), Dense(4096), Dense(1000)]


def test_vgg16_has_138_million_parameters_not_billion():
    rows = layer_table((224, 224, 3), vgg16_specs())
    assert total_params(rows) == 138_357_544
    assert rows[-4].output_shape == (25_088,) and rows[-5].output_shape == (7, 7, 512)
    assert sum(isinstance(s, Conv2D) for s in vgg16_specs()) == 13
    layers: list[nn.Module] = []
    c = 3
    for spec in vgg16_specs()[:-4]:
        if isinstance(spec, Conv2D):
            layers.append(nn.Conv2d(c, spec.filters, 3, padding="same", device=META))
            c = spec.filters
        else:
            layers.append(nn.MaxPool2d(2))
    layers += [nn.Flatten(), nn.Linear(25_088, 4096, device=META), nn.Linear(4096, 4096, device=META)]
    layers.append(nn.Linear(4096, 1000, device=META))
    model = nn.Sequential(*layers)
    assert n_params(model) == 138_357_544
    assert [r.output_shape for r in rows[1:]] == nhwc_shapes(model, (224, 224, 3))


def test_names_dicts_and_other_layers():
    rows = layer_table(
        (32, 32, 3),
        [
            {"type": "conv2d", "filters": 8, "kernel": (3, 5), "padding": (1, 2)},
            {"type": "batch_norm"},
            {"type": "relu"},
            AvgPool(2),
            {"type": "Conv2D", "filters": 16, "kernel": 3, "stride": 2, "padding": "valid", "bias": False},
            {"type": "dropout", "rate": 0.25},
            GlobalAvgPool(),
            BatchNorm(name="bn_head"),
            Dense(10, name="logits"),
        ],
    )
    assert rows == [
        LayerRow("input", (32, 32, 3), 0),
        LayerRow("conv1", (32, 32, 8), 8 * 3 * 15 + 8),
        LayerRow("bn1", (32, 32, 8), 16),
        LayerRow("relu1", (32, 32, 8), 0),
        LayerRow("avgpool1", (16, 16, 8), 0),
        LayerRow("conv2", (7, 7, 16), 16 * 8 * 9),
        LayerRow("dropout1", (7, 7, 16), 0),
        LayerRow("gap1", (16,), 0),
        LayerRow("bn_head", (16,), 32),
        LayerRow("logits", (10,), 170),
    ]
    assert layer_table((784,), [Dense(10)])[-1] == LayerRow("fc1", (10,), 7_850)
    assert layer_table((5, 5, 1), [MaxPool(2, stride=1, padding=1)])[-1].output_shape == (6, 6, 1)


def test_format_table():
    text = format_table(layer_table((28, 28, 1), [Conv2D(4, 3, padding="same"), Flatten(), Dense(10)]))
    assert text.splitlines() == [
        "| Layer    | Output shape | Parameters |",
        "|:---------|:-------------|-----------:|",
        "| input    | 28x28x1      |          0 |",
        "| conv1    | 28x28x4      |         40 |",
        "| flatten1 | 3136         |          0 |",
        "| fc1      | 10           |     31,370 |",
        "| Total    |              |     31,410 |",
    ]
    alex = format_table(layer_table((227, 227, 3), alexnet_specs()), total=True)
    assert "| conv1 " in alex and "55x55x96" in alex and alex.splitlines()[-1].endswith("62,378,344 |")
    assert "Total" not in format_table(layer_table((4,), [Dense(2)]), total=False)


# --- tier 3: parity with torch.nn on random shapes ------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    c=st.integers(1, 8),
    f=st.integers(1, 8),
    kh=st.integers(1, 7),
    kw=st.integers(1, 7),
    groups=st.sampled_from([1, 2, 4]),
    bias=st.booleans(),
)
def test_conv_params_match_torch(c, f, kh, kw, groups, bias):
    c, f = c * groups, f * groups
    layer = nn.Conv2d(c, f, (kh, kw), groups=groups, bias=bias, device=META)
    assert conv2d_params(c, f, (kh, kw), bias=bias, groups=groups) == n_params(layer)
    if kh == kw:
        assert conv2d_params(c, f, kh, bias=bias, groups=groups) == n_params(layer)


@settings(max_examples=30, deadline=None)
@given(n_in=st.integers(1, 5000), n_out=st.integers(1, 5000), bias=st.booleans(), c=st.integers(1, 512))
def test_dense_and_batchnorm_params_match_torch(n_in, n_out, bias, c):
    assert dense_params(n_in, n_out, bias=bias) == n_params(nn.Linear(n_in, n_out, bias=bias, device=META))
    bn = nn.BatchNorm2d(c, device=META)
    trainable, non_trainable = batchnorm_params(c)
    assert trainable == n_params(bn)
    stats = sum(b.numel() for name, b in bn.named_buffers() if name != "num_batches_tracked")
    assert non_trainable == stats


@st.composite
def window_stacks(draw):
    """A random stack of conv and pooling layers, with its PyTorch twin (which may not fit the input)."""
    specs, modules = [], []
    c_in = c = draw(st.integers(1, 4))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "max", "avg"]))
        k = draw(st.integers(1, 5))
        s = draw(st.integers(1, 3))
        if kind == "conv":
            f = draw(st.integers(1, 4))
            padding = draw(st.sampled_from([0, 1, 2, "valid", "same"])) if s == 1 else draw(st.integers(0, 2))
            specs.append(Conv2D(f, k, stride=s, padding=padding))
            modules.append(nn.Conv2d(c, f, k, stride=s, padding=padding, device=META))
            c = f
        else:
            p = draw(st.integers(0, k // 2))
            cls, torch_cls = (MaxPool, nn.MaxPool2d) if kind == "max" else (AvgPool, nn.AvgPool2d)
            specs.append(cls(k, stride=s, padding=p))
            modules.append(torch_cls(k, stride=s, padding=p))
    return specs, nn.Sequential(*modules), c_in


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")
@settings(max_examples=40, deadline=None)
@given(stack=window_stacks(), h=st.integers(1, 20), w=st.integers(1, 20))
def test_layer_table_matches_torch_shapes(stack, h, w):
    specs, model, c_in = stack
    try:
        torch_shapes = nhwc_shapes(model, (h, w, c_in))
    except RuntimeError:
        with pytest.raises(ValueError, match="does not fit"):
            layer_table((h, w, c_in), specs)
        return
    rows = layer_table((h, w, c_in), specs)
    assert [r.output_shape for r in rows[1:]] == torch_shapes
    assert total_params(rows) == n_params(model)


# --- errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: dense_params(0, 10), r"dense_params: `n_in` must be >= 1. Received: n_in=0"),
        (lambda: dense_params(10, -1), r"`n_out` must be >= 1. Received: n_out=-1"),
        (lambda: conv2d_params(3, 0, 3), r"`c_out` must be >= 1. Received: c_out=0"),
        (lambda: conv2d_params(3, 8, 0), r"`kernel_size` must be >= 1. Received: kernel_size=0"),
        (lambda: conv2d_params(3, 8, (3, 3, 3)), r"`kernel_size` must be an int or an \(h, w\) pair"),
        (lambda: conv2d_params(3, 8, 3, groups=2), r"`groups` must divide both c_in and c_out. Received: groups=2"),
        (lambda: batchnorm_params(0), r"`c` must be >= 1. Received: c=0"),
        (lambda: input_size((68, 0, 3)), r"`shape\[1\]` must be >= 1. Received: shape\[1\]=0"),
        (lambda: dense_vs_conv((68, 68)), r"`input_shape` must be \(H, W, C\)"),
        (lambda: dense_vs_conv(units=0), r"`units` must be >= 1"),
        (lambda: dense_vs_conv((4, 4, 3), kernel_size=5), r"`kernel_size` must fit in the image"),
        (lambda: layer_table((0, 5, 3), []), r"layer_table: `input_shape\[0\]` must be >= 1"),
        (lambda: layer_table((5, 5), []), r"`input_shape` must be \(H, W, C\) or \(D,\)"),
        (lambda: layer_table((5, 5, 3), [Conv2D(0, 3)]), r"layers\[0\] \(conv1\): `filters` must be >= 1"),
        (lambda: layer_table((5, 5, 3), [Conv2D(4, 3, groups=2)]), r"layers\[0\] \(conv1\): .*`groups` must divide"),
        (lambda: layer_table((5, 5, 3), [Conv2D(4, 7)]), r"layers\[0\] \(conv1\): .*does not fit"),
        (lambda: layer_table((5, 5, 3), [Conv2D(4, 3, stride=2, padding="same")]), r'padding="same" needs stride 1'),
        (lambda: layer_table((5, 5, 3), [Conv2D(4, 3, padding="full")]), r"`padding` must be an int"),
        (lambda: layer_table((5, 5, 3), [MaxPool(2, padding=2)]), r"at most half the window"),
        (lambda: layer_table((5, 5, 3), [Dense(10)]), r"layers\[0\] \(fc1\): Dense needs a flat input.*Flatten"),
        (lambda: layer_table((5, 5, 3), [Flatten(), Conv2D(4, 3)]), r"layers\[1\] \(conv1\): Conv2D needs an"),
        (lambda: layer_table((5, 5, 3), [{"type": "attention"}]), r"layers\[0\]: a dict layer needs a 'type'"),
        (lambda: layer_table((5, 5, 3), [{"type": "dense", "unit": 3}]), r"unknown keys \['unit'\]"),
        (lambda: layer_table((5, 5, 3), [{"type": "dense"}]), r"cannot build a Dense"),
    ],
)
def test_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: dense_params(2.5, 3), r"`n_in` must be an integer. Received: n_in=2.5"),
        (lambda: dense_params(2, 3, bias=1), r"`bias` must be True or False. Received: bias=1"),
        (lambda: conv2d_params(True, 3, 3), r"`c_in` must be an integer"),
        (lambda: input_size("68x68x3"), r"`shape` must be a non-empty sequence of ints"),
        (lambda: input_size(()), r"`shape` must be a non-empty sequence"),
        (lambda: layer_table((5, 5, 3), ["conv"]), r"layers\[0\] must be a layer spec"),
    ],
)
def test_type_errors(call, match):
    with pytest.raises(TypeError, match=match):
        call()
