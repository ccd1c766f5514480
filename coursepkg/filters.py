"""Hand-made 3x3 edge filters (Prewitt, Sobel, Laplacian, Robinson and Kirsch compass) and an edge detector.

Explained in the chapter "Convolution" ({ref}`sec-edges`, edge detection on photographs); the chapter "Why
convolution" ({ref}`sec-why-kernels`) compares them with the kernels a network learns.

Orientation. Every kernel here is written for **cross-correlation**, the operation that
:func:`coursepkg.ops.conv2d`, ``scipy.ndimage.correlate`` and every deep-learning framework compute::

    y[i, j] = sum_m sum_k x[i + m - 1, j + k - 1] * w[m, k]      (m, k = 0, 1, 2)

so ``sobel_x`` (negative column on the left, positive on the right) gives a *positive* response where the
image gets brighter from left to right, and ``sobel_y`` where it gets brighter from top to bottom (row index
increasing). ``scipy.signal.convolve2d`` and ``scipy.ndimage.convolve`` compute a true convolution, which
flips the kernel in both axes: that negates the responses of the antisymmetric kernels (Prewitt, Sobel,
Robinson, and maps each compass direction to its opposite) and leaves the symmetric Laplacians unchanged.

Compass kernels. The eight directions are ``N, NW, W, SW, S, SE, E, NE`` (:data:`DIRECTIONS`); each
kernel is the previous one with its outer ring of eight weights rotated one step (45 degrees)
counter-clockwise, so two steps are ``np.rot90``. A direction names the side of the kernel that carries the
positive weights: under cross-correlation, ``kirsch_n`` responds most to an edge whose brighter side is
to the north (the top of the image). This is the order and naming of the Kirsch masks in R. Kirsch,
"Computer determination of the constituent structure of biological images", Computers and Biomedical
Research 4 (1971); the Robinson masks of G. S. Robinson, "Edge detection by compass gradient masks",
Computer Graphics and Image Processing 6 (1977) are built the same way from the base
``[[1, 2, 1], [0, 0, 0], [-1, -2, -1]]`` (some textbooks attach the direction names differently).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import as_numeric_array
from .ops import conv2d

__all__ = [
    "DIRECTIONS",
    "FAMILIES",
    "KERNELS",
    "RGB_WEIGHTS",
    "compass_kernels",
    "edges",
    "kirsch",
    "laplacian_4",
    "laplacian_8",
    "prewitt_x",
    "prewitt_y",
    "robinson",
    "sobel_x",
    "sobel_y",
    "to_gray",
]

DIRECTIONS: tuple[str, ...] = ("N", "NW", "W", "SW", "S", "SE", "E", "NE")
"""Compass directions, in the order of :func:`compass_kernels` (45-degree steps counter-clockwise)."""

RGB_WEIGHTS = np.array([0.2125, 0.7154, 0.0721])
"""ITU-R BT.709 luminance weights for R, G, B, as in ``skimage.color.rgb2gray``."""
RGB_WEIGHTS.flags.writeable = False


def _kernel(rows: list[list[float]]) -> np.ndarray:
    k = np.array(rows, dtype=np.float64)  # (3, 3)
    k.flags.writeable = False  # module constants: copy before editing
    return k


# Prewitt (1970): central difference across, box smoothing along the edge.
prewitt_x = _kernel([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]])
prewitt_y = _kernel([[-1, -1, -1], [0, 0, 0], [1, 1, 1]])
# Sobel (Sobel and Feldman, 1968): central difference across, [1, 2, 1] smoothing along the edge.
sobel_x = _kernel([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
sobel_y = _kernel([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
# Discrete Laplacian d2/dx2 + d2/dy2 with the 4- and 8-neighbourhood (negative centre).
laplacian_4 = _kernel([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
laplacian_8 = _kernel([[1, 1, 1], [1, -8, 1], [1, 1, 1]])

# Outer ring of a 3x3 kernel, clockwise from the top-left corner.
_RING = ((0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0))


def _compass(base: list[list[float]]) -> np.ndarray:
    """Eight kernels: ``base`` with its outer ring rolled k steps counter-clockwise, k = 0..7."""
    base_arr = np.array(base, dtype=np.float64)
    rows, cols = np.array(_RING).T
    ring = base_arr[rows, cols]  # (8,)
    out = np.empty((8, 3, 3))
    for k in range(8):
        out[k] = base_arr
        out[k, rows, cols] = np.roll(ring, -k)  # one step of -1 moves every weight counter-clockwise
    out.flags.writeable = False
    return out  # (8, 3, 3)


robinson = _compass([[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
"""Robinson compass kernels, shape (8, 3, 3), in the order of :data:`DIRECTIONS`."""
kirsch = _compass([[5, 5, 5], [-3, 0, -3], [-3, -3, -3]])
"""Kirsch compass kernels, shape (8, 3, 3), in the order of :data:`DIRECTIONS`."""

_COMPASS = {"robinson": robinson, "kirsch": kirsch}

KERNELS: dict[str, np.ndarray] = {
    "prewitt_x": prewitt_x,
    "prewitt_y": prewitt_y,
    "sobel_x": sobel_x,
    "sobel_y": sobel_y,
    "laplacian_4": laplacian_4,
    "laplacian_8": laplacian_8,
    **{f"{fam}_{d.lower()}": ks[i] for fam, ks in _COMPASS.items() for i, d in enumerate(DIRECTIONS)},
}
"""Every single kernel by name: ``sobel_x``, ..., ``robinson_n``, ..., ``kirsch_ne``; float64, (3, 3), read-only."""

FAMILIES: dict[str, str] = {
    "prewitt": "gradient magnitude sqrt(gx^2 + gy^2) of prewitt_x, prewitt_y",
    "sobel": "gradient magnitude sqrt(gx^2 + gy^2) of sobel_x, sobel_y",
    "laplacian4": "absolute response |laplacian_4 * x|",
    "laplacian8": "absolute response |laplacian_8 * x|",
    "robinson": "maximum response over the 8 Robinson compass kernels",
    "kirsch": "maximum response over the 8 Kirsch compass kernels",
}
"""The filter families :func:`edges` combines, with what each returns."""

_FAMILY_KERNELS = {
    "prewitt": ("prewitt_x", "prewitt_y"),
    "sobel": ("sobel_x", "sobel_y"),
    "laplacian4": ("laplacian_4",),
    "laplacian8": ("laplacian_8",),
    **{fam: tuple(f"{fam}_{d.lower()}" for d in DIRECTIONS) for fam in _COMPASS},
}

_PADDINGS = ("reflect", "symmetric", "edge", "constant", "wrap", "valid")


def _valid_names() -> str:
    return ", ".join(repr(n) for n in (*FAMILIES, *KERNELS))


def compass_kernels(name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """The eight kernels of a compass family and their direction names.

    Parameters
    ----------
    name : {"robinson", "kirsch"}

    Returns
    -------
    kernels : ndarray of shape (8, 3, 3)
        A writable float64 copy; ``kernels[k + 1]`` is ``kernels[k]`` with its outer ring rotated 45 degrees
        counter-clockwise, and ``kernels[k + 2] == np.rot90(kernels[k])``.
    directions : tuple of str
        ``("N", "NW", "W", "SW", "S", "SE", "E", "NE")``.

    Raises
    ------
    ValueError
        If ``name`` is not a compass family.

    Examples
    --------
    >>> ks, dirs = compass_kernels("kirsch")
    >>> dirs[1], ks[1].astype(int).tolist()
    ('NW', [[5, 5, -3], [5, 0, -3], [-3, -3, -3]])
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in _COMPASS:
        raise ValueError(
            f"compass_kernels: `name` must be one of {sorted(_COMPASS)}. Received: name={name!r}."
        )
    return _COMPASS[key].copy(), DIRECTIONS


