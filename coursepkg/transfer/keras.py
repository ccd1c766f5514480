"""Transfer learning in Keras 3: freezing, heads, the pretrained source CNN, strategies, AdaBN, DANN, applications.

Explained in {ref}`sec-transfer`. The functions and arguments are those of :mod:`coursepkg.transfer.torch`;
models take NHWC images (``input_shape`` is ``(H, W, C)``). Layers are addressed by dotted paths of layer
names (``"base.block3"``) or by a name that is unique in the model (``"block3"``); the course's models also
accept PyTorch's names (``"base.block3.conv"`` for the layer ``block3_conv``), so the same names work in
both frameworks.

**Frozen BatchNorm.** In Keras 3 a ``BatchNormalization`` layer with ``trainable = False`` runs in inference
mode whatever ``training`` says: it normalises with its moving statistics and does not update them (TF 1
and Keras 2 needed ``base(x, training=False)`` for that). :func:`freeze` relies on it: freezing is per layer
(containers stay ``trainable = True``; their leaves carry the flags), so a frozen base keeps its statistics
during ``fit`` exactly as :mod:`coursepkg.transfer.torch` arranges with :func:`set_bn_eval`. ``fit`` compiles
the model, so flags changed between two ``fit`` calls take effect.

:func:`applications_model` and :func:`preprocess_input`, the ``keras.applications`` wrappers, are defined in
:mod:`coursepkg.transfer.applications` and importable from here.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from .._validation import as_int, as_rng  # noqa: E402
from ..ops.layout import conv_weight_from_keras, conv_weight_to_keras, dense_weight_to_keras, flatten_dense_weight_to_keras  # noqa: E402
from ..train.history import History  # noqa: E402
from ..train.keras import evaluate, fit  # noqa: E402
from .domain import dann_lambda  # noqa: E402
from .applications import APPLICATIONS, PretrainedWeightsUnavailableError, applications_model, preprocess_input  # noqa: E402
from .results import StrategyResult, TrainableSummary  # noqa: E402
from .strategies import DEFAULT_LR, STRATEGIES, train_strategy  # noqa: E402
from .strategies import accuracy_vs_labels as _accuracy_vs_labels  # noqa: E402
from .strategies import compare_strategies as _compare  # noqa: E402
from .weights import (  # noqa: E402
    BN_EPS, BN_MOMENTUM, SOURCE_CHANNELS, SOURCE_INPUT_SIZE, _check_channels, init_head_state, init_source_state, load_state,
)

__all__ = [
    "APPLICATIONS", "DANN", "DEFAULT_LR", "GradientReversal", "PretrainedWeightsUnavailableError", "accuracy_vs_labels",
    "adabn", "applications_model", "attach_head", "compare_strategies", "dann_fit", "dann_model", "domain_accuracy",
    "feature_extraction", "freeze", "full_fine_tuning", "grad_reverse", "linear_probe", "load_pretrained",
    "load_state_dict", "partial_fine_tuning", "preprocess_input", "set_bn_eval", "source_cnn", "state_dict",
    "train_from_scratch", "trainable_summary", "unfreeze",
]



# --------------------------------------------------------------------------------------------- the layer tree
def _children(layer: Any) -> list[Any]:
    return [s for s in getattr(layer, "layers", []) if not isinstance(s, keras.layers.InputLayer)]


def _tree(model: Any) -> list[tuple[str, str, Any]]:
    """Every layer under ``model`` as ``(torch_path, keras_path, layer)``, parents before children.

    The PyTorch-style name of a layer ``P_suffix`` inside a container ``P`` is ``suffix`` (``block1_conv`` in
    ``block1`` is ``block1.conv``); the model's own name is not part of the paths.
    """
    out: list[tuple[str, str, Any]] = []

    def walk(container: Any, tprefix: str, kprefix: str) -> None:
        for sub in _children(container):
            comp = sub.name[len(container.name) + 1 :] if sub.name.startswith(container.name + "_") else sub.name
            tpath, kpath = tprefix + comp, kprefix + sub.name
            out.append((tpath, kpath, sub))
            walk(sub, tpath + ".", kpath + ".")

    walk(model, "", "")
    return out


def _leaves(layer: Any) -> list[Any]:
    subs = _children(layer)
    return [layer] if not subs else [leaf for s in subs for leaf in _leaves(s)]


def _resolve(model: Any, name: str, func: str) -> Any:
    tree = _tree(model)
    for tpath, kpath, layer in tree:
        if name in (tpath, kpath):
            return layer
    hits = {id(layer): layer for tpath, kpath, layer in tree if name in (tpath.split(".")[-1], kpath.split(".")[-1])}
    if len(hits) == 1:
        return next(iter(hits.values()))
    if hits:
        names = [k for _, k, layer in tree if id(layer) in hits]
        raise ValueError(f"{func}: the name {name!r} is ambiguous; it matches {names}. Use the full dotted name.")
    top = [s.name for s in _children(model)]
    raise ValueError(f"{func}: the model has no layer named {name!r}. Its top-level layers are {top}.")


def _select(model: Any, layers: Any, func: str, *, last: bool) -> list[Any]:
    if isinstance(layers, str):
        if layers == "all":
            return [model]
        raise ValueError(
            f'{func}: `layers` must be "all", an int or a list of layer names. Received: layers={layers!r}; '
            f"to select one layer pass layers=[{layers!r}]."
        )
    if isinstance(layers, (int, np.integer)) and not isinstance(layers, bool):
        top = [s for s in _children(model) if s.weights]
        k = as_int(layers, "layers", func, minimum=0)
        if k > len(top):
            raise ValueError(
                f"{func}: `layers`={k} but the model has only {len(top)} top-level layers with parameters "
                f"({[s.name for s in top]})."
            )
        return top[len(top) - k :] if last else top[: len(top) - k]
    if isinstance(layers, Sequence):
        return [_resolve(model, str(n), func) for n in layers]
    raise TypeError(f'{func}: `layers` must be "all", an int or a list of layer names. Received: {layers!r}.')


def _containers_trainable(model: Any) -> None:
    """Make every container trainable without changing any leaf's flag (the flags live on the leaves)."""
    layers = [model] + [layer for _, _, layer in _tree(model)]
    flags = {id(leaf): leaf.trainable for leaf in _leaves(model)}
    for layer in layers:
        if _children(layer) and not layer.trainable:
            layer.trainable = True  # propagates down: restore the leaves below
    for leaf in _leaves(model):
        if leaf.trainable != flags[id(leaf)]:
            leaf.trainable = flags[id(leaf)]


