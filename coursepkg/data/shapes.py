"""A seeded synthetic data set of geometric shapes, for classification and segmentation.

Every image holds one or more bright shapes on a darker background, drawn at a random position, scale,
rotation and intensity (or colour). The generator returns the images together with a per-pixel class
mask, so the same call feeds a classifier (``labels``), a counting / multi-label model (``counts``) and a
segmentation network (``masks``). It needs NumPy only, is fast, and runs offline.

Rasterisation: pixel ``(i, j)`` belongs to a shape when its centre does, so masks match the drawn
pixels exactly (there is no anti-aliasing). Each shape lies inside a *bounding circle* of radius ``r``;
shapes are placed in distinct cells of a ``g x g`` grid (``g = ceil(sqrt(shapes_per_image))``), which
keeps them apart (no two shapes touch, even diagonally) without rejection sampling.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._validation import as_int, as_rng

__all__ = ["SHAPE_CLASSES", "Shapes", "make_shapes"]

#: The shapes :func:`make_shapes` can draw, in the default label order.
SHAPE_CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "cross", "ring", "diamond")

#: Smallest bounding-circle radius in pixels: below it a ring or a cross is no longer recognisable.
MIN_RADIUS = 3.0
# Half-gap in pixels kept free on each side of a bounding circle inside its cell: two shapes are then at
# least 1.5 px apart, more than a pixel diagonal, so they never touch.
_MARGIN = 0.75
_CROSS_HALF_WIDTH = 0.3  # half-width of a cross's arms, as a fraction of r
_RING_INNER = 0.5  # inner radius of a ring, as a fraction of r
# Rotation in degrees: (base, half-range). Squares and crosses only wobble, so that a square never
# becomes a diamond (a square turned by 45 degrees); triangles take any orientation.
_ROTATION = {
    "circle": (0.0, 0.0),
    "ring": (0.0, 0.0),
    "square": (0.0, 15.0),
    "diamond": (0.0, 15.0),
    "cross": (0.0, 15.0),
    "triangle": (0.0, 180.0),
}


class Shapes(NamedTuple):
    """The output of :func:`make_shapes`.

    Attributes
    ----------
    images : ndarray of shape (N, C, size, size), float32
        Values in [0, 1].
    masks : ndarray of shape (N, size, size), int64
        0 for background, ``k + 1`` where a shape of class ``class_names[k]`` is drawn.
    labels : ndarray of shape (N,), int64
        Class index (into ``class_names``) of the largest shape of each image, by pixel count.
    counts : ndarray of shape (N, K), int64
        How many shapes of each class an image holds (rows sum to ``shapes_per_image``).
    class_names : tuple of str
        The K class names, in label order.
    """

    images: np.ndarray
    masks: np.ndarray
    labels: np.ndarray
    counts: np.ndarray
    class_names: tuple[str, ...]


def _inside(name: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Membership of points ``(u, v)`` in the unrotated shape, in units of the bounding radius."""
    if name == "circle":
        return u * u + v * v <= 1.0
    if name == "ring":
        rho2 = u * u + v * v
        return (rho2 <= 1.0) & (rho2 >= _RING_INNER**2)
    if name == "square":  # corners on the bounding circle: half-side 1/sqrt(2)
        return np.maximum(np.abs(u), np.abs(v)) <= 1.0 / math.sqrt(2.0)
    if name == "diamond":  # a square standing on a corner, corners on the bounding circle
        return np.abs(u) + np.abs(v) <= 1.0
    if name == "triangle":  # equilateral, vertices on the bounding circle, inradius 1/2
        inside = np.ones(u.shape, dtype=bool)
        for k in range(3):
            a = math.pi / 2 + math.pi / 3 + 2 * math.pi * k / 3  # outward normal of an edge
            inside &= u * math.cos(a) + v * math.sin(a) <= 0.5
        return inside
    if name == "cross":  # a plus sign whose arm ends touch the bounding circle
        w = _CROSS_HALF_WIDTH
        arm = math.sqrt(1.0 - w * w)
        au, av = np.abs(u), np.abs(v)
        return ((au <= w) & (av <= arm)) | ((av <= w) & (au <= arm))
    raise ValueError(f"_inside: unknown shape {name!r}; choose from {SHAPE_CLASSES}.")


