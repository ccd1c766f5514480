"""``fit`` and ``evaluate`` for PyTorch models, with a tqdm progress bar, history and early stopping.

Data are NumPy arrays in the model's layout (images (N, C, H, W), sequences (N, T, D)). Runs are repeatable on
a CPU: ``fit`` seeds PyTorch and the shuffling from ``seed``; call :func:`seed_everything` before building
the model to make its initial weights repeatable too.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from .._validation import as_int
from .history import LOSSES, EarlyStopping, History, check_xy



def seed_everything(seed: int) -> None:
    """Seed PyTorch (CPU and CUDA) so that model initialisation and dropout repeat."""
    torch.manual_seed(as_int(seed, "seed", "seed_everything", minimum=0))


def default_device() -> torch.device:
    """CUDA when a GPU is visible, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _loss_fn(loss: str):
    if loss == "cross_entropy":
        return nn.CrossEntropyLoss()
    if loss == "bce":
        return nn.BCEWithLogitsLoss()
    if loss == "mse":
        return nn.MSELoss()
    raise ValueError(f"fit: `loss` must be one of {LOSSES}. Received: loss={loss!r}.")


def _targets(y: np.ndarray, loss: str) -> torch.Tensor:
    if loss == "cross_entropy":
        return torch.as_tensor(np.asarray(y), dtype=torch.long)
    t = torch.as_tensor(np.asarray(y), dtype=torch.float32)
    return t


def _correct(out: torch.Tensor, target: torch.Tensor, loss: str) -> int | None:
    if loss == "cross_entropy":
        return int((out.argmax(dim=1) == target).sum())
    if loss == "bce":
        return int(((out.reshape(target.shape) > 0).float() == target).sum())
    return None


@torch.no_grad()
def evaluate(
    model: nn.Module, x: Any, y: Any, *, loss: str = "cross_entropy", batch_size: int = 256, device: Any = None
) -> dict[str, float]:
    """Mean loss (and accuracy for classification) of ``model`` on ``(x, y)`` in evaluation mode.

    Returns
    -------
    dict with ``loss`` and, for ``cross_entropy`` and ``bce``, ``accuracy``
    """
    x, y = check_xy(x, y, "evaluate")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    criterion = _loss_fn(loss)
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        xb = torch.as_tensor(x[start : start + batch_size], dtype=torch.float32, device=device)
        yb = _targets(y[start : start + batch_size], loss).to(device)
        out = model(xb)
        if loss != "cross_entropy":
            out = out.reshape(yb.shape)
        total_loss += float(criterion(out, yb)) * len(xb)
        c = _correct(out, yb, loss)
        correct += c or 0
    model.train(was_training)
    result = {"loss": total_loss / len(x)}
    if loss in ("cross_entropy", "bce"):
        result["accuracy"] = correct / len(x)
    return result


