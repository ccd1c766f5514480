"""Hidden checks of the assignment ``conv``: padding, output sizes, conv2d from scratch, edges, parameter counts.

Every check compares the student's function with the course's reference (:mod:`coursepkg.ops`,
:mod:`coursepkg.params`) on explicit edge cases that a hard-coded or half-right answer fails (non-square
images and kernels, strides that do not divide, 1x1 kernels, batches of one, padding with a stride, C > 1
and F > 1, integer inputs), followed by seeded random cases drawn with hypothesis. The functions are
from-scratch tasks: an answer that reaches ``coursepkg``, ``scipy.signal``, ``np.convolve`` or a framework
(and, for ``pad2d``, ``np.pad``) loses the points of that cell.

When an answer is wrong, the judge tries the usual mistakes on the same input (a flipped kernel, a missing
bias, windows that ignore the stride, padding on one side only, a single channel, a rounded-up output size)
and, when one of them reproduces the student's result exactly, says so in the hint.

What the grader cannot check here: that ``conv_output_size`` *raises* ``ValueError`` for a window that does
not fit (a call that raises is always a failure for :func:`autograder.kernel.judge_case`); the visible
test of the ``test_conv_output_size`` cell checks it, and that cell is graded as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograder.checks import FROM_SCRATCH, Call, Check, Outcome, compare_array, compare_number, draw_cases
from coursepkg import ops, params
from coursepkg.filters import prewitt_x, prewitt_y, sobel_x, sobel_y

#: The seed of the student's process: before the first cell runs, the grader seeds Python's ``random``,
#: NumPy's global generator, and torch and TensorFlow when the notebook's imports are already loaded. The
#: hidden checks draw their own cases with seeds of their own; this one is recorded with every score.
SEED = 20261101

__all__ = ["CHECKS"]

# np.pad is the very thing pad2d asks for; the names the call tracer sees for it (NumPy 2 and 1).
NP_PAD: tuple[str, ...] = ("numpy.pad", "numpy.lib._arraypad_impl.pad", "numpy.lib.arraypad.pad")

# One case of a small convolution takes milliseconds even with four Python loops; 10 s is for a slow laptop.
TIME_LIMIT = 10.0
ATOL, RTOL = 1e-6, 1e-5  # float32 arithmetic in an answer is fine; every wrong answer is off by O(1)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _same(got: Any, alternative: np.ndarray) -> bool:
    """Whether a plain result equals what a known mistake computes (shape and values)."""
    return (
        isinstance(got, np.ndarray)
        and got.shape == alternative.shape
        and got.dtype.kind in "biuf"
        and bool(np.allclose(got, alternative, rtol=RTOL, atol=ATOL))
    )


def _diagnose(got: Any, mistakes: Sequence[tuple[Callable[[], np.ndarray], str]], default: str) -> str:
    """The hint of the first known mistake that reproduces ``got`` exactly, else ``default``."""
    for compute, hint in mistakes:
        try:
            alternative = compute()
        except (ValueError, TypeError):  # a mistake that cannot even run on this input
            continue
        if _same(got, alternative):
            return hint
    return default


# --- pad2d ----------------------------------------------------------------------------------------------


def _pad_cases() -> list[dict[str, Any]]:
    from hypothesis import strategies as st

    rng = _rng(2024)
    cases = [
        {"x": rng.standard_normal((3, 5)), "p": 2},  # a non-square image
        {"x": rng.standard_normal((1, 1, 4, 7)), "p": 1},  # a batch of one
        {"x": rng.standard_normal((2, 3, 5, 4)), "p": 3},  # N > 1 and C > 1: only H and W grow
        {"x": rng.standard_normal((2, 6)), "p": 0},  # p = 0: x[p:-p] would be empty
        {"x": np.arange(12).reshape(3, 4), "p": 1},  # integers
        {"x": np.array([[7.0]]), "p": 2},  # padding wider than the image
        {"x": rng.standard_normal((3, 2, 5)), "p": 1},  # (C, H, W)
    ]
    drawn = draw_cases(
        st.tuples(
            st.lists(st.integers(1, 6), min_size=2, max_size=4),  # the shape, 2 to 4 axes
            st.integers(0, 3),  # p
            st.integers(0, 2**32 - 1),  # seed of the values
        ),
        10,
        seed=11,
    )
    cases += [{"x": _rng(seed).standard_normal(tuple(shape)), "p": p} for shape, p, seed in drawn]
    return cases


def _judge_pad(case: dict[str, Any], out: Sequence[Outcome]) -> str | None:
    x, p = case["x"], case["p"]
    got, expected = out[0].value, ops.pad2d(x, p)
    if isinstance(got, np.ndarray) and got.shape != expected.shape:
        hint = "only the last two axes (height and width) grow, by 2p each; leading axes keep their size"
    else:
        hint = _diagnose(
            got,
            [(lambda: ops.pad2d(x, ((0, 2 * p), (0, 2 * p))), "x belongs in the middle, out[..., p:p + H, p:p + W], "
              "not in the top-left corner: the zeros go on all four sides")],
            "x belongs at out[..., p:p + H, p:p + W] and every other entry is 0",
        )
    return compare_array(got, expected, what=f"pad2d(x, {p}) for x of shape {x.shape}", hint=hint)


# --- conv_output_size -----------------------------------------------------------------------------------


def _size_cases() -> list[tuple[int, int, int, int]]:
    from hypothesis import strategies as st

    cases = [
        (125, 5, 2, 2),  # the notes' example, height: 63 (the notes say 62)
        (49, 5, 2, 2),  # and width: 25 (the notes say 24)
        (7, 3, 0, 3),  # a stride that does not divide n + 2p - f: the floor
        (10, 4, 1, 3),
        (8, 3, 0, 2),
        (6, 1, 0, 1),  # a 1x1 kernel keeps the size
        (3, 5, 1, 1),  # the kernel fills the padded input exactly: one position, not an error
        (4, 4, 0, 3),
        (5, 2, 0, 10),  # a stride longer than the input
        (227, 11, 0, 4),  # AlexNet's first layer
        (1, 1, 0, 1),
    ]
    drawn = draw_cases(
        st.tuples(st.integers(1, 300), st.integers(1, 15), st.integers(0, 5), st.integers(1, 6)).filter(
            lambda c: c[1] <= c[0] + 2 * c[2]
        ),
        12,
        seed=12,
    )
    return cases + [tuple(c) for c in drawn]


def _judge_size(case: tuple[int, int, int, int], out: Sequence[Outcome]) -> str | None:
    n, f, p, s = case
    got, expected = out[0].value, ops.conv_output_size(n, f, p, s)
    if not _is_number(got):
        hint = "return a Python int"
    elif got == -(-(n + 2 * p - f) // s) + 1:
        hint = "round down (floor), not up: a last step that would stick out of the padded input does not count"
    elif got == expected - 1:
        hint = "add 1 for the first position of the window, before any step"
    elif got == (n + 2 * p - f) / s + 1:
        hint = "use integer (floor) division: the result is a whole number of positions"
    else:
        hint = "floor((n + 2p - f) / s) + 1, with p on each side"
    return compare_number(got, expected, what=f"conv_output_size({n}, {f}, p={p}, s={s})", hint=hint)


# --- conv2d_single --------------------------------------------------------------------------------------


def _single_cases() -> list[dict[str, np.ndarray]]:
    from hypothesis import strategies as st

    rng = _rng(7)
    cases = [
        {"image": rng.standard_normal((5, 8)), "kernel": rng.standard_normal((2, 3))},  # non-square both
        {"image": rng.standard_normal((6, 6)), "kernel": np.array(sobel_x)},  # antisymmetric: a flip shows
        {"image": rng.standard_normal((4, 3)), "kernel": np.array([[2.5]])},  # 1x1 kernel
        {"image": rng.standard_normal((3, 4)), "kernel": rng.standard_normal((3, 4))},  # kernel = image size
        {"image": rng.standard_normal((3, 6)), "kernel": rng.standard_normal((1, 4))},  # a 1xK kernel
        {"image": rng.integers(0, 5, (6, 5)), "kernel": rng.integers(-2, 3, (3, 2))},  # integers
    ]

    @st.composite
    def single(draw: Any) -> dict[str, np.ndarray]:
        h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
        kh, kw = draw(st.integers(1, h)), draw(st.integers(1, w))
        r = _rng(draw(st.integers(0, 2**32 - 1)))
        return {"image": r.standard_normal((h, w)), "kernel": r.standard_normal((kh, kw))}

    return cases + draw_cases(single(), 10, seed=13)


def _judge_single(case: dict[str, np.ndarray], out: Sequence[Outcome]) -> str | None:
    image, kernel = case["image"], case["kernel"]
    got = out[0].value
    expected = ops.conv2d(image[None, None], kernel[None, None])[0, 0]  # (OH, OW)
    if isinstance(got, np.ndarray) and got.shape != expected.shape:
        hint = "the output has shape (H - KH + 1, W - KW + 1), with the kernel's height and width separately"
    else:
        hint = _diagnose(
            got,
            [(lambda: ops.conv2d(image[None, None], np.flip(kernel)[None, None])[0, 0],
              "you flipped the kernel (a true convolution); deep learning's convolution is a cross-correlation: "
              "out[i, j] = sum of image[i + m, j + k] * kernel[m, k]")],
            "out[i, j] = np.sum(image[i:i + KH, j:j + KW] * kernel), for every i and j",
        )
    return compare_array(got, expected, what="conv2d_single(image, kernel)", rtol=RTOL, atol=ATOL, hint=hint)


# --- conv2d ---------------------------------------------------------------------------------------------


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, s: int, p: int) -> dict[str, Any]:
    return {"x": x, "w": w, "b": b, "stride": s, "padding": p}


def _conv_strategy(strides: Sequence[int]) -> Any:
    from hypothesis import strategies as st

    @st.composite
    def conv(draw: Any) -> dict[str, Any]:
        n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        p, s = draw(st.integers(0, 2)), draw(st.sampled_from(list(strides)))
        h = draw(st.integers(max(1, kh - 2 * p), 9))  # the kernel fits in the padded input
        w = draw(st.integers(max(1, kw - 2 * p), 9))
        r = _rng(draw(st.integers(0, 2**32 - 1)))
        x, weights, bias = r.standard_normal((n, c, h, w)), r.standard_normal((f, c, kh, kw)), r.standard_normal(f)
        return _conv(x, weights, bias, s, p)

    return conv()


def _multichannel_cases() -> list[dict[str, Any]]:
    rng = _rng(31)
    r = rng.standard_normal
    cases = [
        _conv(r((1, 3, 5, 7)), r((2, 3, 3, 3)), r(2), 1, 0),  # batch of one, C = 3, F = 2, non-square image
        _conv(r((2, 4, 4, 4)), r((3, 4, 1, 1)), r(3), 1, 0),  # 1x1 kernels: mixing channels
        _conv(r((1, 2, 4, 6)), r((2, 2, 2, 3)), r(2), 1, 1),  # a non-square kernel, with padding
        _conv(r((2, 1, 5, 5)), r((1, 1, 3, 3)), None, 1, 0),  # no bias
        _conv(r((1, 1, 3, 3)), r((1, 1, 5, 5)), r(1), 1, 1),  # the kernel fills the padded input
        _conv(rng.integers(0, 9, (1, 3, 4, 4)), rng.integers(-2, 3, (2, 3, 3, 3)), np.array([1, -1]), 1, 1),  # ints
    ]
    return cases + draw_cases(_conv_strategy([1]), 10, seed=14)


def _stride_cases() -> list[dict[str, Any]]:
    r = _rng(47).standard_normal
    cases = [
        _conv(r((1, 2, 7, 10)), r((3, 2, 3, 3)), r(3), 2, 1),  # stride with padding, non-square image
        _conv(r((2, 1, 8, 11)), r((1, 1, 3, 2)), r(1), 3, 0),  # a stride that does not divide: floor
        _conv(r((1, 3, 5, 6)), r((2, 3, 1, 1)), r(2), 2, 0),  # 1x1 kernel, stride 2: pixels skipped
        _conv(r((1, 1, 9, 6)), r((2, 1, 5, 5)), r(2), 2, 2),  # the notes' f=5, p=2, s=2 on a small image
        _conv(r((1, 1, 4, 4)), r((1, 1, 3, 3)), r(1), 4, 0),  # a stride longer than the input: one output
        _conv(r((2, 2, 6, 5)), r((2, 2, 2, 3)), None, 3, 1),  # no bias, non-square kernel, stride 3
    ]
    return cases + draw_cases(_conv_strategy([2, 3]), 10, seed=15)


def _conv_calls(case: dict[str, Any]) -> list[Call]:
    return [Call("conv2d", (case["x"], case["w"], case["b"]), {"stride": case["stride"], "padding": case["padding"]})]


def _judge_conv(case: dict[str, Any], out: Sequence[Outcome]) -> str | None:
    x, w, b, s, p = case["x"], case["w"], case["b"], case["stride"], case["padding"]
    got = out[0].value
    expected = ops.conv2d(x, w, b, stride=s, padding=p)  # (N, F, OH, OW)
    oh, ow = expected.shape[2:]
    what = f"conv2d(x, w, b, stride={s}, padding={p})"
    if isinstance(got, np.ndarray) and got.shape != expected.shape:
        hint = (
            "the output has shape (N, F, OH, OW): one channel per filter, "
            "OH = conv_output_size(H, KH, padding, stride) and OW = conv_output_size(W, KW, padding, stride)"
        )
    else:
        mistakes = [
            (lambda: ops.conv2d(x, np.flip(w, axis=(2, 3)), b, stride=s, padding=p),
             "you flipped the kernels (a true convolution); conv2d is a cross-correlation, the kernel is used as is"),
            (lambda: ops.conv2d(x, w, None, stride=s, padding=p),
             "the bias is missing: add b[f] once to every output of filter f"),
            (lambda: ops.conv2d(x, w, b, stride=1, padding=p)[:, :, :oh, :ow],
             "output (i, j) must start at row stride * i and column stride * j of the padded input, not at (i, j)"),
            (lambda: ops.conv2d(x, w, b, stride=s, padding=((0, 2 * p), (0, 2 * p))),
             "pad p zeros on every side (top, bottom, left and right), with x in the middle"),
            (lambda: ops.conv2d(x[:, :1], w[:, :1], b, stride=s, padding=p),
             "sum over all input channels c, not only the first one"),
        ]
        if b is None:
            mistakes.pop(1)
        hint = _diagnose(
            got, mistakes,
            "y[n, f, i, j] = b[f] + sum over c, m, k of x_pad[n, c, stride*i + m, stride*j + k] * w[f, c, m, k]",
        )
    return compare_array(got, expected, what=what, rtol=RTOL, atol=ATOL, hint=hint)


# --- edge_maps ------------------------------------------------------------------------------------------


def _edge_cases() -> list[dict[str, np.ndarray]]:
    from hypothesis import strategies as st

    from coursepkg.data import load_image

    coins = load_image("coins", size=40).astype(np.float64)[5:28, 3:40]  # (23, 37): a photo the notebook lacks
    rng = _rng(59)
    step = np.repeat([[0.0], [0.0], [1.0], [1.0], [1.0]], 7, axis=1)  # (5, 7): brighter downwards
    cases = [
        {"image": coins, "kx": np.array(sobel_x), "ky": np.array(sobel_y)},
        {"image": coins, "kx": np.array(prewitt_x), "ky": np.array(prewitt_y)},
        {"image": step, "kx": np.array(sobel_x), "ky": np.array(sobel_y)},  # gy > 0: no flip
        {"image": rng.standard_normal((1, 6)), "kx": np.array(sobel_x), "ky": np.array(sobel_y)},  # one row
        {"image": rng.standard_normal((9, 4)), "kx": rng.standard_normal((3, 3)), "ky": rng.standard_normal((3, 3))},
    ]

    @st.composite
    def edge(draw: Any) -> dict[str, np.ndarray]:
        h, w = draw(st.integers(1, 10)), draw(st.integers(1, 10))
        r = _rng(draw(st.integers(0, 2**32 - 1)))
        return {"image": r.random((h, w)), "kx": r.standard_normal((3, 3)), "ky": r.standard_normal((3, 3))}

    return cases + draw_cases(edge(), 6, seed=16)


def _judge_edges(case: dict[str, np.ndarray], out: Sequence[Outcome]) -> str | None:
    image, kx, ky = case["image"], case["kx"], case["ky"]
    got = out[0].value
    if isinstance(got, np.ndarray) and got.ndim >= 1 and got.shape[0] == 3:
        got = list(got)  # an array of the three maps stacked is fine too
    if not isinstance(got, list) or len(got) != 3:
        return (
            f"edge_maps(image, kx, ky) must return three arrays, gx, gy and magnitude; it returned "
            f"{'a list of ' + str(len(got)) + ' items' if isinstance(got, list) else type(got).__name__}."
        )
    bank = np.stack([kx, ky])[:, None]  # (2, 1, 3, 3)
    gx, gy = ops.conv2d(image[None, None], bank, padding=1)[0]  # (H, W) each
    for name, value, expected, hint in [
        ("gx", got[0], gx, "conv2d of the image with kx: one image, one channel, zero padding 1, stride 1, "
         "no flip; the map has the size of the image"),
        ("gy", got[1], gy, "conv2d of the image with ky, the same way as gx"),
        ("magnitude", got[2], np.hypot(gx, gy), "sqrt(gx**2 + gy**2), element by element"),
    ]:
        if name != "magnitude" and isinstance(value, np.ndarray) and value.shape != expected.shape:
            hint = "zero padding 1 keeps the size of the image: pass padding=1 to your conv2d"
        message = compare_array(value, expected, what=f"{name} of edge_maps(image, kx, ky)", rtol=RTOL,
                                atol=ATOL, hint=hint)
        if message is not None:
            return message
    return None


# --- dense_params and conv2d_params ---------------------------------------------------------------------


def _dense_cases() -> list[tuple[int, int]]:
    from hypothesis import strategies as st

    explicit = [(1, 1), (64 * 64 * 3, 100), (68 * 68 * 3, 1000), (784, 10), (9216, 4096), (5, 1)]
    drawn = draw_cases(st.tuples(st.integers(1, 100_000), st.integers(1, 5000)), 8, seed=17)
    return explicit + [tuple(c) for c in drawn]


def _conv_params_cases() -> list[tuple[int, int, Any]]:
    from hypothesis import strategies as st

    explicit = [
        (1, 1, 1),
        (3, 100, 5),
        (3, 8, (3, 5)),  # a non-square kernel
        (64, 128, 3),
        (256, 64, 1),  # 1x1 kernels
        (1, 6, (1, 7)),
        (192, 32, (5, 5)),  # a square kernel given as a pair
    ]
    kernel = st.one_of(st.integers(1, 11), st.tuples(st.integers(1, 11), st.integers(1, 11)))
    drawn = draw_cases(st.tuples(st.integers(1, 512), st.integers(1, 512), kernel), 8, seed=18)
    return explicit + [tuple(c) for c in drawn]


def _judge_dense(case: tuple[int, int], out: Sequence[Outcome]) -> str | None:
    n_in, n_out = case
    got = out[0].value
    missing_bias = _is_number(got) and got == n_in * n_out
    hint = "add one bias per unit" if missing_bias else "n_in * n_out weights plus n_out biases"
    return compare_number(got, params.dense_params(n_in, n_out), what=f"dense_params({n_in}, {n_out})", hint=hint)


def _judge_conv_params(case: tuple[int, int, Any], out: Sequence[Outcome]) -> str | None:
    c, f, k = case
    kh, kw = (k, k) if isinstance(k, int) else k
    got = out[0].value
    if _is_number(got) and got == f * c * kh * kw:
        hint = "add one bias per filter"
    elif _is_number(got) and got == f * (kh * kw + 1):
        hint = "each filter has one KH x KW kernel per input channel: C * KH * KW weights"
    else:
        hint = "F * (C * KH * KW + 1); kernel_size is an int (square) or a pair (KH, KW)"
    return compare_number(got, params.conv2d_params(c, f, k), what=f"conv2d_params({c}, {f}, {k!r})", hint=hint)


# --- the test cells -------------------------------------------------------------------------------------

CHECKS: dict[str, list[Check]] = {
    "test_pad2d": [
        Check(
            name="pad2d on images of 2 to 4 axes",
            cases=_pad_cases,
            calls=lambda case: [Call("pad2d", (case["x"], case["p"]))],
            judge=_judge_pad,
            forbid=FROM_SCRATCH + NP_PAD,
            time_limit=TIME_LIMIT,
        ),
    ],
    "test_conv_output_size": [
        Check(
            name="conv_output_size",
            cases=_size_cases,
            calls=lambda case: [Call("conv_output_size", tuple(case))],
            judge=_judge_size,
            forbid=FROM_SCRATCH,
            time_limit=TIME_LIMIT,
        ),
    ],
    "test_conv2d_single": [
        Check(
            name="conv2d_single on non-square images and kernels",
            cases=_single_cases,
            calls=lambda case: [Call("conv2d_single", (case["image"], case["kernel"]))],
            judge=_judge_single,
            forbid=FROM_SCRATCH,
            time_limit=TIME_LIMIT,
        ),
    ],
    "test_conv2d_multichannel": [
        Check(
            name="conv2d with several channels, filters and a bias (stride 1)",
            cases=_multichannel_cases,
            calls=_conv_calls,
            judge=_judge_conv,
            forbid=FROM_SCRATCH,
            time_limit=TIME_LIMIT,
        ),
    ],
    "test_conv2d_stride": [
        Check(
            name="conv2d with stride and padding",
            cases=_stride_cases,
            calls=_conv_calls,
            judge=_judge_conv,
            forbid=FROM_SCRATCH,
            time_limit=TIME_LIMIT,
        ),
    ],
    "test_edges": [
        Check(
            name="edge_maps with your conv2d",
            cases=_edge_cases,
            calls=lambda case: [Call("edge_maps", (case["image"], case["kx"], case["ky"]))],
            judge=_judge_edges,
            forbid=FROM_SCRATCH,
            time_limit=TIME_LIMIT,
        ),
    ],
    "test_params": [
        Check(
            name="dense_params",
            cases=_dense_cases,
            calls=lambda case: [Call("dense_params", tuple(case))],
            judge=_judge_dense,
            forbid=FROM_SCRATCH,
            time_limit=TIME_LIMIT,
        ),
        Check(
            name="conv2d_params",
            cases=_conv_params_cases,
            calls=lambda case: [Call("conv2d_params", tuple(case))],
            judge=_judge_conv_params,
            forbid=FROM_SCRATCH,
            time_limit=TIME_LIMIT,
        ),
    ],
}
