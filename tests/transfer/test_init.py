"""Package-level promises of coursepkg.transfer: NumPy-only import, public names, docstring examples."""

import doctest
import importlib
import subprocess
import sys

import pytest


def test_importing_coursepkg_transfer_imports_numpy_only():
    code = (
        "import sys, coursepkg.transfer as t; "
        "heavy = ('torch', 'tensorflow', 'keras', 'scipy', 'matplotlib', 'sklearn', 'skimage'); "
        "print(sorted(m for m in heavy if m in sys.modules)); "
        "missing = [n for n in t.__all__ if not hasattr(t, n)]; "
        "assert not missing, missing"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["tasks", "domain", "weights", "results", "strategies", "torch", "keras", "applications"])
def test_public_names_exist_and_docstring_examples_run(module):
    mod = importlib.import_module(f"coursepkg.transfer.{module}")
    assert all(hasattr(mod, name) for name in mod.__all__)
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if module not in ("results", "strategies"):
        assert result.attempted > 0