def to_gray(image: Any) -> np.ndarray:
    """A grayscale float64 image: ``(H, W)`` as is, ``(H, W, 3)`` RGB through :data:`RGB_WEIGHTS`.

    Values are not rescaled: a uint8 image gives luminance in [0, 255], whereas ``skimage.color.rgb2gray``
    first converts to [0, 1] (so ``to_gray(u8) == 255 * rgb2gray(u8)`` up to rounding).

    Parameters
    ----------
    image : array_like of shape (H, W) or (H, W, 3)

    Returns
    -------
    ndarray of shape (H, W), float64
    """
    return _to_gray(image, "to_gray")


def _to_gray(image: Any, func: str) -> np.ndarray:
    img = as_numeric_array(image, "image", func)
    if img.ndim == 3 and img.shape[-1] == 3:
        return img.astype(np.float64) @ RGB_WEIGHTS  # (H, W)
    if img.ndim == 2:
        return img.astype(np.float64)
    if img.ndim == 3 and img.shape[-1] == 4:
        hint = " Drop the alpha channel with image[..., :3]."
    elif img.ndim == 3 and img.shape[0] in (1, 3):
        hint = " For a channels-first image use np.moveaxis(image, 0, -1), or image[0] for one channel."
    elif img.ndim == 4 and img.shape[0] == 1:
        hint = " For a batch of one use image[0]."
    else:
        hint = ""
    raise ValueError(
        f"{func}: `image` must be grayscale (H, W) or RGB (H, W, 3). Received: image.shape={img.shape}.{hint}"
    )


