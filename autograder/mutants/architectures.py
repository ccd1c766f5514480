"""Seeded wrong solutions of the assignment ``architectures``: the mistakes students make, and what each costs.

Each mutant replaces one answer cell with a complete cell, written as a PyTorch student would (the notebook's
``FRAMEWORK`` is ``"torch"``), and lists exactly the test cells that must fail. ``small_resnet`` is built from
the student's ``residual_block``, so a residual block that is wrong in a way the network exercises also costs
``test_small_resnet``; ``fails`` says so where it does.
"""

from __future__ import annotations

from autograder.mutants import Mutant

__all__ = ["MUTANTS"]

# --- layer_table ----------------------------------------------------------------------------------------

# The reference with the places marked {conv_params}, {same}, {pool} and {dense_params} filled in.
_TABLE = '''\
def layer_table(input_shape, layers):
    """Output shape and parameter count of every layer of a sequential network."""
    shape = tuple(input_shape)
    rows = []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            _, filters, kernel, stride, padding = layer
            h, w, c = shape
            if padding == "same":
{same}
            else:
                p = 0 if padding == "valid" else padding
                oh, ow = (h + 2 * p - kernel) // stride + 1, (w + 2 * p - kernel) // stride + 1
            shape, params = (oh, ow, filters), {conv_params}
        elif kind == "pool":
            _, size, stride = layer
            h, w, c = shape
            shape, params = {pool}, 0
        elif kind == "flatten":
            shape, params = (math.prod(shape),), 0
        elif kind == "dense":
            _, units = layer
            shape, params = (units,), {dense_params}
        rows.append((shape, params))
    return rows
'''
_TABLE_PARTS = {
    "same": "                oh, ow = h, w",
    "conv_params": "filters * (kernel * kernel * c + 1)",
    "pool": "((h - size) // stride + 1, (w - size) // stride + 1, c)",
    "dense_params": "(shape[0] + 1) * units",
}


def _table(**changes: str) -> str:
    return _TABLE.format(**{**_TABLE_PARTS, **changes})


_TABLE_COURSEPKG = '''\
from coursepkg import params as _params


def layer_table(input_shape, layers):
    """Hands the counting to coursepkg.params.layer_table."""
    kinds = {"conv": lambda f, k, s, p: _params.Conv2D(f, k, stride=s, padding=p),
             "pool": lambda k, s: _params.MaxPool(k, stride=s),
             "flatten": lambda: _params.Flatten(), "dense": lambda u: _params.Dense(u)}
    specs = [kinds[layer[0]](*layer[1:]) for layer in layers]
    return [(row.output_shape, row.params) for row in _params.layer_table(input_shape, specs)[1:]]
'''

# --- residual_block -------------------------------------------------------------------------------------

_RESIDUAL = '''\
def residual_block(in_channels, out_channels, stride=1):
    """A basic residual block: relu(F(x) + shortcut(x))."""
    projection = {projection}

    class ResidualBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(out_channels)
            self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(out_channels)
            self.shortcut = nn.Identity()
            if projection:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 1, stride={projection_stride}, bias=False),
                    nn.BatchNorm2d(out_channels),
                )

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return {output}

    return ResidualBlock()
'''
_RESIDUAL_PARTS = {
    "projection": "stride != 1 or in_channels != out_channels",
    "projection_stride": "stride",
    "output": "torch.relu(out + self.shortcut(x))",
}


def _residual(**changes: str) -> str:
    return _RESIDUAL.format(**{**_RESIDUAL_PARTS, **changes})


_RESIDUAL_COURSEPKG = '''\
from coursepkg.models import torch as _tm


def residual_block(in_channels, out_channels, stride=1):
    """The course's own BasicBlock: the same architecture, not the student's."""
    return _tm.BasicBlock(in_channels, out_channels, stride=stride)
'''

# --- dense_block ----------------------------------------------------------------------------------------

_DENSE = '''\
def dense_block(in_channels, num_layers, growth_rate):
    """A DenseNet-BC dense block."""
    inner = 4 * growth_rate

    def dense_layer(channels, out):
        return nn.Sequential(
            nn.BatchNorm2d(channels), nn.ReLU(), nn.Conv2d(channels, inner, 1, bias=False),
            nn.BatchNorm2d(inner), nn.ReLU(), nn.Conv2d(inner, out, 3, padding=1, bias=False),
        )

    class DenseBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList({layers})

        def forward(self, x):
{forward}

    return DenseBlock()
'''
_DENSE_LAYERS = "dense_layer(in_channels + i * growth_rate, growth_rate) for i in range(num_layers)"
_DENSE_FORWARD = """\
            features = [x]
            for layer in self.layers:
                features.append(layer(torch.cat(features, dim=1)))
            return torch.cat(features, dim=1)"""

