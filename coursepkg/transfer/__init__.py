"""Transfer learning: reuse a network trained on one task for another with few labels, or another domain.

Explained in {ref}`sec-transfer`. The framework-free parts load with this package (NumPy only):

- :mod:`~coursepkg.transfer.tasks`: the source task (digits 0-4) and target task (digits 5-9), few-shot sampling;
- :mod:`~coursepkg.transfer.weights`: the course's source CNN as arrays, and its committed pretrained weights;
- :mod:`~coursepkg.transfer.selection`: which layers ``freeze`` and ``unfreeze`` select, by count or by name;
- :mod:`~coursepkg.transfer.domain`: shifted digit domains, and the DANN schedule and training loop;
- :mod:`~coursepkg.transfer.strategies`: scratch, feature extraction, partial and full fine-tuning, written
  once for both frameworks;
- :mod:`~coursepkg.transfer.results`: the comparison records, table and plot.

The framework parts have the same functions with the same arguments in both frameworks and load only
when imported: the packages :mod:`coursepkg.transfer.torch` and :mod:`coursepkg.transfer.keras` (freezing,
heads, ``load_pretrained``, the strategies, AdaBN, gradient reversal and DANN, one submodule each), and
:mod:`coursepkg.transfer.applications` (``keras.applications`` wrappers, also importable from the Keras package).
"""

from .domain import SHIFTS, dann_lambda, shift_domain
from .results import StrategyResult, TrainableSummary, format_table, mean_accuracy, plot_accuracy_vs_labels
from .strategies import DEFAULT_LR, STRATEGIES
from .tasks import SOURCE_CLASSES, TARGET_CLASSES, sample_per_class, source_target_digits
from .weights import SOURCE_WEIGHTS, init_head_state, init_source_state, load_state, save_state

__all__ = [
    "DEFAULT_LR",
    "SHIFTS",
    "SOURCE_CLASSES",
    "SOURCE_WEIGHTS",
    "STRATEGIES",
    "TARGET_CLASSES",
    "StrategyResult",
    "TrainableSummary",
    "dann_lambda",
    "format_table",
    "init_head_state",
    "init_source_state",
    "load_state",
    "mean_accuracy",
    "plot_accuracy_vs_labels",
    "sample_per_class",
    "save_state",
    "shift_domain",
    "source_target_digits",
]
