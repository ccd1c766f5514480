"""Domain shift for digit images, and DANN's schedule and loop: the framework-free half of domain adaptation.

Explained in {ref}`sec-transfer`. A *domain shift* keeps the labels and changes the inputs: a classifier
trained on clean digits meets inverted, rotated, noisy, blurred or washed-out ones. The adaptation
methods live in the framework modules (``adabn``, ``GradientReversal``, ``dann_fit`` in
:mod:`coursepkg.transfer.torch` and :mod:`coursepkg.transfer.keras`); what they share is here: the
schedule of the reversed gradient's weight (:func:`dann_lambda`), the loop that pairs source and target
batches and records the history (:func:`dann_loop`, around one framework's training step) and the
domain head's accuracy (:func:`domain_accuracy`, around one framework's forward pass).

Importing this module imports NumPy only (SciPy is imported by the ``rotate`` and ``blur`` shifts, tqdm by
:func:`dann_loop`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import as_int, as_numeric_array, as_rng
from ..train.history import History

__all__ = ["SHIFTS", "check_dann_data", "dann_lambda", "dann_loop", "domain_accuracy", "shift_domain"]

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


def check_dann_data(x_source: Any, y_source: Any, x_target: Any, *, epochs: int, batch_size: int, func: str) -> tuple[int, int]:
    """Check the data of both frameworks' ``dann_fit``; return ``(epochs, batch_size)`` as ints.

    Raises
    ------
    ValueError
        If ``x_source`` and ``y_source`` differ in length, a domain is empty, or a number is below 1.
    """
    if len(x_source) != len(y_source):
        raise ValueError(
            f"{func}: `x_source` has {len(x_source)} samples but `y_source` has {len(y_source)}; they must match."
        )
    if len(x_source) == 0 or len(x_target) == 0:
        raise ValueError(
            f"{func}: both domains need samples. Received: len(x_source)={len(x_source)}, len(x_target)={len(x_target)}."
        )
    return as_int(epochs, "epochs", func, minimum=1), as_int(batch_size, "batch_size", func, minimum=1)


DannStep = Callable[[np.ndarray, np.ndarray, float], tuple[float, float, float, float, float]]
"""``step(source_rows, target_rows, lam)``: one training step of a DANN, returning ``(loss, label_loss,
domain_loss, correct labels, correct domains)`` as floats (the losses are batch means)."""


def dann_loop(
    step: DannStep,
    n_source: int,
    n_target: int,
    *,
    epochs: int,
    batch_size: int,
    gamma: float,
    lambda_max: float,
    rng: np.random.Generator,
    validate: Callable[[], dict[str, float]] | None = None,
    on_epoch: Callable[[], Any] | None = None,
    progress: bool = False,
    desc: str = "dann_fit",
) -> History:
    """The loop of both frameworks' ``dann_fit``: batches, the schedule of lambda and the history.

    Every epoch visits the source rows in a new random order, in batches of ``batch_size``; each batch is
    paired with as many target rows, taken in turn from a random order of the target rows that is drawn
    again when too few are left. Before step ``i`` of ``T = epochs * ceil(n_source / batch_size)``,
    ``lam = dann_lambda(i / (T - 1), gamma=gamma, lambda_max=lambda_max)``.

    Parameters
    ----------
    step : callable
        ``step(source_rows, target_rows, lam)`` trains on those rows of the framework's arrays (see :data:`DannStep`).
    n_source, n_target : int
        Numbers of source and target examples, at least 1 (``dann_fit`` checks them, and ``epochs`` and
        ``batch_size``, with :func:`check_dann_data`).
    rng : numpy.random.Generator
        Draws the orders, and nothing else.
    validate : callable, optional
        Called after every epoch; its ``{name: value}`` are recorded as ``val_<name>``.
    on_epoch : callable, optional
        Called at the start of every epoch (PyTorch: ``model.train()``).
    progress : bool
        A tqdm bar over the epochs, labelled ``desc``.

    Returns
    -------
    History
        Per epoch: ``loss``, ``label_loss`` and ``accuracy`` (means over the source examples), ``domain_loss``
        and ``domain_accuracy`` (over source and target examples), ``lambda`` (its last value), the
        ``val_*`` entries, ``epoch_time``.

    Examples
    --------
    >>> def step(rows, target_rows, lam):  # a step that learns nothing
    ...     return 1.0, 0.5, 0.5, 0.0, float(len(rows))
    >>> history = dann_loop(step, 10, 4, epochs=2, batch_size=4, gamma=10.0, lambda_max=1.0, rng=np.random.default_rng(0))
    >>> history["domain_accuracy"], [round(lam, 4) for lam in history["lambda"]]
    ([0.5, 0.5], [0.964, 0.9999])
    """
    from tqdm import tqdm

    steps_per_epoch = -(-n_source // batch_size)
    total, n_step = epochs * steps_per_epoch, 0
    t_order, t_pos = rng.permutation(n_target), 0
    history: History = {}
    for _ in tqdm(range(epochs), desc=desc, unit="epoch", disable=not progress):
        start = time.perf_counter()
        if on_epoch is not None:
            on_epoch()
        sums = dict(loss=0.0, label_loss=0.0, domain_loss=0.0, accuracy=0.0, domain_accuracy=0.0)
        seen = dom_seen = 0
        lam = 0.0  # set by every batch; an epoch has at least one
        s_order = rng.permutation(n_source)
        for s in range(0, n_source, batch_size):
            idx = s_order[s : s + batch_size]
            if t_pos + len(idx) > n_target:
                t_order, t_pos = rng.permutation(n_target), 0
            tidx = t_order[t_pos : t_pos + len(idx)]
            t_pos += len(idx)
            lam = dann_lambda(n_step / max(total - 1, 1), gamma=gamma, lambda_max=lambda_max)
            loss, label_loss, domain_loss, correct, domain_correct = step(idx, tidx, lam)
            n_step += 1
            n, m = len(idx), len(idx) + len(tidx)
            sums["loss"] += loss * n
            sums["label_loss"] += label_loss * n
            sums["domain_loss"] += domain_loss * m
            sums["accuracy"] += correct
            sums["domain_accuracy"] += domain_correct
            seen, dom_seen = seen + n, dom_seen + m
        for k in ("loss", "label_loss", "accuracy"):
            history.setdefault(k, []).append(sums[k] / seen)
        for k in ("domain_loss", "domain_accuracy"):
            history.setdefault(k, []).append(sums[k] / dom_seen)
        history.setdefault("lambda", []).append(lam)
        if validate is not None:
            for k, v in validate().items():
                history.setdefault(f"val_{k}", []).append(v)
        history.setdefault("epoch_time", []).append(time.perf_counter() - start)
    return history


def domain_accuracy(
    domain_logits: Callable[[np.ndarray], Any], x_source: Any, x_target: Any, *, batch_size: int
) -> float:
    """Accuracy of a domain classifier at telling source (0) from target (1) inputs (0.5 is chance).

    ``domain_logits(batch)`` returns one logit per example, positive for "target" (an array or anything
    ``np.asarray`` takes); it is called on batches of ``batch_size`` rows of each domain.

    Examples
    --------
    >>> domain_accuracy(lambda x: x[:, 0], np.array([[-1.0], [2.0]]), np.array([[3.0]]), batch_size=2)
    0.6666666666666666
    """
    correct = 0
    for x, label in ((x_source, 0), (x_target, 1)):
        for s in range(0, len(x), batch_size):
            d = np.asarray(domain_logits(x[s : s + batch_size]))
            correct += int(np.sum((d > 0) == bool(label)))
    return correct / (len(x_source) + len(x_target))
