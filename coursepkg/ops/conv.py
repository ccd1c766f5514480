"""2-D convolution (cross-correlation, as in every framework): forward, backward and a loop twin.

Explained in the convolution chapter ({ref}`sec-conv`). For one output channel ``f``

    y[n, f, i, j] = b[f] + sum_c sum_m sum_k x_pad[n, c, i*s + m*d, j*s + k*d] * w[f, c, m, k],

the kernel slides over the input *without* being flipped. ``scipy.signal.convolve2d`` flips it (true
convolution), which negates the response of antisymmetric kernels such as Sobel and Prewitt.

Shapes: x (N, C, H, W), w (F, C, KH, KW), b (F,), y (N, F, OH, OW) with
``OH = floor((H + pt + pb - d(KH-1) - 1) / sh) + 1`` (:func:`coursepkg.ops.conv_output_size`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_numeric_array, as_pair, float_dtype
from .im2col import col2im, im2col
from .shapes import Pads, pad2d, resolve_padding


@dataclass(frozen=True)
class ConvGeometry:
    """Everything the forward and backward passes agree on, validated once."""

    pads: Pads  # ((top, bottom), (left, right))
    stride: tuple[int, int]
    dilation: tuple[int, int]
    kernel: tuple[int, int]
    out_hw: tuple[int, int]
    dtype: np.dtype


def _check_conv_inputs(
    func: str, x: Any, w: Any, b: Any, stride: Any, padding: Any, dilation: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, ConvGeometry]:
    x = as_numeric_array(x, "x", func)
    w = as_numeric_array(w, "w", func)
    if x.ndim != 4:
        hint = {2: " For one grayscale image use x[None, None].", 3: " For one image use x[None]."}.get(x.ndim, "")
        raise ValueError(f"{func}: `x` must have shape (N, C, H, W); got shape {x.shape}.{hint}")
    if w.ndim != 4:
        hint = " For a single 2-D kernel use w[None, None]." if w.ndim == 2 else ""
        raise ValueError(f"{func}: `w` must have shape (F, C, KH, KW); got shape {w.shape}.{hint}")
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"{func}: x has C={x.shape[1]} channels but w expects C={w.shape[1]} "
            f"(w.shape={w.shape} is (F, C, KH, KW))."
        )
    if 0 in x.shape or 0 in w.shape:
        raise ValueError(f"{func}: empty input: x.shape={x.shape}, w.shape={w.shape}.")
    arrays = [x, w]
    if b is not None:
        b = as_numeric_array(b, "b", func)
        if b.shape != (w.shape[0],):
            raise ValueError(
                f"{func}: `b` must have shape (F,) = ({w.shape[0]},), one bias per filter; got shape {b.shape}."
            )
        arrays.append(b)
    stride = as_pair(stride, "stride", func, minimum=1)
    dilation = as_pair(dilation, "dilation", func, minimum=1)
    kernel = (w.shape[2], w.shape[3])
    pads = resolve_padding(padding, kernel, stride, dilation, func)
    hp = x.shape[2] + pads[0][0] + pads[0][1]
    wp = x.shape[3] + pads[1][0] + pads[1][1]
    eh = dilation[0] * (kernel[0] - 1) + 1
    ew = dilation[1] * (kernel[1] - 1) + 1
    if eh > hp or ew > wp:
        need = max(-(-(eh - x.shape[2]) // 2), -(-(ew - x.shape[3]) // 2))
        raise ValueError(
            f"{func}: kernel {eh}x{ew} is larger than the padded input {hp}x{wp}; use padding>={need} "
            f"or a smaller kernel. Received: x.shape={x.shape}, w.shape={w.shape}, padding={padding!r}"
            + (f", dilation={dilation}" if dilation != (1, 1) else "")
            + "."
        )
    out_hw = ((hp - eh) // stride[0] + 1, (wp - ew) // stride[1] + 1)
    geom = ConvGeometry(pads, stride, dilation, kernel, out_hw, float_dtype(*arrays))
    return x, w, b, geom


def conv2d(
    x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0, *, dilation: Any = 1
) -> np.ndarray:
    """2-D convolution (cross-correlation) of a batch of images with a bank of filters, vectorised.

    Parameters
    ----------
    x : array_like of shape (N, C, H, W)
        Input images.
    w : array_like of shape (F, C, KH, KW)
        One ``(C, KH, KW)`` kernel per output channel.
    b : array_like of shape (F,), optional
        One bias per output channel.
    stride : int or (sh, sw)
    padding : int, (ph, pw), ((top, bottom), (left, right)), "valid" or "same"
        Zero padding. ``"same"`` keeps ``H x W`` and needs stride 1, as in PyTorch.
    dilation : int or (dh, dw)
        Spacing between kernel taps; 1 is a dense kernel.

    Returns
    -------
    y : ndarray of shape (N, F, OH, OW)
        float32 when every input is float32, else float64.

    Raises
    ------
    TypeError
        On a non-numeric dtype or a non-integer stride, padding or dilation.
    ValueError
        On wrong dimensions, a channel mismatch, a bias of the wrong length, ``stride <= 0``, negative
        padding, or a kernel larger than the padded input.

    Notes
    -----
    im2col turns every receptive field into a column, ``cols`` of shape ``(N, C*KH*KW, OH*OW)``; then
    ``y[n] = w.reshape(F, -1) @ cols[n]``, one matrix product per image (batched by NumPy).

    Examples
    --------
    The worked example of the notes:

    >>> x = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]])
    >>> k = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    >>> conv2d(x[None, None], k[None, None])[0, 0].astype(int)
    array([[4, 3, 4],
           [2, 4, 3],
           [2, 3, 4]])
    """
    x, w, b, g = _check_conv_inputs("conv2d", x, w, b, stride, padding, dilation)
    f = w.shape[0]
    xp = pad2d(x.astype(g.dtype, copy=False), g.pads)  # (N, C, Hp, Wp)
    cols = im2col(xp, g.kernel, g.stride, g.dilation)  # (N, C*KH*KW, OH*OW)
    y = w.reshape(f, -1).astype(g.dtype, copy=False) @ cols  # (N, F, OH*OW)
    y = y.reshape(x.shape[0], f, *g.out_hw)  # (N, F, OH, OW)
    if b is not None:
        y += b.astype(g.dtype, copy=False)[None, :, None, None]
    return y


def conv2d_naive(
    x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0, *, dilation: Any = 1
) -> np.ndarray:
    """The same computation as :func:`conv2d` with explicit loops, for teaching.

    Reads like the formula: for every image, filter and output position, multiply the receptive field by
    the kernel and sum. Tested equal to :func:`conv2d`; about a thousand times slower.

    Parameters and returns as :func:`conv2d`.
    """
    x, w, b, g = _check_conv_inputs("conv2d_naive", x, w, b, stride, padding, dilation)
    xp = pad2d(x.astype(g.dtype, copy=False), g.pads)  # (N, C, Hp, Wp)
    n_images, n_filters = x.shape[0], w.shape[0]
    (kh, kw), (sh, sw), (dh, dw) = g.kernel, g.stride, g.dilation
    oh, ow = g.out_hw
    y = np.zeros((n_images, n_filters, oh, ow), dtype=g.dtype)
    for n in range(n_images):
        for f in range(n_filters):
            for i in range(oh):
                for j in range(ow):
                    top, left = i * sh, j * sw
                    field = xp[n, :, top : top + dh * (kh - 1) + 1 : dh, left : left + dw * (kw - 1) + 1 : dw]
                    y[n, f, i, j] = np.sum(field * w[f]) + (b[f] if b is not None else 0.0)
    return y


def conv2d_backward(
    dout: Any, x: Any, w: Any, stride: Any = 1, padding: Any = 0, *, dilation: Any = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a loss with respect to the input, weights and bias of :func:`conv2d`.

    Parameters
    ----------
    dout : array_like of shape (N, F, OH, OW)
        Gradient of the loss with respect to the output of ``conv2d(x, w, b, stride, padding)``.
    x, w, stride, padding, dilation
        As given to :func:`conv2d` (the bias does not affect any gradient).

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
    dw : ndarray of shape (F, C, KH, KW)
    db : ndarray of shape (F,)

    Notes
    -----
    With ``cols = im2col(x_pad)`` and ``W = w.reshape(F, -1)``, the forward pass is ``y[n] = W @ cols[n]``, so
    ``dW = sum_n dout[n] @ cols[n].T``, ``dcols[n] = W.T @ dout[n]`` and ``dx = col2im(dcols)`` cropped to the
    unpadded input; ``db = dout.sum(axis=(0, 2, 3))``.
    """
    func = "conv2d_backward"
    x, w, _, g = _check_conv_inputs(func, x, w, None, stride, padding, dilation)
    dout = as_numeric_array(dout, "dout", func)
    n_images, f = x.shape[0], w.shape[0]
    expected = (n_images, f, *g.out_hw)
    if dout.shape != expected:
        raise ValueError(
            f"{func}: `dout` must have the shape of the forward output (N, F, OH, OW) = {expected}; "
            f"got shape {dout.shape}. Check stride={stride!r} and padding={padding!r}."
        )
    dtype = float_dtype(x, w, dout)
    xp = pad2d(x.astype(dtype, copy=False), g.pads)  # (N, C, Hp, Wp)
    cols = im2col(xp, g.kernel, g.stride, g.dilation)  # (N, C*KH*KW, OH*OW)
    d2 = dout.astype(dtype, copy=False).reshape(n_images, f, -1)  # (N, F, OH*OW)
    db = d2.sum(axis=(0, 2))  # (F,)
    dw = np.tensordot(d2, cols, axes=([0, 2], [0, 2])).reshape(w.shape)  # (F, C, KH, KW)
    dcols = w.reshape(f, -1).astype(dtype, copy=False).T @ d2  # (N, C*KH*KW, OH*OW)
    dxp = col2im(dcols, xp.shape, g.kernel, g.stride, g.dilation, g.out_hw)  # (N, C, Hp, Wp)
    (top, _), (left, _) = g.pads
    dx = dxp[:, :, top : top + x.shape[2], left : left + x.shape[3]]  # (N, C, H, W)
    return np.ascontiguousarray(dx), dw, db