def freeze(model: Any, *, layers: str | int | Sequence[str] = "all") -> Any:
    """Stop training some layers (``trainable = False`` on their leaves); returns ``model``.

    ``layers`` is ``"all"``; an int ``k``: every top-level layer with weights except the last ``k`` (left as
    they are); or layer names. Frozen ``BatchNormalization`` layers run in inference mode (Keras 3).

    Raises
    ------
    ValueError
        If a name matches no layer or several, or ``k`` exceeds the number of top-level layers.
    """
    _containers_trainable(model)
    for layer in _select(model, layers, "freeze", last=False):
        for leaf in _leaves(layer):
            leaf.trainable = False
    return model


def unfreeze(model: Any, *, layers: str | int | Sequence[str] = "all") -> Any:
    """Train some layers again; an int ``k`` selects the last ``k`` top-level layers. Returns ``model``."""
    _containers_trainable(model)
    for layer in _select(model, layers, "unfreeze", last=True):
        for leaf in _leaves(layer):
            leaf.trainable = True
    return model


def _moving_stats(model: Any) -> set[int]:
    return {
        id(v) for leaf in _leaves(model) if isinstance(leaf, keras.layers.BatchNormalization)
        for v in (leaf.moving_mean, leaf.moving_variance)
    }


def trainable_summary(model: Any) -> TrainableSummary:
    """Counts of trainable and frozen parameters (BatchNorm moving statistics are state and not counted).

    Examples
    --------
    >>> trainable_summary(freeze(source_cnn(), layers=1))
    TrainableSummary(trainable=18560, frozen=4848)
    """
    stats = _moving_stats(model)
    trainable = {id(v) for v in model.trainable_weights}
    counts = [0, 0]
    seen: set[int] = set()
    for v in model.weights:
        if id(v) in seen or id(v) in stats:
            continue
        seen.add(id(v))
        counts[id(v) not in trainable] += int(np.prod(v.shape))
    return TrainableSummary(*counts)


def set_bn_eval(model: Any) -> list[str]:
    """Names of the ``BatchNormalization`` layers that run in inference mode because they are frozen.

    Nothing to switch in Keras 3 (a frozen BatchNorm layer always runs in inference mode); the function
    exists so that code written for :func:`coursepkg.transfer.torch.set_bn_eval` runs unchanged.
    """
    return [t for t, _, layer in _tree(model) if isinstance(layer, keras.layers.BatchNormalization) and not layer.trainable]


