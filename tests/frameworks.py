"""The same operations computed by PyTorch and TensorFlow, for parity tests.

Imported by test modules only; both frameworks load here once per test process.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
import torch
import torch.nn.functional as F

from coursepkg.ops import conv_weight_to_keras, nchw_to_nhwc, nhwc_to_nchw

torch.set_num_threads(1)


def torch_conv2d(x, w, b, stride, pads, dilation):
    """PyTorch conv2d with ((top, bottom), (left, right)) zero padding."""
    (pt, pb), (pl, pr) = pads
    tx = F.pad(torch.from_numpy(x), (pl, pr, pt, pb))
    tb = None if b is None else torch.from_numpy(b)
    return F.conv2d(tx, torch.from_numpy(w), tb, stride=stride, dilation=dilation).numpy()


def tf_conv2d(x, w, b, stride, pads, dilation):
    """tf.nn.conv2d on NHWC with explicit padding; returns NCHW."""
    (pt, pb), (pl, pr) = pads
    y = tf.nn.conv2d(
        tf.constant(nchw_to_nhwc(x)),
        tf.constant(conv_weight_to_keras(w)),
        strides=[1, stride[0], stride[1], 1],
        padding=[[0, 0], [pt, pb], [pl, pr], [0, 0]],
        dilations=[1, dilation[0], dilation[1], 1],
    )
    if b is not None:
        y = tf.nn.bias_add(y, tf.constant(b))
    return nhwc_to_nchw(y.numpy())


def tf_pool(x, kind, size, stride, padding):
    """tf.nn max/avg pooling with symmetric explicit padding (-inf for max, 0 for avg incl. pad)."""
    ph, pw = padding
    value = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)
    fn = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
    y = fn(tf.constant(nchw_to_nhwc(xp)), ksize=list(size), strides=list(stride), padding="VALID")
    return nhwc_to_nchw(y.numpy())


def torch_grads(fn, dout, *arrays):
    """Value and gradients of ``sum(dout * fn(*arrays))`` by PyTorch autograd."""
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    (y * torch.from_numpy(np.asarray(dout, dtype=y.detach().numpy().dtype))).sum().backward()
    return y.detach().numpy(), [t.grad.numpy() for t in ts]
