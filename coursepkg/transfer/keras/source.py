"""The course's source CNN in Keras 3: the network and its committed pretrained weights (trained in PyTorch).

Explained in {ref}`sec-transfer`. :func:`source_cnn` builds the base (conv blocks, no head) with the initial
weights PyTorch's twin gets from the same ``rng`` (:mod:`coursepkg.transfer.weights`); :func:`load_pretrained`
loads the committed weights through the layout mapping of :mod:`~coursepkg.transfer.keras.state`. The weights
are trained by :func:`coursepkg.transfer.torch.pretrain_source`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from ..weights import (
    BN_EPS, BN_MOMENTUM, SOURCE_CHANNELS, SOURCE_INPUT_SIZE, check_source_cnn, init_source_state, load_state, source_architecture,
)
from .heads import attach_head
from .state import load_state_dict

__all__ = ["load_pretrained", "source_cnn"]


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
    >>> from coursepkg.transfer.keras import trainable_summary
    >>> base = source_cnn(rng=0)
    >>> base.output_shape, trainable_summary(base).total
    ((None, 4, 4, 64), 23408)
    """
    size, c_in, chans = check_source_cnn(input_size=input_size, in_channels=in_channels, channels=channels, func="source_cnn")
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


def load_pretrained(*, include_top: bool = False, path: Any = None) -> keras.Model:
    """The source CNN with the committed weights (trained in PyTorch, loaded through the layout mapping); NHWC.

    ``include_top=True`` returns the whole source classifier (5 logits, digits 0-4), otherwise its base
    (outputs ``(N, 4, 4, 64)``). ``path`` loads another file written by ``scripts/pretrain_source_cnn.py``.
    """
    state = load_state(path)
    in_ch, chans, num_classes = source_architecture(state)
    base = source_cnn(in_channels=in_ch, channels=chans)
    model = attach_head(base, num_classes)
    load_state_dict(model, state)
    return model if include_top else base
