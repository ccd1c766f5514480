"""Hidden checks of the ``architectures`` assignment: layer tables, residual and dense blocks, a small ResNet.

Every check compares the student's answer with :mod:`coursepkg`:

- ``layer_table`` (plain Python, from scratch) against :func:`coursepkg.params.layer_table`, on networks with
  non-square inputs, strides that do not divide the size, ``"same"`` with an even kernel, 1x1 kernels, and on
  random networks drawn with hypothesis;
- the framework blocks (PyTorch or Keras, the student's choice) through the grader operations only
  (``@forward``, ``@count_trainable_params``, ``@parameters``, ``@framework``): output shapes on several input
  shapes and strides, trainable parameter counts from :mod:`coursepkg.params` (equal to the counts of
  :class:`coursepkg.models.torch.BasicBlock` and :class:`~coursepkg.models.torch.DenseBlock`, which the unit
  tests check), and behaviour: the block's output must equal what the specified architecture computes *with
  the block's own convolution weights*, evaluated here in NumPy with :func:`coursepkg.ops.conv2d`. A freshly
  built batch normalisation in inference mode is ``x / sqrt(1 + eps)``, and the output is accepted under
  either usual ``eps`` (1e-5, PyTorch's default, and 1e-3, Keras's); a missing shortcut, a missing stride or a
  wrong concatenation changes it by far more than the tolerance.

Building a block may not call :mod:`coursepkg` (its ``BasicBlock``, ``DenseBlock``, ``resnet18``...): those
points are for the student's own block.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from autograder.checks import FROM_SCRATCH, Call, Check, Outcome, Ref, compare_array, draw_cases, expect_value
from coursepkg import params as reference
from coursepkg.ops import conv2d

#: The seed of the student's process: before the first cell runs, the grader seeds Python's ``random``,
#: NumPy's global generator, and torch and TensorFlow when the notebook's imports are already loaded. The
#: hidden checks draw their own cases with seeds of their own; this one is recorded with every score.
SEED = 20261103

__all__ = ["CHECKS"]

# Building a block with the course's own blocks is not building it.
NO_REFERENCE_BLOCKS: tuple[str, ...] = ("coursepkg", "torchvision", "keras.src.applications", "keras.applications")

# --- layer_table ----------------------------------------------------------------------------------------


def _spec(layer: tuple) -> Any:
    """The coursepkg.params spec of one of the assignment's layer tuples."""
    kind = layer[0]
    if kind == "conv":
        _, filters, kernel, stride, padding = layer
        return reference.Conv2D(filters, kernel, stride=stride, padding=padding)
    if kind == "pool":
        _, size, stride = layer
        return reference.MaxPool(size, stride=stride)
    if kind == "flatten":
        return reference.Flatten()
    if kind == "dense":
        return reference.Dense(layer[1])
    raise ValueError(f"unknown layer {layer!r}")


def reference_table(input_shape: Sequence[int], layers: Sequence[tuple]) -> list[tuple[tuple[int, ...], int]]:
    """``(output_shape, params)`` of every layer, from :func:`coursepkg.params.layer_table`."""
    rows = reference.layer_table(tuple(input_shape), [_spec(layer) for layer in layers])
    return [(tuple(row.output_shape), row.params) for row in rows[1:]]


#: Networks a half-right formula gets wrong: non-square inputs, strides that do not divide, "same" with an
#: even kernel, "valid", 1x1 kernels, a stride larger than the kernel, a 1x1 map before the dense layers.
TABLE_CASES: list[dict[str, Any]] = [
    {"input_shape": (31, 20, 3), "layers": [("conv", 8, 5, 2, 1), ("pool", 3, 2), ("flatten",), ("dense", 10)]},
    {
        "input_shape": (12, 9, 5),
        "layers": [("conv", 4, 1, 1, 0), ("conv", 6, 4, 1, "same"), ("conv", 6, 3, 1, "valid"), ("pool", 2, 2),
                   ("flatten",), ("dense", 7)],
    },
    {"input_shape": (10, 13, 1), "layers": [("conv", 2, 2, 3, 0), ("conv", 3, 2, 1, "same"), ("pool", 2, 1)]},
    {"input_shape": (6, 6, 2), "layers": [("conv", 3, 6, 1, 0), ("flatten",), ("dense", 1), ("dense", 4)]},
]  # fmt: skip


