"""Sphinx extension: the download button of every chapter hands the reader a real ``.ipynb``.

The chapters are MyST Markdown; by default the built site offers their ``.md`` text. This extension converts
each chapter with jupytext, merges in the outputs of its execution from the jupyter-cache (MyST-NB's own
``jupyter_execute/`` copy has no outputs in cache mode), writes it next to the sources of the site
(``_sources/<page>.ipynb``: the reader sees what the book shows and can re-run it) and tells
sphinx-book-theme, which then lists ".ipynb" first in the download menu.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from sphinx.application import Sphinx
from sphinx.util import logging

from pages import is_notebook_source  # book/_ext is on sys.path (local_extensions)

logger = logging.getLogger(__name__)


def _executed_notebook(app: Sphinx, docname: str) -> nbformat.NotebookNode:
    """The chapter as a notebook, with the outputs of its cached execution when there is one."""
    import jupytext
    from jupyter_cache import get_cache

    nb = jupytext.read(app.env.doc2path(docname))
    cache_path = Path(app.env.mystnb_config.execution_cache_path)
    if cache_path.exists():
        cache = get_cache(str(cache_path))
        try:
            _, nb = cache.merge_match_into_notebook(nb)
        except KeyError:  # no cached execution of these cells
            pass
    return nb


def set_ipynb_source(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if doctree is not None and is_notebook_source(app.env.doc2path(pagename)):
        context["ipynb_source"] = f"{pagename}.ipynb"


def copy_notebooks(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    count = 0
    for docname in sorted(app.env.found_docs):
        if not is_notebook_source(app.env.doc2path(docname)):
            continue
        target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nb = _executed_notebook(app, docname)
        nb.metadata.pop("jupytext", None)  # a plain notebook for the reader, not a paired file
        nbformat.validate(nb)
        nbformat.write(nb, target)
        count += 1
    logger.info(f"[notebook_downloads] {count} chapter notebooks written to _sources/")


def setup(app: Sphinx) -> dict:
    # before sphinx-book-theme builds the header buttons (priority 501)
    app.connect("html-page-context", set_ipynb_source, priority=400)
    app.connect("build-finished", copy_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
