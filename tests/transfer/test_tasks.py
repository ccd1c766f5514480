"""coursepkg.transfer.tasks: the source/target split, jitter and few-shot sampling."""

import numpy as np
import pytest

from coursepkg.ops import nchw_to_nhwc
from coursepkg.transfer.tasks import jitter_digits, sample_per_class, source_pretraining_set, source_target_digits


def test_source_and_target_tasks_are_disjoint_digit_sets(tasks_nchw):
    source, target = tasks_nchw
    assert source.x_train.shape == (676, 1, 16, 16) and source.x_test.shape == (225, 1, 16, 16)
    assert target.x_train.shape == (671, 1, 16, 16) and target.x_test.shape == (225, 1, 16, 16)
    for split in (source, target):
        assert sorted(set(split.y_train.tolist())) == [0, 1, 2, 3, 4] == sorted(set(split.y_test.tolist()))
        assert split.x_train.dtype == np.float32 and split.x_train.min() >= 0 and split.x_train.max() <= 1
    # digits 5-9 relabelled: the clean target images are the 5-9 digits of load_digits
    from coursepkg.data import load_digits

    x, y = load_digits(size=16)
    clean_source, clean_target = source_target_digits(jitter=False)
    assert len(clean_target.x_train) + len(clean_target.x_test) == int((y >= 5).sum())
    assert len(clean_source.x_train) + len(clean_source.x_test) == int((y < 5).sum())


def test_jitter_keeps_the_split_and_is_seeded(tasks_nchw):
    source, _ = tasks_nchw
    clean, _ = source_target_digits(jitter=False)
    np.testing.assert_array_equal(clean.y_train, source.y_train)
    assert not np.allclose(clean.x_train, source.x_train)
    again, _ = source_target_digits()
    np.testing.assert_array_equal(again.x_test, source.x_test)
    nhwc, _ = source_target_digits(channels_last=True)
    np.testing.assert_allclose(nhwc.x_test, nchw_to_nhwc(source.x_test), atol=1e-6)


def test_jitter_digits_identity_and_shift():
    x = np.zeros((1, 1, 8, 8), np.float32)
    x[0, 0, 2:4, 2:4] = 1.0
    np.testing.assert_array_equal(jitter_digits(x, max_shift=0, max_rotation=0, max_scale=0, rng=0), x)
    # a pure integer shift moves the square: output pixel p samples the input at p + shift
    gen = np.random.default_rng(0)
    gen.uniform(), gen.uniform()  # the rotation and zoom draws
    shift = gen.uniform(-2, 2, size=2)
    out = jitter_digits(x, max_shift=2, max_rotation=0, max_scale=0, rng=0)
    assert out.sum() == pytest.approx(4.0, abs=0.6)  # mass preserved up to interpolation at the border
    com = np.array(np.nonzero(out[0, 0] > 0)).mean(axis=1) if out.any() else None
    assert com is not None and np.all(np.abs(com - (np.array([2.5, 2.5]) - shift)) < 1.0)


def test_jitter_digits_errors():
    with pytest.raises(ValueError, match=r"`images` must be 4-D \(N, C, H, W\); got shape \(8, 8\)"):
        jitter_digits(np.zeros((8, 8)))
    with pytest.raises(ValueError, match=r"`max_scale` must be < 1"):
        jitter_digits(np.zeros((1, 1, 8, 8)), max_scale=1.0)
    with pytest.raises(ValueError, match=r"`max_rotation` must be >= 0"):
        jitter_digits(np.zeros((1, 1, 8, 8)), max_rotation=-1)


def test_sample_per_class_draws_n_of_each_class_without_replacement():
    y = np.repeat(np.arange(3), 7)
    x = np.arange(21)
    xs, ys = sample_per_class(x, y, 4, rng=1)
    assert np.bincount(ys).tolist() == [4, 4, 4]
    assert len(set(xs.tolist())) == 12 and np.array_equal(y[xs], ys)
    xs2, _ = sample_per_class(x, y, 4, rng=1)
    np.testing.assert_array_equal(xs, xs2)


def test_sample_per_class_errors():
    with pytest.raises(ValueError, match=r"class 1 has only 2 examples but n_per_class=3"):
        sample_per_class(np.arange(5), np.array([0, 0, 0, 1, 1]), 3)
    with pytest.raises(ValueError, match=r"`y` must be 1-D with one label per row of `x`"):
        sample_per_class(np.arange(5), np.arange(4), 1)
    with pytest.raises(TypeError, match=r"`n_per_class` must be an integer"):
        sample_per_class(np.arange(5), np.arange(5), 1.5)


def test_source_pretraining_set_uses_only_source_training_digits():
    x, y = source_pretraining_set(copies=2, n_train=10, rng=0)
    clean, _ = source_target_digits(jitter=False)
    assert x.shape == (20, 1, 16, 16)
    np.testing.assert_array_equal(y, np.tile(clean.y_train[:10], 2))
    assert not np.allclose(x[:10], x[10:])  # two different jitters
