"""The 8x8 handwritten digits shipped with scikit-learn, and a seeded stratified split.

The 1797 digits of :func:`sklearn.datasets.load_digits` are installed with scikit-learn, so they load
without a network connection: they are the course's offline stand-in for MNIST. ``load_digits(size=28)``
resizes them to MNIST's 28x28 so that a model written for MNIST runs unchanged (the online MNIST
is :func:`coursepkg.data.download.download_mnist`).

scikit-learn and scikit-image are imported inside the functions, so importing this module needs NumPy
only.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._validation import as_int, as_numeric_array, as_rng
from ._checks import as_float_dtype

__all__ = ["DataSplit", "load_digits", "load_digits_split", "train_test_split"]


class DataSplit(NamedTuple):
    """A train/test split; unpacks as ``x_train, y_train, x_test, y_test = split``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits(
    *, size: int = 8, channels_last: bool = False, dtype: Any = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """Load the 1797 handwritten digits shipped with scikit-learn, as images in [0, 1].

    Parameters
    ----------
    size : int, default 8
        Side of the returned square images, at least 4. The originals are 8x8; any other size is
        resized with :func:`skimage.transform.resize` (bilinear, with anti-aliasing when shrinking).
        ``size=28`` gives MNIST-sized images.
    channels_last : bool, default False
        Return ``(N, size, size, 1)`` (Keras's layout) instead of ``(N, 1, size, size)``.
    dtype : floating dtype, default np.float32
        dtype of the images.

    Returns
    -------
    images : ndarray of shape (N, 1, size, size), or (N, size, size, 1) with ``channels_last``
        The digits scaled from their 0..16 grey levels to [0, 1]; N = 1797.
    labels : ndarray of shape (N,), int64
        The digit, 0 to 9 (about 180 of each).

    Raises
    ------
    TypeError
        If ``size`` is not an integer or ``dtype`` is not a floating dtype.
    ValueError
        If ``size < 4``.

    Examples
    --------
    >>> x, y = load_digits()
    >>> x.shape, x.dtype, y.shape, y.dtype
    ((1797, 1, 8, 8), dtype('float32'), (1797,), dtype('int64'))
    >>> load_digits(size=28, channels_last=True)[0].shape
    (1797, 28, 28, 1)
    """
    func = "load_digits"
    size = as_int(size, "size", func, minimum=4)
    dt = as_float_dtype(dtype, func)
    from sklearn.datasets import load_digits as sk_load_digits  # lazy: keeps `import coursepkg` NumPy-only

    bunch = sk_load_digits()
    images = np.asarray(bunch.images, dtype=np.float64) / 16.0  # (N, 8, 8), grey levels 0..16 -> [0, 1]
    labels = np.asarray(bunch.target, dtype=np.int64)  # (N,)
    if size != images.shape[-1]:
        from skimage.transform import resize

        # resize treats trailing axes beyond output_shape as channels: put N last.
        stack = np.moveaxis(images, 0, -1)  # (8, 8, N)
        stack = resize(stack, (size, size), order=1, mode="edge", anti_aliasing=size < 8, preserve_range=True)
        images = np.clip(np.moveaxis(stack, -1, 0), 0.0, 1.0)  # (N, size, size)
    images = images[..., None] if channels_last else images[:, None]  # (N, S, S, 1) or (N, 1, S, S)
    return np.ascontiguousarray(images, dtype=dt), labels


def train_test_split(
    images: np.ndarray, labels: np.ndarray, *, test_fraction: float = 0.25, rng: Any = 0
) -> DataSplit:
    """Split a labelled data set into train and test parts, stratified by label.

    Note the order of the outputs, ``(x_train, y_train, x_test, y_test)`` as in Keras's ``load_data``,
    not scikit-learn's ``(X_train, X_test, y_train, y_test)``.

    Each class is shuffled and ``round(test_fraction * n_class)`` of its samples go to the test set
    (at least one, and at least one left for training, when the class has two or more samples; a class
    with a single sample stays in the training set). Both parts are then shuffled, so the class
    proportions of the test set match the whole up to rounding.

    Parameters
    ----------
    images : array of shape (N, ...)
        Samples; only the first axis is indexed.
    labels : array of shape (N,)
        Integer class labels.
    test_fraction : float, default 0.25
        Fraction of each class placed in the test set, in (0, 1).
    rng : None, int or numpy.random.Generator, default 0
        The same seed always gives the same split (the default, 0, makes the split reproducible
        without thinking about it; pass ``None`` for a fresh split).

    Returns
    -------
    DataSplit
        ``(x_train, y_train, x_test, y_test)``, with ``x_train`` of shape ``(N_train, ...)`` and so on.

    Raises
    ------
    ValueError
        If the lengths differ, ``labels`` is not 1-D, ``test_fraction`` is outside (0, 1), or either
        part would be empty.
    TypeError
        If ``labels`` is not integer-valued or ``rng`` is of the wrong type.

    Examples
    --------
    >>> x, y = load_digits()
    >>> x_tr, y_tr, x_te, y_te = train_test_split(x, y, test_fraction=0.2, rng=0)
    >>> len(x_tr), len(x_te)
    (1438, 359)
    """
    func = "train_test_split"
    x = np.asarray(images)
    y = as_numeric_array(labels, "labels", func)
    if y.ndim != 1:
        raise ValueError(
            f"{func}: `labels` must be 1-D of shape (N,), got shape {y.shape}. Flatten it with labels.ravel()."
        )
    if y.dtype.kind not in "biu":
        raise TypeError(f"{func}: `labels` must hold integer class labels, but its dtype is {y.dtype}.")
    if x.ndim == 0 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{func}: `images` and `labels` must have the same length N along axis 0. "
            f"Received: images.shape={x.shape}, labels.shape={y.shape}."
        )
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float, np.floating)):
        raise TypeError(f"{func}: `test_fraction` must be a float. Received: test_fraction={test_fraction!r}.")
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(
            f"{func}: `test_fraction` must be strictly between 0 and 1. Received: test_fraction={test_fraction}."
        )
    gen = as_rng(rng, func)
    train_idx, test_idx = [], []
    for cls in np.unique(y):
        idx = gen.permutation(np.flatnonzero(y == cls))
        n_test = int(round(float(test_fraction) * idx.size))
        if idx.size >= 2:
            n_test = min(max(n_test, 1), idx.size - 1)
        else:
            n_test = 0
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    tr = gen.permutation(np.concatenate(train_idx))
    te = gen.permutation(np.concatenate(test_idx))
    if tr.size == 0 or te.size == 0:
        raise ValueError(
            f"{func}: the split leaves an empty {'test' if te.size == 0 else 'training'} set "
            f"(N={y.shape[0]}, test_fraction={test_fraction}). Every class needs at least two samples to "
            "appear on both sides; use more data."
        )
    return DataSplit(x[tr], y[tr].astype(np.int64), x[te], y[te].astype(np.int64))


def load_digits_split(
    *,
    size: int = 8,
    channels_last: bool = False,
    dtype: Any = np.float32,
    test_fraction: float = 0.25,
    rng: Any = 0,
) -> DataSplit:
    """:func:`load_digits` followed by :func:`train_test_split`.

    Returns
    -------
    DataSplit
        ``(x_train, y_train, x_test, y_test)``; with the defaults 1347 training and 450 test digits,
        images of shape ``(N, 1, size, size)``.

    Examples
    --------
    >>> x_tr, y_tr, x_te, y_te = load_digits_split(size=28)
    >>> x_tr.shape, x_te.shape
    ((1347, 1, 28, 28), (450, 1, 28, 28))
    """
    x, y = load_digits(size=size, channels_last=channels_last, dtype=dtype)
    return train_test_split(x, y, test_fraction=test_fraction, rng=rng)