# ------------------------------------------------------------------------------------- weights as arrays
def _leaf_arrays(leaf: Any, flatten_chw: tuple[int, int, int] | None) -> list[tuple[str, Any, Callable, Callable]]:
    """``(torch suffix, keras variable, to_keras, from_keras)`` for the weights of one leaf."""
    ident = lambda a: np.asarray(a)  # noqa: E731
    if isinstance(leaf, keras.layers.Conv2D):
        out = [("weight", leaf.kernel, conv_weight_to_keras, conv_weight_from_keras)]
        return out + ([("bias", leaf.bias, ident, ident)] if leaf.use_bias else [])
    if isinstance(leaf, keras.layers.BatchNormalization):
        out = []
        if leaf.scale:
            out.append(("weight", leaf.gamma, ident, ident))
        if leaf.center:
            out.append(("bias", leaf.beta, ident, ident))
        return out + [("running_mean", leaf.moving_mean, ident, ident), ("running_var", leaf.moving_variance, ident, ident)]
    if isinstance(leaf, keras.layers.Dense):
        if flatten_chw is not None:
            c, h, w = flatten_chw

            def to_k(a: Any, chw: tuple[int, int, int] = flatten_chw) -> np.ndarray:
                return flatten_dense_weight_to_keras(a, chw)

            def from_k(a: Any) -> np.ndarray:  # (H*W*C, out) -> (out, C*H*W)
                return np.ascontiguousarray(np.asarray(a).reshape(h, w, c, -1).transpose(3, 2, 0, 1).reshape(-1, c * h * w))
        else:
            to_k, from_k = dense_weight_to_keras, lambda a: np.ascontiguousarray(np.asarray(a).T)
        out = [("weight", leaf.kernel, to_k, from_k)]
        return out + ([("bias", leaf.bias, ident, ident)] if leaf.use_bias else [])
    if leaf.weights:
        raise ValueError(f"state_dict: no PyTorch mapping for the weights of layer {leaf.name!r} ({type(leaf).__name__}).")
    return []


def _mapping(model: Any) -> dict[str, tuple[Any, Callable, Callable]]:
    mapping: dict[str, tuple[Any, Callable, Callable]] = {}
    flatten_chw = None
    for tpath, _, layer in _tree(model):
        if isinstance(layer, keras.layers.Flatten):
            shape = tuple(layer.input.shape[1:])
            flatten_chw = (shape[2], shape[0], shape[1]) if len(shape) == 3 else None
            continue
        if _children(layer):
            continue
        for suffix, var, to_k, from_k in _leaf_arrays(layer, flatten_chw):
            mapping[f"{tpath}.{suffix}"] = (var, to_k, from_k)
        if isinstance(layer, keras.layers.Dense):
            flatten_chw = None
    return mapping


def state_dict(model: Any) -> dict[str, np.ndarray]:
    """The weights in PyTorch's names and layouts (what :func:`coursepkg.transfer.torch.state_dict` returns)."""
    return {k: from_k(var.numpy()) for k, (var, _, from_k) in _mapping(model).items()}


def load_state_dict(model: Any, state: Mapping[str, Any]) -> Any:
    """Load arrays in PyTorch's names and layouts (conv ``(F, C, KH, KW)``, dense ``(out, in)``) into ``model``.

    Flattened heads are permuted with :func:`coursepkg.ops.layout.flatten_dense_weight_to_keras`, so a model
    loaded from PyTorch arrays computes the same function. Returns ``model``.

    Raises
    ------
    ValueError
        If names are missing or unexpected, or a shape differs.
    """
    mapping = _mapping(model)
    missing, unexpected = sorted(set(mapping) - set(state)), sorted(set(state) - set(mapping))
    if missing or unexpected:
        raise ValueError(
            f"load_state_dict: the arrays do not match the model. Missing: {missing}; unexpected: {unexpected}. "
            "Build the model with the same architecture (channels, head) as the one that was saved."
        )
    for k, (var, to_k, _) in mapping.items():
        arr = to_k(np.asarray(state[k]))
        if tuple(arr.shape) != tuple(var.shape):
            raise ValueError(
                f"load_state_dict: {k!r} gives shape {arr.shape} in Keras's layout but the layer expects {tuple(var.shape)}."
            )
        var.assign(arr.astype(var.dtype))
    return model


