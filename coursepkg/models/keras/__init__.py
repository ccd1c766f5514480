"""The architectures of the course in Keras 3 (functional API), twins of :mod:`coursepkg.models.torch`.

Every builder has the name and the arguments of its PyTorch twin and builds the same layers in the same
order, so that :mod:`coursepkg.models.transfer_weights` copies weights from one to the other. Models take
channels-last batches ``(N, H, W, C)`` (PyTorch's take ``(N, C, H, W)``) and return logits: the last
``Dense`` has no activation, so use ``from_logits=True`` losses. Importing this package imports Keras and
TensorFlow; importing :mod:`coursepkg` or :mod:`coursepkg.models` does not.

Every builder's docstring states its output shape and its parameter count with the defaults; Keras counts
the batch-norm moving statistics too (see :func:`count_params`).
"""

from ._common import BN_EPSILON, BN_MOMENTUM, count_params, model_depth, stage_shapes
from .alexnet import LRN, alexnet, zfnet
from .degradation import degradation_net, plain_block
from .densenet import dense_block, dense_layer, densenet121, transition_layer
from .googlenet import GOOGLENET_TABLE, googlenet, inception_aux, inception_module
from .pixelnet import BilinearResize, mean_iou, pixel_sample_weights, pixelnet, sample_pixels
from .resnet import basic_block, conv_block, identity_block, resnet18, resnet34, resnet50, resnet101, resnet152
from .simple import lenet5, simple_cnn
from .vgg import VGG_CONFIGS, vgg11, vgg16, vgg19, vgg_block

__all__ = [
    "BN_EPSILON",
    "BN_MOMENTUM",
    "GOOGLENET_TABLE",
    "LRN",
    "VGG_CONFIGS",
    "BilinearResize",
    "alexnet",
    "basic_block",
    "conv_block",
    "count_params",
    "degradation_net",
    "dense_block",
    "dense_layer",
    "densenet121",
    "googlenet",
    "identity_block",
    "inception_aux",
    "inception_module",
    "lenet5",
    "mean_iou",
    "model_depth",
    "pixel_sample_weights",
    "pixelnet",
    "plain_block",
    "resnet101",
    "resnet152",
    "resnet18",
    "resnet34",
    "resnet50",
    "sample_pixels",
    "simple_cnn",
    "stage_shapes",
    "transition_layer",
    "vgg11",
    "vgg16",
    "vgg19",
    "vgg_block",
    "zfnet",
]
