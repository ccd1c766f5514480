"""Seconds for the notes' simple CNN to reach the stated test accuracy on the digits, in each framework.

    .venv/bin/python benchmarks/train.py [--target 0.97] [--epochs 30] [--size 8] [--lr 3e-3]

Both frameworks train the same architecture (coursepkg.models.{torch,keras}.simple_cnn: Conv 32 3x3 ReLU,
MaxPool 2, Dense 128 ReLU, Dense 10) with Adam (batch 32) on the 1347 training digits of scikit-learn at their
native 8x8 (``--size 28`` resizes them to the notes' 28x28: the dense layer then has 5408 inputs and the net
18 times the parameters for no clear gain, 96.5-98% depending on seed and learning rate), and are evaluated
after every epoch on the 450 held-out digits. The time to the target is the sum of
the epoch times (training + evaluation) up to the first epoch at or above it. Run one after the other in one
process so that both see the same machine.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def time_to_target(history: dict, target: float) -> tuple[float | None, int | None]:
    elapsed = np.cumsum(history["epoch_time"])
    for epoch, acc in enumerate(history["val_accuracy"]):
        if acc >= target:
            return float(elapsed[epoch]), epoch + 1
    return None, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.97)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from coursepkg.data import load_digits_split

    rows = []
    for framework in ("torch", "keras"):
        channels_last = framework == "keras"
        x_tr, y_tr, x_te, y_te = load_digits_split(size=args.size, channels_last=channels_last, rng=0)
        t0 = time.perf_counter()
        if framework == "torch":
            from coursepkg.models.torch import simple_cnn
            from coursepkg.train import torch as trainer
        else:
            from coursepkg.models.keras import simple_cnn
            from coursepkg.train import keras as trainer
        import_s = time.perf_counter() - t0
        trainer.seed_everything(args.seed)
        model = simple_cnn(num_classes=10, in_channels=1, input_size=args.size)
        history = trainer.fit(model, x_tr, y_tr, epochs=args.epochs, batch_size=32, lr=args.lr,
                              validation_data=(x_te, y_te), seed=args.seed, progress=False)
        seconds, epochs = time_to_target(history, args.target)
        rows.append((framework, import_s, seconds, epochs, max(history["val_accuracy"]),
                     float(np.mean(history["epoch_time"]))))

    print(f"simple CNN on digits {args.size}x{args.size} (1347 train / 450 test), target test accuracy {args.target:.2%}, "
          f"seed {args.seed}")
    print(f"{'framework':<10}{'import s':>10}{'s to target':>13}{'epochs':>8}{'best acc':>10}{'s/epoch':>9}")
    for fw, imp, sec, ep, best, per in rows:
        sec_s = f"{sec:.1f}" if sec is not None else "missed"
        print(f"{fw:<10}{imp:>10.1f}{sec_s:>13}{(ep or '-'):>8}{best:>10.2%}{per:>9.2f}")
    if rows[0][2] and rows[1][2]:
        print(f"ratio keras/torch seconds to target: {rows[1][2] / rows[0][2]:.2f}x")


if __name__ == "__main__":
    main()
