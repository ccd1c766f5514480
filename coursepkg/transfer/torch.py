"""Transfer learning in PyTorch: freezing, heads, the pretrained source CNN, strategies, AdaBN and DANN.

Explained in {ref}`sec-transfer`. :mod:`coursepkg.transfer.keras` has the same functions with the same
arguments; models take NCHW images. Layers are addressed as in :meth:`torch.nn.Module.named_modules`
(``"base.block3"``), or by their last name when it is unique (``"block3"``); the same names work in Keras.

**Frozen BatchNorm.** Freezing (``requires_grad = False``) stops gradient updates but not the running
statistics: a BatchNorm layer in training mode still normalises with the batch's statistics and updates
its running mean and variance, so a "frozen" base would drift on the few target examples. The modules
built here (:class:`SourceCNN`, :class:`TransferModel`, :class:`DANN`) therefore override ``train()`` to call
:func:`set_bn_eval`, which puts every BatchNorm whose parameters are all frozen back in evaluation mode.
:func:`coursepkg.train.torch.fit` calls ``model.train()`` at every epoch, so with these models a frozen base
keeps its statistics during ``fit``; for any other module call :func:`set_bn_eval` after each ``model.train()``.
(Keras 3 does this by itself: a ``BatchNormalization`` layer with ``trainable=False`` runs in inference mode.)
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from .._validation import as_int, as_rng
from ..train.history import History
from ..train.torch import evaluate, fit
from .domain import dann_lambda
from .results import StrategyResult, TrainableSummary
from .strategies import DEFAULT_LR, STRATEGIES, train_strategy
from .strategies import accuracy_vs_labels as _accuracy_vs_labels
from .strategies import compare_strategies as _compare
from .tasks import source_pretraining_set
from .weights import BN_EPS, BN_MOMENTUM, SOURCE_CHANNELS, SOURCE_INPUT_SIZE, init_head_state, init_source_state, load_state

__all__ = [
    "DANN", "DEFAULT_LR", "GradientReversal", "SourceCNN", "TransferModel", "accuracy_vs_labels", "adabn",
    "attach_head", "compare_strategies", "dann_fit", "dann_model", "domain_accuracy", "feature_extraction",
    "freeze", "full_fine_tuning", "grad_reverse", "linear_probe", "load_pretrained", "load_state_dict",
    "partial_fine_tuning", "pretrain_source", "set_bn_eval", "source_cnn", "state_dict", "train_from_scratch",
    "trainable_summary", "unfreeze",
]



# --------------------------------------------------------------------------------------------- freezing
def set_bn_eval(model: nn.Module) -> list[str]:
    """Put every BatchNorm layer whose affine parameters are all frozen in evaluation mode.

    Such a layer then normalises with its running statistics and stops updating them. BatchNorm layers
    without affine parameters are left alone. Returns the names of the layers switched.
    """
    names = []
    for name, m in model.named_modules():
        params = list(m.parameters(recurse=False))
        if isinstance(m, _BatchNorm) and params and not any(p.requires_grad for p in params):
            m.eval()
            names.append(name)
    return names


class _FrozenBNEval:
    """Mixin: ``train(True)`` keeps frozen BatchNorm layers in evaluation mode (see :func:`set_bn_eval`)."""

    def train(self, mode: bool = True):
        super().train(mode)  # type: ignore[misc]
        if mode:
            set_bn_eval(self)  # type: ignore[arg-type]
        return self


def _resolve(model: nn.Module, name: str, func: str) -> nn.Module:
    modules = dict(model.named_modules())
    if name in modules and name:
        return modules[name]
    hits = [n for n in modules if n and n.split(".")[-1] == name]
    if len(hits) == 1:
        return modules[hits[0]]
    top = [n for n, _ in model.named_children()]
    if hits:
        raise ValueError(f"{func}: the name {name!r} is ambiguous; it matches {hits}. Use the full dotted name.")
    raise ValueError(f"{func}: the model has no layer named {name!r}. Its top-level layers are {top}.")


def _select(model: nn.Module, layers: Any, func: str, *, last: bool) -> list[nn.Module]:
    if isinstance(layers, str):
        if layers == "all":
            return [model]
        raise ValueError(
            f'{func}: `layers` must be "all", an int or a list of layer names. Received: layers={layers!r}; '
            f"to select one layer pass layers=[{layers!r}]."
        )
    if isinstance(layers, (int, np.integer)) and not isinstance(layers, bool):
        top = [m for _, m in model.named_children() if any(True for _ in m.parameters())]
        k = as_int(layers, "layers", func, minimum=0)
        if k > len(top):
            raise ValueError(
                f"{func}: `layers`={k} but the model has only {len(top)} top-level layers with parameters "
                f"({[n for n, m in model.named_children() if any(True for _ in m.parameters())]})."
            )
        return top[len(top) - k :] if last else top[: len(top) - k]
    if isinstance(layers, Sequence):
        return [_resolve(model, str(n), func) for n in layers]
    raise TypeError(f'{func}: `layers` must be "all", an int or a list of layer names. Received: {layers!r}.')


def _set_requires_grad(modules: list[nn.Module], flag: bool) -> None:
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(flag)


def freeze(model: nn.Module, *, layers: str | int | Sequence[str] = "all") -> nn.Module:
    """Stop training some layers (``requires_grad = False``); returns ``model``.

    Parameters
    ----------
    model : torch.nn.Module
    layers : "all", int or list of str
        ``"all"``; an int ``k``: every top-level layer with parameters except the last ``k`` (those are left
        as they are); or layer names (``"block3"``, ``"base.block3"``).

    Raises
    ------
    ValueError
        If a name matches no layer or several, or ``k`` exceeds the number of top-level layers.

    Notes
    -----
    Frozen BatchNorm layers keep updating their running statistics in training mode unless they are put
    in evaluation mode: the course's models do it in ``train()``; see the module docstring.
    """
    _set_requires_grad(_select(model, layers, "freeze", last=False), False)
    if model.training:
        set_bn_eval(model)
    return model


def unfreeze(model: nn.Module, *, layers: str | int | Sequence[str] = "all") -> nn.Module:
    """Train some layers again (``requires_grad = True``); an int ``k`` selects the last ``k`` top-level layers."""
    selected = _select(model, layers, "unfreeze", last=True)
    _set_requires_grad(selected, True)
    if model.training:
        for m in selected:
            m.train()
    return model


def trainable_summary(model: nn.Module) -> TrainableSummary:
    """Counts of trainable and frozen parameters (shared parameters once; BatchNorm running stats excluded).

    Examples
    --------
    >>> trainable_summary(freeze(source_cnn(), layers=1))
    TrainableSummary(trainable=18560, frozen=4848)
    """
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return TrainableSummary(int(trainable), int(frozen))


# ------------------------------------------------------------------------------------- weights as arrays
def state_dict(model: nn.Module) -> dict[str, np.ndarray]:
    """The model's parameters and BatchNorm running statistics as NumPy arrays (no ``num_batches_tracked``)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


