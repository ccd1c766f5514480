"""Inverted dropout."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coursepkg.ops import dropout, dropout_backward


def test_rate_0_3_drops_30_percent_and_keeps_the_mean():
    x = np.ones((1000, 1000))
    out, mask = dropout(x, 0.3, rng=0, return_mask=True)
    assert np.mean(out == 0) == pytest.approx(0.3, abs=0.002)
    assert out.mean() == pytest.approx(1.0, abs=0.005)
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.7])
    np.testing.assert_array_equal(out, x * mask)


@given(st.floats(0, 0.95), st.integers(0, 10_000))
def test_inference_is_the_identity_and_training_is_seeded(rate, seed):
    x = np.random.default_rng(seed).standard_normal((4, 5))
    np.testing.assert_array_equal(dropout(x, rate, seed, training=False), x)
    np.testing.assert_array_equal(dropout(x, rate, seed), dropout(x, rate, seed))


def test_backward_uses_the_forward_mask():
    x = np.arange(12.0).reshape(3, 4)
    _, mask = dropout(x, 0.5, rng=1, return_mask=True)
    dout = np.ones_like(x)
    np.testing.assert_array_equal(dropout_backward(dout, mask), mask)


def test_matches_torch_statistics():
    import torch

    torch.manual_seed(0)
    t = torch.nn.functional.dropout(torch.ones(200_000), 0.3, training=True)
    ours = dropout(np.ones(200_000), 0.3, rng=0)
    assert abs(float((t == 0).float().mean()) - float(np.mean(ours == 0))) < 0.01
    np.testing.assert_allclose(ours.max(), float(t.max()), rtol=1e-6)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.3", True])
def test_bad_rate(rate):
    with pytest.raises(ValueError, match=r"`rate` is the probability of dropping a unit and must be in \[0, 1\)"):
        dropout(np.ones(3), rate)


def test_bad_rng():
    with pytest.raises(TypeError, match=r"`rng` must be None, an int seed or a numpy.random.Generator"):
        dropout(np.ones(3), 0.5, rng="seed")
