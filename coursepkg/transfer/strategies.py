"""The transfer strategies of the chapter, written once for both frameworks.

Explained in {ref}`sec-transfer`. A strategy decides which weights of a base network are trained on the
few target labels:

=====================  ================================================  ====================
strategy               trained                                           default Adam rate
=====================  ================================================  ====================
``scratch``            everything, from random weights (the baseline)    3e-3
``feature_extraction`` the new head only (a linear probe without hidden  3e-3
                       layers); the pretrained base is frozen
``partial``            the last ``blocks`` blocks of the base + head     3e-3
``full``               everything, from the pretrained weights           1e-3 (lower)
=====================  ================================================  ====================

The functions here take a *backend*, the package :mod:`coursepkg.transfer.torch` or
:mod:`coursepkg.transfer.keras`, and use only its ``freeze``, ``unfreeze``, ``attach_head``,
``trainable_summary``, ``fit``, ``evaluate``, ``load_pretrained`` and ``source_cnn``: the framework packages
expose them as ``linear_probe``, ``partial_fine_tuning``, ``full_fine_tuning``, ``train_from_scratch``,
``compare_strategies`` and ``accuracy_vs_labels`` (in their ``strategies`` submodules). Importing this module
imports NumPy only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from .._validation import as_int
from .results import StrategyResult
from .tasks import sample_per_class

__all__ = ["DEFAULT_LR", "STRATEGIES", "accuracy_vs_labels", "check_strategies", "compare_strategies", "train_strategy"]

STRATEGIES = {
    "scratch": "random initial weights, everything trained",
    "feature_extraction": "pretrained base frozen, only the new head trained (a linear probe when the head has no hidden layer)",
    "partial": "pretrained base, its last `blocks` blocks and the head trained",
    "full": "pretrained base, everything trained with a low learning rate",
}
"""The strategies, in the order of the chapter's table."""

DEFAULT_LR = {"scratch": 3e-3, "feature_extraction": 3e-3, "partial": 3e-3, "full": 1e-3}
"""Adam learning rates of the strategies: full fine-tuning starts from good weights and uses a lower one."""


def check_strategies(strategies: Iterable[str] | str, func: str) -> tuple[str, ...]:
    """Validate strategy names; a single name is accepted as a one-element tuple."""
    out = (strategies,) if isinstance(strategies, str) else tuple(strategies)
    bad = [s for s in out if s not in STRATEGIES]
    if bad or not out:
        raise ValueError(f"{func}: `strategies` must be a non-empty subset of {tuple(STRATEGIES)}. Received: {out!r}.")
    return out


def train_strategy(
    backend: ModuleType,
    strategy: str,
    base: Any,
    x: Any,
    y: Any,
    *,
    num_classes: int | None = None,
    epochs: int = 40,
    lr: float | None = None,
    batch_size: int = 16,
    pooling: str = "flatten",
    hidden: Sequence[int] = (),
    dropout: float = 0.0,
    blocks: int = 1,
    seed: int = 0,
    progress: bool = False,
) -> tuple[Any, dict]:
    """Set the trainable flags of ``base`` for ``strategy``, attach a new head, train; return ``(model, history)``.

    The head is ``attach_head(base, num_classes, pooling=..., rng=seed)``; ``num_classes`` defaults to
    ``max(y) + 1`` and ``lr`` to ``DEFAULT_LR[strategy]``. ``pooling="flatten"`` is the default because it keeps
    where a feature fired, which a frozen base cannot relearn: with 10 labels per class (mean of seeds 0-4,
    PyTorch) feature extraction reached 0.708 with it and 0.612 with global average pooling. The other
    strategies care less: scratch 0.655 (flatten) / 0.632 (avg), full fine-tuning 0.748 / 0.772.
    """
    func = "train_strategy"
    (strategy,) = check_strategies(strategy, func)
    if strategy == "feature_extraction":
        backend.freeze(base)
    elif strategy == "partial":
        backend.unfreeze(base)
        backend.freeze(base, layers=as_int(blocks, "blocks", func, minimum=1))
    else:
        backend.unfreeze(base)
    k = int(np.max(y)) + 1 if num_classes is None else as_int(num_classes, "num_classes", func, minimum=1)
    model = backend.attach_head(base, k, pooling=pooling, hidden=hidden, dropout=dropout, rng=seed)
    rate = DEFAULT_LR[strategy] if lr is None else float(lr)
    history = backend.fit(model, x, y, epochs=epochs, batch_size=batch_size, lr=rate, seed=seed, progress=progress)
    return model, history


