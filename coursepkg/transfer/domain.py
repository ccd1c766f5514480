"""Domain shift for digit images, and the DANN schedule: the framework-free half of domain adaptation.

Explained in {ref}`sec-transfer`. A *domain shift* keeps the labels and changes the inputs: a classifier
trained on clean digits meets inverted, rotated, noisy, blurred or washed-out ones. The adaptation
methods live in the framework modules (``adabn``, ``GradientReversal``, ``dann_fit`` in
:mod:`coursepkg.transfer.torch` and :mod:`coursepkg.transfer.keras`).

Importing this module imports NumPy only (SciPy is imported by the ``rotate`` and ``blur`` shifts).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import as_numeric_array, as_rng

__all__ = ["SHIFTS", "dann_lambda", "shift_domain"]

SHIFTS = {
    "invert": "1 - x (amount unused)",
    "rotate": "rotate every image by `amount` degrees counter-clockwise (default 30), bilinear, zero fill",
    "noise": "add Gaussian noise of standard deviation `amount` (default 0.3), clipped to [0, 1]",
    "blur": "Gaussian blur of standard deviation `amount` pixels (default 1.0)",
    "contrast": "x * amount + (1 - amount) / 2: grey, washed-out digits (default amount 0.3)",
    "brightness": "x * (1 - amount) + amount: a light background, clipped to [0, 1] (default amount 0.5)",
}
"""The shifts :func:`shift_domain` knows, and what ``amount`` means for each."""

_DEFAULT_AMOUNT = {"invert": None, "rotate": 30.0, "noise": 0.3, "blur": 1.0, "contrast": 0.3, "brightness": 0.5}


def shift_domain(
    images: Any, kind: str, *, amount: float | None = None, channels_last: bool = False, rng: Any = None
) -> np.ndarray:
    """Return shifted copies of images in [0, 1]: a new input domain with the same labels.

    Parameters
    ----------
    images : array of shape (N, C, H, W), or (N, H, W, C) with ``channels_last``
        Images with values in [0, 1], as :func:`coursepkg.data.load_digits` returns them.
    kind : {"invert", "rotate", "noise", "blur", "contrast", "brightness"}
        The shift; :data:`SHIFTS` says what each does.
    amount : float, optional
        Strength of the shift (its meaning depends on ``kind``; see :data:`SHIFTS`), or None for the default.
    channels_last : bool, default False
        Whether ``images`` are NHWC (Keras) rather than NCHW.
    rng : None, int or numpy.random.Generator
        Used by ``"noise"`` only.

    Returns
    -------
    ndarray, same shape and floating dtype as ``images``

    Raises
    ------
    ValueError
        If ``kind`` is unknown, ``images`` is not 4-D, or ``amount`` is out of range for ``kind``.

    Examples
    --------
    >>> x = np.array([[[[0.0, 0.25], [0.5, 1.0]]]])  # (1, 1, 2, 2)
    >>> shift_domain(x, "invert")[0, 0].tolist()
    [[1.0, 0.75], [0.5, 0.0]]
    >>> shift_domain(x, "contrast", amount=0.5)[0, 0].tolist()
    [[0.25, 0.375], [0.5, 0.75]]
    """
    func = "shift_domain"
    x = as_numeric_array(images, "images", func)
    if x.ndim != 4:
        layout = "(N, H, W, C)" if channels_last else "(N, C, H, W)"
        raise ValueError(
            f"{func}: `images` must be 4-D {layout}; got shape {x.shape}."
            + (" Add the channel axis with images[:, None]." if x.ndim == 3 else "")
        )
    if kind not in SHIFTS:
        raise ValueError(f"{func}: `kind` must be one of {sorted(SHIFTS)}. Received: kind={kind!r}.")
    x = x.astype(np.float32 if x.dtype.kind != "f" else x.dtype, copy=True)
    a = _DEFAULT_AMOUNT[kind] if amount is None else float(amount)
    hw_axes = (1, 2) if channels_last else (2, 3)  # the image plane
    if kind == "invert":
        return 1.0 - x
    if kind == "contrast":
        if not 0.0 < a <= 1.0:
            raise ValueError(f"{func}: for kind='contrast', `amount` must be in (0, 1]. Received: amount={a}.")
        return x * a + (1.0 - a) / 2.0
    if kind == "brightness":
        if not 0.0 <= a < 1.0:
            raise ValueError(f"{func}: for kind='brightness', `amount` must be in [0, 1). Received: amount={a}.")
        return np.clip(x * (1.0 - a) + a, 0.0, 1.0)
    if kind == "noise":
        if a < 0:
            raise ValueError(f"{func}: for kind='noise', `amount` (the noise std) must be >= 0. Received: amount={a}.")
        gen = as_rng(rng, func)
        return np.clip(x + gen.normal(0.0, a, size=x.shape).astype(x.dtype), 0.0, 1.0)
    if kind == "blur":
        if a < 0:
            raise ValueError(f"{func}: for kind='blur', `amount` (sigma in pixels) must be >= 0. Received: amount={a}.")
        from scipy.ndimage import gaussian_filter

        sigma = [0.0] * 4
        sigma[hw_axes[0]] = sigma[hw_axes[1]] = a
        return gaussian_filter(x, sigma=sigma, mode="nearest")
    from scipy.ndimage import rotate  # kind == "rotate"

    # rotate in the (H, W) plane; axes=(W, H) makes a positive angle counter-clockwise on screen.
    out = rotate(x, a, axes=(hw_axes[1], hw_axes[0]), reshape=False, order=1, mode="constant", cval=0.0)
    return np.clip(out, 0.0, 1.0).astype(x.dtype)


def dann_lambda(progress: float, *, gamma: float = 10.0, lambda_max: float = 1.0) -> float:
    """Weight of the reversed domain gradient after a fraction ``progress`` of training (Ganin et al., 2016).

    Notes
    -----
    .. math:: \\lambda_p = \\lambda_{max} \\left(\\frac{2}{1 + \\exp(-\\gamma p)} - 1\\right), \\quad p \\in [0, 1]

    It rises from 0 (the features first learn the labels, while the domain classifier is still random)
    to almost ``lambda_max`` (0.9999 of it at p = 1 with gamma = 10).

    Examples
    --------
    >>> dann_lambda(0.0), round(dann_lambda(0.5), 4), round(dann_lambda(1.0), 4)
    (0.0, 0.9866, 0.9999)
    """
    p = float(progress)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dann_lambda: `progress` must be in [0, 1] (the fraction of training done). Received: {p}.")
    return float(lambda_max) * (2.0 / (1.0 + math.exp(-float(gamma) * p)) - 1.0)
