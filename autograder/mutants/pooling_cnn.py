"""Seeded wrong solutions of ``pooling_cnn``: the typical mistakes, and the test cells each must fail.

Each mutant replaces one answer cell with the whole source of a wrong version (signature, short docstring,
body). Together they fail every test cell at least once; :mod:`tests.grading.hidden.test_pooling_cnn`
checks that each fails exactly its ``fails`` set.
"""

from __future__ import annotations

from autograder.mutants import Mutant

__all__ = ["MUTANTS"]

_MAX = 'def max_pool2d(x, size, stride=None):\n    """Max pooling (a wrong version)."""\n'
_AVG = 'def avg_pool2d(x, size, stride=None):\n    """Average pooling (a wrong version)."""\n'
_MAX_BACK = 'def max_pool2d_backward(dout, x, size, stride=None):\n    """Max pooling backward (a wrong version)."""\n'
_AVG_BACK = 'def avg_pool2d_backward(dout, x, size, stride=None):\n    """Average pooling backward (a wrong version)."""\n'
_TRAIN = 'def train_digit_classifier(x_train, y_train, seed=0):\n    """Train a digit classifier (a wrong version)."""\n'


def _pool_forward(header: str, *, size_rows: str, size_cols: str, reduce: str, stride: str, start: str = "np.empty") -> str:
    """A forward pooling function with one ingredient swapped (output size, reduction, stride, initial value)."""
    return header + (
        f"    stride = {stride}\n"
        "    n, c, h, w = x.shape\n"
        f"    oh, ow = {size_rows}, {size_cols}\n"
        f"    out = {start}((n, c, oh, ow))\n"
        "    for i in range(oh):\n"
        "        for j in range(ow):\n"
        "            window = x[:, :, i * stride : i * stride + size, j * stride : j * stride + size]\n"
        f"            out[:, :, i, j] = {reduce}\n"
        "    return out\n"
    )


_RIGHT_ROWS, _RIGHT_COLS = "(h - size) // stride + 1", "(w - size) // stride + 1"
_RIGHT_STRIDE = "size if stride is None else stride"

_MAX_BACKWARD_LOOP = """    stride = size if stride is None else stride
    n, c, h, w = x.shape
    oh, ow = dout.shape[2:]
    dx = np.zeros((n, c, h, w))
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * stride, i * stride + size)
            cols = slice(j * stride, j * stride + size)
            window = x[:, :, rows, cols]
            share = dout[:, :, i, j][:, :, None, None]
"""

_AVG_BACKWARD_LOOP = """    stride = size if stride is None else stride
    oh, ow = dout.shape[2:]
    dx = np.zeros(x.shape)
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * stride, i * stride + size)
            cols = slice(j * stride, j * stride + size)
"""

_TORCH_MODEL = """    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 10),
    )
"""

_TORCH_SETUP = """    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    x = torch.as_tensor(x_train, dtype=torch.float32)
    y = torch.as_tensor(y_train, dtype=torch.long)
    shuffle = torch.Generator().manual_seed(seed)
    model.train()
"""

_TORCH_LOOP = """    for epoch in range(15):
        for batch in torch.randperm(len(x), generator=shuffle).split(32):
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()
"""

