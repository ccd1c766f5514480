"""The course's source CNN as NumPy arrays: its initialisation, and the committed pretrained weights.

Explained in {ref}`sec-transfer`. One file, ``coursepkg/transfer/weights/source_cnn.npz``, holds the
weights of the source CNN pretrained on digits 0-4 by ``scripts/pretrain_source_cnn.py``, in PyTorch's
naming and layout (``state_dict`` keys, conv weights ``(F, C, KH, KW)``, dense weights ``(out, in)``).
:func:`coursepkg.transfer.torch.load_pretrained` loads it as it is; :func:`coursepkg.transfer.keras.load_pretrained`
loads the same arrays through :mod:`coursepkg.ops.layout` (``(KH, KW, C, F)``, ``(in, out)``), so that the
two frameworks compute the same function (a test checks the logits agree).

The architecture, both frameworks (``source_cnn`` + ``attach_head(..., pooling="avg")``)::

    block{i}, i = 1, 2, 3:  conv 3x3 (padding 1, no bias) -> BatchNorm (eps 1e-5) -> ReLU [-> max-pool 2x2 for i < 3]
    channels 16, 32, 64;    16x16 input -> (16, 8, 8) -> (32, 4, 4) -> (64, 4, 4)
    head:                   global average pooling -> (64,) -> dense 64 -> 5 (logits)

Initial weights are drawn here, with NumPy, from PyTorch's default scheme (uniform in
``+-1/sqrt(fan_in)`` for conv and dense weights and biases; BatchNorm scale 1, shift 0), so one ``rng`` gives
the same initial network in both frameworks. The checks both frameworks' builders share live here too
(:func:`check_source_cnn`, :func:`head_features`, :func:`check_state_names`, :func:`source_architecture`), so
that the twins accept the same arguments and fail with the same messages. Importing this module imports NumPy only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import as_int, as_rng

__all__ = [
    "BN_EPS",
    "BN_MOMENTUM",
    "POOLINGS",
    "SOURCE_CHANNELS",
    "SOURCE_INPUT_SIZE",
    "SOURCE_WEIGHTS",
    "check_source_cnn",
    "check_state_names",
    "head_features",
    "head_state_shapes",
    "init_head_state",
    "init_source_state",
    "load_state",
    "save_state",
    "source_architecture",
    "source_state_shapes",
]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SOURCE_WEIGHTS = WEIGHTS_DIR / "source_cnn.npz"
"""The committed weights of the pretrained source classifier (base + 5-way head)."""
SOURCE_CHANNELS = (16, 32, 64)
SOURCE_INPUT_SIZE = 16
BN_EPS = 1e-5  # PyTorch's default; Keras's is 1e-3, so the Keras builder passes it explicitly
BN_MOMENTUM = 0.1  # PyTorch's convention (weight of the new batch); Keras's momentum is 1 - 0.1 = 0.9
POOLINGS = ("avg", "max", "flatten")
"""How a head turns the base's feature maps into vectors: global average or max pooling, or flattening."""


def _check_channels(channels: Sequence[int], func: str) -> tuple[int, ...]:
    if isinstance(channels, (str, bytes)) or not isinstance(channels, Sequence) or len(channels) == 0:
        raise TypeError(f"{func}: `channels` must be a non-empty sequence of ints. Received: channels={channels!r}.")
    return tuple(as_int(c, "channels", func, minimum=1) for c in channels)


def check_source_cnn(*, input_size: int, in_channels: int, channels: Sequence[int], func: str) -> tuple[int, int, tuple[int, ...]]:
    """The arguments of both frameworks' ``source_cnn``, validated: ``(input_size, in_channels, channels)``.

    Raises
    ------
    TypeError
        If ``channels`` is not a non-empty sequence of ints.
    ValueError
        If a number is below 1, or ``input_size`` is below ``2**(len(channels) - 1)`` (every block but the last
        halves the side).

    Examples
    --------
    >>> check_source_cnn(input_size=16, in_channels=1, channels=[16, 32], func="source_cnn")
    (16, 1, (16, 32))
    """
    chans = _check_channels(channels, func)
    size = as_int(input_size, "input_size", func, minimum=1)
    if size < 2 ** (len(chans) - 1):
        raise ValueError(
            f"{func}: `input_size`={size} is too small for {len(chans)} blocks: each block but the last halves the "
            f"side, so it must be at least {2 ** (len(chans) - 1)}."
        )
    return size, as_int(in_channels, "in_channels", func, minimum=1), chans


