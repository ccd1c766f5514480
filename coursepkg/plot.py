"""Matplotlib helpers for the book: images, kernels, feature maps, training histories and confusion matrices.

Used throughout the book, first in the chapter "Why convolution" ({ref}`sec-why-convolution`). Every helper draws on the
``ax`` (or ``axes``) it is given, creates a figure only when given none, and returns what it drew on, so
that a notebook can combine panels and set titles afterwards. Nothing here trains or computes a model:
``fit`` returns a history and :func:`plot_history` draws it.

Importing this module imports NumPy only; ``matplotlib.pyplot`` is imported on the first call that needs a
new figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import as_int, as_numeric_array

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "confusion_matrix",
    "plot_confusion_matrix",
    "plot_curves",
    "plot_history",
    "show_feature_maps",
    "show_image",
    "show_images",
    "show_kernels",
]


def _new_axes(nrows: int, ncols: int, panel: tuple[float, float]) -> np.ndarray:
    """A new figure with an ``(nrows, ncols)`` grid of Axes, returned flat."""
    import matplotlib.pyplot as plt

    size = (panel[0] * ncols, panel[1] * nrows)
    _, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, layout="constrained")
    return axes.ravel()


def _given_axes(axes: Any, n: int, name: str, func: str) -> np.ndarray:
    flat = np.asarray(axes, dtype=object).ravel()
    if flat.size < n:
        raise ValueError(
            f"{func}: `{name}` must hold at least {n} Axes, one per panel. Received {flat.size}; "
            f"create them with plt.subplots(...) or pass {name}=None."
        )
    return flat


def _grid(n: int, ncols: int, axes: Any, func: str, panel: tuple[float, float] = (1.6, 1.6)) -> np.ndarray:
    """``n`` Axes for a grid: the given ones, or a new figure whose unused panels are hidden."""
    ncols = as_int(ncols, "ncols", func, minimum=1)
    if axes is not None:
        return _given_axes(axes, n, "axes", func)[:n]
    ncols = min(ncols, n)
    flat = _new_axes(math.ceil(n / ncols), ncols, panel)
    for extra in flat[n:]:
        extra.set_visible(False)
    return flat[:n]


def _image_hw(img: np.ndarray, func: str, name: str = "img") -> np.ndarray:
    """``(H, W)``, ``(H, W, 1|3|4)``, ``(1|3, H, W)`` -> something ``imshow`` draws: ``(H, W)`` or ``(H, W, 3|4)``.

    A trailing axis of 1, 3 or 4 is read as channels-last first; otherwise a leading 1 or 3 as channels-first.
    """
    if img.ndim == 2:
        return img
    if img.ndim == 3:
        if img.shape[-1] in (3, 4):
            return img
        if img.shape[-1] == 1:
            return img[..., 0]
        if img.shape[0] == 1:
            return img[0]
        if img.shape[0] == 3:
            return np.moveaxis(img, 0, -1)  # (H, W, 3)
    hint = " Pass one image, e.g. img[0]." if img.ndim == 4 and img.shape[0] == 1 else ""
    raise ValueError(
        f"{func}: `{name}` must have shape (H, W), (H, W, 3) or channels-first (1, H, W) or (3, H, W). "
        f"Received: {name}.shape={img.shape}.{hint}"
    )


def _draw(ax: Axes, img: np.ndarray, cmap: str | None, title: str | None = None, **kwargs: Any) -> None:
    kwargs.setdefault("interpolation", "nearest")
    ax.imshow(img, cmap=(cmap or "gray") if img.ndim == 2 else None, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(str(title), fontsize="small")


def show_image(
    img: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Axes:
    """Draw one image without ticks.

    Parameters
    ----------
    img : array_like of shape (H, W), (H, W, 3), (1, H, W) or (3, H, W)
        Grayscale or RGB, channels last or first (a trailing axis of 3 wins when both could apply). RGB
        values must lie in [0, 1] for floats or [0, 255] for integers, as ``imshow`` expects.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    title : str, optional
    cmap : str, optional
        Colormap of a grayscale image, ``"gray"`` by default; ignored for RGB.
    vmin, vmax : float, optional
        Colour limits of a grayscale image (the data range by default). For a signed response such as
        ``edges(img, "sobel_x")`` use ``cmap="RdBu_r", vmin=-m, vmax=m`` with ``m = abs(response).max()``.

    Returns
    -------
    Axes
    """
    func = "show_image"
    arr = _image_hw(as_numeric_array(img, "img", func), func)
    if ax is None:
        ax = _new_axes(1, 1, (4.0, 4.0))[0]
    _draw(ax, arr, cmap, title, vmin=vmin, vmax=vmax)
    return ax


def show_images(
    images: Any,
    *,
    labels: Sequence[Any] | None = None,
    class_names: Sequence[str] | None = None,
    ncols: int = 8,
    axes: Any = None,
    cmap: str | None = None,
) -> np.ndarray:
    """Draw a batch of images in a grid, optionally titled with their labels.

    Parameters
    ----------
    images : array_like of shape (N, C, H, W), (N, H, W) or (N, H, W, C)
        ``C`` is 1 or 3. A batch whose axis 1 is 1 or 3 is read as ``(N, C, H, W)``, the course's layout.
    labels : sequence of length N, optional
        Panel titles; integer class indices when ``class_names`` is given.
    class_names : sequence of str, optional
        Names of the classes, so that ``labels[i]`` prints as ``class_names[labels[i]]``.
    ncols : int
        Panels per row of a new figure.
    axes : array of Axes, optional
        At least N Axes to draw on, in row-major order; a new figure when None.
    cmap : str, optional
        Colormap of grayscale images (``"gray"``).

    Returns
    -------
    ndarray of Axes, shape (N,)
        The Axes holding the images (unused panels of a new figure are hidden).
    """
    func = "show_images"
    batch = as_numeric_array(images, "images", func)
    if batch.ndim == 4 and batch.shape[1] in (1, 3):
        batch = np.moveaxis(batch, 1, -1)  # (N, H, W, C)
    if batch.ndim not in (3, 4) or (batch.ndim == 4 and batch.shape[-1] not in (1, 3, 4)):
        hint = " For one image use show_image, or images[None]." if batch.ndim in (2, 3) else ""
        raise ValueError(
            f"{func}: `images` must have shape (N, C, H, W) with C = 1 or 3, (N, H, W) or (N, H, W, C). "
            f"Received: images.shape={batch.shape}.{hint}"
        )
    n = batch.shape[0]
    if n == 0:
        raise ValueError(f"{func}: `images` is empty. Received: images.shape={batch.shape}.")
    if labels is not None and len(labels) != n:
        raise ValueError(
            f"{func}: `labels` must have one entry per image ({n}). Received {len(labels)} labels."
        )
    titles: list[Any] = [None] * n if labels is None else list(labels)
    if class_names is not None and labels is not None:
        try:
            titles = [class_names[int(lab)] for lab in titles]
        except (IndexError, ValueError, TypeError):
            raise ValueError(
                f"{func}: with `class_names` ({len(class_names)} names), `labels` must be integers in "
                f"[0, {len(class_names)}). Received: labels={list(labels)!r}."
            ) from None
    out = _grid(n, ncols, axes, func)
    for ax, img, title in zip(out, batch, titles):
        _draw(ax, _image_hw(img, func, "images[i]"), cmap, title)
    return out


def show_kernels(
    w: Any,
    *,
    ncols: int = 8,
    axes: Any = None,
    channel: int = 0,
    rgb: bool | None = None,
    cmap: str = "RdBu_r",
) -> np.ndarray:
    """Draw the filters of a conv layer, one panel per filter, on a colour scale centred at 0.

    Parameters
    ----------
    w : array_like of shape (F, C, KH, KW), (F, KH, KW) or (KH, KW)
        Conv weights in the course's layout (:func:`coursepkg.ops.conv_weight_from_keras` converts Keras's).
    ncols : int
        Panels per row of a new figure.
    axes : array of Axes, optional
        At least F Axes to draw on; a new figure when None.
    channel : int
        The input channel drawn when the filters are not shown as RGB.
    rgb : bool, optional
        Draw each ``(3, KH, KW)`` filter as a colour image (the classic picture of AlexNet's first layer);
        by default when ``C == 3``.
    cmap : str
        A diverging colormap for single-channel panels.

    Returns
    -------
    ndarray of Axes, shape (F,)

    Notes
    -----
    One scale ``m = max |w|`` serves every panel so that filters compare: single channels use
    ``vmin=-m, vmax=m`` (white is 0 with ``"RdBu_r"``), RGB panels show ``0.5 + 0.5 w / m`` (grey is 0).
    """
    func = "show_kernels"
    arr = as_numeric_array(w, "w", func).astype(np.float64)
    if arr.ndim == 2:
        arr = arr[None, None]  # (1, 1, KH, KW)
    elif arr.ndim == 3:
        arr = arr[:, None]  # (F, 1, KH, KW)
    if arr.ndim != 4 or 0 in arr.shape:
        raise ValueError(
            f"{func}: `w` must have shape (F, C, KH, KW) (or (F, KH, KW), (KH, KW)). Received: w.shape={np.shape(w)}."
        )
    f, c = arr.shape[:2]
    rgb = c == 3 if rgb is None else rgb
    if rgb and c != 3:
        raise ValueError(f"{func}: `rgb=True` needs C = 3 input channels. Received: w.shape={arr.shape}.")
    channel = as_int(channel, "channel", func, minimum=0)
    if not rgb and channel >= c:
        raise ValueError(
            f"{func}: `channel` must be in [0, {c}) for w.shape={arr.shape}. Received: channel={channel}."
        )
    m = float(np.abs(arr).max()) or 1.0
    out = _grid(f, ncols, axes, func, panel=(1.0, 1.0))
    for ax, k in zip(out, arr):
        if rgb:
            _draw(ax, 0.5 + 0.5 * np.moveaxis(k, 0, -1) / m, None)  # (KH, KW, 3) in [0, 1]
        else:
            _draw(ax, k[channel], cmap, vmin=-m, vmax=m)
    return out


def show_feature_maps(
    fmap: Any,
    *,
    ncols: int = 8,
    axes: Any = None,
    cmap: str = "viridis",
    max_maps: int | None = None,
) -> np.ndarray:
    """Draw the channels of one feature map (the output of a conv layer for one image), one panel each.

    Parameters
    ----------
    fmap : array_like of shape (C, H, W) or (1, C, H, W)
    ncols : int
        Panels per row of a new figure.
    axes : array of Axes, optional
        At least ``C`` (or ``max_maps``) Axes; a new figure when None.
    cmap : str
        Each panel has its own colour scale (activations differ widely between channels).
    max_maps : int, optional
        Draw only the first ``max_maps`` channels.

    Returns
    -------
    ndarray of Axes, shape (min(C, max_maps),)
        Each titled with its channel index.
    """
    func = "show_feature_maps"
    arr = as_numeric_array(fmap, "fmap", func)
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]  # (C, H, W)
    if arr.ndim != 3 or 0 in arr.shape:
        hint = {2: " For a single map use fmap[None].", 4: " Pass one image of the batch, e.g. fmap[0]."}
        raise ValueError(
            f"{func}: `fmap` must have shape (C, H, W) or (1, C, H, W). Received: fmap.shape={arr.shape}."
            + hint.get(arr.ndim, "")
        )
    n = arr.shape[0] if max_maps is None else min(arr.shape[0], as_int(max_maps, "max_maps", func, minimum=1))
    out = _grid(n, ncols, axes, func)
    for i, ax in enumerate(out):
        _draw(ax, arr[i], cmap, title=str(i))
    return out


def _history_dict(history: Any, func: str) -> dict[str, np.ndarray]:
    hist = getattr(history, "history", history)  # a Keras History keeps the dict in .history
    if not isinstance(hist, Mapping):
        raise TypeError(
            f"{func}: `history` must be a dict of lists such as {{'loss': [...], 'val_loss': [...]}} or a Keras "
            f"History. Received an object of type {type(history).__name__}."
        )
    out = {}
    for key, values in hist.items():
        arr = as_numeric_array(values, f"history[{key!r}]", func)
        if arr.ndim != 1:
            raise ValueError(
                f"{func}: `history[{key!r}]` must be a list of numbers, one per epoch. Received shape {arr.shape}."
            )
        out[str(key)] = arr
    return out


def plot_history(history: Any, *, metrics: Sequence[str] | None = None, ax: Any = None) -> np.ndarray:
    """Draw a training history: one panel per metric, training and validation curves against the epoch.

    Parameters
    ----------
    history : dict of str to list of float, or a Keras ``History``
        E.g. ``{"loss": [...], "val_loss": [...], "accuracy": [...], "val_accuracy": [...]}``, as returned by
        the course's ``fit`` functions (a Keras ``History`` is read through its ``.history``).
    metrics : sequence of str, optional
        The metrics to draw, without the ``val_`` prefix. By default every metric of the history, in its
        order, leaving out timings (keys ending in ``_time``, such as the ``epoch_time`` that ``fit`` records):
        ``("loss", "accuracy")`` for the histories above.
    ax : Axes or array of Axes, optional
        One Axes per metric; a new figure with one row of panels when None.

    Returns
    -------
    ndarray of Axes, shape (len(metrics),)
        Each with a ``"train"`` line for ``metric`` and a ``"validation"`` line for ``val_metric`` when the
        history has them, x axis ``epoch`` from 1.

    Raises
    ------
    TypeError
        If ``history`` is not a mapping (or has no ``.history`` mapping).
    ValueError
        If a requested metric is in neither ``metric`` nor ``val_metric``, or ``ax`` has the wrong length.
    """
    from matplotlib.ticker import MaxNLocator

    func = "plot_history"
    hist = _history_dict(history, func)
    if metrics is None:
        # every per-epoch metric of the history; timings such as ``epoch_time`` are not metrics
        metrics = [m for m in dict.fromkeys(k.removeprefix("val_") for k in hist) if not m.endswith("_time")]
        if not metrics:
            raise ValueError(f"{func}: `history` is empty; train first, then plot what `fit` returned.")
    elif isinstance(metrics, str):
        metrics = [metrics]
    missing = [m for m in metrics if m not in hist and f"val_{m}" not in hist]
    if missing:
        raise ValueError(
            f"{func}: `metrics` must be keys of the history (without 'val_'); {missing} are not. "
            f"Available keys: {sorted(hist)}. Received: metrics={tuple(metrics)!r}."
        )
    n = len(metrics)
    if ax is None:
        axes = _new_axes(1, n, (4.5, 3.5))
    else:
        axes = _given_axes(ax, n, "ax", func)
        if axes.size != n:
            raise ValueError(
                f"{func}: `ax` must hold one Axes per metric ({n}: {list(metrics)}). Received {axes.size}."
            )
    for a, metric in zip(axes, metrics):
        for key, label in ((metric, "train"), (f"val_{metric}", "validation")):
            if key in hist:
                values = hist[key]
                a.plot(np.arange(1, values.size + 1), values, marker="." if values.size < 30 else None, label=label)
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
        a.set_title(metric)
        a.set_xlabel("epoch")
        a.set_ylabel(metric)
        a.legend()
    return axes


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """Counts ``cm[i, j]`` of examples of true class ``i`` predicted as ``j`` (scikit-learn's orientation).

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (N,)
        Class indices in ``[0, n_classes)``.
    n_classes : int, optional
        By default ``max(y_true.max(), y_pred.max()) + 1``.

    Returns
    -------
    ndarray of int64, shape (n_classes, n_classes)

    Examples
    --------
    >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2]).tolist()
    [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    """
    func = "confusion_matrix"
    arrays = []
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        arr = as_numeric_array(y, name, func)
        if arr.ndim != 1:
            hint = f" For scores or one-hot rows use {name}.argmax(axis=1)." if arr.ndim == 2 else ""
            raise ValueError(f"{func}: `{name}` must be 1-D class indices. Received: {name}.shape={arr.shape}.{hint}")
        if arr.size and (arr.dtype.kind == "f" and not np.all(arr == np.round(arr)) or arr.min() < 0):
            raise ValueError(
                f"{func}: `{name}` must hold integer class indices >= 0. Received values such as "
                f"{arr[(arr < 0) | (arr != np.round(arr))][:3].tolist()}."
            )
        arrays.append(arr.astype(np.int64))
    t, p = arrays
    if t.size != p.size:
        raise ValueError(f"{func}: `y_true` and `y_pred` must have the same length. Received {t.size} and {p.size}.")
    top = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if n_classes is None:
        n_classes = max(top, 1)
    n_classes = as_int(n_classes, "n_classes", func, minimum=1)
    if top > n_classes:
        raise ValueError(
            f"{func}: labels must be < n_classes={n_classes}, but the largest is {top - 1}. "
            "Pass all class names (or a larger n_classes)."
        )
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def plot_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    class_names: Sequence[str] | None = None,
    ax: Axes | None = None,
    normalize: bool | str = False,
    cmap: str = "Blues",
) -> Axes:
    """Draw the confusion matrix of a classifier, true classes as rows, predictions as columns.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (N,)
        Class indices (take ``argmax`` of scores first).
    class_names : sequence of str, optional
        Tick labels; also fixes the number of classes.
    ax : Axes, optional
        Where to draw; a new figure when None.
    normalize : {False, True, "true", "pred", "all"}
        Counts (False), or fractions of each true class (True or ``"true"``: rows sum to 1, the diagonal is
        the recall), of each predicted class (``"pred"``: the diagonal is the precision), or of all examples.
    cmap : str

    Returns
    -------
    Axes
        ``ax.images[0].get_array()`` holds the drawn matrix; each cell is annotated with its value.
    """
    func = "plot_confusion_matrix"
    modes = {False: None, True: "true", "true": "true", "pred": "pred", "all": "all"}
    if not isinstance(normalize, (bool, str)) or normalize not in modes:
        raise ValueError(
            f'{func}: `normalize` must be False, True, "true", "pred" or "all". Received: normalize={normalize!r}.'
        )
    mode = modes[normalize]
    n = None if class_names is None else len(class_names)
    cm = confusion_matrix(y_true, y_pred, n)
    if mode is None:
        values = cm
    else:
        denom = {"true": cm.sum(axis=1, keepdims=True), "pred": cm.sum(axis=0, keepdims=True), "all": cm.sum()}[mode]
        values = np.divide(cm, denom, out=np.zeros(cm.shape), where=denom > 0)  # empty classes give 0
    k = cm.shape[0]
    if ax is None:
        side = max(3.0, 0.5 * k + 1.5)
        ax = _new_axes(1, 1, (side + 0.8, side))[0]
    image = ax.imshow(values, cmap=cmap, vmin=0, interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    names = [str(i) for i in range(k)] if class_names is None else [str(c) for c in class_names]
    long_names = max(map(len, names)) > 3
    ax.set_xticks(range(k), names, rotation=45 if long_names else 0, ha="right" if long_names else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    threshold = values.max() / 2 if values.size else 0
    for i in range(k):
        for j in range(k):
            text = f"{values[i, j]:d}" if mode is None else f"{values[i, j]:.2f}"
            color = "white" if values[i, j] > threshold else "black"
            ax.text(j, i, text, ha="center", va="center", color=color, fontsize="small")
    return ax


def plot_curves(
    x: Any,
    ys: Mapping[str, Any],
    *,
    xlabel: str,
    ylabel: str,
    logy: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw several named curves against a shared x, e.g. gradient norms through time for several models.

    Parameters
    ----------
    x : array_like of shape (T,)
    ys : dict of str to array_like of shape (T,)
        One line per entry, labelled with its key.
    xlabel, ylabel : str
    logy : bool
        Logarithmic y axis (vanishing and exploding gradients span orders of magnitude; values <= 0 are
        not drawn on it).
    ax : Axes, optional
        Where to draw; a new figure when None.
    title : str, optional

    Returns
    -------
    Axes
        With one line per curve, in the order of ``ys``, and a legend.
    """
    func = "plot_curves"
    xs = as_numeric_array(x, "x", func)
    if xs.ndim != 1:
        raise ValueError(f"{func}: `x` must be 1-D. Received: x.shape={xs.shape}.")
    if not isinstance(ys, Mapping) or not ys:
        raise TypeError(
            f"{func}: `ys` must be a non-empty dict of label -> values, e.g. {{'RNN': norms}}. "
            f"Received an object of type {type(ys).__name__}"
            + (" with no entries." if isinstance(ys, Mapping) else ".")
        )
    curves = {}
    for label, values in ys.items():
        arr = as_numeric_array(values, f"ys[{label!r}]", func)
        if arr.shape != xs.shape:
            raise ValueError(
                f"{func}: every curve must have the shape of x {xs.shape}. Received: ys[{label!r}].shape={arr.shape}."
            )
        curves[str(label)] = arr
    if ax is None:
        ax = _new_axes(1, 1, (6.0, 4.0))[0]
    for label, arr in curves.items():
        ax.plot(xs, arr, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    ax.legend()
    return ax