@torch.no_grad()
def load_state_dict(model: nn.Module, state: Mapping[str, Any]) -> nn.Module:
    """Copy NumPy arrays named as in :func:`state_dict` into ``model``; returns ``model``.

    Raises
    ------
    ValueError
        If names are missing or unexpected, or a shape differs; the message lists them.
    """
    own = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    if missing or unexpected:
        raise ValueError(
            f"load_state_dict: the arrays do not match the model. Missing: {missing}; unexpected: {unexpected}. "
            "Build the model with the same architecture (channels, head) as the one that was saved."
        )
    for k, v in own.items():
        arr = np.asarray(state[k])
        if tuple(arr.shape) != tuple(v.shape):
            raise ValueError(f"load_state_dict: {k!r} has shape {arr.shape} but the model expects {tuple(v.shape)}.")
        v.copy_(torch.as_tensor(arr, dtype=v.dtype))
    return model


# ------------------------------------------------------------------------------------- source CNN, heads
class SourceCNN(_FrozenBNEval, nn.Sequential):
    """The course's small CNN without a head: ``block1 .. blockB`` of conv 3x3 -> BatchNorm -> ReLU (-> max-pool 2x2).

    Shape:
        - Input: ``(N, in_channels, S, S)``.
        - Output: ``(N, channels[-1], S', S')`` with ``S' = floor(S / 2**(B-1))`` (every block but the last halves
          the side): ``(N, 64, 4, 4)`` for the default 16x16 input.

    Attributes
    ----------
    input_shape : tuple of int
        ``(in_channels, S, S)``, used by :func:`attach_head`.
    """

    def __init__(self, *, input_size: int, in_channels: int, channels: Sequence[int]) -> None:
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        c_in = in_channels
        for i, c in enumerate(channels, start=1):
            layers: OrderedDict[str, nn.Module] = OrderedDict(
                conv=nn.Conv2d(c_in, c, 3, padding=1, bias=False),  # (N, c, s, s); BN's shift makes a bias redundant
                bn=nn.BatchNorm2d(c, eps=BN_EPS, momentum=BN_MOMENTUM),
                relu=nn.ReLU(),
            )
            if i < len(channels):
                layers["pool"] = nn.MaxPool2d(2)  # (N, c, s // 2, s // 2)
            blocks[f"block{i}"] = nn.Sequential(layers)
            c_in = c
        super().__init__(blocks)
        self.input_shape = (in_channels, input_size, input_size)


