"""Seeded wrong solutions of the ``transfer`` assignment, and the test cells each must fail.

Every mutant is the PyTorch reference with one answer cell replaced. ``tests/grading/hidden/test_transfer.py``
checks the rubric in process, and ``autograder verify transfer`` through nbgrader.
"""

from autograder.mutants import Mutant

_BUILD_DOC = '''def build_model(num_classes, freeze_base=True, seed=0):
    """The pretrained base of the course's CNN with a new linear head (see the reference)."""
'''

_FE_DOC = '''def train_feature_extractor(x, y, seed=0):
    """Feature extraction: train a new head on the frozen pretrained base (see the reference)."""
'''

_FT_DOC = '''def fine_tune(x, y, seed=0):
    """Fine-tuning: the head on the frozen base, then everything at a low rate (see the reference)."""
'''

MUTANTS = [
    Mutant(
        name="base-not-frozen",
        why="forgets to freeze the base: freeze_base is ignored and the 23,408 pretrained parameters train too, "
        "so feature extraction changes the base",
        replace={
            "build_model": _BUILD_DOC
            + """    base = load_pretrained()
    torch.manual_seed(seed)
    return nn.Sequential(base, nn.Flatten(), nn.Linear(64 * 4 * 4, num_classes))
"""
        },
        fails={"test_freeze", "test_feature_extraction"},
    ),
    Mutant(
        name="head-five-classes",
        why="hard-codes the head for the 5 classes of the notebook's task instead of using num_classes",
        replace={
            "build_model": _BUILD_DOC
            + """    base = load_pretrained()
    if freeze_base:
        for parameter in base.parameters():
            parameter.requires_grad = False
    torch.manual_seed(seed)
    return nn.Sequential(base, nn.Flatten(), nn.Linear(64 * 4 * 4, 5))
"""
        },
        fails={"test_build_model"},
    ),
    Mutant(
        name="random-base",
        why="builds the source CNN's architecture without loading the pretrained weights (source_cnn instead of "
        "load_pretrained): frozen random features, and fine-tuning from random weights, lose the margin",
        replace={
            "build_model": _BUILD_DOC
            + """    from coursepkg.transfer.torch import source_cnn

    base = source_cnn(rng=seed)  # the architecture, with random weights
    if freeze_base:
        for parameter in base.parameters():
            parameter.requires_grad = False
    torch.manual_seed(seed)
    return nn.Sequential(base, nn.Flatten(), nn.Linear(64 * 4 * 4, num_classes))
"""
        },
        fails={"test_build_model", "test_feature_extraction", "test_fine_tuning"},
    ),
    Mutant(
        name="unseeded-head",
        why="never seeds the head, so two models built with the same seed differ",
        replace={
            "build_model": _BUILD_DOC
            + """    base = load_pretrained()
    if freeze_base:
        for parameter in base.parameters():
            parameter.requires_grad = False
    return nn.Sequential(base, nn.Flatten(), nn.Linear(64 * 4 * 4, num_classes))
"""
        },
        fails={"test_build_model"},
    ),
    Mutant(
        name="freeze-with-coursepkg",
        why="freezes the base with coursepkg's freeze, the reference for the very thing asked",
        replace={
            "build_model": _BUILD_DOC
            + """    from coursepkg.transfer.torch import freeze

    base = load_pretrained()
    if freeze_base:
        freeze(base)
    torch.manual_seed(seed)
    return nn.Sequential(base, nn.Flatten(), nn.Linear(64 * 4 * 4, num_classes))
"""
        },
        fails={"test_freeze"},
    ),
    Mutant(
        name="hard-coded-predictions",
        why="returns the labels of the notebook's test digits instead of the model's predictions",
        replace={
            "predict": '''def predict(model, x):
    """Predicted class of every image (hard-coded)."""
    return np.asarray(y_test[: len(x)])
'''
        },
        fails={"test_predict"},
    ),
    Mutant(
        name="linear-probe-shortcut",
        why="calls the chapter's linear_probe instead of training the head itself; the model is right, the "
        "work is not the student's",
        replace={
            "train_feature_extractor": _FE_DOC
            + """    from coursepkg.transfer.torch import linear_probe

    model, _ = linear_probe(load_pretrained(), x, y, seed=seed)
    return model
"""
        },
        fails={"test_feature_extraction"},
    ),
    Mutant(
        name="destructive-learning-rate",
        why="fine-tunes everything from the start with a learning rate of 0.1 (an SGD rate, far too high for "
        "Adam on pretrained weights): the first updates destroy the pretrained features",
        replace={
            "fine_tune": _FT_DOC
            + """    model = build_model(int(np.max(y)) + 1, freeze_base=False, seed=seed)
    train.fit(model, x, y, epochs=40, batch_size=16, lr=0.1, seed=seed, progress=False)
    return model
"""
        },
        fails={"test_fine_tuning"},
    ),
    Mutant(
        name="fine-tune-still-frozen",
        why="trains a second time without unfreezing the base: still feature extraction",
        replace={
            "fine_tune": _FT_DOC
            + """    model = build_model(int(np.max(y)) + 1, freeze_base=True, seed=seed)
    train.fit(model, x, y, epochs=40, batch_size=16, lr=3e-3, seed=seed, progress=False)
    train.fit(model, x, y, epochs=20, batch_size=16, lr=3e-4, seed=seed + 1, progress=False)
    return model
"""
        },
        fails={"test_fine_tuning"},
    ),
]
