"""Seeded wrong solutions of the assignment ``conv``: the mistakes students make, and what each must cost.

Each mutant replaces one answer cell with a complete cell, as a student would have written it, and lists
exactly the test cells that must fail. The later parts build on the earlier ones (``conv2d`` calls the
student's ``pad2d`` and ``conv_output_size``; ``edge_maps`` calls ``conv2d``), so a mistake in an early
function can also cost the cells that use it; ``fails`` says so where it does.
"""

from __future__ import annotations

from autograder.mutants import Mutant

__all__ = ["MUTANTS"]

_PAD2D_NP_PAD = '''\
def pad2d(x, p):
    """Pad the last two axes of x with p zeros on every side."""
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(p, p), (p, p)])
'''

_PAD2D_ONE_SIDE = '''\
def pad2d(x, p):
    """Pad the last two axes of x with p zeros on every side."""
    *leading, h, w = x.shape
    out = np.zeros((*leading, h + 2 * p, w + 2 * p), dtype=x.dtype)
    out[..., :h, :w] = x  # forgets the offset: all the zeros end up at the bottom and on the right
    return out
'''

_SIZE_CEIL = '''\
def conv_output_size(n, f, p=0, s=1):
    """Output size of a convolution, rounding the number of steps up."""
    if f > n + 2 * p:
        raise ValueError(f"conv_output_size: f={f} does not fit in n={n} padded by p={p}")
    return -(-(n + 2 * p - f) // s) + 1
'''

_SIZE_NO_ERROR = '''\
def conv_output_size(n, f, p=0, s=1):
    """Output size of a convolution, without checking that the window fits."""
    return (n + 2 * p - f) // s + 1
'''

_SINGLE_FLIPPED = '''\
def conv2d_single(image, kernel):
    """True convolution: the kernel is rotated by 180 degrees first."""
    kernel = kernel[::-1, ::-1]
    h, w = image.shape
    kh, kw = kernel.shape
    out = np.zeros((h - kh + 1, w - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out
'''

_SINGLE_HARD_CODED = '''\
def conv2d_single(image, kernel):
    """Returns the answer of the worked example, whatever the input."""
    if image.shape == (4, 7):
        return np.zeros((3, 5))
    return np.array([[4, 3, 4], [2, 4, 3], [2, 3, 4]])
'''

_SINGLE_SCIPY = '''\
def conv2d_single(image, kernel):
    """Hands the work to SciPy."""
    import scipy.signal
    return scipy.signal.correlate2d(image, kernel, mode="valid")
'''

# The reference conv2d with one line changed, in the places marked.
_CONV2D = '''\
def conv2d(x, w, b=None, stride=1, padding=0):
    """2-D convolution of a batch of images with a bank of filters."""
    n, c, h, wd = x.shape
    f, c_w, kh, kw = w.shape
    oh = conv_output_size(h, kh, padding, stride)
    ow = conv_output_size(wd, kw, padding, stride)
    xp = pad2d(x, padding)
    y = np.zeros((n, f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            top, left = {top_left}
            field = xp[:, :, top:top + kh, left:left + kw]
            y[:, :, i, j] = np.sum(field[:, None] * {weights}[None], axis=(2, 3, 4))
    {bias}
    return y
'''
_STRIDED = "i * stride, j * stride"
_ADD_BIAS = "if b is not None:\n        y += np.asarray(b)[None, :, None, None]"


def _conv2d(top_left: str = _STRIDED, weights: str = "w", bias: str = _ADD_BIAS) -> str:
    return _CONV2D.format(top_left=top_left, weights=weights, bias=bias)


_CONV2D_REFERENCE_CALL = '''\
def conv2d(x, w, b=None, stride=1, padding=0):
    """Calls the course's reference implementation instead of computing the convolution."""
    from coursepkg.ops import conv2d as reference_conv2d
    return reference_conv2d(x, w, b, stride=stride, padding=padding)
'''

_CONV2D_FIRST_CHANNEL = '''\
def conv2d(x, w, b=None, stride=1, padding=0):
    """Convolves every filter with the first input channel only."""
    n, c, h, wd = x.shape
    f, c_w, kh, kw = w.shape
    oh = conv_output_size(h, kh, padding, stride)
    ow = conv_output_size(wd, kw, padding, stride)
    xp = pad2d(x, padding)
    y = np.zeros((n, f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            field = xp[:, 0, i * stride:i * stride + kh, j * stride:j * stride + kw]  # (N, KH, KW): channel 0 only
            y[:, :, i, j] = np.sum(field[:, None] * w[None, :, 0], axis=(2, 3))
    if b is not None:
        y += np.asarray(b)[None, :, None, None]
    return y
'''

_EDGES = '''\
def edge_maps(image, kx, ky):
    """Edge responses and gradient magnitude."""
    bank = np.stack([kx, ky])[:, None]
    maps = conv2d(image[None, None], bank, padding={padding})[0]
    gx, gy = maps[0], maps[1]
    return gx, gy, {magnitude}
'''

