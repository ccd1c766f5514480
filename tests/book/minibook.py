"""Build a throw-away Jupyter Book with one of the course's Sphinx extensions, for the extensions' tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTENSIONS = ROOT / "book" / "_ext"

NOTEBOOK_HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def cell(source: str, tags: str = "") -> str:
    """A MyST code cell, optionally tagged."""
    return "\n```{code-cell} python\n" + (f":tags: [{tags}]\n" if tags else "") + source + "\n```\n"


def write_book(folder: Path, pages: dict[str, str], *, extension: str, execute: str = "force",
               config: dict[str, object] | None = None) -> None:
    """Write notebook pages (name -> body after the jupytext header; the first is the root), a toc and a
    config that loads ``extension`` from book/_ext with extra Sphinx ``config`` values."""
    for name, body in pages.items():
        (folder / f"{name}.md").write_text(NOTEBOOK_HEADER + body)
    root, *rest = pages
    toc = f"format: jb-book\nroot: {root}\n" + ("chapters:\n" + "".join(f"  - file: {n}\n" for n in rest) if rest else "")
    (folder / "_toc.yml").write_text(toc)
    extra = "".join(f"    {k}: {v}\n" for k, v in (config or {}).items())
    (folder / "_config.yml").write_text(
        f"title: t\nexecute:\n  execute_notebooks: {execute}\n"
        f"sphinx:\n  local_extensions:\n    {extension}: {EXTENSIONS}\n" + (f"  config:\n{extra}" if extra else "")
    )


def build(folder: Path, *extra_args: str) -> subprocess.CompletedProcess:
    """``jupyter-book build folder --warningiserror``, captured."""
    jb = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run([str(jb), "build", str(folder), "--warningiserror", *extra_args],
                          capture_output=True, text=True)