@st.composite
def _networks(draw: Any) -> dict[str, Any]:
    """A random valid network: convolutions and poolings that fit, then maybe flatten and dense layers."""
    h, w = draw(st.integers(4, 40)), draw(st.integers(4, 40))
    c = draw(st.integers(1, 4))
    input_shape, layers = (h, w, c), []
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            k = draw(st.integers(1, 5))
            stride = draw(st.integers(1, 3))
            padding = draw(st.sampled_from([0, 1, 2, "valid", "same"] if stride == 1 else [0, 1, 2, "valid"]))
            p = 0 if padding in ("valid", "same") else padding
            if padding != "same" and (h + 2 * p < k or w + 2 * p < k):
                continue
            layer = ("conv", draw(st.integers(1, 16)), k, stride, padding)
        else:
            size, stride = draw(st.integers(2, 3)), draw(st.integers(1, 3))
            if h < size or w < size:
                continue
            layer = ("pool", size, stride)
        layers.append(layer)
        (h, w, _), _ = reference_table((h, w, c), [layer])[0]
        c = layer[1] if layer[0] == "conv" else c
    if draw(st.booleans()):
        layers += [("flatten",)] + [("dense", draw(st.integers(1, 20))) for _ in range(draw(st.integers(1, 2)))]
    return {"input_shape": input_shape, "layers": layers}


def _table_cases() -> list[dict[str, Any]]:
    return TABLE_CASES + draw_cases(_networks(), 6, seed=3)


def _table_calls(case: dict[str, Any]) -> list[Call]:
    return [Call("layer_table", (case["input_shape"], case["layers"]))]


def _rows(got: Any, n: int) -> tuple[list | None, str | None]:
    """The student's rows as ``[(shape, params), ...]``, or a message saying what is wrong with their form."""
    if not isinstance(got, list):
        return None, "layer_table must return a list with one (output_shape, params) pair per layer"
    if len(got) != n:
        return None, (
            f"layer_table returned {len(got)} rows for {n} layers; return one (output_shape, params) pair per "
            "layer, without a row for the input"
        )
    for i, row in enumerate(got):
        if not (isinstance(row, list) and len(row) == 2):
            return None, f"row {i} of layer_table's result is {row!r}; each row must be a pair (output_shape, params)"
    return got, None


def _judge_table(column: int, case: dict[str, Any], outcomes: Sequence[Outcome]) -> str | None:
    layers = case["layers"]
    rows, problem = _rows(outcomes[0].value, len(layers))
    if problem:
        return problem
    expected = reference_table(case["input_shape"], layers)
    shape_in = tuple(case["input_shape"])
    for i, (layer, row, want) in enumerate(zip(layers, rows, expected)):
        what = "output shape" if column == 0 else "parameters"
        hint = ""
        if column == 0 and layer[0] == "conv" and layer[4] == "same":
            hint = '"same" keeps H and W, also for an even kernel'
        elif column == 0:
            hint = "floor((n + 2p - k) / s) + 1 along each axis; flatten gives a 1-tuple"
        elif layer[0] in ("conv", "dense"):
            hint = "weights plus one bias per filter or unit"
        message = expect_value(
            row[column], want[column], what=f"{what} of layer {i}, {layer!r}, on an input of shape {shape_in}",
            hint=hint,
        )
        if message:
            return message
        shape_in = want[0]
    return None


def _table_check(column: int) -> Check:
    return Check(
        name=f"layer_table: {'output shapes' if column == 0 else 'parameter counts'} match coursepkg.params",
        cases=_table_cases,
        calls=_table_calls,
        judge=lambda case, outcomes: _judge_table(column, case, outcomes),
        forbid=FROM_SCRATCH,
        time_limit=5.0,
    )


# --- reading the weights of a block, whatever the framework ---------------------------------------------


