"""The source and target tasks of the transfer-learning chapter, and few-shot sampling.

Explained in {ref}`sec-transfer`. The 1797 offline digits of :func:`coursepkg.data.load_digits` are cut in
two tasks that share no class:

- the SOURCE task, digits 0-4, on which the course's small CNN is pretrained
  (``scripts/pretrain_source_cnn.py``, weights in ``coursepkg/transfer/weights/``);
- the TARGET task, digits 5-9 relabelled 0-4, which we pretend to have only a few labelled examples of
  (:func:`sample_per_class`).

Both tasks are *jittered* by default (:func:`jitter_digits`: every image randomly shifted by up to 3 pixels,
rotated by up to 20 degrees and scaled by up to 15 %, once, with a fixed seed). On the centred digits a
randomly initialised CNN learns the target task from a few labels as well as a pretrained one: with the
committed weights, default settings, mean of seeds 0-2 (PyTorch), 10 labels per class give 0.944 from
scratch, 0.935 for feature extraction and 0.960 for full fine-tuning, and 5 labels 0.924, 0.886 and 0.905.
The 8x8 digits are nearly linearly separable in pixel space, so random convolutional features are already
good. Handwriting in the wild is not centred; jittered, the target task needs invariances that 50 examples
cannot teach but the source task (676 images, augmented) can, and pretraining pays: 0.643 from scratch
against 0.699 (feature extraction) and 0.726 (full fine-tuning) with 10 labels per class, same seeds.

Importing this module imports NumPy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_int, as_numeric_array, as_rng
from ..data import DataSplit, load_digits, train_test_split

__all__ = ["SOURCE_CLASSES", "TARGET_CLASSES", "jitter_digits", "sample_per_class", "source_pretraining_set", "source_target_digits"]

SOURCE_CLASSES = (0, 1, 2, 3, 4)
"""Digits of the source task (labels 0-4)."""
TARGET_CLASSES = (5, 6, 7, 8, 9)
"""Digits of the target task, relabelled 0-4 (digit ``d`` gets label ``d - 5``)."""


def jitter_digits(
    images: Any,
    *,
    max_shift: float | None = None,
    max_rotation: float = 20.0,
    max_scale: float = 0.15,
    channels_last: bool = False,
    rng: Any = None,
) -> np.ndarray:
    """Random affine copies of images: shift, rotation and scaling drawn independently for every image.

    Parameters
    ----------
    images : array of shape (N, C, H, W), or (N, H, W, C) with ``channels_last``
    max_shift : float, optional
        Largest shift in pixels along each axis (uniform in ``[-max_shift, max_shift]``); by default
        ``3 * H / 16``, i.e. 3 pixels at 16x16.
    max_rotation : float, default 20
        Largest rotation in degrees (uniform in ``[-max_rotation, max_rotation]``), about the centre.
    max_scale : float, default 0.15
        Largest relative change of size (zoom uniform in ``[1 - max_scale, 1 + max_scale]``).
    channels_last : bool, default False
    rng : None, int or numpy.random.Generator
        Draws three shift/rotation/zoom numbers per image, image after image.

    Returns
    -------
    ndarray, same shape and dtype as ``images``
        Bilinear interpolation; pixels from outside the image are 0 (background), so images in [0, 1]
        stay in [0, 1].

    Examples
    --------
    >>> x = np.zeros((2, 1, 16, 16), np.float32); x[:, :, 6:10, 6:10] = 1.0
    >>> jitter_digits(x, rng=0).shape
    (2, 1, 16, 16)
    >>> np.array_equal(jitter_digits(x, max_shift=0, max_rotation=0, max_scale=0), x)
    True
    """
    func = "jitter_digits"
    x = as_numeric_array(images, "images", func)
    if x.ndim != 4:
        layout = "(N, H, W, C)" if channels_last else "(N, C, H, W)"
        raise ValueError(f"{func}: `images` must be 4-D {layout}; got shape {x.shape}.")
    gen = as_rng(rng, func)
    from scipy.ndimage import affine_transform

    planes = np.moveaxis(x, -1, 1) if channels_last else x  # (N, C, H, W) view
    h, w = planes.shape[2:]
    shift = 3.0 * h / 16.0 if max_shift is None else float(max_shift)
    for name, value in (("max_shift", shift), ("max_rotation", max_rotation), ("max_scale", max_scale)):
        if not value >= 0:
            raise ValueError(f"{func}: `{name}` must be >= 0. Received: {name}={value}.")
    if max_scale >= 1:
        raise ValueError(f"{func}: `max_scale` must be < 1 (a zoom of 1 - max_scale must stay positive). Received: {max_scale}.")
    out = np.empty_like(planes, dtype=planes.dtype if planes.dtype.kind == "f" else np.float32)
    centre = np.array([(h - 1) / 2.0, (w - 1) / 2.0])
    for i in range(len(planes)):
        angle = np.deg2rad(gen.uniform(-max_rotation, max_rotation))
        zoom = 1.0 + gen.uniform(-max_scale, max_scale)
        offset_shift = gen.uniform(-shift, shift, size=2)
        # output pixel p samples the input at M p + offset: rotation about the centre, zoom, then shift.
        m = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) / zoom
        offset = centre - m @ centre + offset_shift
        for c in range(planes.shape[1]):
            out[i, c] = affine_transform(planes[i, c], m, offset=offset, order=1, mode="constant", cval=0.0)
    return np.ascontiguousarray(np.moveaxis(out, 1, -1) if channels_last else out)


def source_target_digits(
    *, size: int = 16, jitter: bool = True, channels_last: bool = False, test_fraction: float = 0.25, rng: Any = 0
) -> tuple[DataSplit, DataSplit]:
    """The source task (digits 0-4) and the target task (digits 5-9, relabelled 0-4), each split.

    Parameters
    ----------
    size : int, default 16
        Side of the images (see :func:`coursepkg.data.load_digits`); the pretrained weights are for 16.
    jitter : bool, default True
        Jitter every image once (:func:`jitter_digits` with its defaults) after splitting; the module
        docstring says why. ``jitter=False`` gives the centred digits, in the same split.
    channels_last : bool, default False
        ``(N, size, size, 1)`` for Keras instead of ``(N, 1, size, size)``.
    test_fraction : float, default 0.25
        Fraction of each class held out, per task (stratified, :func:`coursepkg.data.train_test_split`).
    rng : None, int or numpy.random.Generator, default 0
        Seeds both splits, then the jitter; the default 0 is the data the pretrained weights were trained on.

    Returns
    -------
    source, target : DataSplit
        ``(x_train, y_train, x_test, y_test)`` each; labels are 0-4 in both. With the defaults the source
        task has 676 training and 225 test images, the target task 671 and 225.

    Examples
    --------
    >>> source, target = source_target_digits()
    >>> source.x_train.shape, sorted(set(target.y_test.tolist()))
    ((676, 1, 16, 16), [0, 1, 2, 3, 4])
    """
    gen = as_rng(rng, "source_target_digits")
    x, y = load_digits(size=size, channels_last=channels_last)
    src = y < 5
    source = train_test_split(x[src], y[src], test_fraction=test_fraction, rng=gen)
    target = train_test_split(x[~src], y[~src] - 5, test_fraction=test_fraction, rng=gen)
    if jitter:
        source, target = (
            DataSplit(jitter_digits(s.x_train, channels_last=channels_last, rng=gen), s.y_train,
                      jitter_digits(s.x_test, channels_last=channels_last, rng=gen), s.y_test)
            for s in (source, target)
        )
    return source, target


def sample_per_class(x: Any, y: Any, n_per_class: int, *, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n_per_class`` labelled examples of every class, without replacement: a few-shot training set.

    Parameters
    ----------
    x : array of shape (N, ...)
        Pool of examples; only axis 0 is indexed.
    y : array of shape (N,)
        Integer labels.
    n_per_class : int
        Examples drawn from each class present in ``y``.
    rng : None, int or numpy.random.Generator
        The same seed gives the same subset.

    Returns
    -------
    x_sub : ndarray of shape (K * n_per_class, ...)
    y_sub : ndarray of shape (K * n_per_class,)
        Shuffled, K being the number of classes in ``y``.

    Raises
    ------
    ValueError
        If the lengths differ, or a class has fewer than ``n_per_class`` examples.

    Examples
    --------
    >>> x_sub, y_sub = sample_per_class(np.arange(20), np.arange(20) % 4, 3, rng=0)
    >>> np.bincount(y_sub).tolist()
    [3, 3, 3, 3]
    """
    func = "sample_per_class"
    n = as_int(n_per_class, "n_per_class", func, minimum=1)
    x = np.asarray(x)
    y = as_numeric_array(y, "y", func)
    if y.ndim != 1 or len(x) != len(y):
        raise ValueError(
            f"{func}: `y` must be 1-D with one label per row of `x`. Received: x.shape={x.shape}, y.shape={y.shape}."
        )
    gen = as_rng(rng, func)
    picked = []
    for cls in np.unique(y):
        idx = np.flatnonzero(y == cls)
        if idx.size < n:
            raise ValueError(
                f"{func}: class {cls} has only {idx.size} examples but n_per_class={n} were asked for. "
                "Use a smaller n_per_class or a larger pool."
            )
        picked.append(gen.choice(idx, size=n, replace=False))
    order = gen.permutation(np.concatenate(picked))
    return x[order], y[order]


