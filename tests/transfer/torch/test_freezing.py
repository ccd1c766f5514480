"""coursepkg.transfer.torch.freezing: freeze, unfreeze, trainable_summary and frozen BatchNorm, in PyTorch."""

import numpy as np
import pytest
import torch
from torch import nn

from coursepkg.train.torch import fit
from coursepkg.transfer.torch import (
    attach_head,
    freeze,
    load_pretrained,
    set_bn_eval,
    source_cnn,
    state_dict,
    trainable_summary,
    unfreeze,
)


def test_freeze_unfreeze_by_all_count_and_name():
    model = attach_head(source_cnn(rng=0), 5, rng=0)
    assert trainable_summary(freeze(model)) == (0, 23733)
    assert trainable_summary(unfreeze(model, layers=1)) == (325, 23408)  # the last top-level layer: the head
    unfreeze(model, layers=["block3"])
    assert trainable_summary(model) == (325 + 18432 + 128, 4848)
    freeze(unfreeze(model), layers=["base.block3.bn", "head"])
    assert trainable_summary(model) == (23408 - 128, 325 + 128)
    base = source_cnn()
    assert trainable_summary(freeze(base, layers=1)) == (18560, 4848)  # all blocks but the last
    assert trainable_summary(freeze(source_cnn(), layers=0)).trainable == 0


def test_freeze_errors():
    model = attach_head(source_cnn(), 5)
    with pytest.raises(ValueError, match=r"the name 'conv' is ambiguous; it matches \['base.block1.conv'"):
        freeze(model, layers=["conv"])
    with pytest.raises(ValueError, match=r"no layer named 'block9'. Its top-level layers are \['base', 'head'\]"):
        freeze(model, layers=["block9"])
    with pytest.raises(ValueError, match=r"`layers`=3 but the model has only 2 top-level layers"):
        freeze(model, layers=3)
    with pytest.raises(ValueError, match=r"to select one layer pass layers=\['head'\]"):
        freeze(model, layers="head")
    with pytest.raises(TypeError, match=r'`layers` must be "all", an int or a list of layer names'):
        freeze(model, layers=1.5)


def test_frozen_batchnorm_keeps_its_statistics_during_fit(tasks_nchw):
    """A frozen base must not drift: TransferModel.train() keeps frozen BatchNorm in eval mode."""
    _, target = tasks_nchw
    x, y = target.x_train[:64], target.y_train[:64]
    model = attach_head(load_pretrained(), 5, rng=0)
    freeze(model.base)
    before = state_dict(model)
    fit(model, x, y, epochs=1, batch_size=16, progress=False)
    after = state_dict(model)
    for k in before:
        same = np.array_equal(before[k], after[k])
        assert same == k.startswith("base."), k  # base (weights and running stats) unchanged, head trained
    assert model.training and not model.base.block1.bn.training
    assert set_bn_eval(model) == ["base.block1.bn", "base.block2.bn", "base.block3.bn"]

    # the pitfall the override prevents: a plain nn.Sequential updates the frozen running statistics
    blocks = nn.Sequential(*load_pretrained().children())  # the same layers without SourceCNN's train() override
    plain = nn.Sequential(blocks, nn.Flatten(), nn.Linear(1024, 5))
    for p in blocks.parameters():
        p.requires_grad_(False)
    stats = blocks[0].bn.running_mean.clone()
    fit(plain, x, y, epochs=1, batch_size=16, progress=False)
    assert not torch.equal(stats, blocks[0].bn.running_mean)
