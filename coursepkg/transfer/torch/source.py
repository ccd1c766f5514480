"""The course's source CNN in PyTorch: the network, its committed pretrained weights, and its pretraining.

Explained in {ref}`sec-transfer`. :func:`source_cnn` builds the base (conv blocks, no head) with initial
weights drawn with NumPy (:mod:`coursepkg.transfer.weights`), :func:`load_pretrained` loads the committed
weights, and :func:`pretrain_source` is the training that ``scripts/pretrain_source_cnn.py`` runs to make them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from torch import nn

from ...train.history import History
from ...train.torch import fit
from ..tasks import source_pretraining_set
from ..weights import (
    BN_EPS, BN_MOMENTUM, SOURCE_CHANNELS, SOURCE_INPUT_SIZE, check_source_cnn, init_source_state, load_state, source_architecture,
)
from .freezing import _FrozenBNEval
from .heads import TransferModel, attach_head
from .state import load_state_dict

__all__ = ["SourceCNN", "load_pretrained", "pretrain_source", "source_cnn"]


class SourceCNN(_FrozenBNEval, nn.Sequential):
    """The course's small CNN without a head: ``block1 .. blockB`` of conv 3x3 -> BatchNorm -> ReLU (-> max-pool 2x2).

    Shape:
        - Input: ``(N, in_channels, S, S)``.
        - Output: ``(N, channels[-1], S', S')`` with ``S' = floor(S / 2**(B-1))`` (every block but the last halves
          the side): ``(N, 64, 4, 4)`` for the default 16x16 input.

    Attributes
    ----------
    input_shape : tuple of int
        ``(in_channels, S, S)``, used by :func:`coursepkg.transfer.torch.attach_head`.
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
    >>> import torch
    >>> from coursepkg.transfer.torch import trainable_summary
    >>> base = source_cnn(rng=0)
    >>> base(torch.zeros(2, 1, 16, 16)).shape, trainable_summary(base).total
    (torch.Size([2, 64, 4, 4]), 23408)
    """
    size, c_in, chans = check_source_cnn(input_size=input_size, in_channels=in_channels, channels=channels, func="source_cnn")
    model = SourceCNN(input_size=size, in_channels=c_in, channels=chans)
    load_state_dict(model, init_source_state(in_channels=c_in, channels=chans, rng=rng))
    return model


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
    in_ch, chans, num_classes = source_architecture(state)
    model = attach_head(source_cnn(in_channels=in_ch, channels=chans), num_classes)
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
