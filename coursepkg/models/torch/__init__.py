"""The course's architectures in PyTorch, one readable module per family.

Explained in the chapter "Classic CNN architectures" ({ref}`sec-architectures`). Every builder takes ``num_classes``
and, keyword-only, ``in_channels`` and ``input_size`` (an int or ``(H, W)``); its defaults build the published
configuration and its docstring states the output shape, the parameter count and the smallest input it accepts.
Models take ``(N, C, H, W)`` batches and return logits (no softmax). :mod:`coursepkg.models.keras` has the same
builders with the same names and arguments.

Big models can be counted and traced without allocating memory on PyTorch's ``meta`` device:

>>> import torch
>>> with torch.device("meta"):
...     model = resnet50()
>>> count_params(model)
25557032
>>> stage_shapes(model, ["layer4"])["layer4"]
(1, 2048, 7, 7)
"""

from ._common import count_params, model_depth, stage_shapes
from .alexnet import LRN, AlexNet, ZFNet, alexnet, zfnet
from .degradation import DegradationNet, PlainBlock, degradation_net
from .densenet import DenseBlock, DenseLayer, DenseNet, Transition, densenet121
from .googlenet import GOOGLENET_TABLE, GoogLeNet, InceptionAux, InceptionModule, googlenet
from .pixelnet import PixelNet, mean_iou, pixelnet, sample_pixels
from .resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    conv_block,
    identity_block,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)
from .simple import LeNet5, SimpleCNN, lenet5, simple_cnn
from .vgg import VGG, VGG_CONFIGS, vgg11, vgg16, vgg19

__all__ = [
    # builders, in the order of coursepkg.models.ARCHITECTURES
    "simple_cnn",
    "lenet5",
    "alexnet",
    "zfnet",
    "vgg11",
    "vgg16",
    "vgg19",
    "googlenet",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "densenet121",
    "pixelnet",
    # the degradation experiment (not a published architecture)
    "degradation_net",
    # helpers
    "count_params",
    "model_depth",
    "stage_shapes",
    "sample_pixels",
    "mean_iou",
    # building blocks and model classes
    "LRN",
    "InceptionModule",
    "InceptionAux",
    "GOOGLENET_TABLE",
    "BasicBlock",
    "PlainBlock",
    "Bottleneck",
    "identity_block",
    "conv_block",
    "DenseLayer",
    "DenseBlock",
    "Transition",
    "SimpleCNN",
    "LeNet5",
    "AlexNet",
    "ZFNet",
    "VGG",
    "VGG_CONFIGS",
    "GoogLeNet",
    "ResNet",
    "DenseNet",
    "PixelNet",
    "DegradationNet",
]
