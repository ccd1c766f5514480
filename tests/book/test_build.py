"""The book builds from the repository with warnings as errors, and its pages hold executed output."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Under pytest-xdist these are meant to run in one worker; conftest.built_site also serialises builds with a lock.
pytestmark = pytest.mark.xdist_group("book")


@pytest.mark.slow
def test_index_redirects_to_the_introduction(built_site):
    index = (built_site / "index.html").read_text()
    assert "book/intro.html" in index


@pytest.mark.slow
def test_introduction_shows_executed_output(built_site):
    page = (built_site / "book" / "intro.html").read_text()
    assert "[[4 3 4]" in page  # the printed feature map of the worked example
    assert "(63, 25)" in page  # the corrected output size


@pytest.mark.slow
def test_bibliography_lists_the_original_papers(built_site):
    page = (built_site / "book" / "bibliography.html").read_text()
    for name in ("LeCun", "Krizhevsky", "Hochreiter", "Ganin"):
        assert name in page


@pytest.mark.slow
def test_math_is_typeset_by_a_local_mathjax_not_a_cdn(built_site):
    page = (built_site / "book" / "intro.html").read_text()
    assert "cdn.jsdelivr.net" not in page and "mathjax@3" not in page
    assert "_static/mathjax/tex-mml-chtml.js" in page
    assert (built_site / "_static" / "mathjax" / "tex-mml-chtml.js").stat().st_size > 100_000
    assert (built_site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


@pytest.mark.slow
def test_every_chapter_offers_its_notebook_as_ipynb(built_site):
    import nbformat

    pages = sorted((built_site / "book").glob("*.html"))
    chapters = [p for p in pages if p.stem not in ("bibliography", "assignments")]  # pages without code
    assert len(chapters) >= 4
    for page in chapters:
        html = page.read_text()
        assert f'href="../_sources/book/{page.stem}.ipynb"' in html, f"{page.name} has no .ipynb download"
        nb = nbformat.read(built_site / "_sources" / "book" / f"{page.stem}.ipynb", as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and any(c.outputs for c in code), f"{page.stem}.ipynb has no executed output"
        assert nb.metadata.kernelspec.name == "python3"


def _lines(folders, suffixes) -> set[str]:
    lines: set[str] = set()
    for folder in folders:
        for path in folder.rglob("*"):
            if not path.is_file() or "release" in path.parts or path.suffix in (".db", ".pyc"):
                continue
            if path.suffix not in suffixes:
                continue
            try:
                text = path.read_text(encoding="utf8")
            except UnicodeDecodeError:
                continue
            lines.update(ln.strip() for ln in text.splitlines() if len(ln.strip()) >= 40)
    return lines


def _private_lines() -> set[str]:
    """Distinctive lines of everything instructors keep private (assignment sources, the autograder), less the
    lines they share with public material (the chapters, the package): a set-up line an assignment copies from a
    chapter is not a leak."""
    public = "\n".join(
        path.read_text(encoding="utf8") for folder in (ROOT / "book", ROOT / "coursepkg")
        for path in folder.rglob("*") if path.is_file() and path.suffix in (".md", ".py")
    )
    # the .ipynb beside each assignment's .md is generated from it (JSON-escaped): the .md is what counts
    private = _lines([ROOT / "assignments", ROOT / "autograder"], suffixes={".md", ".py", ".txt", ".json", ".csv"})
    return {line for line in private if line not in public}


@pytest.mark.slow
def test_nothing_private_reaches_the_site(built_site):
    private = _private_lines()
    assert private, "expected to find the instructors' files under assignments/ and autograder/"
    leaks = []
    for path in built_site.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".ipynb", ".md", ".txt", ".js", ".json") and "mathjax" not in path.parts:
            text = path.read_text(encoding="utf8", errors="replace")
            if "assignments/source" in text or "autograder/" in text:
                leaks.append(f"{path.relative_to(built_site)} names a private folder")
            leaks += [f"{path.relative_to(built_site)}: {ln[:60]}" for ln in private if ln in text]
    assert not leaks, "private material in the built site:\n" + "\n".join(leaks[:20])