def _kernels(framework: str, weights: Sequence[Any]) -> list[np.ndarray]:
    """The convolution kernels among a block's weights, in PyTorch's layout (F, C, KH, KW), in order."""
    arrays = [w for w in weights if isinstance(w, np.ndarray) and w.ndim == 4]
    if framework == "keras":
        return [w.transpose(3, 2, 0, 1) for w in arrays]  # (KH, KW, C, F) -> (F, C, KH, KW)
    return arrays


def _assign(kernels: list[np.ndarray], wanted: Sequence[tuple[str, tuple[int, ...]]], what: str):
    """Match each wanted ``(role, shape)`` with the first unused kernel of that shape, in the block's order.

    Returns ``({role: kernel}, None)`` or ``(None, message)`` naming the convolution that is missing or extra.
    """
    free = list(range(len(kernels)))
    found: dict[str, np.ndarray] = {}
    for role, shape in wanted:
        match = next((i for i in free if kernels[i].shape == shape), None)
        if match is None:
            shapes = [k.shape for k in kernels]
            return None, (
                f"{what}: found no convolution kernel of shape {shape} (F, C, KH, KW) for the {role}; your "
                f"convolutions have kernels of shapes {shapes} in PyTorch's layout"
            )
        found[role] = kernels[match]
        free.remove(match)
    if free:
        return None, (
            f"{what}: {len(free)} convolution(s) more than the specification: kernels of shapes "
            f"{[kernels[i].shape for i in free]} (F, C, KH, KW)"
        )
    return found, None


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


#: Batch-norm epsilons a student's block may have: PyTorch's default (and the course's Keras builders'), and
#: Keras's default.
EPSILONS = (1e-5, 1e-3)


def _closest(got: Any, candidates: Sequence[np.ndarray], *, what: str, hint: str) -> str | None:
    """``None`` if ``got`` matches one of the candidate outputs, else the message for the closest one.

    The candidates are the specified computation under each reading the specification leaves open (the batch
    norms' epsilon; which of two same-shaped kernels comes first). Float32 against float64 stays far below the
    tolerance; a missing shortcut, stride or concatenation changes the output by tens of percent.
    """
    messages = []
    for expected in candidates:
        scale = max(float(np.abs(expected).max()) if expected.size else 1.0, 1e-6)
        message = compare_array(got, expected, what=what, rtol=1e-3, atol=1e-3 * scale, hint=hint)
        if message is None:
            return None
        same_shape = isinstance(got, np.ndarray) and got.shape == expected.shape
        error = float(np.abs(got - expected).max()) if same_shape else np.inf
        messages.append((error, len(messages), message))
    return min(messages)[2]


def _framework_calls(builder: Call, x: np.ndarray) -> list[Call]:
    """Build, then read the framework, the weights and the output on ``x`` of what was built."""
    return [
        builder,
        Call("@framework", (Ref("block"),)),
        Call("@parameters", (Ref("block"),)),
        Call("@forward", (Ref("block"), x)),
    ]


def _input(case: dict[str, Any]) -> np.ndarray:
    rng = np.random.default_rng(case["seed"])
    return rng.standard_normal((case["n"], case["c_in"], case["h"], case["w"])).astype(np.float32)


# --- residual blocks ------------------------------------------------------------------------------------


def residual_params(c_in: int, c_out: int, stride: int) -> int:
    """Trainable parameters of the basic block: two 3x3 convolutions without bias, two BN, maybe a projection."""
    count = reference.conv2d_params(c_in, c_out, 3, bias=False) + reference.conv2d_params(c_out, c_out, 3, bias=False)
    count += 2 * reference.batchnorm_params(c_out).trainable
    if stride != 1 or c_in != c_out:
        count += reference.conv2d_params(c_in, c_out, 1, bias=False) + reference.batchnorm_params(c_out).trainable
    return count


def _bn(x: np.ndarray, eps: float) -> np.ndarray:
    """A freshly built batch norm in inference mode: mean 0, variance 1, scale 1, shift 0."""
    return x / np.sqrt(1.0 + eps)