def compare_strategies(
    backend: ModuleType,
    base_factory: Callable[[bool], Any] | None,
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    *,
    strategies: Sequence[str] = tuple(STRATEGIES),
    lr: float | Mapping[str, float] | None = None,
    seed: int = 0,
    **kwargs: Any,
) -> list[StrategyResult]:
    """Train every strategy on ``(x_train, y_train)`` with :func:`train_strategy` and score it on ``(x_test, y_test)``.

    What both frameworks' ``compare_strategies`` run, with their own package as ``backend``.

    Parameters
    ----------
    backend : module
        :mod:`coursepkg.transfer.torch` or :mod:`coursepkg.transfer.keras` (see the module docstring).
    base_factory : callable or None
        ``base_factory(pretrained)`` returns a fresh base: pretrained weights for ``pretrained=True``, random
        ones for ``"scratch"``. None uses the course's source CNN (``backend.load_pretrained()`` /
        ``backend.source_cnn(rng=seed)``).
    x_train, y_train, x_test, y_test : arrays
        Images in the backend's layout (``(N, C, H, W)`` in PyTorch, ``(N, H, W, C)`` in Keras) and labels
        ``0 .. K-1``.
    strategies : sequence of {"scratch", "feature_extraction", "partial", "full"}
    lr : float, dict or None
        One learning rate for all, one per strategy, or None for :data:`DEFAULT_LR`.
    seed : int
        Head initialisation, the scratch base, shuffling and dropout.
    **kwargs
        ``num_classes``, ``epochs``, ``batch_size``, ``pooling``, ``hidden``, ``dropout``, ``blocks`` (blocks of
        the base trained by ``"partial"``) and ``progress``, for :func:`train_strategy`.

    Returns
    -------
    list of StrategyResult
        ``(strategy, trainable_params, test_accuracy, seconds)`` per strategy; ``seconds`` is the wall time of
        building and training.
    """
    strategies = check_strategies(strategies, "compare_strategies")
    if base_factory is None:
        def base_factory(pretrained: bool) -> Any:
            return backend.load_pretrained() if pretrained else backend.source_cnn(rng=seed)
    rows = []
    for strategy in strategies:
        rate = lr.get(strategy) if isinstance(lr, Mapping) else lr
        start = time.perf_counter()
        base = base_factory(strategy != "scratch")
        model, _ = train_strategy(backend, strategy, base, x_train, y_train, lr=rate, seed=seed, **kwargs)
        seconds = time.perf_counter() - start
        accuracy = backend.evaluate(model, x_test, y_test)["accuracy"]
        rows.append(StrategyResult(strategy, backend.trainable_summary(model).trainable, float(accuracy), seconds, seed=seed))
    return rows


def accuracy_vs_labels(
    compare: Callable[..., list[StrategyResult]],
    x_pool: Any,
    y_pool: Any,
    x_test: Any,
    y_test: Any,
    *,
    per_class: Sequence[int],
    seeds: Sequence[int],
    **kwargs: Any,
) -> list[StrategyResult]:
    """For every ``n`` in ``per_class`` and seed: draw ``n`` labels per class, run ``compare``, collect the rows.

    The few-shot subset is drawn with ``rng=seed``, so every strategy of an ``(n, seed)`` pair sees the same
    examples; ``compare(x_train, y_train, x_test, y_test, seed=seed, **kwargs)`` trains and scores.
    """
    func = "accuracy_vs_labels"
    ns = [as_int(n, "per_class", func, minimum=1) for n in per_class]
    seed_list = [as_int(s, "seeds", func, minimum=0) for s in seeds]
    if not ns or not seed_list:
        raise ValueError(f"{func}: `per_class` and `seeds` must not be empty. Received: per_class={per_class!r}, seeds={seeds!r}.")
    rows: list[StrategyResult] = []
    for n in ns:
        for seed in seed_list:
            x_tr, y_tr = sample_per_class(x_pool, y_pool, n, rng=seed)
            for row in compare(x_tr, y_tr, x_test, y_test, seed=seed, **kwargs):
                rows.append(row._replace(n_per_class=n, seed=seed))
    return rows