MUTANTS = [
    Mutant(
        name="max-stride-ignored",
        why="max_pool2d always moves the window by its own size: right for the default stride only",
        replace={"max_pool2d": _pool_forward(
            _MAX, size_rows="(h - size) // size + 1", size_cols="(w - size) // size + 1",
            reduce="window.max(axis=(2, 3))", stride="size")},
        fails={"test_max_pool2d_stride"},
    ),
    Mutant(
        name="max-output-size-h-over-stride",
        why="max_pool2d computes the output size as H // stride, which equals the formula only when stride == size",
        replace={"max_pool2d": _pool_forward(
            _MAX, size_rows="h // stride", size_cols="w // stride", reduce="window.max(axis=(2, 3))",
            stride=_RIGHT_STRIDE)},
        fails={"test_max_pool2d_stride"},
    ),
    Mutant(
        name="max-output-off-by-one",
        why="max_pool2d forgets the + 1 of the output size formula and drops the last row and column of windows",
        replace={"max_pool2d": _pool_forward(
            _MAX, size_rows="(h - size) // stride", size_cols="(w - size) // stride",
            reduce="window.max(axis=(2, 3))", stride=_RIGHT_STRIDE)},
        fails={"test_max_pool2d", "test_max_pool2d_stride"},
    ),
    Mutant(
        name="max-running-max-from-zero",
        why="max_pool2d starts its running maximum at 0, so a window of negative values pools to 0",
        replace={"max_pool2d": _pool_forward(
            _MAX, size_rows=_RIGHT_ROWS, size_cols=_RIGHT_COLS, stride=_RIGHT_STRIDE,
            reduce="np.maximum(out[:, :, i, j], window.max(axis=(2, 3)))", start="np.zeros")},
        fails={"test_max_pool2d", "test_max_pool2d_stride"},
    ),
    Mutant(
        name="max-calls-reference",
        why="max_pool2d calls the course's reference instead of computing the windows itself",
        replace={"max_pool2d": _MAX + "    from coursepkg import ops\n\n    return ops.max_pool2d(x, size, stride)\n"},
        fails={"test_max_pool2d", "test_max_pool2d_stride"},
    ),
    Mutant(
        name="avg-sum-not-mean",
        why="avg_pool2d returns the sum of each window (sum pooling) and never divides by its size",
        replace={"avg_pool2d": _pool_forward(
            _AVG, size_rows=_RIGHT_ROWS, size_cols=_RIGHT_COLS, stride=_RIGHT_STRIDE,
            reduce="window.sum(axis=(2, 3))")},
        fails={"test_avg_pool2d"},
    ),
    Mutant(
        name="avg-divides-by-four",
        why="avg_pool2d divides every window sum by 4, as if windows were always 2x2: passes the visible tests",
        replace={"avg_pool2d": _pool_forward(
            _AVG, size_rows=_RIGHT_ROWS, size_cols=_RIGHT_COLS, stride=_RIGHT_STRIDE,
            reduce="window.sum(axis=(2, 3)) / 4")},
        fails={"test_avg_pool2d"},
    ),
    Mutant(
        name="max-backward-whole-window",
        why="max_pool2d_backward sends the gradient to every cell of the window, not only to its maximum",
        replace={"max_pool2d_backward": _MAX_BACK + _MAX_BACKWARD_LOOP
                 + "            dx[:, :, rows, cols] += np.ones_like(window) * share\n    return dx\n"},
        fails={"test_max_pool2d_backward", "test_max_pool2d_backward_overlap", "test_max_pool2d_backward_ties"},
    ),
    Mutant(
        name="max-backward-assigns",
        why="max_pool2d_backward assigns (=) instead of adding (+=): a cell that wins two overlapping windows "
        "keeps only the last gradient",
        replace={"max_pool2d_backward": _MAX_BACK + _MAX_BACKWARD_LOOP + """\
            first = window.reshape(n, c, size * size).argmax(axis=2)
            winner = (np.arange(size * size) == first[:, :, None]).reshape(n, c, size, size)
            block = dx[:, :, rows, cols]
            block[winner] = np.broadcast_to(share, winner.shape)[winner]
    return dx
"""},
        fails={"test_max_pool2d_backward_overlap"},
    ),
    Mutant(
        name="max-backward-every-tie",
        why="max_pool2d_backward gives the whole gradient to every cell equal to the window's maximum",
        replace={"max_pool2d_backward": _MAX_BACK + _MAX_BACKWARD_LOOP + """\
            winner = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, rows, cols] += winner * share
    return dx
"""},
        fails={"test_max_pool2d_backward_ties"},
    ),
    Mutant(
        name="avg-backward-no-divide",
        why="avg_pool2d_backward hands every cell the window's whole gradient instead of 1 / (size * size) of it",
        replace={"avg_pool2d_backward": _AVG_BACK + _AVG_BACKWARD_LOOP
                 + "            dx[:, :, rows, cols] += dout[:, :, i, j][:, :, None, None]\n    return dx\n"},
        fails={"test_avg_pool2d_backward"},
    ),
    Mutant(
        name="avg-backward-autograd",
        why="avg_pool2d_backward lets PyTorch's autograd compute the gradient: right numbers, not from scratch",
        replace={"avg_pool2d_backward": _AVG_BACK + """\
    import torch

    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = torch.nn.functional.avg_pool2d(xt, size, stride)
    out.backward(torch.as_tensor(dout, dtype=torch.float64))
    return xt.grad.numpy()
"""},
        fails={"test_avg_pool2d_backward"},
    ),
    Mutant(
        name="classifier-labels-not-shuffled",
        why="train_digit_classifier shuffles the images but takes the labels in their original order, so the "
        "network learns nothing",
        replace={"train_digit_classifier": _TRAIN + _TORCH_MODEL + _TORCH_SETUP + """\
    for epoch in range(15):
        order = torch.randperm(len(x), generator=shuffle)
        for start in range(0, len(x), 32):
            xb, yb = x[order[start : start + 32]], y[start : start + 32]
            loss = nn.functional.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()
"""},
        fails={"test_digit_classifier"},
    ),
    Mutant(
        name="classifier-without-convolution",
        why="train_digit_classifier trains a dense network (no convolution): accurate enough, but not the CNN asked",
        replace={"train_digit_classifier": _TRAIN + """\
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
""" + _TORCH_SETUP + _TORCH_LOOP},
        fails={"test_digit_classifier"},
    ),
]