def residual_forward(
    x: np.ndarray, w1: np.ndarray, w2: np.ndarray, wp: np.ndarray | None, stride: int, eps: float = 1e-5
) -> np.ndarray:
    """The basic block with fresh batch norms: ``relu(BN(conv(relu(BN(conv_s(x))))) + shortcut(x))``."""
    x = x.astype(np.float64)
    out = _relu(_bn(conv2d(x, w1.astype(np.float64), stride=stride, padding=1), eps))  # (N, out, OH, OW)
    out = _bn(conv2d(out, w2.astype(np.float64), padding=1), eps)  # F(x)
    shortcut = x if wp is None else _bn(conv2d(x, wp.astype(np.float64), stride=stride), eps)
    return _relu(out + shortcut)


def _residual_wanted(c_in: int, c_out: int, stride: int) -> list[tuple[str, tuple[int, ...]]]:
    wanted = [("first 3x3 convolution", (c_out, c_in, 3, 3)), ("second 3x3 convolution", (c_out, c_out, 3, 3))]
    if stride != 1 or c_in != c_out:
        wanted.append(("1x1 projection of the shortcut", (c_out, c_in, 1, 1)))
    return wanted


def _residual_call(case: dict[str, Any]) -> Call:
    return Call("residual_block", (case["c_in"], case["c_out"]), {"stride": case["stride"]}, store="block")


def _residual_name(case: dict[str, Any]) -> str:
    return f"residual_block({case['c_in']}, {case['c_out']}, stride={case['stride']})"


def _out_hw(case: dict[str, Any]) -> tuple[int, int]:
    s = case["stride"]
    return (case["h"] - 1) // s + 1, (case["w"] - 1) // s + 1


def _judge_residual_shape(case: dict[str, Any], outcomes: Sequence[Outcome]) -> str | None:
    expected = (case["n"], case["c_out"], *_out_hw(case))
    got = outcomes[-1].value
    return expect_value(
        got.shape if isinstance(got, np.ndarray) else got, expected,
        what=f"output shape of {_residual_name(case)} on an input of shape {_input(case).shape}",
        hint="padding 1 around each 3x3 convolution; the stride on the first 3x3 and on the projection",
    )


def _judge_residual_count(case: dict[str, Any], outcomes: Sequence[Outcome]) -> str | None:
    projection = case["stride"] != 1 or case["c_in"] != case["c_out"]
    return expect_value(
        outcomes[-1].value, residual_params(case["c_in"], case["c_out"], case["stride"]),
        what=f"trainable parameters of {_residual_name(case)}",
        hint=("two 3x3 convolutions and a 1x1 projection, all without bias, and three batch norms" if projection
              else "two 3x3 convolutions without bias and two batch norms; the identity shortcut has no parameters"),
    )


def _judge_residual_behaviour(case: dict[str, Any], outcomes: Sequence[Outcome]) -> str | None:
    framework, weights, got = (outcome.value for outcome in outcomes[1:])
    c_in, c_out, stride = case["c_in"], case["c_out"], case["stride"]
    name = _residual_name(case)
    found, problem = _assign(_kernels(framework, weights), _residual_wanted(c_in, c_out, stride), name)
    if problem:
        return problem
    x = _input(case)
    orders = [(found["first 3x3 convolution"], found["second 3x3 convolution"])]
    if c_in == c_out:  # the two 3x3 kernels have the same shape: accept them registered in either order
        orders.append(orders[0][::-1])
    projection = found.get("1x1 projection of the shortcut")
    candidates = [residual_forward(x, w1, w2, projection, stride, eps) for eps in EPSILONS for w1, w2 in orders]
    return _closest(
        got, candidates,
        what=f"{name} on x of shape {x.shape}, compared with relu(F(x) + shortcut(x)) computed from your block's "
        "own kernels",
        hint=("add the input x itself back (identity shortcut), then apply the ReLU" if projection is None else
              "shortcut = BN(1x1 conv with the block's stride); the first 3x3 has the stride, both 3x3 pad 1 "
              "on every side (Keras: ZeroPadding2D(1), not padding='same', for stride 2)"),
    )


