"""The built site in a real browser (Debian's headless Chromium driven by Playwright): every page loads
without console errors, math is typeset, every image loads, the framework tabs switch and stay switched
across pages, and search finds "LSTM". Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from tests.chromium import SCREENSHOTS as ARTIFACTS
from tests.chromium import chromium


# Under pytest-xdist these are meant to run in one worker; conftest.built_site also serialises builds with a lock.
pytestmark = pytest.mark.xdist_group("book")


@pytest.fixture(scope="module")
def site_url(built_site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def chapter_pages(built_site: Path) -> list[str]:
    return sorted(f"book/{p.name}" for p in (built_site / "book").glob("*.html"))


@pytest.mark.slow
def test_every_page_loads_cleanly_with_math_and_images(browser, site_url, built_site):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems = []
    for rel in chapter_pages(built_site):
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.goto(f"{site_url}/{rel}", wait_until="load")
        html = (built_site / rel).read_text()
        if "\\(" in html or "\\[" in html or "math notranslate" in html:
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
            page.evaluate("() => MathJax.startup.promise")
            if page.locator("mjx-container").count() == 0:
                problems.append(f"{rel}: math was not typeset")
        broken = page.evaluate(
            "() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )
        if broken:
            problems.append(f"{rel}: images that did not load: {broken}")
        if errors:
            problems.append(f"{rel}: console errors: {errors}")
        page.screenshot(path=str(ARTIFACTS / (rel.replace("/", "_") + ".png")), full_page=False)
        page.close()
    context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_framework_tabs_switch_and_the_choice_follows_the_reader(browser, site_url, built_site):
    pages = [rel for rel in chapter_pages(built_site) if "framework-tabs" in (built_site / rel).read_text()]
    assert len(pages) >= 2, "expected at least two chapters with PyTorch/Keras tabs"
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site_url}/{pages[0]}")
    tabs = page.locator(".framework-tabs").first
    tabs.scroll_into_view_if_needed()
    keras_label = tabs.locator("label", has_text="Keras")
    keras_label.click()
    assert tabs.locator("input").nth(1).is_checked()
    page.screenshot(path=str(ARTIFACTS / "tabs_after_choosing_keras.png"))
    # another page opens with Keras selected in every framework tab set
    other = context.new_page()
    other.goto(f"{site_url}/{pages[1]}")
    other.wait_for_timeout(300)
    checked = other.evaluate(
        """() => Array.from(document.querySelectorAll('.framework-tabs')).map(set =>
              set.querySelector('input:checked + label').textContent.trim())"""
    )
    assert checked and set(checked) == {"Keras"}, checked
    context.close()


@pytest.mark.slow
def test_search_finds_lstm(browser, site_url, built_site):
    page = browser.new_page()
    page.goto(f"{site_url}/search.html?q=LSTM")
    page.wait_for_selector("#search-results ul li", timeout=20_000)
    results = page.locator("#search-results ul li").all_inner_texts()
    page.screenshot(path=str(ARTIFACTS / "search_lstm.png"))
    assert any("recurrent" in r.lower() or "lstm" in r.lower() for r in results), results
    page.close()