# ------------------------------------------------------------------------------------- source CNN, heads
def source_cnn(
    *, input_size: int = SOURCE_INPUT_SIZE, in_channels: int = 1, channels: Sequence[int] = SOURCE_CHANNELS, rng: Any = None
) -> keras.Sequential:
    """The course's source CNN (randomly initialised base, no head), named ``"base"``; NHWC.

    Blocks ``block1 .. blockB`` (Sequential models) of ``block{i}_conv`` (3x3, "same", no bias) ->
    ``block{i}_bn`` (epsilon 1e-5, momentum 0.9: PyTorch's) -> ``block{i}_relu`` (-> ``block{i}_pool``, 2x2).

    Returns
    -------
    keras.Sequential
        Input ``(N, S, S, in_channels)``, output ``(N, S // 2**(B-1), S // 2**(B-1), channels[-1])``: ``(N, 4, 4, 64)``
        and 23,408 parameters with the defaults. The same ``rng`` gives the same weights as
        :func:`coursepkg.transfer.torch.source_cnn`.

    Examples
    --------
    >>> base = source_cnn(rng=0)
    >>> base.output_shape, trainable_summary(base).total
    ((None, 4, 4, 64), 23408)
    """
    func = "source_cnn"
    chans = _check_channels(channels, func)
    size = as_int(input_size, "input_size", func, minimum=1)
    if size < 2 ** (len(chans) - 1):
        raise ValueError(
            f"{func}: `input_size`={size} is too small for {len(chans)} blocks: each block but the last halves the "
            f"side, so it must be at least {2 ** (len(chans) - 1)}."
        )
    c_in = as_int(in_channels, "in_channels", func, minimum=1)
    blocks = []
    for i, c in enumerate(chans, start=1):
        layers = [
            keras.layers.Conv2D(c, 3, padding="same", use_bias=False, name=f"block{i}_conv"),  # (N, s, s, c)
            keras.layers.BatchNormalization(epsilon=BN_EPS, momentum=1.0 - BN_MOMENTUM, name=f"block{i}_bn"),
            keras.layers.ReLU(name=f"block{i}_relu"),
        ]
        if i < len(chans):
            layers.append(keras.layers.MaxPooling2D(2, name=f"block{i}_pool"))  # (N, s // 2, s // 2, c)
        blocks.append(keras.Sequential(layers, name=f"block{i}"))
    model = keras.Sequential([keras.Input((size, size, c_in)), *blocks], name="base")
    load_state_dict(model, init_source_state(in_channels=c_in, channels=chans, rng=rng))
    return model


POOLINGS = ("avg", "max", "flatten")


def _make_head(
    feature_shape: tuple[int, ...], num_classes: int, *, pooling: str, hidden: Sequence[int], dropout: float, rng: Any,
    func: str, name: str = "head",
) -> keras.Sequential:
    if pooling not in POOLINGS:
        raise ValueError(f"{func}: `pooling` must be one of {POOLINGS}. Received: pooling={pooling!r}.")
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"{func}: `dropout` must be in [0, 1). Received: dropout={dropout}.")
    gen = as_rng(rng, func)
    layers: list[Any] = [keras.Input(feature_shape)]
    if len(feature_shape) == 3 and pooling != "flatten":
        pool = keras.layers.GlobalAveragePooling2D if pooling == "avg" else keras.layers.GlobalMaxPooling2D
        layers.append(pool(name=f"{name}_pool"))  # (N, C)
        features = feature_shape[-1]
    elif len(feature_shape) == 1 and pooling != "flatten":
        raise ValueError(f'{func}: the base already outputs vectors of shape (N, {feature_shape[0]}); use pooling="flatten".')
    else:
        features = int(np.prod(feature_shape))
    layers.append(keras.layers.Flatten(name=f"{name}_flatten"))  # (N, F)
    state = init_head_state(features, as_int(num_classes, "num_classes", func, minimum=1), hidden=hidden, rng=gen)
    for j, h in enumerate(hidden):
        if dropout:
            layers.append(keras.layers.Dropout(dropout, seed=int(gen.integers(2**31)), name=f"{name}_dropout{j}"))
        layers.append(keras.layers.Dense(int(h), activation="relu", name=f"{name}_hidden{j}"))  # (N, h)
    if dropout:
        layers.append(keras.layers.Dropout(dropout, seed=int(gen.integers(2**31)), name=f"{name}_dropout"))
    layers.append(keras.layers.Dense(int(num_classes), name=f"{name}_logits"))  # (N, K)
    head = keras.Sequential(layers, name=name)
    load_state_dict(head, state)
    return head


