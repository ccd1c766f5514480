"""The framework-tabs extension: tagged PyTorch/Keras cells execute and land in synchronised tabs."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
# Page
"""


def cell(source: str, tags: str = "") -> str:
    return "\n```{code-cell} python\n" + (f":tags: [{tags}]\n" if tags else "") + source + "\n```\n"


def build(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    (tmp_path / "page.md").write_text(HEADER + body)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (tmp_path / "_config.yml").write_text(
        "title: t\nexecute:\n  execute_notebooks: force\n"
        f"sphinx:\n  local_extensions:\n    framework_tabs: {ROOT / 'book' / '_ext'}\n"
    )
    jb = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run([str(jb), "build", str(tmp_path), "--warningiserror"], capture_output=True, text=True)


@pytest.mark.slow
def test_adjacent_framework_cells_become_one_synchronised_tab_set(tmp_path):
    body = (
        cell('print("torch", 1 + 1)', "pytorch")
        + cell('print("torch again", 5)', "pytorch")
        + cell('print("keras", 2 + 2)', "keras")
        + "\nProse between.\n"
        + cell('print("plain", 3)')
    )
    proc = build(tmp_path, body)
    assert proc.returncode == 0, proc.stdout[-3000:]
    html = (tmp_path / "_build" / "html" / "page.html").read_text()
    assert html.count('class="sd-tab-set framework-tabs') == 1
    assert html.count('data-sync-group="framework"') == 2
    assert 'data-sync-id="pytorch"' in html and 'data-sync-id="keras"' in html
    for output in ("torch 2", "torch again 5", "keras 4", "plain 3"):  # every cell was executed
        assert output in html, output
    tabs = html.split('class="sd-tab-set framework-tabs')[1].split("Prose between")[0]
    assert "plain 3" not in tabs and "keras 4" in tabs


@pytest.mark.slow
def test_a_framework_cell_without_its_twin_fails_the_build(tmp_path):
    proc = build(tmp_path, cell('print("only torch")', "pytorch"))
    assert proc.returncode != 0
    assert "this run of tagged cells has no Keras version" in proc.stdout + proc.stderr
