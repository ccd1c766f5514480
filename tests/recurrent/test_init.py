"""Package-level tests of coursepkg.recurrent: NumPy-only import, the public names, the docstring examples."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest


def test_importing_coursepkg_recurrent_imports_numpy_only():
    code = (
        "import sys, coursepkg.recurrent as r; "
        "heavy = ('torch', 'tensorflow', 'keras', 'scipy', 'matplotlib', 'statsmodels', 'pandas'); "
        "print(sorted(m for m in heavy if m in sys.modules)); "
        "missing = [n for n in r.__all__ if not hasattr(r, n)]; "
        "assert not missing, missing"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_twins_have_the_same_builders():
    import inspect

    torch_mod = importlib.import_module("coursepkg.recurrent.torch")
    keras_mod = importlib.import_module("coursepkg.recurrent.keras")
    for name in ("sequence_classifier", "sequence_regressor", "notes_lstm"):
        a, b = inspect.signature(getattr(torch_mod, name)), inspect.signature(getattr(keras_mod, name))
        assert list(a.parameters) == list(b.parameters), name
        for p, q in zip(a.parameters.values(), b.parameters.values()):
            assert (p.kind, p.default) == (q.kind, q.default), (name, p.name)


@pytest.mark.parametrize("module", ["params", "demos", "forecast", "torch", "keras"])
def test_docstring_examples(module):
    mod = importlib.import_module(f"coursepkg.recurrent.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