def _input_shape(base: Any, input_shape: Any, func: str) -> tuple[int, ...]:
    if input_shape is not None:
        return tuple(int(s) for s in input_shape)
    try:
        shape = tuple(base.input_shape[1:])
    except (AttributeError, ValueError) as exc:
        raise ValueError(f"{func}: cannot tell the base's input shape; pass input_shape=(H, W, C).") from exc
    if any(s is None for s in shape):
        raise ValueError(f"{func}: the base's input shape {shape} is not fully known; pass input_shape=(H, W, C).")
    return shape


def attach_head(
    base: Any,
    num_classes: int,
    *,
    pooling: str = "avg",
    hidden: Sequence[int] = (),
    dropout: float = 0.0,
    input_shape: Sequence[int] | None = None,
    rng: Any = None,
) -> keras.Model:
    """A new functional model ``head(base(inputs))`` named ``"transfer_model"``; ``base`` is shared, not copied.

    Arguments as in :func:`coursepkg.transfer.torch.attach_head` (``input_shape`` is ``(H, W, C)``). The head is
    a Sequential model named ``"head"`` with layers ``head_pool``, ``head_flatten``, ``head_hidden{j}``,
    ``head_logits``; the same ``rng`` gives PyTorch's head (after flattening, the dense weights are permuted
    from NCHW to NHWC order).

    Returns
    -------
    keras.Model
        Logits ``(N, K)``; the head has ``F*h0 + h0 + ... + K`` parameters (325 for the source CNN, avg pooling, K = 5).

    Examples
    --------
    >>> model = attach_head(source_cnn(rng=0), 5, rng=0)
    >>> model.output_shape, trainable_summary(model.get_layer("head")).total
    ((None, 5), 325)
    """
    func = "attach_head"
    if not isinstance(base, keras.layers.Layer):
        raise TypeError(f"{func}: `base` must be a Keras model or layer. Received an object of type {type(base).__name__}.")
    inputs = keras.Input(_input_shape(base, input_shape, func))
    features = base(inputs)  # (N, H', W', C) or (N, F)
    head = _make_head(tuple(features.shape[1:]), num_classes, pooling=pooling, hidden=hidden, dropout=dropout, rng=rng, func=func)
    return keras.Model(inputs, head(features), name="transfer_model")


# ------------------------------------------------------------------------------------- pretrained weights
def load_pretrained(*, include_top: bool = False, path: Any = None) -> keras.Model:
    """The source CNN with the committed weights (trained in PyTorch, loaded through the layout mapping); NHWC.

    ``include_top=True`` returns the whole source classifier (5 logits, digits 0-4), otherwise its base
    (outputs ``(N, 4, 4, 64)``). ``path`` loads another file written by ``scripts/pretrain_source_cnn.py``.
    """
    state = load_state(path)
    n_blocks = sum(k.endswith("conv.weight") for k in state)
    chans = tuple(int(state[f"base.block{i}.conv.weight"].shape[0]) for i in range(1, n_blocks + 1))
    in_ch = int(state["base.block1.conv.weight"].shape[1])
    base = source_cnn(in_channels=in_ch, channels=chans)
    model = attach_head(base, int(state["head.logits.bias"].shape[0]))
    load_state_dict(model, state)
    return model if include_top else base


# ------------------------------------------------------------------------------------- strategies
_THIS = sys.modules[__name__]  # the backend of coursepkg.transfer.strategies


def linear_probe(
    base: Any, x: Any, y: Any, *, num_classes: int | None = None, pooling: str = "flatten", hidden: Sequence[int] = (),
    dropout: float = 0.0, epochs: int = 40, lr: float | None = None, batch_size: int = 16, seed: int = 0, progress: bool = False,
) -> tuple[keras.Model, History]:
    """Feature extraction: freeze all of ``base``, attach a new head and train the head only.

    With ``hidden=()`` the head is one dense layer: a linear probe. ``x`` is ``(N, H, W, C)``; ``lr`` defaults to
    ``DEFAULT_LR["feature_extraction"]`` and ``num_classes`` to ``max(y) + 1``. Returns ``(model, history)``.
    """
    return train_strategy(_THIS, "feature_extraction", base, x, y, num_classes=num_classes, pooling=pooling, hidden=hidden,
                          dropout=dropout, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, progress=progress)


