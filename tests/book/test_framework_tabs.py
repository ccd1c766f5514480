"""The framework-tabs extension: tagged PyTorch/Keras cells execute and land in synchronised tabs."""

import pytest

from .minibook import build, cell, write_book


def build_page(tmp_path, body: str):
    write_book(tmp_path, {"page": "# Page\n" + body}, extension="framework_tabs")
    return build(tmp_path)


@pytest.mark.slow
def test_adjacent_framework_cells_become_one_synchronised_tab_set(tmp_path):
    body = (
        cell('print("torch", 1 + 1)', "pytorch")
        + cell('print("torch again", 5)', "pytorch")
        + cell('print("keras", 2 + 2)', "keras")
        + "\nProse between.\n"
        + cell('print("plain", 3)')
    )
    proc = build_page(tmp_path, body)
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
    proc = build_page(tmp_path, cell('print("only torch")', "pytorch"))
    assert proc.returncode != 0
    assert "this run of tagged cells has no Keras version" in proc.stdout + proc.stderr
