"""coursepkg.transfer.results: records, averages, table and plot."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from coursepkg.transfer.results import (  # noqa: E402
    StrategyResult,
    TrainableSummary,
    format_table,
    mean_accuracy,
    plot_accuracy_vs_labels,
)


def _rows():
    return [
        StrategyResult("scratch", 100, 0.5, 1.0, 5, 0),
        StrategyResult("scratch", 100, 0.7, 1.0, 5, 1),
        StrategyResult("full", 100, 0.8, 2.0, 5, 0),
        StrategyResult("full", 100, 0.9, 2.0, 10, 0),
    ]


def test_trainable_summary_total():
    assert TrainableSummary(3, 4).total == 7


def test_mean_accuracy_groups_by_strategy_and_labels():
    stats = mean_accuracy(_rows())
    assert stats[("scratch", 5)] == pytest.approx((0.6, 0.1, 2))
    assert stats[("full", 10)] == pytest.approx((0.9, 0.0, 1))


def test_format_table():
    table = format_table(_rows()[:1])
    assert table.splitlines()[2] == "| scratch | 5 | 0 | 100 | 0.500 | 1.0 |"


def test_plot_draws_one_line_per_strategy():
    ax = plot_accuracy_vs_labels(_rows())
    assert [line.get_label() for line in ax.get_lines()] == ["scratch", "full"]
    assert ax.get_xlabel() == "labelled examples per class"
    with pytest.raises(ValueError, match=r"every row needs `n_per_class`"):
        plot_accuracy_vs_labels([StrategyResult("full", 1, 0.5, 1.0)])