def source_state_shapes(*, in_channels: int = 1, channels: Sequence[int] = SOURCE_CHANNELS) -> dict[str, tuple[int, ...]]:
    """Names and shapes of the base's arrays, in PyTorch's ``state_dict`` order (no ``num_batches_tracked``).

    Examples
    --------
    >>> shapes = source_state_shapes()
    >>> shapes["block1.conv.weight"], shapes["block3.bn.running_var"]
    ((16, 1, 3, 3), (64,))
    >>> sum(int(np.prod(s)) for k, s in shapes.items() if "running" not in k)  # learned parameters
    23408
    """
    func = "source_state_shapes"
    chans = _check_channels(channels, func)
    c_in = as_int(in_channels, "in_channels", func, minimum=1)
    shapes: dict[str, tuple[int, ...]] = {}
    for i, c in enumerate(chans, start=1):
        shapes[f"block{i}.conv.weight"] = (c, c_in, 3, 3)
        for name in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"block{i}.bn.{name}"] = (c,)
        c_in = c
    return shapes


def head_state_shapes(in_features: int, num_classes: int, *, hidden: Sequence[int] = ()) -> dict[str, tuple[int, ...]]:
    """Names and shapes of a head's dense layers: ``hidden{j}`` for each hidden width, then ``logits``."""
    func = "head_state_shapes"
    fan_in = as_int(in_features, "in_features", func, minimum=1)
    shapes: dict[str, tuple[int, ...]] = {}
    for j, h in enumerate(hidden):
        h = as_int(h, "hidden", func, minimum=1)
        shapes[f"hidden{j}.weight"], shapes[f"hidden{j}.bias"] = (h, fan_in), (h,)
        fan_in = h
    k = as_int(num_classes, "num_classes", func, minimum=1)
    shapes["logits.weight"], shapes["logits.bias"] = (k, fan_in), (k,)
    return shapes


def head_features(
    feature_shape: Sequence[int], *, pooling: str, dropout: float, channel_axis: int, func: str
) -> tuple[bool, int]:
    """Check a head's arguments; return whether it pools globally and the width F its first dense layer sees.

    Parameters
    ----------
    feature_shape : (C, H, W), (H, W, C) or (F,)
        The base's output for one example; ``channel_axis`` (0 in PyTorch, -1 in Keras) says where C is.
    pooling : {"avg", "max", "flatten"}
        Feature maps are pooled to ``(N, C)`` or flattened to ``(N, C*H*W)``; vectors need ``"flatten"``.
    dropout : float
        In [0, 1).

    Raises
    ------
    ValueError
        If ``pooling`` or ``dropout`` is out of range, or a pooling is asked of vectors.

    Examples
    --------
    >>> head_features((64, 4, 4), pooling="avg", dropout=0.0, channel_axis=0, func="attach_head")
    (True, 64)
    >>> head_features((4, 4, 64), pooling="flatten", dropout=0.5, channel_axis=-1, func="attach_head")
    (False, 1024)
    """
    if pooling not in POOLINGS:
        raise ValueError(f"{func}: `pooling` must be one of {POOLINGS}. Received: pooling={pooling!r}.")
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"{func}: `dropout` must be in [0, 1). Received: dropout={dropout}.")
    if len(feature_shape) == 3 and pooling != "flatten":
        return True, int(feature_shape[channel_axis])
    if len(feature_shape) == 1 and pooling != "flatten":
        raise ValueError(f'{func}: the base already outputs vectors of shape (N, {feature_shape[0]}); use pooling="flatten".')
    return False, int(np.prod(feature_shape))


