"""Transfer learning in Keras 3: freezing, heads, the pretrained source CNN, strategies, AdaBN, DANN, applications.

Explained in {ref}`sec-transfer`. The functions and arguments are those of :mod:`coursepkg.transfer.torch`;
models take NHWC images (``input_shape`` is ``(H, W, C)``). Layers are addressed by dotted paths of layer
names (``"base.block3"``) or by a name that is unique in the model (``"block3"``); the course's models also
accept PyTorch's names (``"base.block3.conv"`` for the layer ``block3_conv``), so the same names work in
both frameworks. One module per idea, as in PyTorch, all importable from here:

- :mod:`~coursepkg.transfer.keras.paths`: the layer tree and its two spellings of names (Keras only);
- :mod:`~coursepkg.transfer.keras.freezing`: ``freeze``, ``unfreeze``, ``trainable_summary``, ``set_bn_eval``;
- :mod:`~coursepkg.transfer.keras.state`: ``state_dict``, ``load_state_dict`` (PyTorch's names and layouts);
- :mod:`~coursepkg.transfer.keras.heads`: ``attach_head``;
- :mod:`~coursepkg.transfer.keras.source`: ``source_cnn``, ``load_pretrained``;
- :mod:`~coursepkg.transfer.keras.strategies`: ``linear_probe``, ``partial_fine_tuning``, ``full_fine_tuning``,
  ``train_from_scratch``, ``compare_strategies``, ``accuracy_vs_labels``;
- :mod:`~coursepkg.transfer.keras.adaptation`: ``adabn``, ``grad_reverse``, ``GradientReversal``, ``DANN``,
  ``dann_model``, ``dann_fit``, ``domain_accuracy``.

**Frozen BatchNorm.** In Keras 3 a ``BatchNormalization`` layer with ``trainable = False`` runs in inference
mode whatever ``training`` says: it normalises with its moving statistics and does not update them (TF 1
and Keras 2 needed ``base(x, training=False)`` for that). :func:`freeze` relies on it: freezing is per layer
(containers stay ``trainable = True``; their leaves carry the flags), so a frozen base keeps its statistics
during ``fit`` exactly as :mod:`coursepkg.transfer.torch` arranges with :func:`set_bn_eval`. ``fit`` compiles
the model, so flags changed between two ``fit`` calls take effect.

:func:`applications_model` and :func:`preprocess_input`, the ``keras.applications`` wrappers, are defined in
:mod:`coursepkg.transfer.applications` and importable from here.

A frozen pretrained base and a new head for 5 classes:

>>> model = attach_head(freeze(load_pretrained()), 5, rng=0)
>>> trainable_summary(model)
TrainableSummary(trainable=325, frozen=23408)
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ...train.keras import evaluate, fit  # noqa: E402  (with the functions below, the backend of ..strategies)
from ..applications import APPLICATIONS, PretrainedWeightsUnavailableError, applications_model, preprocess_input  # noqa: E402
from ..strategies import DEFAULT_LR  # noqa: E402
from .adaptation import DANN, GradientReversal, adabn, dann_fit, dann_model, domain_accuracy, grad_reverse  # noqa: E402
from .freezing import freeze, set_bn_eval, trainable_summary, unfreeze  # noqa: E402
from .heads import POOLINGS, attach_head  # noqa: E402
from .source import load_pretrained, source_cnn  # noqa: E402
from .state import load_state_dict, state_dict  # noqa: E402
from .strategies import (  # noqa: E402
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
from ...ops.layout import (  # noqa: E402, F401
    conv_weight_from_keras, conv_weight_to_keras, dense_weight_to_keras, flatten_dense_weight_to_keras,
)
from ...train.history import History  # noqa: E402, F401
from ..domain import dann_lambda  # noqa: E402, F401
from ..results import StrategyResult, TrainableSummary  # noqa: E402, F401
from ..strategies import STRATEGIES, train_strategy  # noqa: E402, F401
from ..weights import (  # noqa: E402, F401
    BN_EPS, BN_MOMENTUM, SOURCE_CHANNELS, SOURCE_INPUT_SIZE, init_head_state, init_source_state, load_state,
)

__all__ = [
    "APPLICATIONS", "DANN", "DEFAULT_LR", "GradientReversal", "PretrainedWeightsUnavailableError", "accuracy_vs_labels",
    "adabn", "applications_model", "attach_head", "compare_strategies", "dann_fit", "dann_model", "domain_accuracy",
    "feature_extraction", "freeze", "full_fine_tuning", "grad_reverse", "linear_probe", "load_pretrained",
    "load_state_dict", "partial_fine_tuning", "preprocess_input", "set_bn_eval", "source_cnn", "state_dict",
    "train_from_scratch", "trainable_summary", "unfreeze",
]
