"""Framework-free pieces of training: the history record and the early-stopping rule."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LOSSES = ("cross_entropy", "bce", "mse")  # the losses both frameworks' fit and evaluate accept

History = dict  # {"loss": [...], "accuracy": [...], "val_loss": [...], "val_accuracy": [...]}, one entry per epoch


@dataclass
class EarlyStopping:
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    ``mode`` is ``"min"`` for losses and ``"max"`` for accuracies; ``"auto"`` picks ``"max"`` when the monitored
    name contains "acc". The best epoch is remembered so that the caller can restore its weights.
    """

    monitor: str = "val_loss"
    patience: int = 3
    min_delta: float = 0.0
    mode: str = "auto"
    best: float = field(init=False)
    best_epoch: int = field(init=False, default=-1)
    wait: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if isinstance(self.patience, bool) or not isinstance(self.patience, int) or self.patience < 1:
            raise ValueError(f"EarlyStopping: `patience` must be an int >= 1. Received: patience={self.patience!r}.")
        if self.mode == "auto":
            self.mode = "max" if "acc" in self.monitor else "min"
        if self.mode not in ("min", "max"):
            raise ValueError(f'EarlyStopping: `mode` must be "min", "max" or "auto". Received: mode={self.mode!r}.')
        self.best = math.inf if self.mode == "min" else -math.inf

    def update(self, history: History, epoch: int) -> tuple[bool, bool]:
        """Record epoch ``epoch``; return ``(improved, stop)``."""
        if self.monitor not in history:
            raise ValueError(
                f"EarlyStopping: the history has no {self.monitor!r}; it has {sorted(history)}. "
                "Monitor a validation metric only when validation data is given."
            )
        value = history[self.monitor][-1]
        better = value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        if better:
            self.best, self.best_epoch, self.wait = value, epoch, 0
        else:
            self.wait += 1
        return better, self.wait >= self.patience


def check_xy(x: Any, y: Any, func: str) -> tuple[np.ndarray, np.ndarray]:
    """Read inputs and targets as arrays with the same number of samples."""
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"{func}: `x` has {len(x)} samples but `y` has {len(y)}; they must match.")
    if len(x) == 0:
        raise ValueError(f"{func}: no samples (x.shape={x.shape}).")
    return x, y
