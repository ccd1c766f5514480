#!/usr/bin/env python
"""Pretrain the course's source CNN on the source task (digits 0-4) and write its weights.

    python scripts/pretrain_source_cnn.py                   # regenerate coursepkg/transfer/weights/source_cnn.npz
    python scripts/pretrain_source_cnn.py --out /tmp/w --quick   # a seconds-long smoke run (tests use it)

Offline and deterministic: the data are scikit-learn's digits (16x16, jittered with fixed seeds), the initial
weights are drawn with NumPy from ``--seed``, and PyTorch runs on one CPU thread (so that the sums are
computed in the same order every time). The weights are PyTorch ``state_dict`` arrays in one ``.npz``;
``coursepkg.transfer.keras.load_pretrained`` reads the same file through the NCHW -> NHWC layout mapping.
Explained in {ref}`sec-transfer`; the training itself is :func:`coursepkg.transfer.torch.pretrain_source`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: coursepkg/transfer/weights/); the file is source_cnn.npz")
    parser.add_argument("--quick", action="store_true", help="1 epoch, 2 jittered copies of 100 digits: a smoke run")
    parser.add_argument("--epochs", type=int, default=10, help="epochs at the full learning rate (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data jitter, weights and shuffling (default 0)")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from coursepkg.train.torch import evaluate
    from coursepkg.transfer import source_target_digits
    from coursepkg.transfer.torch import pretrain_source, state_dict
    from coursepkg.transfer.weights import SOURCE_WEIGHTS, save_state

    settings = dict(epochs=1, fine_epochs=0, copies=2, n_train=100) if args.quick else dict(epochs=args.epochs)
    start = time.perf_counter()
    model, history = pretrain_source(seed=args.seed, **settings)
    seconds = time.perf_counter() - start
    source, _ = source_target_digits()
    result = evaluate(model, source.x_test, source.y_test)
    path = SOURCE_WEIGHTS if args.out is None else Path(args.out) / SOURCE_WEIGHTS.name
    save_state(state_dict(model), path)
    report = {
        "path": str(path),
        "bytes": path.stat().st_size,
        "seconds": round(seconds, 1),
        "train_accuracy": round(history["accuracy"][-1], 4),
        "source_test_accuracy": round(result["accuracy"], 4),
        "settings": {**settings, "seed": args.seed},
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