def _residual_cases(kind: str):
    def cases() -> list[dict[str, Any]]:
        if kind == "identity":
            explicit = [
                {"c_in": 8, "c_out": 8, "stride": 1, "n": 2, "h": 7, "w": 5, "seed": 1},  # non-square, odd
                {"c_in": 3, "c_out": 3, "stride": 1, "n": 1, "h": 4, "w": 9, "seed": 2},  # batch of one
                {"c_in": 1, "c_out": 1, "stride": 1, "n": 1, "h": 1, "w": 1, "seed": 3},  # a single pixel
            ]
            strategy = st.fixed_dictionaries({
                "c_in": st.integers(1, 12), "stride": st.just(1), "n": st.integers(1, 3),
                "h": st.integers(1, 12), "w": st.integers(1, 12), "seed": st.integers(0, 2**16),
            }).map(lambda case: {**case, "c_out": case["c_in"]})  # fmt: skip
            return explicit + draw_cases(strategy, 2, seed=11)
        explicit = [
            {"c_in": 4, "c_out": 8, "stride": 1, "n": 2, "h": 6, "w": 5, "seed": 4},  # channels only
            {"c_in": 8, "c_out": 8, "stride": 2, "n": 1, "h": 8, "w": 8, "seed": 5},  # stride only, even size
            {"c_in": 3, "c_out": 6, "stride": 2, "n": 2, "h": 7, "w": 10, "seed": 6},  # both; 2 does not divide 7
            {"c_in": 6, "c_out": 4, "stride": 3, "n": 1, "h": 11, "w": 5, "seed": 7},  # fewer channels, stride 3
        ]
        strategy = st.fixed_dictionaries({
            "c_in": st.integers(1, 12), "c_out": st.integers(1, 12), "stride": st.integers(1, 3),
            "n": st.integers(1, 3), "h": st.integers(2, 12), "w": st.integers(2, 12), "seed": st.integers(0, 2**16),
        }).filter(lambda case: case["stride"] != 1 or case["c_in"] != case["c_out"])  # fmt: skip
        return explicit + draw_cases(strategy, 2, seed=12)

    return cases


def _residual_checks(kind: str) -> list[Check]:
    cases = _residual_cases(kind)
    shape_calls = lambda case: [_residual_call(case), Call("@forward", (Ref("block"), _input(case)))]  # noqa: E731
    count_calls = lambda case: [_residual_call(case), Call("@count_trainable_params", (Ref("block"),))]  # noqa: E731
    return [
        Check(f"residual_block ({kind} shortcut): output shape", cases, shape_calls, _judge_residual_shape,
              forbid=NO_REFERENCE_BLOCKS, time_limit=20.0),
        Check(f"residual_block ({kind} shortcut): trainable parameters", cases, count_calls, _judge_residual_count,
              forbid=NO_REFERENCE_BLOCKS, time_limit=20.0),
        Check(f"residual_block ({kind} shortcut): computes relu(F(x) + shortcut(x))", cases,
              lambda case: _framework_calls(_residual_call(case), _input(case)), _judge_residual_behaviour,
              forbid=NO_REFERENCE_BLOCKS, time_limit=20.0),
    ]  # fmt: skip


# --- dense block ----------------------------------------------------------------------------------------


def dense_params(c_in: int, num_layers: int, growth_rate: int) -> int:
    """Trainable parameters of a DenseNet-BC block (bottleneck 4k, no convolution biases)."""
    inner, count = 4 * growth_rate, 0
    for i in range(num_layers):
        channels = c_in + i * growth_rate
        count += reference.batchnorm_params(channels).trainable  # BN on the C0 + i k channels it reads
        count += reference.conv2d_params(channels, inner, 1, bias=False)  # 1x1 to 4k
        count += reference.batchnorm_params(inner).trainable
        count += reference.conv2d_params(inner, growth_rate, 3, bias=False)  # 3x3 to k
    return count


