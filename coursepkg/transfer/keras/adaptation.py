"""Domain adaptation in Keras 3: AdaBN, gradient reversal and the domain-adversarial network (DANN).

Explained in {ref}`sec-transfer`. The functions of :mod:`coursepkg.transfer.torch.adaptation`, with NHWC
images; :func:`dann_fit`'s step is a ``tf.function`` with a ``tf.GradientTape``. The framework-free half (the
schedule of lambda, the loop over paired batches, the domain accuracy) is in :mod:`coursepkg.transfer.domain`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..._validation import as_int, as_rng
from ...train.history import History
from ...train.keras import evaluate
from ..domain import check_dann_data, dann_loop
from ..domain import domain_accuracy as _domain_accuracy
from .heads import _input_shape, _make_head
from .paths import leaves

__all__ = ["DANN", "GradientReversal", "adabn", "dann_fit", "dann_model", "domain_accuracy", "grad_reverse"]


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
    all_leaves = leaves(model)
    bns = [layer for layer in all_leaves if isinstance(layer, keras.layers.BatchNormalization)]
    if not bns:
        raise ValueError(f"{func}: the model has no BatchNormalization layer, so there are no statistics to adapt.")
    drops = [layer for layer in all_leaves if isinstance(layer, keras.layers.Dropout)]
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
    ``dann_lambda(step / total_steps)``; the step is a ``tf.function`` with a ``tf.GradientTape``
    (:func:`coursepkg.transfer.domain.dann_loop` pairs the batches and keeps the history).
    """
    func = "dann_fit"
    if not isinstance(model, DANN):
        raise TypeError(f"{func}: `model` must be a DANN (build it with dann_model). Received: {type(model).__name__}.")
    xs, ys, xt = np.asarray(x_source, np.float32), np.asarray(y_source), np.asarray(x_target, np.float32)
    epochs, bs = check_dann_data(xs, ys, xt, epochs=epochs, batch_size=batch_size, func=func)

    keras.utils.set_random_seed(seed)
    opt = keras.optimizers.Adam(learning_rate=lr)
    variables = model.trainable_variables
    opt.build(variables)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function(reduce_retracing=True)
    def train_step(xb, yb, db, lam, n_source):
        with tf.GradientTape() as tape:
            f = model.features(xb, training=True)  # source then target
            logits = model.label_head(f[:n_source], training=True)  # (n_s, K)
            d = tf.reshape(model.domain_head(grad_reverse(f, lam), training=True), [-1])  # (n_s + n_t,)
            label_loss, domain_loss = ce(yb, logits), bce(db, d)
            loss = label_loss + domain_loss
        grads = tape.gradient(loss, variables)
        opt.apply_gradients(zip(grads, variables))
        return loss, label_loss, domain_loss, logits, d

    def step(idx: np.ndarray, tidx: np.ndarray, lam: float) -> tuple[float, float, float, float, float]:
        model.grl.scale = lam
        db = np.concatenate([np.zeros(len(idx)), np.ones(len(tidx))]).astype(np.float32)
        loss, label_loss, domain_loss, logits, d = train_step(
            tf.constant(np.concatenate([xs[idx], xt[tidx]])), tf.constant(ys[idx]), tf.constant(db),
            tf.constant(lam, tf.float32), tf.constant(len(idx)),
        )
        return (float(loss), float(label_loss), float(domain_loss),
                float(np.sum(np.argmax(logits.numpy(), 1) == ys[idx])), float(np.sum((d.numpy() > 0) == (db > 0.5))))

    def validate() -> dict[str, float]:
        return evaluate(model, *validation_data)

    return dann_loop(step, len(xs), len(xt), epochs=epochs, batch_size=bs, gamma=gamma, lambda_max=lambda_max,
                     rng=np.random.default_rng(seed), validate=None if validation_data is None else validate,
                     progress=progress, desc=func)


def domain_accuracy(model: DANN, x_source: Any, x_target: Any, *, batch_size: int = 256) -> float:
    """Accuracy of the model's domain head at telling source (0) from target (1), in inference mode (0.5 = chance)."""
    return _domain_accuracy(lambda x: model.domain_logits(x, training=False), np.asarray(x_source, np.float32),
                            np.asarray(x_target, np.float32), batch_size=batch_size)
