"""Sphinx extension: the download button of every chapter hands the reader a real ``.ipynb``.

The chapters are MyST Markdown; by default the built site offers their ``.md`` text. MyST-NB writes each
executed chapter as a notebook under ``<build>/jupyter_execute/``; this extension copies those notebooks next
to the sources of the site (``_sources/<page>.ipynb``, outputs included, so the reader sees what the book
shows and can re-run it) and tells sphinx-book-theme, which then lists ".ipynb" first in the download menu.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _executed(app: Sphinx, docname: str) -> Path:
    return Path(app.outdir).parent / "jupyter_execute" / f"{docname}.ipynb"


def _is_notebook(app: Sphinx, docname: str) -> bool:
    return app.env.metadata.get(docname, {}).get("kernelspec") is not None or _executed(app, docname).is_file()


def set_ipynb_source(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if doctree is not None and _is_notebook(app, pagename):
        context["ipynb_source"] = f"{pagename}.ipynb"


def copy_notebooks(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    count = 0
    for docname in sorted(app.env.found_docs):
        source = _executed(app, docname)
        if not source.is_file():
            continue
        target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nb = nbformat.read(source, as_version=4)
        nb.metadata.pop("mystnb", None)
        nbformat.validate(nb)
        nbformat.write(nb, target)
        count += 1
    logger.info(f"[notebook_downloads] {count} chapter notebooks written to _sources/")


def setup(app: Sphinx) -> dict:
    # before sphinx-book-theme builds the header buttons (priority 501)
    app.connect("html-page-context", set_ipynb_source, priority=400)
    app.connect("build-finished", copy_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
