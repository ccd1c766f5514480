"""coursepkg.transfer.keras.paths: the layer tree, in Keras's names and PyTorch's."""

from coursepkg.transfer.keras import attach_head, source_cnn
from coursepkg.transfer.keras.paths import children, leaves, tree


def test_tree_names_every_layer_in_both_spellings():
    model = attach_head(source_cnn(channels=(4, 8)), 3, rng=0)
    paths = [(t, k) for t, k, _ in tree(model)]
    assert paths[:4] == [("base", "base"), ("base.block1", "base.block1"), ("base.block1.conv", "base.block1.block1_conv"),
                         ("base.block1.bn", "base.block1.block1_bn")]
    assert ("head.logits", "head.head_logits") in paths
    assert [layer.name for layer in children(model)] == ["base", "head"]  # no InputLayer
    assert [t for t, _, layer in tree(model) if not children(layer)] == [
        "base.block1.conv", "base.block1.bn", "base.block1.relu", "base.block1.pool", "base.block2.conv",
        "base.block2.bn", "base.block2.relu", "head.pool", "head.flatten", "head.logits",
    ]
    assert [leaf.name for leaf in leaves(model)][-3:] == ["head_pool", "head_flatten", "head_logits"]
    conv = model.get_layer("base").get_layer("block1").get_layer("block1_conv")
    assert leaves(conv) == [conv]