def edges(
    image: Any, name: str, *, padding: str = "reflect", return_components: bool = False
) -> np.ndarray | tuple[np.ndarray, dict[str, np.ndarray]]:
    """Edge map of a grayscale or RGB image with a hand-made filter, computed with :func:`~coursepkg.ops.conv2d`.

    The image is padded by one pixel with ``np.pad(gray, 1, mode=padding)`` and cross-correlated (valid)
    with every kernel of the family, so the output keeps the ``H x W`` of the input.

    Parameters
    ----------
    image : array_like of shape (H, W) or (H, W, 3)
        An RGB image is first reduced to luminance ``0.2125 R + 0.7154 G + 0.0721 B`` (ITU-R BT.709, as
        ``skimage.color.rgb2gray``); values are used as given, not rescaled to [0, 1].
    name : str
        A family, ``"prewitt"``, ``"sobel"`` (gradient magnitude ``sqrt(gx^2 + gy^2)``), ``"laplacian4"``,
        ``"laplacian8"`` (absolute response), ``"robinson"``, ``"kirsch"`` (maximum over the eight
        directions), or any single kernel of :data:`KERNELS` such as ``"sobel_x"`` (raw, signed response;
        note ``"laplacian_4"`` is signed while ``"laplacian4"`` is its absolute value).
    padding : {"reflect", "symmetric", "edge", "constant", "wrap", "valid"}
        Border handling, an ``np.pad`` mode (``"constant"`` pads with zeros). ``"valid"`` does not pad and
        returns ``(H - 2, W - 2)``. Beware the names: ``np.pad``'s ``"reflect"`` (``d c b | a b c d``) is
        ``scipy.ndimage``'s ``"mirror"``, and ``np.pad``'s ``"symmetric"`` (``c b a | a b c d``) is
        ``scipy.ndimage``'s (and scikit-image's default) ``"reflect"``.
    return_components : bool
        Also return each kernel's raw response, for plotting the pieces of the combination.

    Returns
    -------
    out : ndarray of shape (H, W), float64
    components : dict of str to ndarray of shape (H, W)
        Only with ``return_components=True``: kernel name (a key of :data:`KERNELS`) to its signed response,
        in the order of the family (``x`` then ``y``; compass kernels in :data:`DIRECTIONS` order).

    Raises
    ------
    TypeError
        If ``image`` is not numeric.
    ValueError
        On an unknown ``name`` or ``padding``, or an image that is not ``(H, W)`` or ``(H, W, 3)``.

    Notes
    -----
    scikit-image normalises differently: ``skimage.filters.sobel(x) = edges(x, "sobel") / (4 sqrt(2))``
    (kernels divided by 4, magnitude ``sqrt((gx^2 + gy^2) / 2)``) and ``skimage.filters.prewitt(x) =
    edges(x, "prewitt") / (3 sqrt(2))``, after scikit-image has converted integer images to [0, 1].

    Examples
    --------
    >>> step = np.repeat([[0, 0, 0, 1, 1, 1]], 4, axis=0)
    >>> edges(step, "sobel_x")[0]
    array([0., 0., 4., 4., 0., 0.])
    """
    func = "edges"
    if not isinstance(name, str):
        raise TypeError(f"{func}: `name` must be a string such as 'sobel'. Received: name={name!r}.")
    key = name.lower()
    if key in _FAMILY_KERNELS:
        names = _FAMILY_KERNELS[key]
    elif key in KERNELS:
        names = (key,)
    else:
        raise ValueError(f"{func}: `name` must be one of {_valid_names()}. Received: name={name!r}.")
    if padding not in _PADDINGS:
        raise ValueError(
            f"{func}: `padding` must be one of {', '.join(repr(p) for p in _PADDINGS)}. "
            f"Received: padding={padding!r}."
        )
    gray = _to_gray(image, func)  # (H, W)
    if padding == "valid":
        if min(gray.shape) < 3:
            raise ValueError(
                f'{func}: padding="valid" needs an image of at least 3x3; use padding="reflect" for smaller '
                f"images. Received: image.shape={np.shape(image)}."
            )
        padded = gray
    else:
        padded = np.pad(gray, 1, mode=padding)  # (H + 2, W + 2)
    bank = np.stack([KERNELS[n] for n in names])[:, None]  # (K, 1, 3, 3)
    responses = conv2d(padded[None, None], bank)[0]  # (K, H, W)

    if key in ("prewitt", "sobel"):
        out = np.hypot(responses[0], responses[1])  # sqrt(gx^2 + gy^2)
    elif key in _COMPASS:
        out = responses.max(axis=0)
    elif key in ("laplacian4", "laplacian8"):
        out = np.abs(responses[0])
    else:
        out = responses[0].copy()
    if return_components:
        return out, dict(zip(names, responses))
    return out
