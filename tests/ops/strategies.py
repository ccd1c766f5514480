"""Hypothesis strategies for convolution and pooling geometries, including the awkward cases:
non-square inputs and kernels, strides that do not divide, 1x1 kernels, batches of one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st


@dataclass(frozen=True)
class ConvCase:
    n: int
    c: int
    f: int
    h: int
    w: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]
    dilation: tuple[int, int]
    dtype: type
    seed: int

    def arrays(self, *, bias: bool = True):
        rng = np.random.default_rng(self.seed)
        x = rng.standard_normal((self.n, self.c, self.h, self.w)).astype(self.dtype)
        w = rng.standard_normal((self.f, self.c, *self.kernel)).astype(self.dtype)
        b = rng.standard_normal(self.f).astype(self.dtype) if bias else None
        return x, w, b


@st.composite
def conv_cases(draw, *, max_size=11, dilation=True, symmetric=False, dtypes=(np.float32, np.float64)):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    if symmetric:
        ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        pads = ((ph, ph), (pw, pw))
    else:
        pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    min_h = max(1, dh * (kh - 1) + 1 - sum(pads[0]))
    min_w = max(1, dw * (kw - 1) + 1 - sum(pads[1]))
    h = draw(st.integers(min_h, max(min_h, max_size)))
    w = draw(st.integers(min_w, max(min_w, max_size)))
    return ConvCase(
        n=draw(st.integers(1, 3)),
        c=draw(st.integers(1, 3)),
        f=draw(st.integers(1, 3)),
        h=h,
        w=w,
        kernel=(kh, kw),
        stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        pads=pads,
        dilation=(dh, dw),
        dtype=draw(st.sampled_from(dtypes)),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@dataclass(frozen=True)
class PoolCase:
    shape: tuple[int, int, int, int]
    size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dtype: type
    seed: int

    def array(self):
        return np.random.default_rng(self.seed).standard_normal(self.shape).astype(self.dtype)


@st.composite
def pool_cases(draw, *, padding=True, dtypes=(np.float32, np.float64)):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ph = draw(st.integers(0, kh // 2)) if padding else 0
    pw = draw(st.integers(0, kw // 2)) if padding else 0
    h = draw(st.integers(max(1, kh - 2 * ph), 11))
    w = draw(st.integers(max(1, kw - 2 * pw), 11))
    return PoolCase(
        shape=(draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w),
        size=(kh, kw),
        stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        padding=(ph, pw),
        dtype=draw(st.sampled_from(dtypes)),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def tolerance(dtype) -> dict:
    return {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}