def source_cnn(
    *, input_size: int = SOURCE_INPUT_SIZE, in_channels: int = 1, channels: Sequence[int] = SOURCE_CHANNELS, rng: Any = None
) -> SourceCNN:
    """The course's source CNN (randomly initialised base, no head); see :mod:`coursepkg.transfer.weights`.

    Parameters
    ----------
    input_size : int, default 16
        Side S of the square input; at least ``2**(len(channels) - 1)``.
    in_channels : int, default 1
    channels : sequence of int, default (16, 32, 64)
    rng : None, int or numpy.random.Generator
        Initial weights (drawn with NumPy: the same ``rng`` gives the same weights in Keras).

    Returns
    -------
    SourceCNN
        Output ``(N, channels[-1], S // 2**(B-1), S // 2**(B-1))``. With the defaults: 23,408 parameters
        (conv 144 + 4,608 + 18,432, BatchNorm 2 x (16 + 32 + 64)) and ``(N, 64, 4, 4)`` outputs.

    Examples
    --------
    >>> base = source_cnn(rng=0)
    >>> base(torch.zeros(2, 1, 16, 16)).shape, trainable_summary(base).total
    (torch.Size([2, 64, 4, 4]), 23408)
    """
    func = "source_cnn"
    from .weights import _check_channels

    chans = _check_channels(channels, func)
    size = as_int(input_size, "input_size", func, minimum=1)
    if size < 2 ** (len(chans) - 1):
        raise ValueError(
            f"{func}: `input_size`={size} is too small for {len(chans)} blocks: each block but the last halves the "
            f"side, so it must be at least {2 ** (len(chans) - 1)}."
        )
    c_in = as_int(in_channels, "in_channels", func, minimum=1)
    model = SourceCNN(input_size=size, in_channels=c_in, channels=chans)
    load_state_dict(model, init_source_state(in_channels=c_in, channels=chans, rng=rng))
    return model


class TransferModel(_FrozenBNEval, nn.Sequential):
    """``nn.Sequential(base, head)`` whose ``train()`` keeps frozen BatchNorm layers in evaluation mode."""

    def __init__(self, base: nn.Module, head: nn.Module, input_shape: tuple[int, ...]) -> None:
        super().__init__(OrderedDict(base=base, head=head))
        self.input_shape = input_shape


POOLINGS = ("avg", "max", "flatten")


