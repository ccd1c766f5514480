"""Grader-provided operations a check may call on what the student built: ``Call("@forward", (Ref("block"), x))``.

A framework answer (a residual block, a trained CNN) is an object, not plain data. These operations run next
to the student's code (they must: the object lives there), take it and plain inputs, and return plain data:
outputs as NumPy arrays, parameter counts, parameter arrays. They accept a PyTorch ``nn.Module`` or a Keras
``Layer``/``Model`` alike, so a task can leave the framework to the student.

Layout: inputs and outputs are NCHW / ``(N, C)`` as everywhere in the course; a Keras model gets NHWC and its
4-D output is moved back to NCHW.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["OPERATIONS", "framework_of"]


def framework_of(model: Any) -> str:
    """``"torch"`` or ``"keras"`` for a model of either framework; ``TypeError`` naming the type otherwise."""
    for klass in type(model).__mro__:
        module = klass.__module__ or ""
        if module.startswith("torch.nn") and klass.__name__ == "Module":
            return "torch"
        if module.startswith("keras") and klass.__name__ in ("Layer", "Operation"):
            return "keras"
    raise TypeError(
        f"expected a PyTorch nn.Module or a Keras Layer/Model, got a {type(model).__module__}."
        f"{type(model).__qualname__}"
    )


def forward(model: Any, x: np.ndarray, *, training: bool = False) -> np.ndarray:
    """Run ``model`` on ``x`` (NCHW or (N, D)) in inference mode and return the output as a NumPy array."""
    if framework_of(model) == "torch":
        import torch

        model.train(training)
        with torch.no_grad():
            parameter = next(model.parameters(), None)
            dtype = parameter.dtype if parameter is not None else torch.float32
            device = parameter.device if parameter is not None else torch.device("cpu")  # a model left on a GPU
            output = model(torch.as_tensor(np.asarray(x)).to(device=device, dtype=dtype))
        return output.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 4:
        x = x.transpose(0, 2, 3, 1)
    output = np.asarray(model(x, training=training))
    return output.transpose(0, 3, 1, 2) if output.ndim == 4 else output


def count_params(model: Any) -> int:
    """Trainable plus non-trainable parameters as the framework counts them (Keras includes BN statistics)."""
    if framework_of(model) == "torch":
        return int(sum(parameter.numel() for parameter in model.parameters()))
    return int(model.count_params())


def count_trainable_params(model: Any) -> int:
    """Trainable parameters only (what a frozen base must not contribute)."""
    if framework_of(model) == "torch":
        return int(sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad))
    return int(sum(int(np.prod(weight.shape)) for weight in model.trainable_weights))


def parameters(model: Any) -> list[np.ndarray]:
    """Every weight array in the framework's own order (PyTorch: ``parameters()``; Keras: ``weights``)."""
    if framework_of(model) == "torch":
        return [parameter.detach().cpu().numpy().copy() for parameter in model.parameters()]
    return [np.asarray(weight).copy() for weight in model.weights]


OPERATIONS: dict[str, Callable[..., Any]] = {
    "@forward": forward,
    "@count_params": count_params,
    "@count_trainable_params": count_trainable_params,
    "@parameters": parameters,
    "@framework": framework_of,
}
