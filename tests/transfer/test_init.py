"""Package-level promises of coursepkg.transfer: NumPy-only import, public names, docstring examples."""

import doctest
import importlib
import pkgutil
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


@pytest.mark.parametrize(
    "module", ["tasks", "domain", "weights", "results", "strategies", "selection", "torch", "keras", "applications"]
)
def test_public_names_exist_and_docstring_examples_run(module):
    mod = importlib.import_module(f"coursepkg.transfer.{module}")
    assert all(hasattr(mod, name) for name in mod.__all__)
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if module not in ("results", "strategies"):
        assert result.attempted > 0


@pytest.mark.parametrize("package", ["torch", "keras"])
def test_framework_packages_reexport_their_submodules_and_run_their_examples(package):
    """One module per idea; the package is what users import, and every submodule's examples pass."""
    pkg = importlib.import_module(f"coursepkg.transfer.{package}")
    names = [m.name for m in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + ".")]
    assert {n.rsplit(".", 1)[1] for n in names} >= {"freezing", "state", "heads", "source", "strategies", "adaptation"}
    exported = set()
    for name in names:
        mod = importlib.import_module(name)
        for public in getattr(mod, "__all__", []) if not name.endswith(".paths") else []:  # Keras's layer tree: internal
            assert getattr(pkg, public) is getattr(mod, public), (name, public)
            exported.add(public)
        result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, name
    assert set(pkg.__all__) - exported <= {
        "DEFAULT_LR", "APPLICATIONS", "PretrainedWeightsUnavailableError", "applications_model", "preprocess_input"}
