"""coursepkg.transfer.torch.state: weights as NumPy arrays, in PyTorch."""

import numpy as np
import pytest
import torch

from coursepkg.transfer.torch import (
    attach_head,
    load_state_dict,
    source_cnn,
    state_dict,
)


def test_state_dict_round_trip_and_errors():
    a, b = attach_head(source_cnn(rng=0), 3, rng=0), attach_head(source_cnn(rng=1), 3, rng=1)
    load_state_dict(b, state_dict(a))
    x = torch.randn(2, 1, 16, 16)
    a.eval(), b.eval()
    torch.testing.assert_close(a(x), b(x))
    state = state_dict(a)
    del state["head.logits.bias"]
    with pytest.raises(ValueError, match=r"Missing: \['head.logits.bias'\]; unexpected: \[\]"):
        load_state_dict(b, state)
    state["head.logits.bias"] = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"'head.logits.bias' has shape \(4,\) but the model expects \(3,\)"):
        load_state_dict(b, state)
