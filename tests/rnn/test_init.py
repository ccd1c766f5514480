"""Package-level tests of coursepkg.rnn: NumPy-only import, the public names, the docstring examples."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest


def test_importing_coursepkg_rnn_imports_numpy_only():
    code = (
        "import sys, coursepkg.rnn; "
        "heavy = ('torch', 'tensorflow', 'keras', 'scipy', 'matplotlib', 'jax'); "
        "print(sorted(m for m in heavy if m in sys.modules)); "
        "missing = [n for n in coursepkg.rnn.__all__ if not hasattr(coursepkg.rnn, n)]; "
        "assert not missing, missing"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["cells", "sequence", "clipping", "params", "layout"])
def test_docstring_examples(module):
    mod = importlib.import_module(f"coursepkg.rnn.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
