"""The transfer strategies in Keras 3: linear probe, partial and full fine-tuning, scratch, and their comparison.

Explained in {ref}`sec-transfer`. Each function is :mod:`coursepkg.transfer.strategies` (written once for
both frameworks) with the package :mod:`coursepkg.transfer.keras` as its backend; images are ``(N, H, W, C)``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import keras

from ...train.history import History
from ..results import StrategyResult
from ..strategies import STRATEGIES, train_strategy
from ..strategies import accuracy_vs_labels as _accuracy_vs_labels
from ..strategies import compare_strategies as _compare

__all__ = [
    "accuracy_vs_labels", "compare_strategies", "feature_extraction", "full_fine_tuning", "linear_probe",
    "partial_fine_tuning", "train_from_scratch",
]

_BACKEND = sys.modules[__package__]  # the package coursepkg.transfer.keras: its freeze, attach_head, fit, ...


def linear_probe(
    base: Any, x: Any, y: Any, *, num_classes: int | None = None, pooling: str = "flatten", hidden: Sequence[int] = (),
    dropout: float = 0.0, epochs: int = 40, lr: float | None = None, batch_size: int = 16, seed: int = 0, progress: bool = False,
) -> tuple[keras.Model, History]:
    """Feature extraction: freeze all of ``base``, attach a new head and train the head only.

    With ``hidden=()`` the head is one dense layer: a linear probe. ``x`` is ``(N, H, W, C)``; ``lr`` defaults to
    ``DEFAULT_LR["feature_extraction"]`` and ``num_classes`` to ``max(y) + 1``. Returns ``(model, history)``.
    """
    return train_strategy(_BACKEND, "feature_extraction", base, x, y, num_classes=num_classes, pooling=pooling,
                          hidden=hidden, dropout=dropout, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                          progress=progress)


feature_extraction = linear_probe


def partial_fine_tuning(
    base: Any, x: Any, y: Any, *, blocks: int = 1, num_classes: int | None = None, pooling: str = "flatten",
    hidden: Sequence[int] = (), dropout: float = 0.0, epochs: int = 40, lr: float | None = None, batch_size: int = 16,
    seed: int = 0, progress: bool = False,
) -> tuple[keras.Model, History]:
    """Freeze all of ``base`` but its last ``blocks`` top-level layers, attach a head and train. Returns ``(model, history)``."""
    return train_strategy(_BACKEND, "partial", base, x, y, blocks=blocks, num_classes=num_classes, pooling=pooling,
                          hidden=hidden, dropout=dropout, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                          progress=progress)


def full_fine_tuning(
    base: Any, x: Any, y: Any, *, num_classes: int | None = None, pooling: str = "flatten", hidden: Sequence[int] = (),
    dropout: float = 0.0, epochs: int = 40, lr: float | None = None, batch_size: int = 16, seed: int = 0, progress: bool = False,
) -> tuple[keras.Model, History]:
    """Train all of the pretrained ``base`` and a new head with the low ``DEFAULT_LR["full"]``. Returns ``(model, history)``."""
    return train_strategy(_BACKEND, "full", base, x, y, num_classes=num_classes, pooling=pooling, hidden=hidden,
                          dropout=dropout, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, progress=progress)


def train_from_scratch(
    base: Any, x: Any, y: Any, *, num_classes: int | None = None, pooling: str = "flatten", hidden: Sequence[int] = (),
    dropout: float = 0.0, epochs: int = 40, lr: float | None = None, batch_size: int = 16, seed: int = 0, progress: bool = False,
) -> tuple[keras.Model, History]:
    """The baseline: train a randomly initialised ``base`` and a head on the target data alone."""
    return train_strategy(_BACKEND, "scratch", base, x, y, num_classes=num_classes, pooling=pooling, hidden=hidden,
                          dropout=dropout, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, progress=progress)


def compare_strategies(
    base_factory: Callable[[bool], Any] | None,
    x_train: Any, y_train: Any, x_test: Any, y_test: Any,
    *,
    strategies: Sequence[str] = tuple(STRATEGIES),
    num_classes: int | None = None,
    epochs: int = 40,
    batch_size: int = 16,
    lr: float | Mapping[str, float] | None = None,
    pooling: str = "flatten",
    hidden: Sequence[int] = (),
    dropout: float = 0.0,
    blocks: int = 1,
    seed: int = 0,
    progress: bool = False,
) -> list[StrategyResult]:
    """Train every strategy on ``(x_train, y_train)`` (images ``(N, H, W, C)``) and score it on ``(x_test, y_test)``.

    ``base_factory(pretrained)`` returns a fresh base (None: :func:`load_pretrained` / ``source_cnn(rng=seed)``).
    The arguments are described in :func:`coursepkg.transfer.strategies.compare_strategies`, which this runs with
    Keras as the backend. Returns one :class:`~coursepkg.transfer.results.StrategyResult` per strategy.
    """
    return _compare(_BACKEND, base_factory, x_train, y_train, x_test, y_test, strategies=strategies, num_classes=num_classes,
                    epochs=epochs, batch_size=batch_size, lr=lr, pooling=pooling, hidden=hidden, dropout=dropout,
                    blocks=blocks, seed=seed, progress=progress)


def accuracy_vs_labels(
    base_factory: Callable[[bool], Any] | None,
    x_pool: Any, y_pool: Any, x_test: Any, y_test: Any,
    *,
    per_class: Sequence[int] = (5, 10, 20, 50),
    seeds: Sequence[int] = (0,),
    **kwargs: Any,
) -> list[StrategyResult]:
    """:func:`compare_strategies` on ``n`` labels per class drawn from the pool (``rng=seed``), for every ``n`` and seed.

    Returns the rows with ``n_per_class`` and ``seed`` filled in, for
    :func:`coursepkg.transfer.results.plot_accuracy_vs_labels`; ``kwargs`` go to :func:`compare_strategies`.
    """
    compare = partial(compare_strategies, base_factory, **kwargs)
    return _accuracy_vs_labels(compare, x_pool, y_pool, x_test, y_test, per_class=per_class, seeds=seeds)
