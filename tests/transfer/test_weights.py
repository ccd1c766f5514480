"""coursepkg.transfer.weights: NumPy initialisation and the committed pretrained weights."""

import numpy as np
import pytest

from coursepkg.transfer.weights import (
    POOLINGS,
    SOURCE_WEIGHTS,
    check_source_cnn,
    check_state_names,
    head_features,
    head_state_shapes,
    init_head_state,
    init_source_state,
    load_state,
    save_state,
    source_architecture,
    source_state_shapes,
)


def test_source_state_shapes_and_parameter_count():
    shapes = source_state_shapes()
    assert list(shapes)[:5] == ["block1.conv.weight", "block1.bn.weight", "block1.bn.bias", "block1.bn.running_mean",
                                "block1.bn.running_var"]
    assert shapes["block2.conv.weight"] == (32, 16, 3, 3) and shapes["block3.conv.weight"] == (64, 32, 3, 3)
    learned = sum(int(np.prod(s)) for k, s in shapes.items() if "running" not in k)
    assert learned == 144 + 4608 + 18432 + 2 * (16 + 32 + 64) == 23408
    assert head_state_shapes(64, 5, hidden=(7,)) == {
        "hidden0.weight": (7, 64), "hidden0.bias": (7,), "logits.weight": (5, 7), "logits.bias": (5,)}


def test_init_follows_pytorch_default_bounds_and_is_seeded():
    state = init_source_state(rng=0)
    w = state["block2.conv.weight"]
    assert w.dtype == np.float32 and np.abs(w).max() <= 1 / np.sqrt(16 * 9)
    assert np.abs(w).max() > 0.9 / np.sqrt(16 * 9)  # the whole range is used
    np.testing.assert_array_equal(state["block1.bn.weight"], np.ones(16))
    np.testing.assert_array_equal(state["block3.bn.running_mean"], np.zeros(64))
    np.testing.assert_array_equal(init_source_state(rng=0)["block3.conv.weight"], state["block3.conv.weight"])
    assert not np.array_equal(init_source_state(rng=1)["block3.conv.weight"], state["block3.conv.weight"])
    head = init_head_state(10, 3, rng=0)
    assert np.abs(head["logits.bias"]).max() <= 1 / np.sqrt(10)


def test_save_and_load_round_trip(tmp_path):
    state = init_head_state(4, 2, rng=0)
    path = save_state(state, tmp_path / "sub" / "w.npz")
    loaded = load_state(path)
    assert loaded.keys() == state.keys()
    for k in state:
        np.testing.assert_array_equal(loaded[k], state[k])


def test_missing_file_says_how_to_regenerate(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"python scripts/pretrain_source_cnn.py"):
        load_state(tmp_path / "nothing.npz")


def test_committed_weights_are_small_and_complete():
    assert SOURCE_WEIGHTS.is_file()
    assert SOURCE_WEIGHTS.stat().st_size < 200_000  # 93 kB; the budget is 5 MB
    state = load_state()
    expected = {f"base.{k}": s for k, s in source_state_shapes().items()}
    expected.update({"head.logits.weight": (5, 64), "head.logits.bias": (5,)})
    assert {k: v.shape for k, v in state.items()} == expected
    assert all(v.dtype == np.float32 for v in state.values())
    assert all(np.isfinite(v).all() for v in state.values())


def test_check_source_cnn_arguments():
    assert check_source_cnn(input_size=9, in_channels=3, channels=(4, 8), func="f") == (9, 3, (4, 8))
    assert check_source_cnn(input_size=4, in_channels=1, channels=[1, 1, 1], func="f") == (4, 1, (1, 1, 1))
    with pytest.raises(ValueError, match=r"^source_cnn: `input_size`=3 is too small for 3 blocks: each block but the "
                                         r"last halves the side, so it must be at least 4.$"):
        check_source_cnn(input_size=3, in_channels=1, channels=(16, 32, 64), func="source_cnn")
    with pytest.raises(TypeError, match=r"`channels` must be a non-empty sequence of ints. Received: channels=16"):
        check_source_cnn(input_size=16, in_channels=1, channels=16, func="source_cnn")
    with pytest.raises(TypeError, match=r"non-empty sequence"):
        check_source_cnn(input_size=16, in_channels=1, channels=(), func="source_cnn")
    with pytest.raises(ValueError, match=r"`in_channels` must be >= 1"):
        check_source_cnn(input_size=16, in_channels=0, channels=(16,), func="source_cnn")


@pytest.mark.parametrize(
    "shape, pooling, axis, expected",
    [((64, 4, 4), "avg", 0, (True, 64)), ((4, 4, 64), "max", -1, (True, 64)), ((64, 4, 4), "flatten", 0, (False, 1024)),
     ((3, 5, 7), "flatten", -1, (False, 105)), ((6,), "flatten", 0, (False, 6)), ((2, 3), "avg", 0, (False, 6))],
)
def test_head_features(shape, pooling, axis, expected):
    assert head_features(shape, pooling=pooling, dropout=0.0, channel_axis=axis, func="attach_head") == expected


def test_head_features_errors():
    with pytest.raises(ValueError, match=r"`pooling` must be one of \('avg', 'max', 'flatten'\). Received: pooling='sum'"):
        head_features((8, 2, 2), pooling="sum", dropout=0.0, channel_axis=0, func="attach_head")
    assert POOLINGS == ("avg", "max", "flatten")
    for rate in (-0.1, 1.0):
        with pytest.raises(ValueError, match=r"`dropout` must be in \[0, 1\)"):
            head_features((8, 2, 2), pooling="avg", dropout=rate, channel_axis=0, func="attach_head")
    with pytest.raises(ValueError, match=r'dann_model: the base already outputs vectors of shape \(N, 6\); use pooling="flatten"'):
        head_features((6,), pooling="max", dropout=0.0, channel_axis=0, func="dann_model")


def test_source_architecture_and_state_names():
    assert source_architecture(load_state()) == (1, (16, 32, 64), 5)
    state = {f"base.{k}": np.zeros(s) for k, s in source_state_shapes(in_channels=3, channels=(8, 4)).items()}
    state.update({"head.logits.weight": np.zeros((2, 4)), "head.logits.bias": np.zeros(2)})
    assert source_architecture(state) == (3, (8, 4), 2)
    check_state_names(["a", "b"], {"b": 0, "a": 1}, "f")
    with pytest.raises(ValueError, match=r"^load_state_dict: the arrays do not match the model. Missing: \['a', 'c'\]; "
                                         r"unexpected: \['z'\]. Build the model with the same architecture"):
        check_state_names(["c", "a", "b"], {"b": 0, "z": 1}, "load_state_dict")