@torch.no_grad()
def predict(model: nn.Module, x: Any, *, batch_size: int = 256) -> np.ndarray:
    """Model outputs (logits) for ``x`` in evaluation mode, as a NumPy array."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    outs = [
        model(torch.as_tensor(np.asarray(x[s : s + batch_size]), dtype=torch.float32, device=device)).cpu().numpy()
        for s in range(0, len(x), batch_size)
    ]
    model.train(was_training)
    return np.concatenate(outs)


def fit(
    model: nn.Module,
    x: Any,
    y: Any,
    *,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 1e-3,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    loss: str = "cross_entropy",
    validation_data: tuple[Any, Any] | None = None,
    early_stopping: EarlyStopping | None = None,
    clip_norm: float | None = None,
    drop_last: bool = False,
    seed: int = 0,
    device: Any = None,
    progress: bool = True,
) -> History:
    """Train ``model`` with mini-batch gradient descent and return its history.

    Parameters
    ----------
    model : torch.nn.Module
        Returns logits: (N, K) for ``cross_entropy``, (N,) or (N, 1) for ``bce``, the target's shape for ``mse``.
    x, y : array_like
        Training inputs in the model's layout and targets (class indices for ``cross_entropy``).
    epochs, batch_size, lr : int, int, float
    optimizer : {"adam", "sgd", "sgd_momentum"}
    weight_decay : float
        PyTorch's ``weight_decay``: for Adam and SGD, an L2 penalty ``weight_decay * w`` added to the gradient
        (coupled). :func:`coursepkg.train.keras.fit` uses Keras's decoupled AdamW for ``"adam"``, so the same
        number regularises differently there (see the layer-zoo chapter).
    loss : {"cross_entropy", "bce", "mse"}
    validation_data : (x_val, y_val), optional
        Evaluated after every epoch (``val_loss``, ``val_accuracy``).
    early_stopping : EarlyStopping, optional
        Stops training and restores the weights of the best epoch.
    clip_norm : float, optional
        Clip the global gradient norm (``torch.nn.utils.clip_grad_norm_``) before each step.
    drop_last : bool, default False
        Skip the last, incomplete batch of every epoch, as ``torch.utils.data.DataLoader(drop_last=True)``
        does: ``len(x) % batch_size`` examples (a different few every epoch, since the order is shuffled) are
        not trained on that epoch. Batch normalisation estimates its statistics from each batch, and a
        remainder of a few examples (3 of the 1,347 training digits with ``batch_size=64``) gives one very
        noisy step per epoch. The reported ``loss`` and ``accuracy`` are means over the examples trained on.
    seed : int
        Seeds the shuffling and PyTorch's random number generator (dropout).
    device : str or torch.device, optional
        Defaults to CUDA when available, else the CPU.
    progress : bool
        Show a tqdm progress bar over the epochs.

    Returns
    -------
    History
        ``{"loss": [...], "accuracy": [...], "val_loss": [...], "val_accuracy": [...], "epoch_time": [...]}``,
        one entry per epoch run; ``accuracy`` keys only for classification losses.
    """
    x, y = check_xy(x, y, "fit")
    epochs = as_int(epochs, "epochs", "fit", minimum=1)
    batch_size = as_int(batch_size, "batch_size", "fit", minimum=1)
    if not isinstance(drop_last, bool):
        raise TypeError(f"fit: `drop_last` must be True or False. Received: drop_last={drop_last!r}.")
    if drop_last and batch_size > len(x):
        raise ValueError(
            f"fit: with drop_last=True and batch_size={batch_size} > {len(x)} samples, every batch is "
            "incomplete and nothing would be trained. Use a smaller batch_size or drop_last=False."
        )
    n_used = len(x) - len(x) % batch_size if drop_last else len(x)  # examples trained on per epoch
    criterion = _loss_fn(loss)
    device = torch.device(device) if device is not None else default_device()
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("fit: the model has no trainable parameters; unfreeze some layers first.")
    if optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    elif optimizer == "sgd_momentum":
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    else:
        raise ValueError(f'fit: `optimizer` must be "adam", "sgd" or "sgd_momentum". Received: optimizer={optimizer!r}.')
    torch.manual_seed(seed)
    order_rng = np.random.default_rng(seed)
    history: History = {}
    best_state = None
    bar = tqdm(range(epochs), desc=f"fit {type(model).__name__}", unit="epoch", disable=not progress)
    for epoch in bar:
        start = time.perf_counter()
        model.train()
        order = order_rng.permutation(len(x))
        total_loss, correct = 0.0, 0
        for s in range(0, n_used, batch_size):
            idx = order[s : s + batch_size]
            xb = torch.as_tensor(x[idx], dtype=torch.float32, device=device)
            yb = _targets(y[idx], loss).to(device)
            out = model(xb)
            if loss != "cross_entropy":
                out = out.reshape(yb.shape)
            batch_loss = criterion(out, yb)
            opt.zero_grad()
            batch_loss.backward()
            if clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, clip_norm)
            opt.step()
            total_loss += float(batch_loss.detach()) * len(idx)
            correct += _correct(out.detach(), yb, loss) or 0
        history.setdefault("loss", []).append(total_loss / n_used)
        if loss in ("cross_entropy", "bce"):
            history.setdefault("accuracy", []).append(correct / n_used)
        if validation_data is not None:
            for k, v in evaluate(model, *validation_data, loss=loss, device=device).items():
                history.setdefault(f"val_{k}", []).append(v)
        history.setdefault("epoch_time", []).append(time.perf_counter() - start)
        bar.set_postfix({k: f"{v[-1]:.4f}" for k, v in history.items() if k != "epoch_time"})
        if early_stopping is not None:
            improved, stop = early_stopping.update(history, epoch)
            if improved:
                best_state = copy.deepcopy(model.state_dict())
            if stop:
                break
    bar.close()
    if early_stopping is not None and best_state is not None:
        model.load_state_dict(best_state)
    return history