_PARAMS = '''\
def dense_params(n_in, n_out):
    """Parameters of a dense layer."""
    return {dense}


def conv2d_params(c_in, n_filters, kernel_size):
    """Parameters of a convolution layer."""
    if isinstance(kernel_size, int):
        kh = kw = kernel_size
    else:
        kh, kw = kernel_size
    return {conv}
'''

MUTANTS: list[Mutant] = [
    Mutant(
        name="pad2d-np-pad",
        why="pad2d calls np.pad, the very function it is asked to write (right values, no points)",
        replace={"pad2d": _PAD2D_NP_PAD},
        fails={"test_pad2d"},
    ),
    Mutant(
        name="pad2d-one-side",
        why="pad2d puts x in the top-left corner: the 2p zeros all go to the bottom and the right; "
        "conv2d with padding inherits the shift",
        replace={"pad2d": _PAD2D_ONE_SIDE},
        fails={"test_pad2d", "test_conv2d_multichannel", "test_conv2d_stride", "test_edges"},
    ),
    Mutant(
        name="output-size-ceil",
        why="conv_output_size rounds the number of steps up; right whenever the stride divides (the notes' "
        "example), wrong otherwise, and conv2d with such a stride inherits it",
        replace={"conv_output_size": _SIZE_CEIL},
        fails={"test_conv_output_size", "test_conv2d_stride"},
    ),
    Mutant(
        name="output-size-no-error",
        why="conv_output_size returns 0 or a negative size instead of raising ValueError",
        replace={"conv_output_size": _SIZE_NO_ERROR},
        fails={"test_conv_output_size"},
    ),
    Mutant(
        name="single-flipped-kernel",
        why="conv2d_single computes a true convolution (flipped kernel); the worked example's kernel is "
        "symmetric, so only the hidden tests see it",
        replace={"conv2d_single": _SINGLE_FLIPPED},
        fails={"test_conv2d_single"},
    ),
    Mutant(
        name="single-hard-coded",
        why="conv2d_single returns the visible tests' answers whatever the input",
        replace={"conv2d_single": _SINGLE_HARD_CODED},
        fails={"test_conv2d_single"},
    ),
    Mutant(
        name="single-scipy",
        why="conv2d_single hands the work to scipy.signal.correlate2d (right values, forbidden)",
        replace={"conv2d_single": _SINGLE_SCIPY},
        fails={"test_conv2d_single"},
    ),
    Mutant(
        name="conv2d-no-bias",
        why="conv2d forgets the bias",
        replace={"conv2d": _conv2d(bias="pass")},
        fails={"test_conv2d_multichannel", "test_conv2d_stride"},
    ),
    Mutant(
        name="conv2d-stride-ignored",
        why="conv2d computes the strided output size but starts window (i, j) at (i, j), not at "
        "(stride * i, stride * j)",
        replace={"conv2d": _conv2d(top_left="i, j")},
        fails={"test_conv2d_stride"},
    ),
    Mutant(
        name="conv2d-flipped-kernel",
        why="conv2d flips every kernel (true convolution)",
        replace={"conv2d": _conv2d(weights="w[:, :, ::-1, ::-1]")},
        fails={"test_conv2d_multichannel", "test_conv2d_stride", "test_edges"},
    ),
    Mutant(
        name="conv2d-first-channel",
        why="conv2d uses only the first input channel instead of summing over all of them",
        replace={"conv2d": _CONV2D_FIRST_CHANNEL},
        fails={"test_conv2d_multichannel", "test_conv2d_stride"},
    ),
    Mutant(
        name="conv2d-calls-reference",
        why="conv2d calls coursepkg.ops.conv2d (passes every visible test, earns nothing, and edge_maps "
        "built on it earns nothing either)",
        replace={"conv2d": _CONV2D_REFERENCE_CALL},
        fails={"test_conv2d_multichannel", "test_conv2d_stride", "test_edges"},
    ),
    Mutant(
        name="edges-valid",
        why="edge_maps forgets the padding: maps of (H - 2, W - 2)",
        replace={"edge_maps": _EDGES.format(padding=0, magnitude="np.sqrt(gx ** 2 + gy ** 2)")},
        fails={"test_edges"},
    ),
    Mutant(
        name="edges-abs-sum",
        why="edge_maps uses |gx| + |gy| as the magnitude",
        replace={"edge_maps": _EDGES.format(padding=1, magnitude="np.abs(gx) + np.abs(gy)")},
        fails={"test_edges"},
    ),
    Mutant(
        name="params-dense-no-bias",
        why="dense_params forgets the biases",
        replace={"params": _PARAMS.format(dense="n_in * n_out", conv="n_filters * (c_in * kh * kw + 1)")},
        fails={"test_params"},
    ),
    Mutant(
        name="params-conv-one-channel",
        why="conv2d_params forgets that each filter has one kernel per input channel",
        replace={"params": _PARAMS.format(dense="n_in * n_out + n_out", conv="n_filters * (kh * kw + 1)")},
        fails={"test_params"},
    ),
]