def _base_output_shape(base: nn.Module, input_shape: Any, func: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if input_shape is None:
        input_shape = getattr(base, "input_shape", None)
        if input_shape is None:
            raise ValueError(
                f"{func}: cannot tell the base's input shape; pass input_shape=(C, H, W) (the shape of one image)."
            )
    input_shape = tuple(int(s) for s in input_shape)
    param = next(base.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    was_training = base.training
    base.eval()
    with torch.no_grad():
        out = base(torch.zeros((1, *input_shape), device=device))
    base.train(was_training)
    return input_shape, tuple(out.shape[1:])


def _make_head(
    feature_shape: tuple[int, ...], num_classes: int, *, pooling: str, hidden: Sequence[int], dropout: float, rng: Any, func: str
) -> nn.Sequential:
    if pooling not in POOLINGS:
        raise ValueError(f"{func}: `pooling` must be one of {POOLINGS}. Received: pooling={pooling!r}.")
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"{func}: `dropout` must be in [0, 1). Received: dropout={dropout}.")
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    if len(feature_shape) == 3 and pooling != "flatten":
        layers["pool"] = nn.AdaptiveAvgPool2d(1) if pooling == "avg" else nn.AdaptiveMaxPool2d(1)  # (N, C, 1, 1)
        features = feature_shape[0]
    elif len(feature_shape) == 1 and pooling != "flatten":
        raise ValueError(f'{func}: the base already outputs vectors of shape (N, {feature_shape[0]}); use pooling="flatten".')
    else:
        features = int(np.prod(feature_shape))
    layers["flatten"] = nn.Flatten()  # (N, F)
    state = init_head_state(features, as_int(num_classes, "num_classes", func, minimum=1), hidden=hidden, rng=rng)
    fan_in = features
    for j, h in enumerate(hidden):
        if dropout:
            layers[f"dropout{j}"] = nn.Dropout(dropout)
        layers[f"hidden{j}"], layers[f"relu{j}"] = nn.Linear(fan_in, int(h)), nn.ReLU()  # (N, h)
        fan_in = int(h)
    if dropout:
        layers["dropout"] = nn.Dropout(dropout)
    layers["logits"] = nn.Linear(fan_in, int(num_classes))  # (N, K)
    head = nn.Sequential(layers)
    load_state_dict(head, state)
    return head


def attach_head(
    base: nn.Module,
    num_classes: int,
    *,
    pooling: str = "avg",
    hidden: Sequence[int] = (),
    dropout: float = 0.0,
    input_shape: Sequence[int] | None = None,
    rng: Any = None,
) -> TransferModel:
    """A new model ``TransferModel(base, head)``: ``base`` (shared, not copied) followed by a new classifier.

    Parameters
    ----------
    base : torch.nn.Module
        Outputs feature maps ``(N, C, H, W)`` (or vectors ``(N, F)``, with ``pooling="flatten"``).
    num_classes : int
        K, the number of logits.
    pooling : {"avg", "max", "flatten"}
        Global average or max pooling to ``(N, C)``, or flattening to ``(N, C*H*W)``.
    hidden : sequence of int
        Widths of hidden dense layers (ReLU) before the logits; empty gives a linear classifier.
    dropout : float
        Dropout rate before every dense layer (0 disables it).
    input_shape : (C, H, W), optional
        Shape of one input image; defaults to ``base.input_shape`` (set by :func:`source_cnn`).
    rng : None, int or numpy.random.Generator
        Initial head weights (PyTorch's ``nn.Linear`` scheme drawn with NumPy; Keras gives the same head).

    Returns
    -------
    TransferModel
        Logits ``(N, K)``. The head is ``model.head`` with layers ``pool``, ``flatten``, ``hidden{j}``, ``logits``;
        it has ``F*h0 + h0 + ... + h_last*K + K`` parameters (``64*K + K`` for the source CNN, avg pooling).

    Examples
    --------
    >>> model = attach_head(source_cnn(rng=0), 5, rng=0)
    >>> model(torch.zeros(3, 1, 16, 16)).shape, trainable_summary(model.head).total
    (torch.Size([3, 5]), 325)
    """
    func = "attach_head"
    if not isinstance(base, nn.Module):
        raise TypeError(f"{func}: `base` must be a torch.nn.Module. Received an object of type {type(base).__name__}.")
    shape_in, feature_shape = _base_output_shape(base, input_shape, func)
    head = _make_head(feature_shape, num_classes, pooling=pooling, hidden=hidden, dropout=dropout, rng=rng, func=func)
    param = next(base.parameters(), None)
    if param is not None:
        head.to(param.device)
    return TransferModel(base, head, shape_in)


# ------------------------------------------------------------------------------------- pretrained weights
def load_pretrained(*, include_top: bool = False, path: Any = None) -> nn.Module:
    """The source CNN with the committed weights (pretrained on digits 0-4 at 16x16, NCHW).

    Parameters
    ----------
    include_top : bool, default False
        Return the whole source classifier (:class:`TransferModel`, 5 logits for digits 0-4) instead of its
        base (:class:`SourceCNN`, outputs ``(N, 64, 4, 4)``).
    path : str or Path, optional
        Another file written by ``scripts/pretrain_source_cnn.py``.
    """
    state = load_state(path)
    chans = tuple(int(state[f"base.block{i}.conv.weight"].shape[0]) for i in range(1, 1 + sum(
        k.endswith("conv.weight") for k in state)))
    in_ch = int(state["base.block1.conv.weight"].shape[1])
    model = attach_head(source_cnn(in_channels=in_ch, channels=chans), int(state["head.logits.bias"].shape[0]))
    load_state_dict(model, state)
    model.eval()
    return model if include_top else model.base


def pretrain_source(
    *, epochs: int = 10, fine_epochs: int = 3, copies: int = 10, batch_size: int = 32, lr: float = 3e-3,
    n_train: int | None = None, seed: int = 0, progress: bool = False,
) -> tuple[TransferModel, History]:
    """Train the source classifier (digits 0-4, 16x16) from ``source_cnn(rng=seed)`` and a head ``rng=seed + 1``.

    What ``scripts/pretrain_source_cnn.py`` runs, on :func:`coursepkg.transfer.tasks.source_pretraining_set`
    (``copies`` jittered copies of the source training digits; ``n_train`` keeps the first ``n_train`` digits
    for a quick run): ``epochs`` of Adam at ``lr``, then ``fine_epochs`` at ``lr / 10`` (a step decay, which
    settles the weights and their BatchNorm statistics). Deterministic on a given machine with a given number of threads: the data and the
    initial weights come from ``seed`` through NumPy, and :func:`coursepkg.train.torch.fit` seeds the
    shuffling and PyTorch's generator. Returns ``(model, history)``, the model in evaluation mode.
    """
    x, y = source_pretraining_set(copies=copies, n_train=n_train, rng=seed)
    model = attach_head(source_cnn(rng=seed), 5, rng=seed + 1)
    history = fit(model, x, y, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device="cpu", progress=progress)
    if fine_epochs:
        fine = fit(model, x, y, epochs=fine_epochs, batch_size=batch_size, lr=lr / 10, seed=seed + 1, device="cpu",
                   progress=progress)
        for k, v in fine.items():
            history[k].extend(v)
    model.eval()
    return model, history


# ------------------------------------------------------------------------------------- strategies
_THIS = sys.modules[__name__]  # the backend of coursepkg.transfer.strategies


def linear_probe(
    base: nn.Module, x: Any, y: Any, *, num_classes: int | None = None, pooling: str = "flatten", hidden: Sequence[int] = (),
    dropout: float = 0.0, epochs: int = 40, lr: float | None = None, batch_size: int = 16, seed: int = 0, progress: bool = False,
) -> tuple[TransferModel, History]:
    """Feature extraction: freeze all of ``base``, attach a new head and train the head only.

    With ``hidden=()`` the head is one dense layer: a linear probe. ``x`` is ``(N, C, H, W)``; ``lr`` defaults to
    ``DEFAULT_LR["feature_extraction"]`` and ``num_classes`` to ``max(y) + 1``. Returns ``(model, history)``.
    """
    return train_strategy(_THIS, "feature_extraction", base, x, y, num_classes=num_classes, pooling=pooling, hidden=hidden,
                          dropout=dropout, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, progress=progress)


feature_extraction = linear_probe


def partial_fine_tuning(
    base: nn.Module, x: Any, y: Any, *, blocks: int = 1, num_classes: int | None = None, pooling: str = "flatten",
    hidden: Sequence[int] = (), dropout: float = 0.0, epochs: int = 40, lr: float | None = None, batch_size: int = 16,
    seed: int = 0, progress: bool = False,
) -> tuple[TransferModel, History]:
    """Freeze all of ``base`` but its last ``blocks`` top-level layers, attach a head and train. Returns ``(model, history)``."""
    return train_strategy(_THIS, "partial", base, x, y, blocks=blocks, num_classes=num_classes, pooling=pooling,
                          hidden=hidden, dropout=dropout, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                          progress=progress)


def full_fine_tuning(
    base: nn.Module, x: Any, y: Any, *, num_classes: int | None = None, pooling: str = "flatten", hidden: Sequence[int] = (),
    dropout: float = 0.0, epochs: int = 40, lr: float | None = None, batch_size: int = 16, seed: int = 0, progress: bool = False,
) -> tuple[TransferModel, History]:
    """Train all of the pretrained ``base`` and a new head with the low ``DEFAULT_LR["full"]``. Returns ``(model, history)``."""
    return train_strategy(_THIS, "full", base, x, y, num_classes=num_classes, pooling=pooling, hidden=hidden,
                          dropout=dropout, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, progress=progress)


def train_from_scratch(
    base: nn.Module, x: Any, y: Any, *, num_classes: int | None = None, pooling: str = "flatten", hidden: Sequence[int] = (),
    dropout: float = 0.0, epochs: int = 40, lr: float | None = None, batch_size: int = 16, seed: int = 0, progress: bool = False,
) -> tuple[TransferModel, History]:
    """The baseline: train a randomly initialised ``base`` and a head on the target data alone."""
    return train_strategy(_THIS, "scratch", base, x, y, num_classes=num_classes, pooling=pooling, hidden=hidden,
                          dropout=dropout, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, progress=progress)


def compare_strategies(
    base_factory: Callable[[bool], nn.Module] | None,
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
    """Train every strategy on ``(x_train, y_train)`` and score it on ``(x_test, y_test)``.

    Parameters
    ----------
    base_factory : callable or None
        ``base_factory(pretrained)`` returns a fresh base: pretrained weights for ``pretrained=True``, random
        ones for ``"scratch"``. None uses the course's source CNN (:func:`load_pretrained` / ``source_cnn(rng=seed)``).
    x_train, y_train, x_test, y_test : arrays
        Images ``(N, C, H, W)`` and labels ``0 .. K-1``.
    strategies : sequence of {"scratch", "feature_extraction", "partial", "full"}
    lr : float, dict or None
        One learning rate for all, one per strategy, or None for :data:`coursepkg.transfer.strategies.DEFAULT_LR`.
    num_classes, epochs, batch_size, pooling, hidden, dropout : see :func:`attach_head` and :func:`linear_probe`
    blocks : int
        Blocks of the base trained by ``"partial"``.
    seed : int
        Head initialisation, the scratch base, shuffling and dropout.

    Returns
    -------
    list of StrategyResult
        ``(strategy, trainable_params, test_accuracy, seconds)`` per strategy; ``seconds`` is the wall time of
        building and training.
    """
    return _compare(_THIS, base_factory, x_train, y_train, x_test, y_test, strategies=strategies, num_classes=num_classes,
                    epochs=epochs, batch_size=batch_size, lr=lr, pooling=pooling, hidden=hidden, dropout=dropout,
                    blocks=blocks, seed=seed, progress=progress)


def accuracy_vs_labels(
    base_factory: Callable[[bool], nn.Module] | None,
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
    def compare(x_tr: Any, y_tr: Any, x_te: Any, y_te: Any, *, seed: int) -> list[StrategyResult]:
        return compare_strategies(base_factory, x_tr, y_tr, x_te, y_te, seed=seed, **kwargs)

    return _accuracy_vs_labels(compare, x_pool, y_pool, x_test, y_test, per_class=per_class, seeds=seeds)


# ------------------------------------------------------------------------------------- domain adaptation
@torch.no_grad()
def adabn(model: nn.Module, x: Any, *, batch_size: int = 64) -> nn.Module:
    """AdaBN (Li et al., 2016): replace every BatchNorm layer's statistics by those of the target inputs ``x``.

    The running statistics are reset and re-estimated as the average over the batches of ``x`` (momentum
    None) with the BatchNorm layers in training mode and everything else in evaluation mode, without
    gradients; the weights do not change. Labels are not needed. Returns ``model``, adapted in place.

    Parameters
    ----------
    model : torch.nn.Module
    x : array of shape (N, C, H, W)
        Unlabelled target-domain inputs.
    batch_size : int, default 64
        At least 2 (BatchNorm needs two values per channel in training mode).
    """
    func = "adabn"
    bs = as_int(batch_size, "batch_size", func, minimum=2)
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    if not bns:
        raise ValueError(f"{func}: the model has no BatchNorm layer, so there are no statistics to adapt.")
    x = np.asarray(x)
    modes = {m: m.training for m in model.modules()}
    momenta = {m: m.momentum for m in bns}
    device = next(model.parameters()).device
    model.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches
        m.train()
    for s in range(0, len(x), bs):
        model(torch.as_tensor(x[s : s + bs], dtype=torch.float32, device=device))
    for m, mom in momenta.items():
        m.momentum = mom
    for m, mode in modes.items():
        m.training = mode
    return model


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.scale * grad, None


def grad_reverse(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Identity forward; multiplies the gradient by ``-scale`` backward (the gradient reversal of DANN)."""
    return _GradReverse.apply(x, float(scale))


class GradientReversal(nn.Module):
    """Layer form of :func:`grad_reverse`; set ``layer.scale`` (the lambda of DANN) between steps."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return grad_reverse(x, self.scale)

    def extra_repr(self) -> str:
        return f"scale={self.scale}"


class DANN(_FrozenBNEval, nn.Module):
    """Domain-adversarial network: ``features`` shared by a label head and, behind a gradient reversal, a domain head.

    ``model(x)`` returns the class logits ``(N, K)`` (so :func:`coursepkg.train.torch.evaluate` works);
    :meth:`domain_logits` returns ``(N,)``, positive for "target".
    """

    def __init__(self, features: nn.Module, label_head: nn.Module, domain_head: nn.Module) -> None:
        super().__init__()
        self.features, self.label_head, self.domain_head = features, label_head, domain_head
        self.grl = GradientReversal(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.label_head(self.features(x))

    def domain_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.domain_head(self.grl(self.features(x))).reshape(-1)


def dann_model(
    base: nn.Module, num_classes: int, *, pooling: str = "avg", hidden: Sequence[int] = (), domain_hidden: Sequence[int] = (64,),
    input_shape: Sequence[int] | None = None, rng: Any = None,
) -> DANN:
    """A :class:`DANN` on ``base``: a label head as :func:`attach_head` builds it and a domain head with one logit."""
    func = "dann_model"
    gen = as_rng(rng, func)
    _, feature_shape = _base_output_shape(base, input_shape, func)
    label_head = _make_head(feature_shape, num_classes, pooling=pooling, hidden=hidden, dropout=0.0, rng=gen, func=func)
    domain_head = _make_head(feature_shape, 1, pooling=pooling, hidden=domain_hidden, dropout=0.0, rng=gen, func=func)
    return DANN(base, label_head, domain_head)


def dann_fit(
    model: DANN, x_source: Any, y_source: Any, x_target: Any,
    *,
    epochs: int = 10, batch_size: int = 64, lr: float = 1e-3, lambda_max: float = 1.0, gamma: float = 10.0,
    validation_data: tuple[Any, Any] | None = None, seed: int = 0, progress: bool = True,
) -> History:
    """Train a :class:`DANN` on labelled source data and unlabelled target data (Ganin et al., 2016).

    Every step takes a source batch and a target batch of the same size, runs the features on both
    (concatenated) and minimises ``CE(labels of the source half) + BCE(domain of all, source 0 / target 1)``.
    The gradient reversal makes the features *maximise* the domain loss, scaled by
    ``lambda = dann_lambda(step / total_steps, gamma=gamma, lambda_max=lambda_max)``.

    Returns
    -------
    History
        Per epoch: ``loss``, ``label_loss``, ``domain_loss``, ``accuracy`` (source labels), ``domain_accuracy``
        (of the domain head on the training batches: 0.5 is chance), ``lambda``, ``epoch_time`` and, with
        ``validation_data`` (labelled target data, used for monitoring only), ``val_loss``, ``val_accuracy``.
    """
    func = "dann_fit"
    if not isinstance(model, DANN):
        raise TypeError(f"{func}: `model` must be a DANN (build it with dann_model). Received: {type(model).__name__}.")
    xs, ys, xt = np.asarray(x_source), np.asarray(y_source), np.asarray(x_target)
    if len(xs) != len(ys):
        raise ValueError(f"{func}: `x_source` has {len(xs)} samples but `y_source` has {len(ys)}; they must match.")
    if len(xs) == 0 or len(xt) == 0:
        raise ValueError(f"{func}: both domains need samples. Received: len(x_source)={len(xs)}, len(x_target)={len(xt)}.")
    epochs = as_int(epochs, "epochs", func, minimum=1)
    bs = as_int(batch_size, "batch_size", func, minimum=1)
    from tqdm import tqdm

    device = next(model.parameters()).device
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    ce, bce = nn.CrossEntropyLoss(), nn.BCEWithLogitsLoss()
    torch.manual_seed(seed)
    gen = np.random.default_rng(seed)
    steps_per_epoch = -(-len(xs) // bs)
    total, step = epochs * steps_per_epoch, 0
    t_order, t_pos = gen.permutation(len(xt)), 0
    history: History = {}
    for _ in tqdm(range(epochs), desc=f"{func}", unit="epoch", disable=not progress):
        start = time.perf_counter()
        model.train()
        sums = dict(loss=0.0, label_loss=0.0, domain_loss=0.0, accuracy=0.0, domain_accuracy=0.0)
        seen = dom_seen = 0
        s_order = gen.permutation(len(xs))
        for s in range(0, len(xs), bs):
            idx = s_order[s : s + bs]
            if t_pos + len(idx) > len(xt):
                t_order, t_pos = gen.permutation(len(xt)), 0
            tidx = t_order[t_pos : t_pos + len(idx)]
            t_pos += len(idx)
            model.grl.scale = dann_lambda(step / max(total - 1, 1), gamma=gamma, lambda_max=lambda_max)
            xb = torch.as_tensor(np.concatenate([xs[idx], xt[tidx]]), dtype=torch.float32, device=device)
            yb = torch.as_tensor(ys[idx], dtype=torch.long, device=device)
            db = torch.cat([torch.zeros(len(idx)), torch.ones(len(tidx))]).to(device)
            f = model.features(xb)  # source then target
            logits = model.label_head(f[: len(idx)])  # (n_s, K)
            d_logits = model.domain_head(model.grl(f)).reshape(-1)  # (n_s + n_t,)
            label_loss, domain_loss = ce(logits, yb), bce(d_logits, db)
            loss = label_loss + domain_loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            n, m = len(idx), len(db)
            sums["loss"] += float(loss.detach()) * n
            sums["label_loss"] += float(label_loss.detach()) * n
            sums["domain_loss"] += float(domain_loss.detach()) * m
            sums["accuracy"] += float((logits.argmax(1) == yb).sum())
            sums["domain_accuracy"] += float(((d_logits > 0).float() == db).sum())
            seen, dom_seen = seen + n, dom_seen + m
        for k in ("loss", "label_loss", "accuracy"):
            history.setdefault(k, []).append(sums[k] / seen)
        for k in ("domain_loss", "domain_accuracy"):
            history.setdefault(k, []).append(sums[k] / dom_seen)
        history.setdefault("lambda", []).append(model.grl.scale)
        if validation_data is not None:
            for k, v in evaluate(model, *validation_data, device=device).items():
                history.setdefault(f"val_{k}", []).append(v)
        history.setdefault("epoch_time", []).append(time.perf_counter() - start)
    model.eval()
    return history


@torch.no_grad()
def domain_accuracy(model: DANN, x_source: Any, x_target: Any, *, batch_size: int = 256) -> float:
    """Accuracy of the model's domain head at telling source (0) from target (1), in evaluation mode (0.5 = chance)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for x, label in ((np.asarray(x_source), 0), (np.asarray(x_target), 1)):
        for s in range(0, len(x), batch_size):
            d = model.domain_logits(torch.as_tensor(x[s : s + batch_size], dtype=torch.float32, device=device))
            correct += int(((d > 0).long() == label).sum())
    model.train(was_training)
    return correct / (len(x_source) + len(x_target))
