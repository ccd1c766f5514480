"""``keras.applications`` for the course: four ImageNet architectures, built offline by default.

Explained in {ref}`sec-transfer`. :func:`applications_model` builds VGG16, ResNet50, InceptionV3 or
EfficientNetB0 with ``weights=None`` (random initial weights, no network needed) unless asked for
``weights="imagenet"``, which Keras downloads once into its cache (``$KERAS_HOME/models``, by default
``~/.keras/models``). Offline, that download fails with an opaque ``Exception("URL fetch failure ...")``;
:func:`applications_model` turns it into :class:`PretrainedWeightsUnavailableError`, whose message names the
URL and the exact file path where a copy of the weights can be placed by hand. :func:`preprocess_input`
applies each model's own input scaling. Also importable from :mod:`coursepkg.transfer.keras`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["APPLICATIONS", "PretrainedWeightsUnavailableError", "applications_model", "preprocess_input"]

APPLICATIONS = {
    # name: (module of keras.applications, default input side, smallest side, preprocessing)
    "VGG16": ("vgg16", 224, 32, "caffe: RGB -> BGR, minus the ImageNet mean per channel, no scaling"),
    "ResNet50": ("resnet50", 224, 32, "caffe: RGB -> BGR, minus the ImageNet mean per channel, no scaling"),
    "InceptionV3": ("inception_v3", 299, 75, "tf: x / 127.5 - 1, to [-1, 1]"),
    "EfficientNetB0": ("efficientnet", 224, 32, "none: the model rescales [0, 255] inputs itself"),
}
"""The wrapped ``keras.applications`` models: module, default and smallest input side, and what ``preprocess_input`` does."""


class PretrainedWeightsUnavailableError(ConnectionError):
    """Pretrained weights could be neither found in Keras's cache nor downloaded.

    A :class:`ConnectionError` (hence an :class:`OSError`). Attributes: ``url`` (what Keras tried to fetch,
    or None) and ``path`` (where Keras looks for the file before downloading).
    """

    def __init__(self, message: str, *, url: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.url, self.path = url, path


def _check_name(name: Any, func: str) -> str:
    if name not in APPLICATIONS:
        raise ValueError(f"{func}: `name` must be one of {sorted(APPLICATIONS)}. Received: name={name!r}.")
    return name


def _keras_cache_dir() -> str:
    try:
        from keras.src.backend.config import keras_home  # private; the public get_file uses it as default cache_dir

        return keras_home()
    except ImportError:  # pragma: no cover - a Keras without it
        return os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))


def _download_failure(exc: BaseException) -> bool:
    import urllib.error

    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    return any(isinstance(e, (urllib.error.URLError, ConnectionError, TimeoutError)) for e in chain) or str(exc).startswith(
        "URL fetch failure"
    )


def applications_model(
    name: str,
    *,
    include_top: bool = False,
    pooling: str | None = "avg",
    input_shape: Sequence[int] | None = None,
    input_tensor: Any = None,
    weights: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = None,
) -> keras.Model:
    """Build ``keras.applications.<name>``, offline by default (``weights=None``: random initial weights).

    Parameters
    ----------
    name : {"VGG16", "ResNet50", "InceptionV3", "EfficientNetB0"}
    include_top : bool, default False
        Keep the ImageNet classifier (``classes`` outputs); then ``pooling`` is ignored.
    pooling : {"avg", "max", None}, default "avg"
        Without the top: global pooling to ``(N, C)``, or None for the last feature map ``(N, H', W', C)``.
    input_shape : (H, W, 3), optional
        Defaults to Keras's (224 or 299 square); the side must be at least 32 (75 for InceptionV3).
    input_tensor : keras tensor, optional
        Build the model on this input (``keras.Input(...)``) instead of a new one.
    weights : None, "imagenet" or a path, default None
        ``"imagenet"`` downloads the weights (once, into Keras's cache) and needs a network connection.
    classes : int, default 1000
        Outputs of the top; other than 1000 only with ``weights=None``.
    classifier_activation : None or str, default None
        Activation of the top; None gives logits, the course's convention (Keras's default is "softmax").

    Returns
    -------
    keras.Model
        Output ``(N, classes)`` with the top; ``(N, C)`` with pooling (C = 512 for VGG16, 2048 for ResNet50 and
        InceptionV3, 1280 for EfficientNetB0); ``(N, H', W', C)`` without.

    Raises
    ------
    PretrainedWeightsUnavailableError
        ``weights="imagenet"`` and the file is not in Keras's cache and cannot be downloaded; the message names
        the URL and the file to place in the cache instead.
    ValueError
        An unknown ``name`` or ``pooling`` (Keras's own errors, e.g. an input too small, pass through).
    """
    func = "applications_model"
    _check_name(name, func)
    if pooling not in ("avg", "max", None):
        raise ValueError(f'{func}: `pooling` must be "avg", "max" or None. Received: pooling={pooling!r}.')
    builder = getattr(keras.applications, name)
    kwargs: dict[str, Any] = dict(include_top=include_top, weights=weights, input_tensor=input_tensor, classes=classes,
                                  pooling=None if include_top else pooling)
    if input_shape is not None:
        kwargs["input_shape"] = tuple(int(s) for s in input_shape)
    if include_top:
        kwargs["classifier_activation"] = classifier_activation
    try:
        return builder(**kwargs)
    except Exception as exc:
        if weights != "imagenet" or not _download_failure(exc):
            raise
        match = re.search(r"URL fetch failure on (\S+?):\s", str(exc))
        url = match.group(1) if match else None
        fname = url.rsplit("/", 1)[-1] if url else f"the {name} weights file (.h5)"
        path = os.path.join(_keras_cache_dir(), "models", fname)
        raise PretrainedWeightsUnavailableError(
            f"{func}: could not download the ImageNet weights of {name}"
            + (f" from {url}" if url else "")
            + f" ({exc}). This machine seems to be offline (or the server refused the download). Either pass "
            f"weights=None to build {name} with random initial weights (what the course's offline examples do), or "
            f"download the file on a machine with internet access and copy it to {path}, where Keras looks before "
            "downloading (the cache folder is $KERAS_HOME/models, ~/.keras/models by default).",
            url=url,
            path=path,
        ) from exc


def preprocess_input(name: str, x: Any) -> np.ndarray:
    """Prepare RGB images in [0, 255], ``(N, H, W, 3)``, for the model ``name`` (:data:`APPLICATIONS` says how).

    Calls ``keras.applications.<module>.preprocess_input`` on a float32 copy (Keras edits float32 arrays in
    place; ``x`` is left unchanged).

    Examples
    --------
    >>> preprocess_input("InceptionV3", np.array([[[[0.0, 127.5, 255.0]]]])).tolist()
    [[[[-1.0, 0.0, 1.0]]]]
    """
    func = "preprocess_input"
    module = getattr(keras.applications, APPLICATIONS[_check_name(name, func)][0])
    arr = np.array(x, dtype=np.float32, copy=True)
    if arr.ndim < 3 or arr.shape[-1] != 3:
        raise ValueError(
            f"{func}: `x` must be RGB images with 3 channels last, (N, H, W, 3) or (H, W, 3); got shape {arr.shape}."
        )
    return np.asarray(module.preprocess_input(arr))
