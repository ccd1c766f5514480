"""im2col and its adjoint col2im: turning convolution into one matrix product.

Explained in the convolution chapter ({ref}`sec-im2col`). Every receptive field of the padded input becomes
one column of length ``C * KH * KW``; a convolution with ``F`` filters is then a ``(F, C*KH*KW)`` matrix times
the ``(C*KH*KW, OH*OW)`` columns of each image. ``col2im`` is the adjoint: it scatters columns back onto the
image, adding where receptive fields overlap, which is what the backward pass needs.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def windows(
    xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]
) -> np.ndarray:
    """Read-only view of every receptive field of an already padded input (no copy).

    Parameters
    ----------
    xp : ndarray of shape (N, C, Hp, Wp)
    kernel, stride, dilation : (h, w) pairs

    Returns
    -------
    view : ndarray of shape (N, C, OH, OW, KH, KW)
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    extent = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    view = sliding_window_view(xp, extent, axis=(2, 3))  # (N, C, Hp-eh+1, Wp-ew+1, eh, ew)
    return view[:, :, ::sh, ::sw, ::dh, ::dw]  # (N, C, OH, OW, KH, KW)


def im2col(
    xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int] = (1, 1)
) -> np.ndarray:
    """Columns of every receptive field.

    Parameters
    ----------
    xp : ndarray of shape (N, C, Hp, Wp)
        The input, already padded.

    Returns
    -------
    cols : ndarray of shape (N, C*KH*KW, OH*OW)
        ``cols[n, (c*KH + i)*KW + j, oh*OW + ow] == xp[n, c, oh*sh + i*dh, ow*sw + j*dw]``.
    """
    view = windows(xp, kernel, stride, dilation)  # (N, C, OH, OW, KH, KW)
    n, c, oh, ow, kh, kw = view.shape
    return view.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)  # (N, C*KH*KW, OH*OW)


def col2im(
    cols: np.ndarray,
    padded_shape: tuple[int, int, int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
    out_hw: tuple[int, int] | None = None,
) -> np.ndarray:
    """Adjoint of :func:`im2col`: add every column back onto its receptive field.

    Parameters
    ----------
    cols : ndarray of shape (N, C*KH*KW, OH*OW)
    padded_shape : (N, C, Hp, Wp)
    out_hw : (OH, OW), inferred from the shapes when omitted

    Returns
    -------
    xp : ndarray of shape (N, C, Hp, Wp)
        Overlapping contributions are summed.
    """
    n, c, hp, wp = padded_shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    if out_hw is None:
        out_hw = ((hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1)
    oh, ow = out_hw
    cols6 = cols.reshape(n, c, kh, kw, oh, ow)  # (N, C, KH, KW, OH, OW)
    xp = np.zeros(padded_shape, dtype=cols.dtype)
    # One strided slice per kernel offset: KH*KW vectorised additions instead of a loop over pixels.
    for i in range(kh):
        for j in range(kw):
            xp[:, :, i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw] += cols6[
                :, :, i, j
            ]
    return xp
