"""The book, built where `make book` builds it (ROOT/_build), for every test that reads it.

Under pytest-xdist, tests that read the site may run in two worker processes at once. Two jupyter-book builds
of one folder race on the execution cache (jupyter-cache creates an executed notebook's folder and then its
file, and a second build caching the same notebook in between fails with FileExistsError), so builds take an
exclusive lock on ``_build/.book-build.lock``: the second worker waits, then finds every chapter cached.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def built_site() -> Path:
    """Build the book (warnings are errors) and return ``_build/html``. Sharing ROOT/_build with `make book` shares
    the execution cache: a chapter whose code did not change is not executed twice in one CI run."""
    lock = ROOT / "_build" / ".book-build.lock"
    lock.parent.mkdir(exist_ok=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            proc = subprocess.run([str(jb), "build", str(ROOT), "--warningiserror", "--keep-going"],
                                  capture_output=True, text=True, timeout=1800)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    assert proc.returncode == 0, f"jupyter-book build failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    return ROOT / "_build" / "html"
