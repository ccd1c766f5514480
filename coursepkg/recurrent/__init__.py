"""Recurrent sequence models in PyTorch and Keras, and the experiments of the recurrent-networks chapter.

Explained in the recurrent-networks chapter; the NumPy reference networks they are checked against are
:mod:`coursepkg.rnn`. Importing this package imports NumPy only; the frameworks load with their modules:

- :mod:`coursepkg.recurrent.torch` and :mod:`coursepkg.recurrent.keras`: the same builders with the same
  arguments, ``sequence_classifier``, ``sequence_regressor`` and ``notes_lstm`` (the lecture notes'
  ``LSTM(128)``), all returning logits, and ``adding_problem_comparison`` (RNN vs LSTM on the adding
  problem as the sequence grows, on the same data in both frameworks);
- :mod:`coursepkg.recurrent.params`: :func:`model_param_count`, the parameter count of every builder in
  either framework;
- :mod:`coursepkg.recurrent.transfer`: :func:`copy_weights` between the twins (and :func:`forward_numpy`,
  the same model in NumPy);
- :mod:`coursepkg.recurrent.demos`: vanishing and exploding gradients through time, gradient clipping;
- :mod:`coursepkg.recurrent.forecast`: sunspot windows and the persistence baseline.

Conventions: sequences are batch-first ``(N, T, D)``; weights in PyTorch's layout and gate order (LSTM i, f, g,
o; GRU r, z, n), converted to Keras's by :mod:`coursepkg.rnn.layout`.
"""

from coursepkg.recurrent._checks import CELLS
from coursepkg.recurrent.demos import ClipDemo, exploding_gradient_demo, gradient_norms_through_time
from coursepkg.recurrent.forecast import Standardizer, SunspotWindows, persistence_forecast, sunspot_windows
from coursepkg.recurrent.params import model_param_count
from coursepkg.recurrent.transfer import RecurrentWeights, copy_weights, forward_numpy, get_weights, set_weights

__all__ = [
    "CELLS",
    # parameter counts and weights shared by the twins
    "model_param_count",
    "RecurrentWeights",
    "get_weights",
    "set_weights",
    "copy_weights",
    "forward_numpy",
    # gradients through time
    "gradient_norms_through_time",
    "exploding_gradient_demo",
    "ClipDemo",
    # forecasting
    "sunspot_windows",
    "persistence_forecast",
    "Standardizer",
    "SunspotWindows",
]
