"""Time coursepkg.ops against torch.nn.functional on the CPU, side by side in one run, and print ratios.

    .venv/bin/python benchmarks/ops.py [--repeat 30]

Workload of the foundation issue: x (32, 16, 32, 32), w (32, 16, 3, 3), float32, padding 1; max and average
pooling 2x2 stride 2 on the same x; plus the backward passes. Each timing is the median of `repeat` runs,
interleaved (ours, theirs, ours, theirs, ...) so that machine noise hits both alike.
Targets: conv2d within 3x of PyTorch, pooling within 3x.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from coursepkg.ops import avg_pool2d, conv2d, conv2d_backward, max_pool2d, max_pool2d_backward


def interleaved(ours, theirs, repeat: int) -> tuple[float, float]:
    ours(), theirs()  # warm up
    a, b = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        ours()
        a.append(time.perf_counter() - t)
        t = time.perf_counter()
        theirs()
        b.append(time.perf_counter() - t)
    return statistics.median(a), statistics.median(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 16, 32, 32)).astype(np.float32)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    tx, tw, tb = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)
    dout = rng.standard_normal((32, 32, 32, 32)).astype(np.float32)
    dpool = rng.standard_normal((32, 16, 16, 16)).astype(np.float32)

    def torch_conv_backward():
        xx = tx.clone().requires_grad_()
        ww = tw.clone().requires_grad_()
        F.conv2d(xx, ww, tb, padding=1).backward(torch.from_numpy(dout))

    def torch_pool_backward():
        xx = tx.clone().requires_grad_()
        F.max_pool2d(xx, 2).backward(torch.from_numpy(dpool))

    cases = [
        ("conv2d forward", lambda: conv2d(x, w, b, 1, 1), lambda: F.conv2d(tx, tw, tb, padding=1), 3.0),
        ("conv2d backward", lambda: conv2d_backward(dout, x, w, 1, 1), torch_conv_backward, None),
        ("max_pool2d 2x2/2", lambda: max_pool2d(x, 2), lambda: F.max_pool2d(tx, 2), 3.0),
        ("avg_pool2d 2x2/2", lambda: avg_pool2d(x, 2), lambda: F.avg_pool2d(tx, 2), 3.0),
        ("max_pool2d backward", lambda: max_pool2d_backward(dpool, x, 2), torch_pool_backward, None),
    ]
    print(f"x {x.shape} float32, w {w.shape}; torch {torch.__version__} with {torch.get_num_threads()} threads, "
          f"numpy {np.__version__}; median of {args.repeat} interleaved runs")
    print(f"{'operation':<22}{'coursepkg ms':>14}{'torch ms':>11}{'ratio':>8}  target")
    for name, ours, theirs, target in cases:
        a, b_ = interleaved(ours, theirs, args.repeat)
        ratio = a / b_
        verdict = "" if target is None else (f"<= {target:.0f}x " + ("met" if ratio <= target else "MISSED"))
        print(f"{name:<22}{a * 1e3:>14.2f}{b_ * 1e3:>11.2f}{ratio:>7.2f}x  {verdict}")


if __name__ == "__main__":
    main()