feature_extraction = linear_probe


def partial_fine_tuning(
    base: Any, x: Any, y: Any, *, blocks: int = 1, num_classes: int | None = None, pooling: str = "flatten",
    hidden: Sequence[int] = (), dropout: float = 0.0, epochs: int = 40, lr: float | None = None, batch_size: int = 16,
    seed: int = 0, progress: bool = False,
) -> tuple[keras.Model, History]:
    """Freeze all of ``base`` but its last ``blocks`` top-level layers, attach a head and train. Returns ``(model, history)``."""
    return train_strategy(_THIS, "partial", base, x, y, blocks=blocks, num_classes=num_classes, pooling=pooling,
                          hidden=hidden, dropout=dropout, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                          progress=progress)


def full_fine_tuning(
    base: Any, x: Any, y: Any, *, num_classes: int | None = None, pooling: str = "flatten", hidden: Sequence[int] = (),
    dropout: float = 0.0, epochs: int = 40, lr: float | None = None, batch_size: int = 16, seed: int = 0, progress: bool = False,
) -> tuple[keras.Model, History]:
    """Train all of the pretrained ``base`` and a new head with the low ``DEFAULT_LR["full"]``. Returns ``(model, history)``."""
    return train_strategy(_THIS, "full", base, x, y, num_classes=num_classes, pooling=pooling, hidden=hidden,
                          dropout=dropout, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, progress=progress)


