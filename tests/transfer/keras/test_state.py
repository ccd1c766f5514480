"""coursepkg.transfer.keras.state: weights as arrays in PyTorch's names and layouts, in Keras 3 (NHWC)."""

import numpy as np
import pytest

from coursepkg.transfer.keras import (
    attach_head,
    load_state_dict,
    source_cnn,
    state_dict,
)


def test_load_state_dict_errors():
    model = attach_head(source_cnn(), 3)
    state = state_dict(model)
    del state["base.block1.conv.weight"]
    with pytest.raises(ValueError, match=r"Missing: \['base.block1.conv.weight'\]; unexpected: \[\]"):
        load_state_dict(model, state)
    state["base.block1.conv.weight"] = np.zeros((16, 2, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"'base.block1.conv.weight' gives shape \(3, 3, 2, 16\) in Keras's layout"):
        load_state_dict(model, state)
