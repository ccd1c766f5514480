"""The notes' simple CNN reaches the stated accuracy on held-out digits in both frameworks.

Stated in the models issue and measured by benchmarks/train.py: at least 97% test accuracy on the 450
held-out scikit-learn digits (native 8x8) after 20 epochs of Adam (lr 3e-3, batch 32), repeatably on a CPU.
Seeds 0-2 gave 98.0-98.7% in PyTorch when this was written.
"""

import pytest

from coursepkg.data import load_digits_split

TARGET = 0.97


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_simple_cnn_reaches_97_percent_on_held_out_digits(framework):
    if framework == "torch":
        from coursepkg.models.torch import simple_cnn
        from coursepkg.train import torch as trainer
    else:
        from coursepkg.models.keras import simple_cnn
        from coursepkg.train import keras as trainer
    x_tr, y_tr, x_te, y_te = load_digits_split(size=8, channels_last=framework == "keras", rng=0)
    trainer.seed_everything(0)
    model = simple_cnn(num_classes=10, in_channels=1, input_size=8)
    trainer.fit(model, x_tr, y_tr, epochs=20, batch_size=32, lr=3e-3, seed=0, progress=False)
    accuracy = trainer.evaluate(model, x_te, y_te)["accuracy"]
    assert accuracy >= TARGET, f"{framework} simple CNN: {accuracy:.3f} < {TARGET} on held-out digits"