def _check_classes(classes: Any, func: str) -> tuple[str, ...]:
    if isinstance(classes, str) or not isinstance(classes, Sequence):
        raise TypeError(
            f"{func}: `classes` must be a sequence of shape names, e.g. ('circle', 'square'). "
            f"Received: classes={classes!r}."
        )
    names = tuple(classes)
    if not names:
        raise ValueError(f"{func}: `classes` must name at least one shape from {SHAPE_CLASSES}.")
    unknown = [c for c in names if c not in SHAPE_CLASSES]
    if unknown:
        raise ValueError(
            f"{func}: unknown shape name(s) {unknown} in `classes`. Available: {', '.join(SHAPE_CLASSES)}."
        )
    if len(set(names)) != len(names):
        raise ValueError(f"{func}: `classes` must not repeat a name. Received: classes={names}.")
    return names


def make_shapes(
    n: int,
    *,
    size: int = 32,
    classes: Sequence[str] = SHAPE_CLASSES,
    shapes_per_image: int = 1,
    channels: int = 1,
    noise: float = 0.0,
    rng: Any = None,
) -> Shapes:
    """Draw ``n`` images of random geometric shapes, with labels, counts and segmentation masks.

    Parameters
    ----------
    n : int
        Number of images, at least 1.
    size : int, default 32
        Height and width of the images, at least 8; several shapes per image need more room (15 for
        up to 4 shapes, 23 for up to 9; the error message gives the minimum).
    classes : sequence of str, default SHAPE_CLASSES
        The shapes to draw, a subset of :data:`SHAPE_CLASSES`; their order defines the labels.
        Each shape's class is drawn uniformly from these.
    shapes_per_image : int, default 1
        Number of shapes in every image. They never overlap or touch.
    channels : int, default 1
        1 for grey images, 3 for colour (any C >= 1 works: each channel is drawn independently).
    noise : float, default 0.0
        Standard deviation of Gaussian noise added to every pixel; the result is clipped to [0, 1].
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed always gives the same images.

    Returns
    -------
    Shapes
        ``(images, masks, labels, counts, class_names)``: ``images`` (N, C, size, size) float32,
        ``masks`` (N, size, size) int64 with 0 = background and ``k + 1`` = ``class_names[k]``,
        ``labels`` (N,) int64 (the class of the largest shape), ``counts`` (N, K) int64.

    Raises
    ------
    ValueError
        If a size or count is too small, ``noise`` is negative, or ``classes`` is empty, repeats a name
        or names an unknown shape.
    TypeError
        If an argument has the wrong type (e.g. ``classes="circle"`` instead of ``("circle",)``).

    Notes
    -----
    A grid of ``g x g`` cells, ``g = ceil(sqrt(shapes_per_image))``, covers the image; each shape gets
    its own random cell. In a cell of side ``c = size / g`` the bounding radius is drawn uniformly from
    ``[max(3, r_max / 2), r_max]`` with ``r_max = min(0.45 c, c / 2 - 0.75)`` and the centre uniformly
    where the bounding circle stays 0.75 px inside the cell. Rotations: squares, diamonds and crosses
    turn by at most 15 degrees (so a square never looks like a diamond), triangles by any angle.
    The background is drawn from U(0, 0.35) and each shape from U(0.5, 1), per channel, so a shape is at
    least 0.15 brighter than the background in every channel. The smallest shapes (a triangle or a cross
    of radius 3) still cover 9 pixels or more.

    Examples
    --------
    >>> data = make_shapes(4, size=32, rng=0)
    >>> data.images.shape, data.masks.shape, data.labels.shape
    ((4, 1, 32, 32), (4, 32, 32), (4,))
    >>> x, masks, y, counts, names = make_shapes(2, size=48, shapes_per_image=3, channels=3, rng=1)
    >>> x.shape, counts.sum(axis=1).tolist()
    ((2, 3, 48, 48), [3, 3])
    """
    func = "make_shapes"
    n = as_int(n, "n", func, minimum=1)
    size = as_int(size, "size", func, minimum=8)
    k_shapes = as_int(shapes_per_image, "shapes_per_image", func, minimum=1)
    channels = as_int(channels, "channels", func, minimum=1)
    names = _check_classes(classes, func)
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(f"{func}: `noise` must be a float. Received: noise={noise!r}.")
    if not 0 <= noise < math.inf:
        raise ValueError(f"{func}: `noise` is a standard deviation and must be >= 0. Received: noise={noise}.")
    gen = as_rng(rng, func)

    grid = math.ceil(math.sqrt(k_shapes))
    cell = size / grid
    r_max = min(0.45 * cell, cell / 2 - _MARGIN)
    if r_max < MIN_RADIUS:
        need = math.ceil(grid * (2 * (MIN_RADIUS + _MARGIN)))
        raise ValueError(
            f"{func}: size={size} is too small for shapes_per_image={k_shapes}: each shape gets a "
            f"{cell:.1f}-pixel cell of a {grid}x{grid} grid, but needs at least {2 * (MIN_RADIUS + _MARGIN)} "
            f"pixels. Use size >= {need} or fewer shapes per image."
        )
    r_min = max(MIN_RADIUS, r_max / 2)

    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)  # (size, size) pixel-centre coordinates
    images = np.empty((n, channels, size, size), dtype=np.float32)
    masks = np.zeros((n, size, size), dtype=np.int64)
    labels = np.empty(n, dtype=np.int64)
    counts = np.zeros((n, len(names)), dtype=np.int64)
    for i in range(n):
        background = gen.uniform(0.0, 0.35, size=channels)  # (C,)
        img = np.broadcast_to(background[:, None, None], (channels, size, size)).copy()  # (C, size, size)
        cells = gen.choice(grid * grid, size=k_shapes, replace=False)
        kinds = gen.integers(0, len(names), size=k_shapes)
        areas = np.zeros(k_shapes, dtype=np.int64)
        for s in range(k_shapes):
            name = names[kinds[s]]
            row, col = divmod(int(cells[s]), grid)
            r = gen.uniform(r_min, r_max)
            lo_y, lo_x = row * cell - 0.5 + r + _MARGIN, col * cell - 0.5 + r + _MARGIN
            cy = gen.uniform(lo_y, lo_y + cell - 2 * (r + _MARGIN))
            cx = gen.uniform(lo_x, lo_x + cell - 2 * (r + _MARGIN))
            base, spread = _ROTATION[name]
            theta = math.radians(base + gen.uniform(-spread, spread))
            colour = gen.uniform(0.5, 1.0, size=channels)  # (C,)
            dx, dy = xx - cx, yy - cy  # (size, size)
            u = (math.cos(theta) * dx + math.sin(theta) * dy) / r  # rotate into the shape's frame
            v = (-math.sin(theta) * dx + math.cos(theta) * dy) / r
            inside = _inside(name, u, v)  # (size, size) bool
            img[:, inside] = colour[:, None]
            masks[i][inside] = kinds[s] + 1
            areas[s] = int(inside.sum())
            counts[i, kinds[s]] += 1
        labels[i] = kinds[int(np.argmax(areas))]
        if noise > 0:
            img = np.clip(img + gen.normal(0.0, noise, size=img.shape), 0.0, 1.0)
        images[i] = img
    return Shapes(images, masks, labels, counts, names)
