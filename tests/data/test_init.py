"""The package surface of :mod:`coursepkg.data`: what it exports and what importing it loads."""

import subprocess
import sys

import coursepkg.data as data

HEAVY = ("sklearn", "skimage", "scipy", "pandas", "statsmodels", "torch", "tensorflow", "keras", "tqdm")


def test_import_loads_numpy_only():
    code = (
        "import sys, coursepkg.data\n"
        f"heavy = [m for m in sys.modules if m.split('.')[0] in {HEAVY!r}]\n"
        "print(','.join(sorted(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing coursepkg.data imported {out.stdout.strip()}"


def test_all_names_exist():
    assert len(set(data.__all__)) == len(data.__all__)
    for name in data.__all__:
        assert hasattr(data, name), name
    assert issubclass(data.DatasetUnavailableError, ConnectionError)
    assert issubclass(data.DatasetUnavailableError, OSError)