def dense_forward(x: np.ndarray, kernels: Sequence[tuple[np.ndarray, np.ndarray]], eps: float = 1e-5) -> np.ndarray:
    """The dense block with fresh batch norms: ``[x, y_0, ...]``, ``y_l = conv3(relu(BN(conv1(relu(BN(...))))))``."""
    features = [x.astype(np.float64)]
    for w1, w3 in kernels:
        h = _relu(_bn(np.concatenate(features, axis=1), eps))  # (N, C0 + l k, H, W)
        h = _relu(_bn(conv2d(h, w1.astype(np.float64)), eps))  # (N, 4k, H, W)
        features.append(conv2d(h, w3.astype(np.float64), padding=1))  # (N, k, H, W)
    return np.concatenate(features, axis=1)  # (N, C0 + L k, H, W)


def _dense_call(case: dict[str, Any]) -> Call:
    return Call("dense_block", (case["c_in"], case["layers"]), {"growth_rate": case["k"]}, store="block")


def _dense_name(case: dict[str, Any]) -> str:
    return f"dense_block({case['c_in']}, {case['layers']}, growth_rate={case['k']})"


def _dense_cases() -> list[dict[str, Any]]:
    explicit = [
        {"c_in": 3, "layers": 2, "k": 4, "n": 2, "h": 5, "w": 7, "seed": 21},  # non-square
        {"c_in": 1, "layers": 1, "k": 2, "n": 1, "h": 3, "w": 3, "seed": 22},  # one layer, batch of one
        {"c_in": 5, "layers": 3, "k": 3, "n": 1, "h": 1, "w": 6, "seed": 23},  # a single row
        {"c_in": 8, "layers": 4, "k": 1, "n": 2, "h": 4, "w": 4, "seed": 24},  # growth rate 1
    ]
    strategy = st.fixed_dictionaries({
        "c_in": st.integers(1, 10), "layers": st.integers(1, 4), "k": st.integers(1, 6), "n": st.integers(1, 2),
        "h": st.integers(1, 8), "w": st.integers(1, 8), "seed": st.integers(0, 2**16),
    })  # fmt: skip
    return explicit + draw_cases(strategy, 2, seed=13)


def _judge_dense_shape(case: dict[str, Any], outcomes: Sequence[Outcome]) -> str | None:
    got = outcomes[-1].value
    expected = (case["n"], case["c_in"] + case["layers"] * case["k"], case["h"], case["w"])
    return expect_value(
        got.shape if isinstance(got, np.ndarray) else got, expected,
        what=f"output shape of {_dense_name(case)} on an input of shape {_input(case).shape}",
        hint="concatenate the input and every layer's k new channels along the channel axis (C0 + L k channels)",
    )


def _judge_dense_count(case: dict[str, Any], outcomes: Sequence[Outcome]) -> str | None:
    return expect_value(
        outcomes[-1].value, dense_params(case["c_in"], case["layers"], case["k"]),
        what=f"trainable parameters of {_dense_name(case)}",
        hint="layer l: BN on C0 + l k channels, 1x1 conv to 4k, BN on 4k, 3x3 conv to k; no biases",
    )


def _judge_dense_behaviour(case: dict[str, Any], outcomes: Sequence[Outcome]) -> str | None:
    framework, weights, got = (outcome.value for outcome in outcomes[1:])
    c_in, num_layers, k = case["c_in"], case["layers"], case["k"]
    name = _dense_name(case)
    x = _input(case)
    expected_shape = (x.shape[0], c_in + num_layers * k, *x.shape[2:])
    if isinstance(got, np.ndarray) and got.shape == expected_shape:
        message = compare_array(
            got[:, :c_in], x, what=f"the first {c_in} output channels of {name}", rtol=1e-5, atol=1e-6,
            hint="the output is the concatenation [x, y_0, ..., y_(L-1)]: the block's input comes first, unchanged",
        )
        if message:
            return message
    wanted = []
    for i in range(num_layers):
        wanted += [(f"1x1 convolution of layer {i}", (4 * k, c_in + i * k, 1, 1)),
                   (f"3x3 convolution of layer {i}", (k, 4 * k, 3, 3))]  # fmt: skip
    found, problem = _assign(_kernels(framework, weights), wanted, name)
    if problem:
        return problem
    pairs = [
        (found[f"1x1 convolution of layer {i}"], found[f"3x3 convolution of layer {i}"]) for i in range(num_layers)
    ]
    return _closest(
        got, [dense_forward(x, pairs, eps) for eps in EPSILONS],
        what=f"{name} on x of shape {x.shape}, compared with the dense block computed from your own kernels",
        hint="layer l reads the concatenation of x and all earlier outputs; BN-ReLU-1x1-BN-ReLU-3x3 (padding 1)",
    )


