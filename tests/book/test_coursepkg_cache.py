"""The execution cache follows the code a chapter imports: editing coursepkg re-executes the chapters that
use the edited module, and only those."""

import sys
from pathlib import Path

import pytest

from .minibook import EXTENSIONS, ROOT, build, cell, write_book

sys.path.insert(0, str(EXTENSIONS))

from coursepkg_cache import dependency_files  # noqa: E402


def test_dependencies_follow_imports_transitively():
    text = "```{code-cell} python\nfrom coursepkg.ops import conv2d\n```\n"
    files = {str(p.relative_to(ROOT)) for p in dependency_files(ROOT, text)}
    assert {"coursepkg/__init__.py", "coursepkg/ops/__init__.py", "coursepkg/ops/conv.py",
            "coursepkg/ops/im2col.py", "coursepkg/_validation.py"} <= files
    assert not any(f.startswith("coursepkg/data") for f in files)
    assert dependency_files(ROOT, "no code here") == []


def _build(book: Path) -> str:
    proc = build(book, "-v")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return proc.stdout + proc.stderr


@pytest.mark.slow
def test_editing_an_imported_module_re_executes_only_its_chapters(tmp_path):
    pkg = tmp_path / "coursepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "values.py").write_text("VALUE = 'first'\n")
    (pkg / "other.py").write_text("OTHER = 1\n")
    write_book(
        tmp_path,
        {"uses": "# Uses\n" + cell("from coursepkg.values import VALUE\nprint('value is', VALUE)"),
         "other": "# Other\n" + cell("from coursepkg.other import OTHER\nprint('other is', OTHER)")},
        extension="coursepkg_cache",
        execute="cache",
    )
    _build(tmp_path)
    page = tmp_path / "_build" / "html" / "uses.html"
    assert "value is first" in page.read_text()

    log = _build(tmp_path)  # nothing changed: nothing re-executed
    assert "re-executing" not in log

    (pkg / "values.py").write_text("VALUE = 'second'\n")
    log = _build(tmp_path)
    assert "value is second" in page.read_text()
    assert "uses: code it imports changed; re-executing (cached outputs dropped)" in log
    assert "other: code it imports changed" not in log
