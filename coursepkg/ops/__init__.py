"""NumPy reference implementations of the operations of convolutional networks.

The ground truth of the course: every function here is tested against PyTorch and TensorFlow on random
inputs and against the worked examples of the book. Layout NCHW; :mod:`coursepkg.ops.layout` converts.
"""

from .activations import (
    leaky_relu,
    leaky_relu_grad,
    log_softmax,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    softmax_backward,
    softmax_jacobian,
    tanh,
    tanh_grad,
)
from .batchnorm import batch_norm, batch_norm_backward
from .conv import conv2d, conv2d_backward, conv2d_naive
from .dropout import dropout, dropout_backward
from .im2col import col2im, im2col
from .layout import (
    conv_weight_from_keras,
    conv_weight_to_keras,
    dense_weight_from_keras,
    dense_weight_to_keras,
    flatten_dense_weight_to_keras,
    nchw_to_nhwc,
    nhwc_to_nchw,
)
from .lrn import local_response_norm, local_response_norm_backward
from .pooling import (
    avg_pool2d,
    avg_pool2d_backward,
    global_avg_pool2d,
    global_max_pool2d,
    lp_pool2d,
    max_pool2d,
    max_pool2d_backward,
    stochastic_pool2d,
    sum_pool2d,
)
from .shapes import conv_output_size, pad2d, same_padding

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "batch_norm",
    "batch_norm_backward",
    "col2im",
    "conv2d",
    "conv2d_backward",
    "conv2d_naive",
    "conv_output_size",
    "conv_weight_from_keras",
    "conv_weight_to_keras",
    "dense_weight_from_keras",
    "dense_weight_to_keras",
    "dropout",
    "dropout_backward",
    "flatten_dense_weight_to_keras",
    "global_avg_pool2d",
    "global_max_pool2d",
    "im2col",
    "leaky_relu",
    "leaky_relu_grad",
    "local_response_norm",
    "local_response_norm_backward",
    "log_softmax",
    "lp_pool2d",
    "max_pool2d",
    "max_pool2d_backward",
    "nchw_to_nhwc",
    "nhwc_to_nchw",
    "pad2d",
    "relu",
    "relu_grad",
    "same_padding",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_backward",
    "softmax_jacobian",
    "stochastic_pool2d",
    "sum_pool2d",
    "tanh",
    "tanh_grad",
]
