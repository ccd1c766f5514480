"""Sphinx extension: re-execute a chapter when the code it runs changes, not only when its cells change.

jupyter-cache keys a notebook on its cell sources alone, so editing ``coursepkg`` or upgrading a pinned
package would leave stale outputs on the page. For every chapter this extension computes a dependency key:
the SHA-256 of the ``coursepkg`` modules the chapter imports (followed transitively through the package's own
imports), of ``requirements/constraints.txt`` and of the Python version. When the key differs from the one
recorded at the last build, the chapter's record is dropped from the execution cache and Sphinx re-reads
the page, so MyST-NB executes it again. Chapters that import nothing that changed keep their cached outputs.
"""

from __future__ import annotations

import ast
import hashlib
import json
import sys
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

from pages import is_notebook_source  # book/_ext is on sys.path (local_extensions)

logger = logging.getLogger(__name__)

PACKAGE = "coursepkg"


def _module_file(root: Path, module: str) -> Path | None:
    parts = module.split(".")
    base = root.joinpath(*parts)
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _imports(source: str, module: str, is_package: bool) -> set[str]:
    """Absolute names of the coursepkg modules that ``source`` (module ``module``) imports."""
    found: set[str] = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return found
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != PACKAGE:
                continue
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)  # `from pkg import submodule`
    return found


def dependency_files(root: Path, text: str) -> list[Path]:
    """The coursepkg source files a chapter's code depends on, transitively (parents' __init__ included)."""
    pending = {
        m for line in text.splitlines() for m in _imports(line.strip(), "__chapter__", False)
    } if PACKAGE in text else set()
    seen: set[str] = set()
    files: set[Path] = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        pending.update(".".join(parts[:i]) for i in range(1, len(parts)))  # importing a.b.c runs a and a.b
        path = _module_file(root, module)
        if path is None:
            continue
        files.add(path)
        pending.update(_imports(path.read_text(), module, path.name == "__init__.py") - seen)
    return sorted(files)


def dependency_key(srcdir: Path, doc_path: Path) -> str:
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    constraints = srcdir / "requirements" / "constraints.txt"
    if constraints.is_file():
        digest.update(constraints.read_bytes())
    for path in dependency_files(srcdir, doc_path.read_text()):
        digest.update(str(path.relative_to(srcdir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _drop_cached_execution(cache_path: Path, doc_path: Path) -> bool:
    import jupytext
    from jupyter_cache import get_cache

    if not cache_path.exists():
        return False
    cache = get_cache(str(cache_path))
    try:
        record = cache.match_cache_notebook(jupytext.read(doc_path))
    except KeyError:  # jupyter-cache raises when no record matches (the chapter's cells changed too)
        return False
    if record is None:
        return False
    cache.remove_cache(record.pk)
    return True


def outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    srcdir = Path(app.srcdir)
    keys_file = Path(app.outdir).parent / "coursepkg-dependency-keys.json"
    old = json.loads(keys_file.read_text()) if keys_file.is_file() else {}
    # MyST-NB resolves the cache folder at builder-inited (default: <build>/.jupyter_cache)
    cache_path = Path(env.mystnb_config.execution_cache_path)
    new, stale = {}, []
    for docname in sorted(env.found_docs):
        doc_path = Path(env.doc2path(docname))
        if not is_notebook_source(doc_path):
            continue
        new[docname] = dependency_key(srcdir, doc_path)
        if docname in old and old[docname] != new[docname]:
            dropped = _drop_cached_execution(cache_path, doc_path)
            logger.info(f"[coursepkg_cache] {docname}: code it imports changed; re-executing"
                        + (" (cached outputs dropped)" if dropped else ""))
            if docname not in added and docname not in changed:
                stale.append(docname)
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    keys_file.write_text(json.dumps(new, indent=1, sort_keys=True))
    return stale


def setup(app: Sphinx) -> dict:
    app.connect("env-get-outdated", outdated)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
