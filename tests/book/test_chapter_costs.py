"""Every chapter states its measured cost, and a chapter over budget fails the build."""

import json
from pathlib import Path

import pytest

from .minibook import build as build_book
from .minibook import write_book

PAGE = """# Page

```{code-cell} python
import time
import numpy as np
block = np.ones((40, 2**20), dtype=np.uint8)  # 40 MiB held while the cell sleeps
time.sleep(1.5)
```
"""


def build(tmp_path: Path, budget_seconds: int):
    write_book(tmp_path, {"page": PAGE}, extension="chapter_costs",
               config={"chapter_budget_seconds": budget_seconds})
    return build_book(tmp_path)


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
