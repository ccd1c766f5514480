"""Sphinx extension: small fixes to the pages that Jupyter Book 1 produces, found by the browser test.

- sphinx-thebe's inline configuration script is added twice to every page (once by Jupyter Book, once by the
  theme), which the browser reports as "Identifier 'THEBE_JS_URL' has already been declared": drop repeated
  script entries.
- pydata-sphinx-theme reads ``default_mode`` from the page context, which sphinx-book-theme leaves empty, so
  every fresh visit logs "Got invalid theme mode": default it to "auto".
"""

from __future__ import annotations

from sphinx.application import Sphinx


def _key(script) -> tuple:
    """What a script does: its file, or its inline body (the two copies differ in priority, and one has the
    file name None where the other has "")."""
    attributes = getattr(script, "attributes", {}) or {}
    return (getattr(script, "filename", str(script)) or None, attributes.get("body"))


def fix_page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if scripts:
        seen, unique = set(), []
        for script in scripts:
            key = _key(script)
            if key not in seen:
                seen.add(key)
                unique.append(script)
        context["script_files"] = unique
    if not context.get("default_mode"):
        context["default_mode"] = "auto"


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", fix_page, priority=900)  # after every extension has added its scripts
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
