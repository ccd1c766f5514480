"""Transfer learning in PyTorch: freezing, heads, the pretrained source CNN, strategies, AdaBN and DANN.

Explained in {ref}`sec-transfer`. :mod:`coursepkg.transfer.keras` has the same functions with the same
arguments; models take NCHW images. Layers are addressed as in :meth:`torch.nn.Module.named_modules`
(``"base.block3"``), or by their last name when it is unique (``"block3"``); the same names work in Keras.
One module per idea, all importable from here:

- :mod:`~coursepkg.transfer.torch.freezing`: ``freeze``, ``unfreeze``, ``trainable_summary``, ``set_bn_eval``;
- :mod:`~coursepkg.transfer.torch.state`: ``state_dict``, ``load_state_dict`` (weights as NumPy arrays);
- :mod:`~coursepkg.transfer.torch.heads`: ``attach_head`` and ``TransferModel``;
- :mod:`~coursepkg.transfer.torch.source`: ``source_cnn``, ``load_pretrained``, ``pretrain_source``;
- :mod:`~coursepkg.transfer.torch.strategies`: ``linear_probe``, ``partial_fine_tuning``, ``full_fine_tuning``,
  ``train_from_scratch``, ``compare_strategies``, ``accuracy_vs_labels``;
- :mod:`~coursepkg.transfer.torch.adaptation`: ``adabn``, ``grad_reverse``, ``GradientReversal``, ``DANN``,
  ``dann_model``, ``dann_fit``, ``domain_accuracy``.

**Frozen BatchNorm.** Freezing (``requires_grad = False``) stops gradient updates but not the running
statistics: a BatchNorm layer in training mode still normalises with the batch's statistics and updates
its running mean and variance, so a "frozen" base would drift on the few target examples. The modules
built here (:class:`SourceCNN`, :class:`TransferModel`, :class:`DANN`) therefore override ``train()`` to call
:func:`set_bn_eval`, which puts every BatchNorm whose parameters are all frozen back in evaluation mode.
:func:`coursepkg.train.torch.fit` calls ``model.train()`` at every epoch, so with these models a frozen base
keeps its statistics during ``fit``; for any other module call :func:`set_bn_eval` after each ``model.train()``.
(Keras 3 does this by itself: a ``BatchNormalization`` layer with ``trainable=False`` runs in inference mode.)

A frozen pretrained base and a new head for 5 classes:

>>> model = attach_head(freeze(load_pretrained()), 5, rng=0)
>>> trainable_summary(model)
TrainableSummary(trainable=325, frozen=23408)
"""

from ...train.torch import evaluate, fit  # with the functions below, the backend of coursepkg.transfer.strategies
from ..strategies import DEFAULT_LR
from .adaptation import DANN, GradientReversal, adabn, dann_fit, dann_model, domain_accuracy, grad_reverse
from .freezing import freeze, set_bn_eval, trainable_summary, unfreeze
from .heads import POOLINGS, TransferModel, attach_head
from .source import SourceCNN, load_pretrained, pretrain_source, source_cnn
from .state import load_state_dict, state_dict
from .strategies import (
    accuracy_vs_labels,
    compare_strategies,
    feature_extraction,
    full_fine_tuning,
    linear_probe,
    partial_fine_tuning,
    train_from_scratch,
)

# Importable from here since this package was one module; they live in the framework-free modules.
from ..._validation import as_int, as_rng  # noqa: E402, F401
from ...train.history import History  # noqa: E402, F401
from ..domain import dann_lambda  # noqa: E402, F401
from ..results import StrategyResult, TrainableSummary  # noqa: E402, F401
from ..strategies import STRATEGIES, train_strategy  # noqa: E402, F401
from ..tasks import source_pretraining_set  # noqa: E402, F401
from ..weights import (  # noqa: E402, F401
    BN_EPS, BN_MOMENTUM, SOURCE_CHANNELS, SOURCE_INPUT_SIZE, init_head_state, init_source_state, load_state,
)

__all__ = [
    "DANN", "DEFAULT_LR", "GradientReversal", "SourceCNN", "TransferModel", "accuracy_vs_labels", "adabn",
    "attach_head", "compare_strategies", "dann_fit", "dann_model", "domain_accuracy", "feature_extraction",
    "freeze", "full_fine_tuning", "grad_reverse", "linear_probe", "load_pretrained", "load_state_dict",
    "partial_fine_tuning", "pretrain_source", "set_bn_eval", "source_cnn", "state_dict", "train_from_scratch",
    "trainable_summary", "unfreeze",
]
