"""coursepkg.transfer.torch.source: the source CNN and its committed weights, in PyTorch."""

import pytest
import torch

from coursepkg.train.torch import evaluate
from coursepkg.transfer.torch import (
    SourceCNN,
    TransferModel,
    load_pretrained,
    source_cnn,
    trainable_summary,
)


def test_source_cnn_shapes_and_parameter_count():
    base = source_cnn(rng=0)
    assert isinstance(base, SourceCNN) and [n for n, _ in base.named_children()] == ["block1", "block2", "block3"]
    assert base(torch.zeros(2, 1, 16, 16)).shape == (2, 64, 4, 4)
    assert trainable_summary(base) == (23408, 0)
    assert source_cnn(input_size=28)(torch.zeros(1, 1, 28, 28)).shape == (1, 64, 7, 7)
    assert source_cnn(input_size=9, channels=(4, 8))(torch.zeros(1, 1, 9, 9)).shape == (1, 8, 4, 4)  # odd side floors


def test_source_cnn_errors():
    with pytest.raises(ValueError, match=r"`input_size`=3 is too small for 3 blocks: .* at least 4"):
        source_cnn(input_size=3)
    with pytest.raises(TypeError, match=r"`channels` must be a non-empty sequence of ints"):
        source_cnn(channels=16)


def test_committed_weights_classify_held_out_source_digits(tasks_nchw):
    source, _ = tasks_nchw
    model = load_pretrained(include_top=True)
    assert isinstance(model, TransferModel) and not model.training
    accuracy = evaluate(model, source.x_test, source.y_test)["accuracy"]
    assert accuracy > 0.95  # measured 0.991 (223 of 225)
    assert isinstance(load_pretrained(), SourceCNN)