def source_pretraining_set(
    *, copies: int = 10, n_train: int | None = None, size: int = 16, channels_last: bool = False, rng: Any = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The training set of the source CNN: ``copies`` freshly jittered copies of the source training digits.

    The images are those of ``source_target_digits(jitter=False).source.x_train`` (the held-out source test
    digits are never used), each jittered ``copies`` times by :func:`jitter_digits`: data augmentation, so
    that the pretrained features learn the shifts, rotations and zooms of the jittered tasks.

    Parameters
    ----------
    copies : int, default 10
    n_train : int, optional
        Keep only the first ``n_train`` training digits (a quick run).
    size, channels_last : see :func:`source_target_digits`
    rng : None, int or numpy.random.Generator, default 0
        Seeds the jitter (the split is always that of ``rng=0``).

    Returns
    -------
    x : ndarray of shape (copies * N, 1, size, size), or (copies * N, size, size, 1)
    y : ndarray of shape (copies * N,)
        Labels 0-4, copy after copy (``fit`` shuffles them).
    """
    func = "source_pretraining_set"
    k = as_int(copies, "copies", func, minimum=1)
    source, _ = source_target_digits(size=size, jitter=False, channels_last=channels_last, rng=0)
    x, y = source.x_train, source.y_train
    if n_train is not None:
        n = as_int(n_train, "n_train", func, minimum=1)
        x, y = x[:n], y[:n]
    gen = as_rng(rng, func)
    x_aug = np.concatenate([jitter_digits(x, channels_last=channels_last, rng=gen) for _ in range(k)])
    return x_aug, np.tile(y, k)
