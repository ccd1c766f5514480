"""New heads for a pretrained base in Keras 3: pooling or flattening, optional hidden layers, the logits.

Explained in {ref}`sec-transfer`. :func:`attach_head` returns a functional model ``head(base(inputs))``; the
head's initial weights are drawn with NumPy (:func:`coursepkg.transfer.weights.init_head_state`) and loaded
through :mod:`~coursepkg.transfer.keras.state`, so the same ``rng`` gives the head of
:mod:`coursepkg.transfer.torch.heads`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from ..._validation import as_int, as_rng
from ..weights import POOLINGS, head_features, init_head_state
from .state import load_state_dict

__all__ = ["POOLINGS", "attach_head"]


def _make_head(
    feature_shape: tuple[int, ...], num_classes: int, *, pooling: str, hidden: Sequence[int], dropout: float, rng: Any,
    func: str, name: str = "head",
) -> keras.Sequential:
    pool, features = head_features(feature_shape, pooling=pooling, dropout=dropout, channel_axis=-1, func=func)
    gen = as_rng(rng, func)
    layers: list[Any] = [keras.Input(feature_shape)]
    if pool:
        pool_layer = keras.layers.GlobalAveragePooling2D if pooling == "avg" else keras.layers.GlobalMaxPooling2D
        layers.append(pool_layer(name=f"{name}_pool"))  # (N, C)
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
    >>> from coursepkg.transfer.keras import source_cnn, trainable_summary
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
