"""``fit`` and ``evaluate`` for Keras models, with the same signatures as :mod:`coursepkg.train.torch`.

Data are NumPy arrays in the model's layout (images (N, H, W, C), Keras's default). Runs are repeatable on a
CPU: ``fit`` calls ``keras.utils.set_random_seed(seed)`` (Python, NumPy and TensorFlow) and enables
TensorFlow's deterministic ops; call :func:`seed_everything` before building the model as well.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .._validation import as_int
from .history import LOSSES, EarlyStopping, History, check_xy



def _keras():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``) and make TF ops deterministic."""
    keras = _keras()
    import tensorflow as tf

    keras.utils.set_random_seed(as_int(seed, "seed", "seed_everything", minimum=0))
    tf.config.experimental.enable_op_determinism()


def _loss(loss: str):
    keras = _keras()
    if loss == "cross_entropy":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True), [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    if loss == "bce":
        return keras.losses.BinaryCrossentropy(from_logits=True), [keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)]
    if loss == "mse":
        return keras.losses.MeanSquaredError(), []
    raise ValueError(f"fit: `loss` must be one of {LOSSES}. Received: loss={loss!r}.")


def _optimizer(name: str, lr: float, weight_decay: float):
    keras = _keras()
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=lr) if not weight_decay else keras.optimizers.AdamW(learning_rate=lr, weight_decay=weight_decay)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, weight_decay=weight_decay or None)
    if name == "sgd_momentum":
        return keras.optimizers.SGD(learning_rate=lr, momentum=0.9, weight_decay=weight_decay or None)
    raise ValueError(f'fit: `optimizer` must be "adam", "sgd" or "sgd_momentum". Received: optimizer={name!r}.')


def _outputs(model, x: Any, batch_size: int) -> np.ndarray:
    """Inference-mode outputs, batch by batch. Calling the model eagerly, rather than ``model.predict``,
    avoids building a new ``tf.function`` for every model, which TensorFlow reports as "retracing" warnings
    in notebooks that evaluate several models."""
    x = np.asarray(x, dtype=np.float32)
    return np.concatenate(
        [np.asarray(model(x[s : s + batch_size], training=False)) for s in range(0, len(x), batch_size)]
    )


def evaluate(model, x: Any, y: Any, *, loss: str = "cross_entropy", batch_size: int = 256) -> dict[str, float]:
    """Mean loss (and accuracy for classification) of a compiled or uncompiled ``model`` on ``(x, y)``."""
    x, y = check_xy(x, y, "evaluate")
    loss_fn, metrics = _loss(loss)
    out = _outputs(model, x, batch_size)
    yy = y.astype(np.float32).reshape(out.shape) if loss != "cross_entropy" else y
    result = {"loss": float(loss_fn(yy, out))}
    for m in metrics:
        m.update_state(yy, out)
        result["accuracy"] = float(m.result())
    return result


def predict(model, x: Any, *, batch_size: int = 256) -> np.ndarray:
    """Model outputs (logits) for ``x``, as a NumPy array."""
    return _outputs(model, x, batch_size)


def fit(
    model,
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
    """Compile and train a Keras ``model``; same arguments and history as :func:`coursepkg.train.torch.fit`.

    The model must output logits (no final softmax/sigmoid), as the course's builders do. ``weight_decay``
    with ``"adam"`` selects Keras's AdamW (decoupled weight decay), unlike PyTorch's coupled L2 in
    :func:`coursepkg.train.torch.fit`. ``device`` is
    accepted for symmetry and ignored: TensorFlow places work on a visible GPU by itself.
    ``clip_norm`` is Keras's ``global_clipnorm``. ``drop_last=True`` skips the last, incomplete batch of every
    epoch, as in PyTorch; Keras's ``fit`` has no such option for arrays, so the batches then come from a
    shuffled ``tf.data.Dataset`` batched with ``drop_remainder=True``.

    Returns
    -------
    History
        ``{"loss", "accuracy", "val_loss", "val_accuracy", "epoch_time"}`` lists, one entry per epoch run.
    """
    keras = _keras()
    from tqdm import tqdm

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
    loss_fn, metrics = _loss(loss)
    opt = _optimizer(optimizer, lr, weight_decay)
    if clip_norm is not None:
        opt.global_clipnorm = clip_norm
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=opt, loss=loss_fn, metrics=metrics)
    yy = y if loss == "cross_entropy" else y.astype(np.float32)

    history: History = {}
    best_weights = None
    bar = tqdm(total=epochs, desc=f"fit {model.name}", unit="epoch", disable=not progress)

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            nonlocal best_weights
            for k, v in (logs or {}).items():
                if k in ("loss", "accuracy", "val_loss", "val_accuracy"):
                    history.setdefault(k, []).append(float(v))
            history.setdefault("epoch_time", []).append(time.perf_counter() - self.start)
            bar.update(1)
            bar.set_postfix({k: f"{v[-1]:.4f}" for k, v in history.items() if k != "epoch_time"})
            if early_stopping is not None:
                improved, stop = early_stopping.update(history, epoch)
                if improved:
                    best_weights = [w.copy() for w in self.model.get_weights()]
                if stop:
                    self.model.stop_training = True

    val = None
    if validation_data is not None:
        xv, yv = check_xy(*validation_data, "fit")
        val = (xv.astype(np.float32), yv if loss == "cross_entropy" else yv.astype(np.float32))
    if drop_last:
        import tensorflow as tf

        data = tf.data.Dataset.from_tensor_slices((x.astype(np.float32), yy))
        data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(batch_size, drop_remainder=True)
        model.fit(data, epochs=epochs, validation_data=val, shuffle=False, verbose=0, callbacks=[Record()])
    else:
        model.fit(
            x.astype(np.float32), yy, epochs=epochs, batch_size=batch_size, validation_data=val,
            shuffle=True, verbose=0, callbacks=[Record()],
        )
    bar.close()
    if early_stopping is not None and best_weights is not None:
        model.set_weights(best_weights)
    return history
