"""coursepkg.transfer.selection: the `layers` argument of freeze/unfreeze and layer names, on fake models."""

import numpy as np
import pytest

from coursepkg.transfer.selection import resolve_layer, select_layers

# A model with top-level layers "base" (blocks b1, b2, each with a "conv") and "head", as (paths, shown, layer).
LAYERS = [
    (("base",), "base", "BASE"),
    (("base.b1",), "base.b1", "B1"),
    (("base.b1.conv",), "base.b1.conv", "CONV1"),
    (("base.b2",), "base.b2", "B2"),
    (("base.b2.conv",), "base.b2.conv", "CONV2"),
    (("head",), "head", "HEAD"),
]
TOP = ["base", "head"]


@pytest.mark.parametrize(
    "name, expected",
    [("base.b1.conv", "CONV1"), ("b2", "B2"), ("head", "HEAD"), ("base", "BASE")],
)
def test_resolve_by_full_path_or_unique_last_component(name, expected):
    assert resolve_layer(name, LAYERS, TOP, "freeze") == expected


def test_resolve_errors_list_the_candidates():
    with pytest.raises(ValueError, match=r"^freeze: the name 'conv' is ambiguous; it matches \['base.b1.conv', "
                                         r"'base.b2.conv'\]. Use the full dotted name.$"):
        resolve_layer("conv", LAYERS, TOP, "freeze")
    with pytest.raises(ValueError, match=r"^unfreeze: the model has no layer named 'b9'. Its top-level layers are "
                                         r"\['base', 'head'\].$"):
        resolve_layer("b9", LAYERS, TOP, "unfreeze")


def test_resolve_with_two_spellings_counts_a_layer_once():
    """Keras lists each layer under PyTorch's path and its own: a name matching both is not ambiguous."""
    layer = object()
    layers = [(("block1",), "block1", "B"), (("block1.conv", "block1.block1_conv"), "block1.block1_conv", layer)]
    assert resolve_layer("conv", layers, ["block1"], "freeze") is layer
    assert resolve_layer("block1_conv", layers, ["block1"], "freeze") is layer
    assert resolve_layer("block1.block1_conv", layers, ["block1"], "freeze") is layer


TOP_WITH_PARAMS = [("block1", 1), ("block2", 2), ("head", 3)]


@pytest.mark.parametrize(
    "k, frozen, unfrozen",
    [(0, [1, 2, 3], []), (1, [1, 2], [3]), (3, [], [1, 2, 3]), (np.int64(2), [1], [2, 3])],
)
def test_an_int_counts_top_level_layers_from_the_end(k, frozen, unfrozen):
    kwargs = dict(top=TOP_WITH_PARAMS, resolve=None)
    assert select_layers("model", k, last=False, func="freeze", **kwargs) == frozen
    assert select_layers("model", k, last=True, func="unfreeze", **kwargs) == unfrozen


def test_all_and_names():
    resolve = {"a": "A", "b": "B"}.__getitem__
    assert select_layers("model", "all", top=TOP_WITH_PARAMS, resolve=resolve, last=False, func="freeze") == ["model"]
    assert select_layers("model", ["b", "a"], top=TOP_WITH_PARAMS, resolve=resolve, last=False, func="freeze") == ["B", "A"]
    assert select_layers("model", (), top=TOP_WITH_PARAMS, resolve=resolve, last=False, func="freeze") == []


def test_select_errors():
    kwargs = dict(top=TOP_WITH_PARAMS, resolve=None, last=False, func="freeze")
    with pytest.raises(ValueError, match=r"`layers`=4 but the model has only 3 top-level layers with parameters "
                                         r"\(\['block1', 'block2', 'head'\]\)"):
        select_layers("model", 4, **kwargs)
    with pytest.raises(ValueError, match=r"freeze: `layers` must be >= 0"):
        select_layers("model", -1, **kwargs)
    with pytest.raises(ValueError, match=r"Received: layers='head'; to select one layer pass layers=\['head'\]"):
        select_layers("model", "head", **kwargs)
    for bad in (1.5, True, None):
        with pytest.raises(TypeError, match=r'freeze: `layers` must be "all", an int or a list of layer names'):
            select_layers("model", bad, **kwargs)
