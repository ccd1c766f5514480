"""coursepkg.transfer.torch.heads: attach_head, in PyTorch."""

import pytest
import torch
from torch import nn

from coursepkg.transfer.torch import (
    TransferModel,
    attach_head,
    source_cnn,
    trainable_summary,
)


@pytest.mark.parametrize(
    "pooling, hidden, dropout, head_params",
    [("avg", (), 0.0, 64 * 5 + 5), ("max", (8,), 0.0, 64 * 8 + 8 + 8 * 5 + 5),
     ("flatten", (), 0.5, 1024 * 5 + 5), ("flatten", (16, 4), 0.2, 1024 * 16 + 16 + 16 * 4 + 4 + 4 * 5 + 5)],
)
def test_attach_head_shapes_and_parameters(pooling, hidden, dropout, head_params):
    base = source_cnn(rng=0)
    model = attach_head(base, 5, pooling=pooling, hidden=hidden, dropout=dropout, rng=0)
    assert isinstance(model, TransferModel) and isinstance(model, nn.Sequential)
    assert model.base is base  # shared, not copied
    assert model(torch.zeros(3, 1, 16, 16)).shape == (3, 5)
    assert trainable_summary(model.head).total == head_params
    assert sum(isinstance(m, nn.Dropout) for m in model.head) == (len(hidden) + 1 if dropout else 0)


def test_attach_head_on_a_plain_module_needs_the_input_shape():
    base = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    with pytest.raises(ValueError, match=r"pass input_shape=\(C, H, W\)"):
        attach_head(base, 2)
    assert attach_head(base, 2, input_shape=(3, 8, 8))(torch.zeros(1, 3, 8, 8)).shape == (1, 2)
    vec = nn.Sequential(nn.Flatten(), nn.Linear(12, 6))
    with pytest.raises(ValueError, match=r'already outputs vectors of shape \(N, 6\); use pooling="flatten"'):
        attach_head(vec, 2, input_shape=(3, 2, 2))
    with pytest.raises(ValueError, match=r"`pooling` must be one of \('avg', 'max', 'flatten'\)"):
        attach_head(source_cnn(), 2, pooling="sum")
    with pytest.raises(TypeError, match=r"`base` must be a torch.nn.Module"):
        attach_head("vgg", 2)
