"""Records returned by the transfer-learning functions, their summary table and plot.

Explained in {ref}`sec-transfer`. ``compare_strategies`` and ``accuracy_vs_labels`` (in
:mod:`coursepkg.transfer.torch` and :mod:`coursepkg.transfer.keras`) return lists of :class:`StrategyResult`;
:func:`mean_accuracy` averages them over seeds and :func:`plot_accuracy_vs_labels` draws the chapter's
figure. Importing this module imports NumPy only; matplotlib is imported when a new figure is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["StrategyResult", "TrainableSummary", "format_table", "mean_accuracy", "plot_accuracy_vs_labels"]


class TrainableSummary(NamedTuple):
    """Parameter counts of a model. BatchNorm running statistics are state, not parameters, and are not counted."""

    trainable: int
    frozen: int

    @property
    def total(self) -> int:
        """``trainable + frozen``."""
        return self.trainable + self.frozen


class StrategyResult(NamedTuple):
    """One row of the comparison table: a strategy trained on ``n_per_class`` labels per class with ``seed``."""

    strategy: str
    trainable_params: int
    test_accuracy: float
    seconds: float
    n_per_class: int | None = None
    seed: int = 0


def mean_accuracy(rows: Iterable[StrategyResult]) -> dict[tuple[str, int | None], tuple[float, float, int]]:
    """Mean and standard deviation of the test accuracy over seeds, per ``(strategy, n_per_class)``.

    Returns
    -------
    dict mapping ``(strategy, n_per_class)`` to ``(mean, std, number of runs)``
    """
    groups: dict[tuple[str, int | None], list[float]] = {}
    for r in rows:
        groups.setdefault((r.strategy, r.n_per_class), []).append(r.test_accuracy)
    return {k: (float(np.mean(v)), float(np.std(v)), len(v)) for k, v in groups.items()}


def format_table(rows: Iterable[StrategyResult]) -> str:
    """A Markdown table of the rows (one line per row), for the book and for reports."""
    lines = [
        "| strategy | labels/class | seed | trainable params | test accuracy | seconds |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        n = "" if r.n_per_class is None else str(r.n_per_class)
        lines.append(
            f"| {r.strategy} | {n} | {r.seed} | {r.trainable_params:,} | {r.test_accuracy:.3f} | {r.seconds:.1f} |"
        )
    return "\n".join(lines)


def plot_accuracy_vs_labels(rows: Iterable[StrategyResult], *, ax: Axes | None = None) -> Axes:
    """Test accuracy against labelled examples per class, one line per strategy (mean and std over seeds)."""
    stats = mean_accuracy(rows)
    if not stats or any(n is None for _, n in stats):
        raise ValueError(
            "plot_accuracy_vs_labels: every row needs `n_per_class`; pass the rows of accuracy_vs_labels, "
            "not those of compare_strategies."
        )
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 3.5))
    for strategy in dict.fromkeys(s for s, _ in stats):  # in order of first appearance
        ns = sorted(n for s, n in stats if s == strategy)
        mean = np.array([stats[(strategy, n)][0] for n in ns])
        std = np.array([stats[(strategy, n)][1] for n in ns])
        (line,) = ax.plot(ns, mean, marker="o", label=strategy)
        ax.fill_between(ns, mean - std, mean + std, color=line.get_color(), alpha=0.15)
    ax.set_xscale("log")
    all_ns = sorted({n for _, n in stats})
    ax.set_xticks(all_ns, [str(n) for n in all_ns])  # the measured counts, not 6x10^0-style minor labels
    ax.minorticks_off()
    ax.set_xlabel("labelled examples per class")
    ax.set_ylabel("test accuracy")
    ax.legend()
    return ax
