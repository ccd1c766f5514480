"""The two framework modules compute the same functions from the same arrays."""

import numpy as np
import pytest

import coursepkg.transfer.keras as tk
import coursepkg.transfer.torch as tt
from coursepkg.ops import nchw_to_nhwc
from coursepkg.train.keras import predict as predict_keras
from coursepkg.train.torch import predict as predict_torch


@pytest.mark.parametrize("pooling, hidden", [("avg", ()), ("flatten", (6,)), ("max", ())])
def test_same_rng_same_initial_network(tasks_nchw, pooling, hidden):
    x = tasks_nchw[0].x_test[:16]
    mt = tt.attach_head(tt.source_cnn(rng=3), 7, pooling=pooling, hidden=hidden, rng=4)
    mk = tk.attach_head(tk.source_cnn(rng=3), 7, pooling=pooling, hidden=hidden, rng=4)
    np.testing.assert_allclose(predict_keras(mk, nchw_to_nhwc(x)), predict_torch(mt, x), atol=1e-5)
    st, sk = tt.state_dict(mt), tk.state_dict(mk)
    assert list(st) == list(sk)
    for k in st:
        np.testing.assert_array_equal(st[k], sk[k])
    assert tt.trainable_summary(mt) == tk.trainable_summary(mk)


def test_pretrained_logits_agree(tasks_nchw):
    source, _ = tasks_nchw
    logits_t = predict_torch(tt.load_pretrained(include_top=True), source.x_test)
    logits_k = predict_keras(tk.load_pretrained(include_top=True), nchw_to_nhwc(source.x_test))
    np.testing.assert_allclose(logits_k, logits_t, atol=1e-4)  # measured max difference 6e-6


def test_keras_weights_load_into_pytorch():
    mk = tk.attach_head(tk.source_cnn(rng=5), 3, pooling="flatten", rng=6)
    mt = tt.load_state_dict(tt.attach_head(tt.source_cnn(), 3, pooling="flatten"), tk.state_dict(mk))
    x = np.random.default_rng(0).uniform(size=(4, 1, 16, 16)).astype(np.float32)
    np.testing.assert_allclose(predict_torch(mt, x), predict_keras(mk, nchw_to_nhwc(x)), atol=1e-5)


def test_same_public_names_and_keyword_arguments():
    import inspect

    shared = set(tt.__all__) & set(tk.__all__)
    assert set(tt.__all__) - shared == {"SourceCNN", "TransferModel", "pretrain_source"}
    for name in shared:
        ft, fk = getattr(tt, name), getattr(tk, name)
        if inspect.isfunction(ft):
            assert list(inspect.signature(ft).parameters) == list(inspect.signature(fk).parameters), name