def _uniform(gen: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    bound = 1.0 / np.sqrt(fan_in)  # PyTorch: kaiming_uniform_(a=sqrt(5)) for weights, U(+-1/sqrt(fan_in)) for biases
    return gen.uniform(-bound, bound, size=shape).astype(np.float32)


def init_source_state(
    *, in_channels: int = 1, channels: Sequence[int] = SOURCE_CHANNELS, rng: Any = None
) -> dict[str, np.ndarray]:
    """Initial weights of the source CNN's base, drawn with NumPy from PyTorch's default scheme.

    Parameters
    ----------
    in_channels : int, default 1
    channels : sequence of int, default (16, 32, 64)
        Output channels of the conv blocks.
    rng : None, int or numpy.random.Generator
        Conv weights are drawn block after block from this generator.

    Returns
    -------
    dict of str to ndarray (float32)
        Keys and shapes of :func:`source_state_shapes`; BatchNorm ``weight`` 1, ``bias`` 0,
        ``running_mean`` 0, ``running_var`` 1.
    """
    gen = as_rng(rng, "init_source_state")
    state = {}
    for name, shape in source_state_shapes(in_channels=in_channels, channels=channels).items():
        if name.endswith("conv.weight"):
            state[name] = _uniform(gen, shape, int(np.prod(shape[1:])))
        elif name.endswith(("bn.weight", "running_var")):
            state[name] = np.ones(shape, np.float32)
        else:
            state[name] = np.zeros(shape, np.float32)
    return state


def init_head_state(
    in_features: int, num_classes: int, *, hidden: Sequence[int] = (), rng: Any = None
) -> dict[str, np.ndarray]:
    """Initial weights of a head (see :func:`head_state_shapes`), PyTorch's ``nn.Linear`` scheme, drawn with NumPy."""
    gen = as_rng(rng, "init_head_state")
    state = {}
    for name, shape in head_state_shapes(in_features, num_classes, hidden=hidden).items():
        fan_in = shape[1] if name.endswith("weight") else state[name.replace("bias", "weight")].shape[1]
        state[name] = _uniform(gen, shape, fan_in)
    return state


def save_state(state: dict[str, Any], path: str | Path) -> Path:
    """Write a ``{name: array}`` state to a compressed ``.npz`` file (parent folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray(v) for k, v in state.items()}
    np.savez_compressed(path, **arrays)
    return path


def load_state(path: str | Path | None = None) -> dict[str, np.ndarray]:
    """Read a state written by :func:`save_state`; by default the committed pretrained source CNN.

    Returns
    -------
    dict of str to ndarray
        PyTorch ``state_dict`` names: ``base.block{i}.conv.weight``, ``base.block{i}.bn.*``,
        ``head.logits.weight``, ``head.logits.bias`` for the committed weights.

    Raises
    ------
    FileNotFoundError
        If the file is missing; the message says how to regenerate the committed weights.
    """
    path = SOURCE_WEIGHTS if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"load_state: no weights file at {path}. The committed weights are regenerated (in under a minute, "
            "offline) with `python scripts/pretrain_source_cnn.py`; pass path=... to load another file."
        )
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def source_architecture(state: Mapping[str, Any]) -> tuple[int, tuple[int, ...], int]:
    """``(in_channels, channels, num_classes)`` of the source classifier whose arrays :func:`load_state` returned.

    Examples
    --------
    >>> source_architecture(load_state())
    (1, (16, 32, 64), 5)
    """
    n_blocks = sum(k.endswith("conv.weight") for k in state)
    chans = tuple(int(state[f"base.block{i}.conv.weight"].shape[0]) for i in range(1, n_blocks + 1))
    return int(state["base.block1.conv.weight"].shape[1]), chans, int(state["head.logits.bias"].shape[0])


def check_state_names(expected: Iterable[str], state: Mapping[str, Any], func: str) -> None:
    """Raise unless ``state`` has exactly the array names ``expected`` (both frameworks' ``load_state_dict``).

    Raises
    ------
    ValueError
        Listing the missing and the unexpected names.
    """
    own = set(expected)
    missing, unexpected = sorted(own - set(state)), sorted(set(state) - own)
    if missing or unexpected:
        raise ValueError(
            f"{func}: the arrays do not match the model. Missing: {missing}; unexpected: {unexpected}. "
            "Build the model with the same architecture (channels, head) as the one that was saved."
        )
