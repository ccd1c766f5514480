"""The book, built once per test session where `make book` builds it (ROOT/_build), for every test that reads it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_HALF_CACHED = re.compile(r"FileExistsError: \[Errno 17\] File exists: '(?P<path>[^']*/\.jupyter_cache/executed/[0-9a-f]+)'")


def _build() -> subprocess.CompletedProcess:
    jb = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run([str(jb), "build", str(ROOT), "--warningiserror", "--keep-going"],
                          capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="session")
def built_site() -> Path:
    """Build the book (warnings are errors) and return ``_build/html``. Sharing ROOT/_build with `make book` shares
    the execution cache: a chapter whose code did not change is not executed twice in one CI run.

    jupyter-cache (1.0) can leave an executed notebook's folder without its record; the next caching of that
    notebook then fails with FileExistsError. That half-written entry is removed and the build run once more;
    any other failure fails the test at once.
    """
    proc = _build()
    match = _HALF_CACHED.search(proc.stdout + proc.stderr)
    if proc.returncode != 0 and match:
        print(f"jupyter-cache left {match['path']} half written; removing it and building again", file=sys.stderr)
        shutil.rmtree(match["path"], ignore_errors=True)
        proc = _build()
    assert proc.returncode == 0, f"jupyter-book build failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    return ROOT / "_build" / "html"
