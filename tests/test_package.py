"""Package-level promises: importing coursepkg loads NumPy only; the public API is complete."""

import subprocess
import sys

import coursepkg


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_coursepkg_and_ops_loads_no_framework():
    loaded = _modules_after("import coursepkg, coursepkg.ops, coursepkg.gradcheck")
    for heavy in ("torch", "tensorflow", "keras", "matplotlib", "sklearn", "skimage", "scipy"):
        assert heavy not in loaded, f"importing coursepkg.ops imported {heavy}"


def test_version():
    assert coursepkg.__version__.count(".") == 2


def test_ops_contract_names_exist():
    import coursepkg.ops as ops

    for name in (
        "conv_output_size", "pad2d", "conv2d", "conv2d_naive", "conv2d_backward", "max_pool2d", "avg_pool2d",
        "sum_pool2d", "lp_pool2d", "global_avg_pool2d", "global_max_pool2d", "max_pool2d_backward",
        "avg_pool2d_backward", "sigmoid", "tanh", "relu", "softmax", "dropout", "batch_norm",
    ):
        assert callable(getattr(ops, name)), name
