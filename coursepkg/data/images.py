"""Photographs that ship with scikit-image, so they load without a network connection.

Only images stored inside the scikit-image package are listed in :data:`IMAGE_NAMES` (the others in
:mod:`skimage.data` are downloaded on first use and would fail offline); each one is checked by the
tests. They are the course's test pictures for filters, edge detectors and feature maps.

Single images are returned in the layout image libraries and ``matplotlib.pyplot.imshow`` use,
``(H, W)`` or ``(H, W, 3)``; ``np.moveaxis(img, -1, 0)[None]`` makes an ``(1, 3, H, W)`` batch for the
course's NCHW functions. scikit-image is imported inside the functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_int, as_pair
from ._checks import as_float_dtype

__all__ = ["IMAGE_NAMES", "load_faces", "load_image"]

#: name -> (colour, what it shows); every one of them is part of the scikit-image wheel.
_IMAGES: dict[str, tuple[str, str]] = {
    "camera": ("gray", "a man with a camera on a tripod, 512x512"),
    "astronaut": ("rgb", "astronaut Eileen Collins, 512x512"),
    "coins": ("gray", "Greek coins on a dark background, 303x384"),
    "chelsea": ("rgb", "Chelsea the cat, 300x451"),
    "coffee": ("rgb", "a cup of coffee on a saucer, 400x600"),
    "rocket": ("rgb", "a rocket on the launch pad, 427x640"),
    "page": ("gray", "a page of printed text with uneven lighting, 191x384"),
    "moon": ("gray", "the surface of the moon, 512x512"),
    "text": ("gray", "hand-written letters photographed at an angle, 172x448"),
    "brick": ("gray", "a brick wall texture, 512x512"),
    "grass": ("gray", "a grass texture, 512x512"),
    "gravel": ("gray", "a gravel texture, 512x512"),
    "clock": ("gray", "a motion-blurred clock, 300x400"),
    "cell": ("gray", "a single cell in a microscope image, 660x550"),
    "hubble_deep_field": ("rgb", "the Hubble eXtreme Deep Field, 872x1000"),
    "immunohistochemistry": ("rgb", "stained human colon tissue, 512x512"),
    "retina": ("rgb", "a human retina (fundus photograph), 1411x1411"),
    "microaneurysms": ("gray", "a detail of a retina with microaneurysms, 102x102"),
}

#: Names accepted by :func:`load_image`, all available offline.
IMAGE_NAMES: tuple[str, ...] = tuple(_IMAGES)


def _resize(img: np.ndarray, size: Any, func: str) -> np.ndarray:
    """Resize ``img`` (H, W[, 3]) so its shorter side is ``size`` (int) or to exactly ``(h, w)``."""
    from skimage.transform import resize

    h, w = img.shape[:2]
    if isinstance(size, (tuple, list)):
        out_h, out_w = as_pair(size, "size", func, minimum=1)
    else:
        side = as_int(size, "size", func, minimum=1)
        scale = side / min(h, w)
        out_h, out_w = max(1, round(h * scale)), max(1, round(w * scale))
    if (out_h, out_w) == (h, w):
        return img
    shrinking = out_h < h or out_w < w
    out = resize(img, (out_h, out_w), order=1, mode="reflect", anti_aliasing=shrinking, preserve_range=True)
    return np.clip(out, 0.0, 1.0)


def load_image(name: str, *, gray: bool = False, size: Any = None, dtype: Any = np.float32) -> np.ndarray:
    """Load one of the photographs shipped with scikit-image, as floats in [0, 1].

    Parameters
    ----------
    name : str
        One of :data:`IMAGE_NAMES` (``"camera"``, ``"astronaut"``, ``"coins"``, ``"chelsea"``, ...).
    gray : bool, default False
        Convert a colour photograph to grey levels (:func:`skimage.color.rgb2gray`, ITU-R 709 luma).
        Grey photographs are returned as they are either way.
    size : None, int or (h, w), default None
        ``None`` keeps the original size; an int resizes so that the *shorter* side has that many
        pixels (keeping the aspect ratio); a pair resizes to exactly ``(h, w)``. Shrinking uses
        anti-aliasing.
    dtype : floating dtype, default np.float32

    Returns
    -------
    image : ndarray of shape (H, W) for grey images, (H, W, 3) for colour ones
        Values in [0, 1] (8-bit originals are divided by 255).

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`IMAGE_NAMES` (the message lists them) or ``size`` is not
        positive.
    TypeError
        If ``name`` is not a string, or ``size`` / ``dtype`` has the wrong type.

    Examples
    --------
    >>> load_image("camera").shape
    (512, 512)
    >>> load_image("chelsea", size=64).shape
    (64, 96, 3)
    >>> load_image("astronaut", gray=True, size=(32, 48)).shape
    (32, 48)
    """
    func = "load_image"
    if not isinstance(name, str):
        raise TypeError(f"{func}: `name` must be a string. Received: name={name!r}.")
    if name not in _IMAGES:
        raise ValueError(
            f"{func}: unknown image name={name!r}. Available offline: {', '.join(IMAGE_NAMES)}."
        )
    dt = as_float_dtype(dtype, func)
    import skimage.data
    from skimage.util import img_as_float

    img = img_as_float(getattr(skimage.data, name)())  # (H, W) or (H, W, 3), float64 in [0, 1]
    if gray and img.ndim == 3:
        from skimage.color import rgb2gray

        img = rgb2gray(img)  # (H, W)
    if size is not None:
        img = _resize(img, size, func)
    return np.ascontiguousarray(img, dtype=dt)


def load_faces(*, channels_last: bool = False, dtype: Any = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Load scikit-image's ``lfw_subset``: 100 faces and 100 non-faces, 25x25 grey images.

    The faces are crops from Labeled Faces in the Wild (LFW); the non-faces are image patches without a
    face. It is a small offline data set for a face / no-face classifier.

    Parameters
    ----------
    channels_last : bool, default False
        Return ``(N, 25, 25, 1)`` instead of ``(N, 1, 25, 25)``.
    dtype : floating dtype, default np.float32

    Returns
    -------
    images : ndarray of shape (200, 1, 25, 25), or (200, 25, 25, 1) with ``channels_last``
        Values in [0, 1].
    labels : ndarray of shape (200,), int64
        1 for a face (the first 100), 0 for a non-face (the last 100).

    Examples
    --------
    >>> x, y = load_faces()
    >>> x.shape, int(y.sum())
    ((200, 1, 25, 25), 100)
    """
    dt = as_float_dtype(dtype, "load_faces")
    import skimage.data

    faces = np.asarray(skimage.data.lfw_subset(), dtype=np.float64)  # (200, 25, 25)
    labels = np.zeros(faces.shape[0], dtype=np.int64)
    labels[:100] = 1
    images = faces[..., None] if channels_last else faces[:, None]  # (N, 25, 25, 1) or (N, 1, 25, 25)
    return np.ascontiguousarray(np.clip(images, 0.0, 1.0), dtype=dt), labels
