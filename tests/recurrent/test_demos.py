"""Tests of coursepkg.recurrent.demos: vanishing and exploding gradients through time, and clipping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursepkg.recurrent import exploding_gradient_demo, gradient_norms_through_time
from coursepkg.recurrent.demos import _orthogonal

SEEDS = range(5)


def ratio(norms: np.ndarray) -> float:
    """How much of the last step's gradient reaches the first step."""
    return float(norms[0] / norms[-1])


def test_shape_last_step_and_repeatability():
    norms = gradient_norms_through_time("lstm", length=7, hidden_size=3, n=2, rng=0)
    assert norms.shape == (7,)
    # dL/dh_T = v, drawn last from the same generator: the last norm is ||v||
    again = gradient_norms_through_time("lstm", length=7, hidden_size=3, n=2, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(norms, again)
    assert not np.array_equal(norms, gradient_norms_through_time("lstm", length=7, hidden_size=3, n=2, rng=1))


def test_orthogonal_blocks_have_every_singular_value_equal_to_one():
    q = _orthogonal(np.random.default_rng(0), 6)
    np.testing.assert_allclose(np.linalg.svd(q, compute_uv=False), 1.0, rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    scale=st.floats(0.1, 3.0), relu=st.booleans(), T=st.integers(1, 12), H=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_one_step_back_scales_the_norm_by_at_most_weight_scale(scale, relu, T, H, seed):
    # |phi'| <= 1 for tanh and ReLU and every singular value of W_hh is `scale`: ||g_{t-1}|| <= scale ||g_t||
    norms = gradient_norms_through_time("rnn", length=T, hidden_size=H, n=3, weight_scale=scale,
                                        nonlinearity="relu" if relu else "tanh", rng=seed)
    assert np.all(norms[:-1] <= scale * norms[1:] * (1 + 1e-9) + 1e-300)


@pytest.mark.parametrize("seed", SEEDS)
def test_vanilla_rnn_vanishes_and_lstm_keeps_far_more(seed):
    rnn = ratio(gradient_norms_through_time("rnn", rng=seed))
    lstm = ratio(gradient_norms_through_time("lstm", rng=seed))
    assert rnn < 1e-5  # measured 4e-9 .. 7e-7 on these seeds
    assert lstm > 30 * rnn  # measured 350x .. 6e4x
    # the forget bias is what does it: 0 vanishes like the RNN, 3 keeps a large fraction
    closed = ratio(gradient_norms_through_time("lstm", forget_bias=0.0, rng=seed))
    open_ = ratio(gradient_norms_through_time("lstm", forget_bias=3.0, rng=seed))
    assert closed < lstm < open_
    assert open_ > 0.05  # measured 0.2 .. 0.4


@pytest.mark.parametrize("seed", SEEDS)
def test_relu_rnn_with_scale_above_one_explodes(seed):
    norms = gradient_norms_through_time("rnn", nonlinearity="relu", weight_scale=2.0, rng=seed)
    assert ratio(norms) > 1e5  # measured 3e6 .. 2e8
    assert ratio(gradient_norms_through_time("rnn", nonlinearity="relu", weight_scale=1.0, rng=seed)) < 1e-3


@pytest.mark.parametrize("seed", SEEDS)
def test_clipping_rescales_the_exploding_gradient_to_max_norm(seed):
    demo = exploding_gradient_demo(rng=seed, max_norm=0.5)
    assert demo.norm_before > 1e6  # measured 6e8 .. 4e10
    assert demo.norm_after == pytest.approx(0.5, rel=1e-6)
    assert demo.cosine == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(np.linalg.norm(list(demo.norms_before.values())), demo.norm_before, rtol=1e-9)
    scale = demo.norm_after / demo.norm_before
    for name in ("weight_ih", "weight_hh", "bias"):
        assert demo.norms_after[name] == pytest.approx(demo.norms_before[name] * scale, rel=1e-9)


def test_clipping_leaves_a_small_gradient_alone():
    demo = exploding_gradient_demo(length=3, weight_scale=0.5, max_norm=1e6, rng=0)
    assert demo.norm_after == pytest.approx(demo.norm_before, rel=1e-12)
    assert demo.norms_after == demo.norms_before


@pytest.mark.parametrize(
    "func, kwargs, exc, match",
    [
        (gradient_norms_through_time, dict(cell="LSTM"), ValueError, r"`cell` must be 'lstm', 'gru' or 'rnn'"),
        (gradient_norms_through_time, dict(cell="rnn", nonlinearity="sigmoid"), ValueError,
         r"`nonlinearity` must be 'tanh' or 'relu'.*Received: nonlinearity='sigmoid'"),
        (gradient_norms_through_time, dict(cell="rnn", weight_scale=0), ValueError,
         r"gradient_norms_through_time: `weight_scale` must be a finite number > 0. Received: weight_scale=0.0"),
        (gradient_norms_through_time, dict(cell="rnn", length=0), ValueError, r"`length` must be >= 1"),
        (gradient_norms_through_time, dict(cell="lstm", forget_bias="1"), TypeError, r"`forget_bias` must be a real"),
        (gradient_norms_through_time, dict(cell="rnn", rng=np.random.RandomState(0)), TypeError,
         r"`rng` must be None, an int seed or a numpy.random.Generator"),
        (exploding_gradient_demo, dict(max_norm=-1.0), ValueError, r"exploding_gradient_demo: `max_norm` must be a finite number > 0"),
        (exploding_gradient_demo, dict(hidden_size=2.5), TypeError, r"`hidden_size` must be an integer"),
    ],
)
def test_errors(func, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        func(**kwargs)
