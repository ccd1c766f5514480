"""Data sets for the course, offline first.

Everything here except :mod:`coursepkg.data.download` works without a network connection:

- :mod:`~coursepkg.data.digits`: the 1797 8x8 handwritten digits shipped with scikit-learn (resizable
  to MNIST's 28x28) and a seeded stratified :func:`train_test_split`;
- :mod:`~coursepkg.data.images`: photographs shipped with scikit-image, and a small face data set;
- :mod:`~coursepkg.data.shapes`: synthetic shapes with labels and segmentation masks;
- :mod:`~coursepkg.data.sequences`: sequence tasks for recurrent networks and the sunspot series;
- :mod:`~coursepkg.data.download`: MNIST, Fashion-MNIST and CIFAR-10 for readers who are online.

Importing this package imports NumPy only; scikit-learn, scikit-image and statsmodels are imported by
the functions that need them.
"""

from .digits import DataSplit, load_digits, load_digits_split, train_test_split
from .download import (
    CIFAR10_CLASSES,
    FASHION_MNIST_CLASSES,
    DatasetUnavailableError,
    download_cifar10,
    download_fashion_mnist,
    download_mnist,
    get_cache_dir,
    read_idx,
)
from .images import IMAGE_NAMES, load_faces, load_image
from .sequences import adding_problem, binary_sequences, copy_task, load_sunspots, sine_waves, windowed
from .shapes import SHAPE_CLASSES, Shapes, make_shapes

__all__ = [
    "CIFAR10_CLASSES",
    "FASHION_MNIST_CLASSES",
    "IMAGE_NAMES",
    "SHAPE_CLASSES",
    "DataSplit",
    "DatasetUnavailableError",
    "Shapes",
    "adding_problem",
    "binary_sequences",
    "copy_task",
    "download_cifar10",
    "download_fashion_mnist",
    "download_mnist",
    "get_cache_dir",
    "load_digits",
    "load_digits_split",
    "load_faces",
    "load_image",
    "load_sunspots",
    "make_shapes",
    "read_idx",
    "sine_waves",
    "train_test_split",
    "windowed",
]
