"""Every chapter states its measured cost, and a chapter over budget fails the build."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PAGE = """---
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

```{code-cell} python
import time
import numpy as np
block = np.ones((40, 2**20), dtype=np.uint8)  # 40 MiB held while the cell sleeps
time.sleep(1.5)
```
"""


def build(tmp_path: Path, budget_seconds: int) -> subprocess.CompletedProcess:
    (tmp_path / "page.md").write_text(PAGE)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (tmp_path / "_config.yml").write_text(
        "title: t\nexecute:\n  execute_notebooks: force\n"
        f"sphinx:\n  local_extensions:\n    chapter_costs: {ROOT / 'book' / '_ext'}\n"
        f"  config:\n    chapter_budget_seconds: {budget_seconds}\n"
    )
    jb = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run([str(jb), "build", str(tmp_path), "--warningiserror"], capture_output=True, text=True)


@pytest.mark.slow
def test_the_page_states_time_and_peak_memory(tmp_path):
    proc = build(tmp_path, budget_seconds=120)
    assert proc.returncode == 0, proc.stdout[-3000:]
    costs = json.loads((tmp_path / "_build" / "chapter-costs.json").read_text())["page"]
    assert 1.5 <= costs["seconds"] < 60
    assert costs["peak_mb"] > 40  # the kernel held at least the 40 MiB block
    html = (tmp_path / "_build" / "html" / "page.html").read_text()
    assert f"Cost of running this chapter: {costs['seconds']:.0f} s, peak memory {costs['peak_mb']:,} MB" in html


@pytest.mark.slow
def test_a_chapter_over_its_time_budget_fails_the_build(tmp_path):
    proc = build(tmp_path, budget_seconds=1)
    assert proc.returncode != 0
    assert "over its budget of 1 s (chapter_budget_seconds)" in proc.stdout + proc.stderr
