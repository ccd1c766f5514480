"""Every builder: published parameter counts (on the meta device), docstrings, minimum sizes, small variants.

Big defaults are built with ``with torch.device("meta")``, which allocates no memory and computes nothing:
counting and shape propagation are instant even for ResNet-152. Small variants (10 classes, 1 channel,
32x32 or the minimum size) run a real forward and backward pass.
"""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F

import coursepkg.models.torch as models
from coursepkg.models import ARCHITECTURES
from coursepkg.models.torch import count_params

# Parameter counts of the default builds: published counts where they exist (torchvision, keras.applications
# for VGG; the spec for simple_cnn and lenet5), this package's own for zfnet, googlenet and pixelnet.
COUNTS = {
    "simple_cnn": 693_962,
    "lenet5": 61_706,
    "alexnet": 62_378_344,
    "zfnet": 62_357_608,
    "vgg11": 132_863_336,
    "vgg16": 138_357_544,
    "vgg19": 143_667_240,
    "googlenet": 6_998_552,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "densenet121": 7_978_856,
    "pixelnet": 103_895,
}
# Smallest input_size of each builder, as its docstring states.
MINIMUM = {
    "simple_cnn": 4, "lenet5": 32, "alexnet": 67, "zfnet": 53, "vgg11": 32, "vgg16": 32, "vgg19": 32,
    "googlenet": 31, "resnet18": 1, "resnet34": 1, "resnet50": 1, "resnet101": 1, "resnet152": 1,
    "densenet121": 29, "pixelnet": 4,
}  # fmt: skip


def test_tables_cover_every_architecture():
    assert set(COUNTS) == set(MINIMUM) == set(ARCHITECTURES)


def _meta_input(model: torch.nn.Module, size: int | None = None) -> torch.Tensor:
    hw = model.input_size if size is None else (size, size)
    return torch.empty(1, model.in_channels, *hw, device="meta")


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_default_parameter_count_and_docstring(name):
    builder = getattr(models, name)
    with torch.device("meta"):
        model = builder()
    assert count_params(model) == COUNTS[name]
    assert count_params(model, trainable_only=True) == COUNTS[name]
    # the docstring states the count (and its Shape section the output); builders that share a docstring
    # with resnet50 or vgg16 state it in their summary
    doc = builder.__doc__
    assert f"Parameters with the defaults: {COUNTS[name]:,}" in re.sub(r"\s+", " ", doc), name


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_default_output_shape(name):
    with torch.device("meta"):
        model = getattr(models, name)()
    out = model(_meta_input(model))
    if name == "pixelnet":
        assert out.shape == (1, 7, 32, 32)
    else:
        assert out.shape == (1, {"simple_cnn": 10, "lenet5": 10}.get(name, 1000))


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_minimum_input_size(name):
    builder, least = getattr(models, name), MINIMUM[name]
    with torch.device("meta"):
        model = builder(input_size=least).eval()  # batch norm in training mode wants more than 1x1x1 values
        assert model.min_size == least
        model(_meta_input(model))  # every window fits
        if least > 1:
            with pytest.raises(ValueError, match=rf"input_size={least - 1} is too small.*at least {least}x{least} "
                                                 rf"pixels. Use input_size >= {least}"):
                builder(input_size=least - 1)
    if least > 1:
        assert f"At least {least}" in builder.__doc__ or f"At least {least}" in models.vgg16.__doc__


def test_rectangular_inputs():
    with torch.device("meta"):
        model = models.alexnet(input_size=(67, 99))
        assert model(torch.empty(1, 3, 67, 99, device="meta")).shape == (1, 1000)
        assert model.fc6.in_features == 256 * 1 * 2  # width 99 -> 23 -> 11 -> 5 -> 2 after the poolings
        with pytest.raises(ValueError, match=r"input_size=\(99, 66\) is too small"):
            models.alexnet(input_size=(99, 66))


# Small variants: 10 classes, grey 32x32 images (or the minimum size when it is larger).
SMALL = [(name, max(32, MINIMUM[name])) for name in ARCHITECTURES]


@pytest.mark.parametrize("name, size", SMALL)
def test_small_variant_forward_and_backward(name, size):
    torch.manual_seed(0)
    model = getattr(models, name)(10, in_channels=1, input_size=size)
    x = torch.randn(2, 1, size, size)
    out = model(x)
    if name == "pixelnet":
        assert out.shape == (2, 10, size, size)
        loss = F.cross_entropy(out, torch.randint(0, 10, (2, size, size)))
    else:
        assert out.shape == (2, 10)
        loss = F.cross_entropy(out, torch.tensor([3, 7]))
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    first = next(model.parameters())
    assert first.grad.abs().sum() > 0  # the gradient reaches the first layer
