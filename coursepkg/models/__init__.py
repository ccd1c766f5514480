"""Architectures of the course, built by one readable function each, in PyTorch and in Keras.

``coursepkg.models.torch`` and ``coursepkg.models.keras`` have the same builder names and arguments;
importing this package imports neither framework. Every builder takes ``num_classes`` and the input size,
and its defaults build the published 1000-class ImageNet configuration where one exists.
"""

ARCHITECTURES = (
    "simple_cnn",
    "lenet5",
    "alexnet",
    "zfnet",
    "vgg11",
    "vgg16",
    "vgg19",
    "googlenet",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "densenet121",
    "pixelnet",
)

__all__ = ["ARCHITECTURES"]
