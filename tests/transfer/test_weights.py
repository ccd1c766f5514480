"""coursepkg.transfer.weights: NumPy initialisation and the committed pretrained weights."""

import numpy as np
import pytest

from coursepkg.transfer.weights import (
    SOURCE_WEIGHTS,
    head_state_shapes,
    init_head_state,
    init_source_state,
    load_state,
    save_state,
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
