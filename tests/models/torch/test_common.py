"""Tests of coursepkg.models.torch._common: window geometry against PyTorch, count_params, stage_shapes,
model_depth.

The geometry itself (coursepkg.models.common) is tested by hand in tests/models/test_common.py.
"""

from __future__ import annotations

import doctest
import importlib
import itertools
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import coursepkg.models.torch as models
from coursepkg.models import ARCHITECTURES
from coursepkg.models.torch import count_params, model_depth, stage_shapes
from coursepkg.models.common import Window, spatial_size

# by name: the package attributes alexnet, googlenet and pixelnet are the builders, not the modules
MODULES = [importlib.import_module(f"coursepkg.models.torch{m}") for m in
           ["", "._common", ".simple", ".alexnet", ".vgg", ".googlenet", ".resnet", ".densenet", ".pixelnet",
                                                              ".degradation"]]


def _torch_size(n: int, k: int, s: int, p: int, ceil: bool) -> int | None:
    try:
        return F.max_pool2d(torch.zeros(1, 1, n, 1), (k, 1), (s, 1), (p, 0), ceil_mode=ceil).shape[2]
    except RuntimeError:
        return None


@pytest.mark.parametrize("ceil", [False, True])
def test_window_sizes_match_torch_pooling(ceil):
    # every input size up to 11 with odd and even kernels, strides that do and do not divide, padding
    for n, k, s, p in itertools.product(range(1, 12), [1, 2, 3, 5], [1, 2, 3], [0, 1, 2]):
        if 2 * p > k:
            continue  # PyTorch refuses padding above half the window
        try:
            ours = spatial_size(n, [Window(k, p, s, ceil)])
        except ValueError:
            ours = None
        assert ours == _torch_size(n, k, s, p, ceil), (n, k, s, p, ceil)


def test_count_params_counts_parameters_not_buffers():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Linear(4, 2))
    assert count_params(model) == (8 * 3 * 9 + 8) + 2 * 8 + (4 * 2 + 2)
    model[0].weight.requires_grad_(False)
    assert count_params(model, trainable_only=True) == 8 + 16 + 10
    with torch.device("meta"):
        assert count_params(nn.Linear(9216, 4096)) == 37_752_832


def test_count_params_errors():
    with pytest.raises(TypeError, match=r"`model` must be a torch.nn.Module. Received an object of type list"):
        count_params([nn.Linear(2, 2)])
    with pytest.raises(TypeError, match=r"`trainable_only` must be True or False. Received: trainable_only=1"):
        count_params(nn.Linear(2, 2), trainable_only=1)


def test_stage_shapes_default_input_and_errors():
    model = models.simple_cnn()
    assert stage_shapes(model, ["conv1", "pool1", "fc1"]) == {
        "conv1": (1, 32, 26, 26), "pool1": (1, 32, 13, 13), "fc1": (1, 128)
    }  # fmt: skip
    with pytest.raises(ValueError, match=r"SimpleCNN has no submodule named 'conv9'. Names look like: conv1"):
        stage_shapes(model, ["conv9"])
    assert not model.conv1._forward_hooks  # hooks are removed after the pass


def test_input_checks_name_the_fix():
    model = models.lenet5()
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\); got shape \(1, 32, 32\). Add a batch axis"):
        model(torch.zeros(1, 32, 32))
    with pytest.raises(ValueError, match=r"built with in_channels=1 but the input has C=3.*\(N, H, W, C\)"):
        model(torch.zeros(2, 3, 32, 32))
    with pytest.raises(ValueError, match=r"built for input_size=\(32, 32\).*is 28x28. Rebuild it with input_size"):
        model(torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match=r"input is 20x20 but this model needs at least 29x29"):
        models.densenet121(10, in_channels=1, input_size=32)(torch.zeros(2, 1, 20, 20))


def test_builder_argument_errors():
    with pytest.raises(ValueError, match=r"alexnet: `num_classes` must be >= 1. Received: num_classes=0"):
        models.alexnet(0)
    with pytest.raises(TypeError, match=r"vgg16: `in_channels` must be an integer. Received: in_channels=3.0"):
        models.vgg16(in_channels=3.0)
    with pytest.raises(ValueError, match=r"`input_size` must be an int or an \(h, w\) pair"):
        models.resnet18(input_size=(32, 32, 3))
    with pytest.raises(TypeError, match="takes from 0 to 1 positional arguments"):
        models.resnet18(10, 1)  # hyperparameters are keyword-only


def test_every_architecture_is_exported():
    for name in ARCHITECTURES:
        assert name in models.__all__ and callable(getattr(models, name)), name
    for name in models.__all__:
        assert hasattr(models, name), name


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_importing_loads_no_tensorflow():
    code = "import sys, coursepkg.models.torch; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(out.split())
    assert "torch" in loaded
    assert not {"tensorflow", "keras"} & loaded


# The papers' depths: the number in the name, LeNet-5's five weighted layers, GoogLeNet's "22 layers deep
# when counting only layers with parameters"; this package's own for the course variants.
DEPTHS = {
    "simple_cnn": 3, "lenet5": 5, "alexnet": 8, "zfnet": 8, "vgg11": 11, "vgg16": 16, "vgg19": 19,
    "googlenet": 22, "resnet18": 18, "resnet34": 34, "resnet50": 50, "resnet101": 101, "resnet152": 152,
    "densenet121": 121, "pixelnet": 9,
}  # fmt: skip


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_model_depth_is_the_papers_count(name):
    with torch.device("meta"):
        model = getattr(models, name)()
    model.train()
    assert model_depth(model) == DEPTHS[name]
    assert model.training  # the mode is restored


def test_model_depth_counts_the_longest_path_only():
    class TwoBranches(nn.Module):  # 3 convolutions on one branch, 1 on the other, then a dense layer
        def __init__(self):
            super().__init__()
            self.long = nn.Sequential(*[nn.Conv2d(2, 2, 3, padding=1) for _ in range(3)])
            self.short = nn.Conv2d(2, 2, 1)
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            y = torch.cat([self.long(x), self.short(x)], dim=1)  # (N, 4, H, W)
            return self.fc(y.mean(dim=(2, 3)))

    x = torch.zeros(1, 2, 5, 5)
    assert model_depth(TwoBranches(), x) == 4
    assert model_depth(nn.Sequential(nn.ReLU(), nn.MaxPool2d(2)), x) == 0
    assert model_depth(nn.Conv1d(2, 3, 3), torch.zeros(1, 2, 9)) == 1
    # a batch of one through batch norm: measured in evaluation mode
    assert model_depth(nn.Sequential(nn.Conv2d(2, 2, 1), nn.BatchNorm2d(2)), torch.zeros(1, 2, 1, 1)) == 1


def test_model_depth_errors():
    with pytest.raises(TypeError, match=r"model_depth: `model` must be a torch.nn.Module. Received an object of "
                                        r"type str"):
        model_depth("resnet50")
    with pytest.raises(ValueError, match=r"model_depth: pass an input `x`, e.g. torch.zeros\(1, C, H, W\)"):
        model_depth(nn.Linear(3, 2))
