"""Training loops for the course's models: one ``fit`` and one ``evaluate`` per framework.

``coursepkg.train.torch`` and ``coursepkg.train.keras`` have the same signatures. ``fit`` returns a history
(a dict of per-epoch lists: ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``) and never plots; plot it
with :func:`coursepkg.plot.plot_history`. Importing this package imports neither framework.
"""

from .history import EarlyStopping, History

__all__ = ["EarlyStopping", "History"]
