"""Reference implementations for the open course on convolutional and recurrent neural networks.

Importing :mod:`coursepkg` imports NumPy only. PyTorch and TensorFlow load when a module that
needs them (``coursepkg.models.torch``, ``coursepkg.models.keras``, ...) is imported.

Conventions, pinned once and used everywhere:

- images and feature maps are ``(N, C, H, W)`` (PyTorch's layout); conv weights ``(F, C, KH, KW)``;
  :mod:`coursepkg.ops.layout` converts to and from Keras's ``(N, H, W, C)`` and ``(KH, KW, C, F)``;
- sequences are batch-first ``(N, T, D)``;
- "convolution" is cross-correlation, as in every framework;
- randomness only through an ``rng`` argument (``None | int | numpy.random.Generator``).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
