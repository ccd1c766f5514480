"""Time the NumPy LSTM (coursepkg.rnn) against torch.nn.LSTM on the CPU, forward + backward, side by side.

    .venv/bin/python benchmarks/rnn.py [--repeat 30] [--threads N] [--profile]
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/rnn.py --threads 1   # one core each, for a busy machine

Workload of the models issue (recurrent nets): one LSTM layer, x (N, T, D) = (32, 50, 32), H = 64, float32 for
both, batch first, h0 = c0 = 0, a loss on every hidden state (random upstream gradient ``dhs``). Ours is
``lstm_forward`` + ``lstm_backward``; PyTorch's is ``nn.LSTM(...)(x)`` + ``backward(dhs)`` with gradients for the
input and the weights, as ours computes. Each timing is the median of ``repeat`` runs, interleaved (ours, theirs,
ours, theirs, ...) so that machine noise hits both alike. Target: NumPy within 5x of PyTorch.

On a machine shared with other jobs, two BLAS threads and two PyTorch threads on two cores slow both sides
tenfold and make the ratio noise; ``--threads`` sets PyTorch's threads (NumPy's BLAS threads are set by the
environment variable ``OPENBLAS_NUM_THREADS`` before Python starts).

``--profile`` adds a cProfile of the NumPy version (top functions by total time), to see where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time

import numpy as np
import torch

from coursepkg.rnn import lstm_backward, lstm_forward

N, T, D, H = 32, 50, 32, 64
TARGET = 5.0


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


def make_workload(seed: int = 0):
    """The same float32 weights, input and upstream gradient for both implementations."""
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(D, H, batch_first=True)  # float32, PyTorch's default initialisation
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D)).astype(np.float32)  # (N, T, D)
    dhs = rng.standard_normal((N, T, H)).astype(np.float32)  # (N, T, H)
    params = (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0)  # (4H, D), (4H, H), (4H,) x2
    weights = [p.detach().numpy().copy() for p in params]
    return lstm, x, dhs, weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--threads", type=int, default=None, help="PyTorch intra-op threads (default: its own)")
    parser.add_argument("--profile", action="store_true", help="cProfile the NumPy forward + backward")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    lstm, x, dhs, (w_ih, w_hh, b_ih, b_hh) = make_workload()
    tx, tdhs = torch.from_numpy(x), torch.from_numpy(dhs)

    def ours():
        hs, cache = lstm_forward(x, None, None, w_ih, w_hh, b_ih, b_hh)  # (N, T, H)
        return hs, lstm_backward(dhs, cache)

    def theirs():
        xx = tx.clone().requires_grad_()
        lstm.zero_grad(set_to_none=True)
        out, _ = lstm(xx)  # (N, T, H)
        out.backward(tdhs)
        return out, xx.grad

    # same numbers first: a benchmark of two different computations would be meaningless
    (hs, grads), (out, dx) = ours(), theirs()
    np.testing.assert_allclose(hs, out.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grads.dx, dx.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(grads.dweight_hh, lstm.weight_hh_l0.grad.numpy(), rtol=1e-3, atol=1e-3)
    assert hs.dtype == np.float32 and grads.dweight_ih.dtype == np.float32

    def ours_forward():
        return lstm_forward(x, None, None, w_ih, w_hh, b_ih, b_hh)

    def theirs_forward():
        with torch.no_grad():
            return lstm(tx)

    print(f"LSTM x (N, T, D) = ({N}, {T}, {D}), H = {H}, float32, batch first; torch {torch.__version__} with "
          f"{torch.get_num_threads()} threads, numpy {np.__version__}; median of {args.repeat} interleaved runs")
    print(f"{'operation':<28}{'coursepkg ms':>14}{'torch ms':>11}{'ratio':>8}  target")
    for name, a_fn, b_fn, target in (
        ("forward (no grad)", ours_forward, theirs_forward, None),
        ("forward + backward", ours, theirs, TARGET),
    ):
        a, b = interleaved(a_fn, b_fn, args.repeat)
        ratio = a / b
        verdict = "" if target is None else (f"within {target:.0f}x " + ("met" if ratio <= target else "MISSED"))
        print(f"{name:<28}{a * 1e3:>14.2f}{b * 1e3:>11.2f}{ratio:>7.2f}x  {verdict}")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            ours()
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(15)
        print(f"\ncProfile of {args.repeat} NumPy forward + backward runs (sorted by own time):")
        print(stream.getvalue())


if __name__ == "__main__":
    main()