def _dense_checks() -> list[Check]:
    shape_calls = lambda case: [_dense_call(case), Call("@forward", (Ref("block"), _input(case)))]  # noqa: E731
    count_calls = lambda case: [_dense_call(case), Call("@count_trainable_params", (Ref("block"),))]  # noqa: E731
    return [
        Check("dense_block: output shape", _dense_cases, shape_calls, _judge_dense_shape,
              forbid=NO_REFERENCE_BLOCKS, time_limit=20.0),
        Check("dense_block: trainable parameters", _dense_cases, count_calls, _judge_dense_count,
              forbid=NO_REFERENCE_BLOCKS, time_limit=20.0),
        Check("dense_block: concatenates [x, y_0, ..., y_(L-1)] computed by its layers", _dense_cases,
              lambda case: _framework_calls(_dense_call(case), _input(case)), _judge_dense_behaviour,
              forbid=NO_REFERENCE_BLOCKS, time_limit=20.0),
    ]  # fmt: skip


# --- small ResNet ---------------------------------------------------------------------------------------

#: (in_channels, out_channels, stride) of the three residual blocks of small_resnet.
SMALL_RESNET_BLOCKS = ((16, 16, 1), (16, 32, 2), (32, 64, 2))


def small_resnet_params(num_classes: int, in_channels: int) -> int:
    """Trainable parameters of the assignment's small ResNet (77,754 for 10 classes and one channel)."""
    count = reference.conv2d_params(in_channels, 16, 3, bias=False) + reference.batchnorm_params(16).trainable
    count += sum(residual_params(*block) for block in SMALL_RESNET_BLOCKS)
    return count + reference.dense_params(64, num_classes)


def _small_wanted(in_channels: int) -> list[tuple[str, tuple[int, ...]]]:
    wanted = [("stem convolution", (16, in_channels, 3, 3))]
    for b, (c_in, c_out, stride) in enumerate(SMALL_RESNET_BLOCKS, start=1):
        wanted += [(f"{role} of block {b}", shape) for role, shape in _residual_wanted(c_in, c_out, stride)]
    return wanted


def _dense_layer(framework: str, weights: Sequence[Any], num_classes: int) -> tuple[Any, str | None]:
    """``(W of shape (64, K), b of shape (K,))`` of the classifier, or a message."""
    matrices = [i for i, w in enumerate(weights) if isinstance(w, np.ndarray) and w.ndim == 2]
    if len(matrices) != 1:
        return None, f"small_resnet: expected exactly one dense layer (a 2-D weight matrix), found {len(matrices)}"
    index = matrices[0]
    matrix = weights[index] if framework == "keras" else weights[index].T  # Keras (in, out); PyTorch (out, in)
    if matrix.shape != (64, num_classes):
        return None, (
            f"small_resnet(num_classes={num_classes}): the dense layer maps {matrix.shape[0]} features to "
            f"{matrix.shape[1]}; it must map the 64 pooled channels to num_classes"
        )
    following = weights[index + 1] if index + 1 < len(weights) else None
    if not (isinstance(following, np.ndarray) and following.shape == (num_classes,)):
        return None, "small_resnet: the dense layer must have a bias (its weights are followed by it)"
    return (matrix, following), None


def small_resnet_forward(
    x: np.ndarray, kernels: dict[str, np.ndarray], dense: tuple[np.ndarray, np.ndarray], eps: float = 1e-5
) -> np.ndarray:
    """The small ResNet with fresh batch norms, from its kernels (roles of :func:`_small_wanted`) and dense layer."""
    h = _relu(_bn(conv2d(x.astype(np.float64), kernels["stem convolution"].astype(np.float64), padding=1), eps))
    for b, (_, _, stride) in enumerate(SMALL_RESNET_BLOCKS, start=1):
        h = residual_forward(
            h, kernels[f"first 3x3 convolution of block {b}"], kernels[f"second 3x3 convolution of block {b}"],
            kernels.get(f"1x1 projection of the shortcut of block {b}"), stride, eps,
        )
    pooled = h.mean(axis=(2, 3))  # (N, 64)
    matrix, bias = dense
    return pooled @ matrix.astype(np.float64) + bias.astype(np.float64)  # (N, K)


