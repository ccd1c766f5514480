"""Tests for coursepkg.plot, drawn with the non-interactive Agg backend."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from sklearn.metrics import confusion_matrix as sk_confusion_matrix  # noqa: E402

from coursepkg.plot import (  # noqa: E402
    confusion_matrix,
    plot_confusion_matrix,
    plot_curves,
    plot_history,
    show_feature_maps,
    show_image,
    show_images,
    show_kernels,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def drawn(ax: Axes) -> np.ndarray:
    return np.asarray(ax.images[0].get_array())


# --- show_image -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, to_hwc",
    [
        ((5, 7), lambda a: a),
        ((5, 7, 3), lambda a: a),
        ((5, 7, 1), lambda a: a[..., 0]),
        ((1, 5, 7), lambda a: a[0]),
        ((3, 5, 7), lambda a: np.moveaxis(a, 0, -1)),
    ],
)
def test_show_image_layouts(rng, shape, to_hwc):
    img = rng.random(shape)
    ax = show_image(img, title="cat")
    assert isinstance(ax, Axes)
    np.testing.assert_array_equal(drawn(ax), to_hwc(img))
    assert ax.get_title() == "cat"
    assert ax.get_xticks().size == 0


def test_show_image_on_given_axes_and_cmap(rng):
    fig, (a, b) = plt.subplots(1, 2)
    assert show_image(rng.random((4, 4)), ax=b, cmap="magma") is b
    assert not a.images and b.images[0].get_cmap().name == "magma"
    assert show_image(np.zeros((4, 4))).images[0].get_cmap().name == "gray"
    assert show_image(rng.normal(size=(4, 4)), cmap="RdBu_r", vmin=-3, vmax=3).images[0].get_clim() == (-3, 3)
    assert len(plt.get_fignums()) == 3  # only the calls without ax made figures


@pytest.mark.parametrize("shape, hint", [((2, 5, 7), ""), ((1, 5, 7, 3), "img[0]"), ((7,), "")])
def test_show_image_bad_shape(shape, hint):
    with pytest.raises(ValueError, match=r"show_image: `img` must have shape \(H, W\), \(H, W, 3\)") as e:
        show_image(np.zeros(shape))
    assert f"Received: img.shape={shape}" in str(e.value) and hint in str(e.value)


# --- grids ----------------------------------------------------------------------------------------------


def test_show_images_nchw_grid_and_labels(rng):
    images = rng.random((10, 3, 6, 6))
    axes = show_images(images, labels=[0, 1, 2, 0, 1, 2, 0, 1, 2, 0], class_names=["cat", "dog", "car"], ncols=4)
    assert axes.shape == (10,)
    fig = axes[0].figure
    assert len(fig.axes) == 12 and sum(a.get_visible() for a in fig.axes) == 10  # 3 rows of 4, 2 hidden
    for i, ax in enumerate(axes):
        np.testing.assert_array_equal(drawn(ax), np.moveaxis(images[i], 0, -1))
    assert [a.get_title() for a in axes[:4]] == ["cat", "dog", "car", "cat"]


def test_show_images_grayscale_batches(rng):
    for images in (rng.random((3, 5, 5)), rng.random((3, 1, 5, 5)), rng.random((3, 5, 5, 1))):
        axes = show_images(images, labels=["a", "b", "c"])
        assert len(axes) == 3 and axes[2].get_title() == "c"
        np.testing.assert_array_equal(drawn(axes[1]), images.reshape(3, 5, 5)[1])
    fig, given = plt.subplots(2, 2)
    out = show_images(rng.random((3, 4, 4)), axes=given)
    assert list(out) == list(given.ravel()[:3]) and not given[1, 1].images


def test_show_images_errors(rng):
    with pytest.raises(ValueError, match=r"`labels` must have one entry per image \(3\). Received 2"):
        show_images(rng.random((3, 4, 4)), labels=[0, 1])
    with pytest.raises(ValueError, match=r"`labels` must be integers in \[0, 2\)"):
        show_images(rng.random((2, 4, 4)), labels=[0, 5], class_names=["a", "b"])
    with pytest.raises(ValueError, match=r"`images` must have shape \(N, C, H, W\).*images\[None\]"):
        show_images(rng.random((4, 4)))
    with pytest.raises(ValueError, match=r"`images` must have shape .*Received: images.shape=\(2, 5, 4, 2\)"):
        show_images(rng.random((2, 5, 4, 2)))
    with pytest.raises(ValueError, match="`axes` must hold at least 3 Axes"):
        show_images(rng.random((3, 4, 4)), axes=plt.subplots(1, 2)[1])
    with pytest.raises(ValueError, match="`ncols` must be >= 1"):
        show_images(rng.random((3, 4, 4)), ncols=0)


def test_show_kernels_single_channel_centred_at_zero(rng):
    w = rng.normal(size=(6, 2, 3, 3))
    axes = show_kernels(w, channel=1, ncols=3)
    assert len(axes) == 6 and len(axes[0].figure.axes) == 6
    m = np.abs(w).max()
    for f, ax in enumerate(axes):
        np.testing.assert_array_equal(drawn(ax), w[f, 1])
        assert ax.images[0].get_clim() == (-m, m)
    assert axes[0].images[0].get_cmap().name == "RdBu_r"


def test_show_kernels_rgb(rng):
    w = rng.normal(size=(4, 3, 5, 5))
    axes = show_kernels(w)
    m = np.abs(w).max()
    for f, ax in enumerate(axes):
        np.testing.assert_allclose(drawn(ax), 0.5 + 0.5 * np.moveaxis(w[f], 0, -1) / m)
    assert drawn(axes[0]).min() >= 0 and drawn(axes[0]).max() <= 1
    np.testing.assert_array_equal(drawn(show_kernels(w, rgb=False, channel=2)[3]), w[3, 2])
    assert len(show_kernels(np.ones((3, 3)))) == 1 and len(show_kernels(np.ones((5, 3, 3)))) == 5
    np.testing.assert_array_equal(drawn(show_kernels(np.zeros((1, 1, 2, 2)))[0]), 0)  # no division by zero


def test_show_kernels_errors(rng):
    with pytest.raises(ValueError, match=r"`channel` must be in \[0, 2\).*Received: channel=2"):
        show_kernels(rng.random((4, 2, 3, 3)), channel=2)
    with pytest.raises(ValueError, match=r"`rgb=True` needs C = 3"):
        show_kernels(rng.random((4, 2, 3, 3)), rgb=True)
    with pytest.raises(ValueError, match=r"`w` must have shape \(F, C, KH, KW\)"):
        show_kernels(rng.random((1, 4, 2, 3, 3)))


def test_show_feature_maps(rng):
    fmap = rng.random((1, 5, 7, 7))
    axes = show_feature_maps(fmap, ncols=3)
    assert len(axes) == 5 and [a.get_title() for a in axes] == ["0", "1", "2", "3", "4"]
    np.testing.assert_array_equal(drawn(axes[4]), fmap[0, 4])
    assert len(show_feature_maps(fmap[0], max_maps=2)) == 2
    with pytest.raises(ValueError, match=r"`fmap` must have shape \(C, H, W\).*fmap\[0\]"):
        show_feature_maps(rng.random((2, 5, 7, 7)))
    with pytest.raises(ValueError, match=r"fmap\[None\]"):
        show_feature_maps(rng.random((7, 7)))


# --- curves ---------------------------------------------------------------------------------------------

HISTORY = {
    "loss": [1.0, 0.6, 0.4],
    "accuracy": [0.5, 0.7, 0.8],
    "val_loss": [1.1, 0.8, 0.7],
    "val_accuracy": [0.45, 0.6, 0.65],
}


def test_plot_history_dict():
    axes = plot_history(HISTORY)
    assert len(axes) == 2
    loss_ax, acc_ax = axes
    assert [a.get_title() for a in axes] == ["loss", "accuracy"]
    assert [line.get_label() for line in loss_ax.get_lines()] == ["train", "validation"]
    np.testing.assert_array_equal(loss_ax.get_lines()[1].get_ydata(), HISTORY["val_loss"])
    np.testing.assert_array_equal(acc_ax.get_lines()[0].get_xdata(), [1, 2, 3])
    assert loss_ax.get_xlabel() == "epoch" and acc_ax.get_ylabel() == "accuracy"
    assert loss_ax.get_legend() is not None


def test_plot_history_keras_like_object_and_options():
    class History:  # what keras.callbacks.History exposes
        history = {"loss": [3.0, 2.0], "val_loss": [3.5, 2.5], "mae": [1.0, 0.5]}

    axes = plot_history(History())
    assert [a.get_title() for a in axes] == ["loss", "mae"]
    assert len(axes[1].get_lines()) == 1
    fig, ax = plt.subplots()
    out = plot_history(History(), metrics=["loss"], ax=ax)
    assert list(out) == [ax] and len(ax.get_lines()) == 2
    only_val = plot_history({"val_accuracy": [0.1, 0.2]})
    assert [line.get_label() for line in only_val[0].get_lines()] == ["validation"]


def test_plot_history_errors():
    with pytest.raises(ValueError, match=r"\['acc'\] are not. Available keys: \['accuracy', 'loss'"):
        plot_history(HISTORY, metrics=["loss", "acc"])
    with pytest.raises(ValueError, match=r"`ax` must hold one Axes per metric \(2"):
        plot_history(HISTORY, ax=plt.subplots(1, 3)[1])
    with pytest.raises(TypeError, match="`history` must be a dict of lists"):
        plot_history([1.0, 0.5])
    with pytest.raises(ValueError, match="`history` is empty"):
        plot_history({})
    with pytest.raises(ValueError, match=r"`history\['loss'\]` must be a list of numbers"):
        plot_history({"loss": [[1.0, 2.0]]})


def test_plot_curves(rng):
    t = np.arange(20)
    ys = {"RNN": 0.5**t, "LSTM": np.ones(20)}
    ax = plot_curves(t, ys, xlabel="time step", ylabel="gradient norm", logy=True, title="vanishing")
    assert [line.get_label() for line in ax.get_lines()] == ["RNN", "LSTM"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), 0.5**t)
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "time step" and ax.get_ylabel() == "gradient norm"
    assert ax.get_title() == "vanishing"
    fig, given = plt.subplots()
    assert plot_curves(t, {"a": t}, xlabel="x", ylabel="y", ax=given) is given and given.get_yscale() == "linear"
    with pytest.raises(ValueError, match=r"every curve must have the shape of x \(20,\). Received: ys\['b'\].shape"):
        plot_curves(t, {"b": t[:5]}, xlabel="x", ylabel="y")
    with pytest.raises(TypeError, match="`ys` must be a non-empty dict"):
        plot_curves(t, t, xlabel="x", ylabel="y")


# --- confusion matrix -----------------------------------------------------------------------------------


def test_confusion_matrix_counts_match_sklearn(rng):
    y_true = rng.integers(0, 4, size=200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 4, size=200))
    cm = confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(cm, sk_confusion_matrix(y_true, y_pred, labels=range(4)))
    assert cm.sum() == 200
    np.testing.assert_array_equal(confusion_matrix([0, 0], [0, 0], n_classes=3), [[2, 0, 0], [0, 0, 0], [0, 0, 0]])


def test_plot_confusion_matrix_counts_and_labels():
    y_true = [0, 0, 1, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 2, 2]
    ax = plot_confusion_matrix(y_true, y_pred, class_names=["cat", "dog", "bird"])
    expected = [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    np.testing.assert_array_equal(drawn(ax), expected)
    assert [t.get_text() for t in ax.texts] == ["1", "1", "0", "0", "2", "1", "0", "0", "1"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "bird"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "bird"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"


@pytest.mark.parametrize("normalize", [True, "true", "pred", "all"])
def test_plot_confusion_matrix_normalised(normalize):
    y_true = [0, 0, 1, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 1, 1]  # class 2 is never predicted: a zero column, no warning
    sk = {True: "true", "true": "true", "pred": "pred", "all": "all"}[normalize]
    expected = np.nan_to_num(sk_confusion_matrix(y_true, y_pred, normalize=sk))
    fig, ax = plt.subplots()
    assert plot_confusion_matrix(y_true, y_pred, ax=ax, normalize=normalize) is ax
    np.testing.assert_allclose(drawn(ax), expected)
    assert ax.texts[0].get_text() == f"{expected[0, 0]:.2f}"


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match=r"`y_pred` must be 1-D class indices.*y_pred.argmax\(axis=1\)"):
        confusion_matrix([0, 1], np.eye(2))
    with pytest.raises(ValueError, match="must have the same length. Received 2 and 3"):
        confusion_matrix([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match=r"`y_true` must hold integer class indices >= 0"):
        confusion_matrix([0, -1], [0, 1])
    with pytest.raises(ValueError, match="labels must be < n_classes=2, but the largest is 2"):
        plot_confusion_matrix([0, 2], [0, 1], class_names=["a", "b"])
    with pytest.raises(ValueError, match=r'`normalize` must be False, True, "true", "pred" or "all"'):
        plot_confusion_matrix([0, 1], [0, 1], normalize="rows")


def test_plot_history_leaves_out_epoch_times_by_default():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from coursepkg.plot import plot_history

    axes = plot_history({"loss": [1.0, 0.5], "accuracy": [0.5, 0.8], "val_loss": [1.1, 0.6], "epoch_time": [0.2, 0.2]})
    assert [a.get_title() for a in axes] == ["loss", "accuracy"]
    plt.close("all")
