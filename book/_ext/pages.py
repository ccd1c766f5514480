"""Which source files of the book are notebooks (pages that MyST-NB executes), shared by the extensions."""

from __future__ import annotations

from pathlib import Path


def is_notebook_source(path: str | Path) -> bool:
    """An ``.ipynb`` file, or a MyST Markdown file whose jupytext front matter names a kernel."""
    path = Path(path)
    if path.suffix == ".ipynb":
        return True
    return path.suffix == ".md" and "kernelspec" in path.read_text(encoding="utf8")[:2000]