def _small_call(case: dict[str, Any]) -> Call:
    return Call("small_resnet", (), {"num_classes": case["classes"], "in_channels": case["c_in"]}, store="block")


def _small_name(case: dict[str, Any]) -> str:
    return f"small_resnet(num_classes={case['classes']}, in_channels={case['c_in']})"


def _small_cases() -> list[dict[str, Any]]:
    return [
        {"classes": 10, "c_in": 1, "n": 2, "h": 8, "w": 8, "seed": 31},  # the digits
        {"classes": 5, "c_in": 3, "n": 1, "h": 13, "w": 10, "seed": 32},  # colour, odd, non-square, batch of one
        {"classes": 2, "c_in": 2, "n": 3, "h": 5, "w": 12, "seed": 33},
    ]


def _judge_small_shape(case: dict[str, Any], outcomes: Sequence[Outcome]) -> str | None:
    got = outcomes[-1].value
    return expect_value(
        got.shape if isinstance(got, np.ndarray) else got, (case["n"], case["classes"]),
        what=f"output shape of {_small_name(case)} on an input of shape {_input(case).shape}",
        hint="global average pooling over H and W, then a dense layer to num_classes logits",
    )


def _judge_small_count(case: dict[str, Any], outcomes: Sequence[Outcome]) -> str | None:
    return expect_value(
        outcomes[-1].value, small_resnet_params(case["classes"], case["c_in"]),
        what=f"trainable parameters of {_small_name(case)}",
        hint="stem conv 3x3 to 16 without bias, BN, your three residual blocks, a dense layer with bias",
    )


def _judge_small_behaviour(case: dict[str, Any], outcomes: Sequence[Outcome]) -> str | None:
    framework, weights, got = (outcome.value for outcome in outcomes[1:])
    name = _small_name(case)
    found, problem = _assign(_kernels(framework, weights), _small_wanted(case["c_in"]), name)
    if problem:
        return problem
    dense, problem = _dense_layer(framework, weights, case["classes"])
    if problem:
        return problem
    x = _input(case)
    return _closest(
        got, [small_resnet_forward(x, found, dense, eps) for eps in EPSILONS],
        what=f"{name} on x of shape {x.shape}, compared with the specified network computed from your own weights",
        hint="stem, residual_block(16, 16), (16, 32, stride=2), (32, 64, stride=2), global average pooling, dense",
    )


def _small_checks() -> list[Check]:
    shape_calls = lambda case: [_small_call(case), Call("@forward", (Ref("block"), _input(case)))]  # noqa: E731
    count_calls = lambda case: [_small_call(case), Call("@count_trainable_params", (Ref("block"),))]  # noqa: E731
    return [
        Check("small_resnet: output shape", _small_cases, shape_calls, _judge_small_shape,
              forbid=NO_REFERENCE_BLOCKS, time_limit=30.0),
        Check("small_resnet: trainable parameters", _small_cases, count_calls, _judge_small_count,
              forbid=NO_REFERENCE_BLOCKS, time_limit=30.0),
        Check("small_resnet: computes the specified network", _small_cases,
              lambda case: _framework_calls(_small_call(case), _input(case)), _judge_small_behaviour,
              forbid=NO_REFERENCE_BLOCKS, time_limit=30.0),
    ]  # fmt: skip


CHECKS: dict[str, list[Check]] = {
    "test_table_shapes": [_table_check(0)],
    "test_table_params": [_table_check(1)],
    "test_residual_identity": _residual_checks("identity"),
    "test_residual_projection": _residual_checks("projection"),
    "test_dense_block": _dense_checks(),
    "test_small_resnet": _small_checks(),
}