def train_from_scratch(
    base: Any, x: Any, y: Any, *, num_classes: int | None = None, pooling: str = "flatten", hidden: Sequence[int] = (),
    dropout: float = 0.0, epochs: int = 40, lr: float | None = None, batch_size: int = 16, seed: int = 0, progress: bool = False,
) -> tuple[keras.Model, History]:
    """The baseline: train a randomly initialised ``base`` and a head on the target data alone."""
    return train_strategy(_THIS, "scratch", base, x, y, num_classes=num_classes, pooling=pooling, hidden=hidden,
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
    """Train every strategy on ``(x_train, y_train)`` and score it on ``(x_test, y_test)``.

    Parameters
    ----------
    base_factory : callable or None
        ``base_factory(pretrained)`` returns a fresh base: pretrained weights for ``pretrained=True``, random
        ones for ``"scratch"``. None uses the course's source CNN (:func:`load_pretrained` / ``source_cnn(rng=seed)``).
    x_train, y_train, x_test, y_test : arrays
        Images ``(N, H, W, C)`` and labels ``0 .. K-1``.
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
    def compare(x_tr: Any, y_tr: Any, x_te: Any, y_te: Any, *, seed: int) -> list[StrategyResult]:
        return compare_strategies(base_factory, x_tr, y_tr, x_te, y_te, seed=seed, **kwargs)

    return _accuracy_vs_labels(compare, x_pool, y_pool, x_test, y_test, per_class=per_class, seeds=seeds)


# ------------------------------------------------------------------------------------- domain adaptation
def adabn(model: Any, x: Any, *, batch_size: int = 64) -> Any:
    """AdaBN: replace every ``BatchNormalization`` layer's moving statistics by those of the target inputs ``x``.

    The moving statistics are reset and re-estimated as the average over the batches of ``x`` (momentum
    ``i / (i + 1)`` at batch ``i``) by calling the model with ``training=True``; frozen BatchNorm layers are made
    trainable for the pass and Dropout rates set to 0, then both are restored. The weights do not change.
    Keras's batch variance is the biased one (PyTorch's running variance is unbiased), a negligible
    difference for batches of 64. Returns ``model``, adapted in place.
    """
    func = "adabn"
    bs = as_int(batch_size, "batch_size", func, minimum=2)
    leaves = _leaves(model)
    bns = [layer for layer in leaves if isinstance(layer, keras.layers.BatchNormalization)]
    if not bns:
        raise ValueError(f"{func}: the model has no BatchNormalization layer, so there are no statistics to adapt.")
    drops = [layer for layer in leaves if isinstance(layer, keras.layers.Dropout)]
    saved = [(layer, layer.momentum, layer.trainable) for layer in bns]
    rates = [(layer, layer.rate) for layer in drops]
    x = np.asarray(x, dtype=np.float32)
    try:
        for layer in bns:
            layer.trainable = True
            layer.moving_mean.assign(np.zeros(layer.moving_mean.shape, np.float32))
            layer.moving_variance.assign(np.ones(layer.moving_variance.shape, np.float32))
        for layer in drops:
            layer.rate = 0.0
        for i, s in enumerate(range(0, len(x), bs)):
            for layer in bns:
                layer.momentum = i / (i + 1)  # moving = (i * moving + batch) / (i + 1): the running average
            model(x[s : s + bs], training=True)
    finally:
        for layer, momentum, trainable in saved:
            layer.momentum, layer.trainable = momentum, trainable
        for layer, rate in rates:
            layer.rate = rate
    return model


def grad_reverse(x: Any, scale: float = 1.0) -> tf.Tensor:
    """Identity forward; multiplies the gradient by ``-scale`` backward (``tf.custom_gradient``)."""
    x = tf.convert_to_tensor(x)
    s = tf.stop_gradient(tf.cast(scale, x.dtype))

    @tf.custom_gradient
    def _reverse(t: tf.Tensor):
        def grad(dy: tf.Tensor) -> tf.Tensor:
            return -s * dy

        return tf.identity(t), grad

    return _reverse(x)


class GradientReversal(keras.layers.Layer):
    """Layer form of :func:`grad_reverse`; set ``layer.scale`` (the lambda of DANN) between steps."""

    def __init__(self, scale: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, x: Any) -> tf.Tensor:
        return grad_reverse(x, self.scale)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale}


class DANN(keras.Model):
    """Domain-adversarial network: ``features`` shared by a label head and, behind a gradient reversal, a domain head.

    ``model(x)`` returns the class logits ``(N, K)``; :meth:`domain_logits` returns ``(N,)``, positive for "target".
    """

    def __init__(self, features: Any, label_head: Any, domain_head: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.features, self.label_head, self.domain_head = features, label_head, domain_head
        self.grl = GradientReversal(0.0)
        self.built = True  # the three parts are built models (they start with keras.Input)

    def call(self, x: Any, training: bool | None = None) -> Any:
        return self.label_head(self.features(x, training=training), training=training)

    def domain_logits(self, x: Any, training: bool | None = None) -> Any:
        f = self.grl(self.features(x, training=training))
        return keras.ops.reshape(self.domain_head(f, training=training), (-1,))


def dann_model(
    base: Any, num_classes: int, *, pooling: str = "avg", hidden: Sequence[int] = (), domain_hidden: Sequence[int] = (64,),
    input_shape: Sequence[int] | None = None, rng: Any = None,
) -> DANN:
    """A :class:`DANN` on ``base``: a label head as :func:`attach_head` builds it and a domain head with one logit."""
    func = "dann_model"
    gen = as_rng(rng, func)
    shape = _input_shape(base, input_shape, func)
    feature_shape = tuple(base.compute_output_shape((None, *shape))[1:])
    label_head = _make_head(feature_shape, num_classes, pooling=pooling, hidden=hidden, dropout=0.0, rng=gen, func=func)
    domain_head = _make_head(feature_shape, 1, pooling=pooling, hidden=domain_hidden, dropout=0.0, rng=gen, func=func,
                             name="domain")
    model = DANN(base, label_head, domain_head, name="dann")
    dummy = np.zeros((1, *shape), np.float32)
    model(dummy)
    model.domain_logits(dummy)
    return model


def dann_fit(
    model: DANN, x_source: Any, y_source: Any, x_target: Any,
    *,
    epochs: int = 10, batch_size: int = 64, lr: float = 1e-3, lambda_max: float = 1.0, gamma: float = 10.0,
    validation_data: tuple[Any, Any] | None = None, seed: int = 0, progress: bool = True,
) -> History:
    """Train a :class:`DANN`; the same loop and history as :func:`coursepkg.transfer.torch.dann_fit` (NHWC images).

    Each step runs the features on a source batch and a target batch of the same size (concatenated) and
    minimises ``CE(source labels) + BCE(domain)`` with the domain gradient reversed and scaled by
    ``dann_lambda(step / total_steps)``; the step is a ``tf.function`` with a ``tf.GradientTape``.
    """
    func = "dann_fit"
    if not isinstance(model, DANN):
        raise TypeError(f"{func}: `model` must be a DANN (build it with dann_model). Received: {type(model).__name__}.")
    xs, ys, xt = np.asarray(x_source, np.float32), np.asarray(y_source), np.asarray(x_target, np.float32)
    if len(xs) != len(ys):
        raise ValueError(f"{func}: `x_source` has {len(xs)} samples but `y_source` has {len(ys)}; they must match.")
    if len(xs) == 0 or len(xt) == 0:
        raise ValueError(f"{func}: both domains need samples. Received: len(x_source)={len(xs)}, len(x_target)={len(xt)}.")
    epochs = as_int(epochs, "epochs", func, minimum=1)
    bs = as_int(batch_size, "batch_size", func, minimum=1)
    from tqdm import tqdm

    keras.utils.set_random_seed(seed)
    opt = keras.optimizers.Adam(learning_rate=lr)
    variables = model.trainable_variables
    opt.build(variables)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function(reduce_retracing=True)
    def step(xb, yb, db, lam, n_source):
        with tf.GradientTape() as tape:
            f = model.features(xb, training=True)  # source then target
            logits = model.label_head(f[:n_source], training=True)  # (n_s, K)
            d = tf.reshape(model.domain_head(grad_reverse(f, lam), training=True), [-1])  # (n_s + n_t,)
            label_loss, domain_loss = ce(yb, logits), bce(db, d)
            loss = label_loss + domain_loss
        grads = tape.gradient(loss, variables)
        opt.apply_gradients(zip(grads, variables))
        return loss, label_loss, domain_loss, logits, d

    gen = np.random.default_rng(seed)
    steps_per_epoch = -(-len(xs) // bs)
    total, n_step = epochs * steps_per_epoch, 0
    t_order, t_pos = gen.permutation(len(xt)), 0
    history: History = {}
    for _ in tqdm(range(epochs), desc=func, unit="epoch", disable=not progress):
        start = time.perf_counter()
        sums = dict(loss=0.0, label_loss=0.0, domain_loss=0.0, accuracy=0.0, domain_accuracy=0.0)
        seen = dom_seen = 0
        s_order = gen.permutation(len(xs))
        for s in range(0, len(xs), bs):
            idx = s_order[s : s + bs]
            if t_pos + len(idx) > len(xt):
                t_order, t_pos = gen.permutation(len(xt)), 0
            tidx = t_order[t_pos : t_pos + len(idx)]
            t_pos += len(idx)
            lam = dann_lambda(n_step / max(total - 1, 1), gamma=gamma, lambda_max=lambda_max)
            model.grl.scale = lam
            db = np.concatenate([np.zeros(len(idx)), np.ones(len(tidx))]).astype(np.float32)
            loss, label_loss, domain_loss, logits, d = step(
                tf.constant(np.concatenate([xs[idx], xt[tidx]])), tf.constant(ys[idx]), tf.constant(db),
                tf.constant(lam, tf.float32), tf.constant(len(idx)),
            )
            n_step += 1
            n, m = len(idx), len(db)
            sums["loss"] += float(loss) * n
            sums["label_loss"] += float(label_loss) * n
            sums["domain_loss"] += float(domain_loss) * m
            sums["accuracy"] += float(np.sum(np.argmax(logits.numpy(), 1) == ys[idx]))
            sums["domain_accuracy"] += float(np.sum((d.numpy() > 0) == (db > 0.5)))
            seen, dom_seen = seen + n, dom_seen + m
        for k in ("loss", "label_loss", "accuracy"):
            history.setdefault(k, []).append(sums[k] / seen)
        for k in ("domain_loss", "domain_accuracy"):
            history.setdefault(k, []).append(sums[k] / dom_seen)
        history.setdefault("lambda", []).append(model.grl.scale)
        if validation_data is not None:
            for k, v in evaluate(model, *validation_data).items():
                history.setdefault(f"val_{k}", []).append(v)
        history.setdefault("epoch_time", []).append(time.perf_counter() - start)
    return history


def domain_accuracy(model: DANN, x_source: Any, x_target: Any, *, batch_size: int = 256) -> float:
    """Accuracy of the model's domain head at telling source (0) from target (1), in inference mode (0.5 = chance)."""
    correct = 0
    for x, label in ((np.asarray(x_source, np.float32), 0), (np.asarray(x_target, np.float32), 1)):
        for s in range(0, len(x), batch_size):
            d = np.asarray(model.domain_logits(x[s : s + batch_size], training=False))
            correct += int(np.sum((d > 0) == bool(label)))
    return correct / (len(x_source) + len(x_target))
