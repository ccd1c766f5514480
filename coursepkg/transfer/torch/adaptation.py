"""Domain adaptation in PyTorch: AdaBN, gradient reversal and the domain-adversarial network (DANN).

Explained in {ref}`sec-transfer`. :func:`adabn` re-estimates BatchNorm statistics on unlabelled target data;
:func:`dann_model` and :func:`dann_fit` train features that a domain classifier cannot tell apart. The
framework-free half (the schedule of lambda, the loop over paired batches, the domain accuracy) is in
:mod:`coursepkg.transfer.domain`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..._validation import as_int, as_rng
from ...train.history import History
from ...train.torch import evaluate
from ..domain import check_dann_data, dann_loop
from ..domain import domain_accuracy as _domain_accuracy
from .freezing import _FrozenBNEval
from .heads import _base_output_shape, _make_head

__all__ = ["DANN", "GradientReversal", "adabn", "dann_fit", "dann_model", "domain_accuracy", "grad_reverse"]


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
    ``lambda = dann_lambda(step / total_steps, gamma=gamma, lambda_max=lambda_max)``
    (:func:`coursepkg.transfer.domain.dann_loop` pairs the batches and keeps the history).

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
    epochs, bs = check_dann_data(xs, ys, xt, epochs=epochs, batch_size=batch_size, func=func)

    device = next(model.parameters()).device
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    ce, bce = nn.CrossEntropyLoss(), nn.BCEWithLogitsLoss()
    torch.manual_seed(seed)

    def step(idx: np.ndarray, tidx: np.ndarray, lam: float) -> tuple[float, float, float, float, float]:
        model.grl.scale = lam
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
        return (float(loss.detach()), float(label_loss.detach()), float(domain_loss.detach()),
                float((logits.argmax(1) == yb).sum()), float(((d_logits > 0).float() == db).sum()))

    def validate() -> dict[str, float]:
        return evaluate(model, *validation_data, device=device)

    history = dann_loop(step, len(xs), len(xt), epochs=epochs, batch_size=bs, gamma=gamma, lambda_max=lambda_max,
                        rng=np.random.default_rng(seed), validate=None if validation_data is None else validate,
                        on_epoch=model.train, progress=progress, desc=func)
    model.eval()
    return history


@torch.no_grad()
def domain_accuracy(model: DANN, x_source: Any, x_target: Any, *, batch_size: int = 256) -> float:
    """Accuracy of the model's domain head at telling source (0) from target (1), in evaluation mode (0.5 = chance)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device

    def logits(x: np.ndarray) -> np.ndarray:
        return model.domain_logits(torch.as_tensor(x, dtype=torch.float32, device=device)).cpu().numpy()

    accuracy = _domain_accuracy(logits, np.asarray(x_source), np.asarray(x_target), batch_size=batch_size)
    model.train(was_training)
    return accuracy