_DENSE_ADDS = _DENSE.format(
    layers="dense_layer(in_channels, in_channels) for _ in range(num_layers)",
    forward="""\
            for layer in self.layers:
                x = x + layer(x)  # adds, as a residual block does: the channels never grow
            return x""",
)
_DENSE_CHAIN = _DENSE.format(
    layers="dense_layer(in_channels if i == 0 else growth_rate, growth_rate) for i in range(num_layers)",
    forward="""\
            features, h = [x], x
            for layer in self.layers:
                h = layer(h)  # each layer sees only the previous output: a plain chain
                features.append(h)
            return torch.cat(features, dim=1)""",
)
_DENSE_NEW_ONLY = _DENSE.format(
    layers=_DENSE_LAYERS,
    forward="""\
            features = [x]
            for layer in self.layers:
                features.append(layer(torch.cat(features, dim=1)))
            return torch.cat(features[1:], dim=1)  # forgets the block's input""",
)
_DENSE_INPUT_LAST = _DENSE.format(
    layers=_DENSE_LAYERS,
    forward="""\
            features = [x]
            for layer in self.layers:
                features.append(layer(torch.cat(features, dim=1)))
            return torch.cat(features[1:] + [x], dim=1)  # the right channels, in the wrong order""",
)

# --- small_resnet ---------------------------------------------------------------------------------------

_SMALL = '''\
def small_resnet(num_classes=10, in_channels=1):
    """Stem, three residual blocks, global pooling, dense layer."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        residual_block(16, 16),
        residual_block(16, 32, stride={stride}),
        residual_block(32, 64, stride={stride}),
        {pool}, nn.Flatten(),
        nn.Linear(64, num_classes),
    )
'''

MUTANTS = [
    Mutant(
        name="table-no-bias",
        why="counts the weights of convolutions and dense layers but forgets their biases",
        replace={"layer_table": _table(conv_params="filters * kernel * kernel * c", dense_params="shape[0] * units")},
        fails={"test_table_params"},
    ),
    Mutant(
        name="table-same-half-kernel",
        why='"same" as kernel // 2 pixels on each side, which grows the map by one with an even kernel',
        replace={"layer_table": _table(same="""\
                p = kernel // 2
                oh, ow = (h + 2 * p - kernel) // stride + 1, (w + 2 * p - kernel) // stride + 1""")},
        fails={"test_table_shapes", "test_table_params"},
    ),
    Mutant(
        name="table-pool-halves",
        why="pooling as H // stride: right for every pooling of AlexNet and VGG-16 (the visible tests), wrong "
        "when the window is larger than the stride on an even size, or the stride is 1",
        replace={"layer_table": _table(pool="(h // stride, w // stride, c)")},
        fails={"test_table_shapes", "test_table_params"},
    ),
    Mutant(
        name="table-calls-coursepkg",
        why="hands the counting to coursepkg.params.layer_table instead of writing it",
        replace={"layer_table": _TABLE_COURSEPKG},
        fails={"test_table_shapes", "test_table_params"},
    ),
    Mutant(
        name="residual-no-shortcut",
        why="a plain block: relu(F(x)), no shortcut at all (and so no projection either)",
        replace={"residual_block": _residual(projection="False", output="torch.relu(out)")},
        fails={"test_residual_identity", "test_residual_projection", "test_small_resnet"},
    ),
    Mutant(
        name="residual-unprojected-shortcut",
        why="always adds x itself, also when the block changes the channels or the resolution (a shape error)",
        replace={"residual_block": _residual(projection="False")},
        fails={"test_residual_projection", "test_small_resnet"},
    ),
    Mutant(
        name="residual-projection-without-stride",
        why="the 1x1 projection keeps stride 1, so it cannot match F(x) when the block halves the resolution",
        replace={"residual_block": _residual(projection_stride="1")},
        fails={"test_residual_projection", "test_small_resnet"},
    ),
    Mutant(
        name="residual-projection-only-on-stride",
        why="projects only when the stride changes, not when only the number of channels does (a shape error)",
        replace={"residual_block": _residual(projection="stride != 1")},
        fails={"test_residual_projection"},  # small_resnet changes the channels only together with the stride
    ),
    Mutant(
        name="residual-calls-coursepkg",
        why="returns the course's BasicBlock instead of building the block",
        replace={"residual_block": _RESIDUAL_COURSEPKG},
        fails={"test_residual_identity", "test_residual_projection", "test_small_resnet"},
    ),
    Mutant(
        name="dense-adds",
        why="adds each layer's output to its input, as a residual block does, instead of concatenating",
        replace={"dense_block": _DENSE_ADDS},
        fails={"test_dense_block"},
    ),
    Mutant(
        name="dense-chain",
        why="feeds each layer only the previous layer's output: the output has the right channels, but the "
        "layers are not densely connected",
        replace={"dense_block": _DENSE_CHAIN},
        fails={"test_dense_block"},
    ),
    Mutant(
        name="dense-new-features-only",
        why="returns only the new features, so the block grows by L k channels but loses its input",
        replace={"dense_block": _DENSE_NEW_ONLY},
        fails={"test_dense_block"},
    ),
    Mutant(
        name="dense-input-last",
        why="concatenates the input after the new features instead of before them",
        replace={"dense_block": _DENSE_INPUT_LAST},
        fails={"test_dense_block"},
    ),
    Mutant(
        name="small-resnet-no-stride",
        why="forgets the stride 2 of the second and third blocks: same parameters, same output shape, but the "
        "network never reduces the resolution",
        replace={"small_resnet": _SMALL.format(stride="1", pool="nn.AdaptiveAvgPool2d(1)")},
        fails={"test_small_resnet"},
    ),
    Mutant(
        name="small-resnet-max-pool",
        why="global max pooling where the specification says global average pooling",
        replace={"small_resnet": _SMALL.format(stride="2", pool="nn.AdaptiveMaxPool2d(1)")},
        fails={"test_small_resnet"},
    ),
]
