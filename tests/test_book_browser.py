"""The course website in a real browser, opened from file:// as from a USB stick.

Headless Debian Chromium through Playwright (never a Playwright browser download), with every
request that is not a local file blocked and recorded: the home page, a lesson whose figure and
equations must render (MathJax, bundled, turns the TeX into its own elements), and the search
page finding lesson 04 for "vanishing". Screenshots go to build/book/screenshots/.

Run alone: .venv/bin/pytest -q tests/test_book_browser.py (builds the site first if needed).
"""

import re

import pytest
from playwright.sync_api import expect, sync_playwright
from test_book import ROOT, built_site
from test_browser import CHROMIUM_FLAGS, _find_chromium

SHOTS = ROOT / "build" / "book" / "screenshots"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser_page():
    chromium = _find_chromium()
    if chromium is None:
        pytest.skip("Chromium not found at /usr/bin/chromium or on PATH "
                    "(Debian: apt-get install chromium; or set CHROMIUM=/path/to/chrome)")
    site = built_site()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=CHROMIUM_FLAGS, timeout=TIMEOUT_MS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900},
                                          service_workers="block")
            outside, failed, errors = [], [], []

            def local_only(route):
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            context.route("**/*", local_only)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("requestfailed",
                    lambda r: failed.append((r.url, r.resource_type, r.failure)))
            yield page, site, outside, failed, errors
        finally:
            browser.close()


def test_home_page(browser_page):
    page, site, outside, failed, errors = browser_page
    page.goto((site / "index.html").as_uri())
    expect(page.locator("h1").first).to_contain_text("Sequence models")
    expect(page.locator("nav.bd-links")).to_contain_text("the recurrent network from scratch")
    page.screenshot(path=SHOTS / "home.png")
    assert outside == [] and failed == [] and errors == []


def test_lesson_page_renders_figure_and_equations(browser_page):
    page, site, outside, failed, errors = browser_page
    page.goto((site / "notebooks" / "04_rnn_from_scratch.html").as_uri())
    figure = page.locator("img[src*='04_unrolled_rnn']").first
    figure.scroll_into_view_if_needed()
    expect(figure).to_be_visible()
    assert figure.evaluate("img => img.complete && img.naturalWidth") > 100, "figure not loaded"
    # MathJax replaces each \(...\) by an <mjx-container>; wait until every equation has one.
    math = page.locator("span.math, div.math")
    expect(math.first).to_be_visible()
    page.wait_for_function(
        "() => document.querySelectorAll('mjx-container').length >= "
        "document.querySelectorAll('span.math, div.math').length")
    assert page.locator("mjx-container").count() >= 10
    assert "\\tanh" not in page.locator("article").inner_text(), "raw TeX left on the page"
    # The stored progress bar shows its final state.
    expect(page.locator("article")).to_contain_text(re.compile(r"MLP: 100%\|█+\| 1500/1500"))
    page.locator("div.math").first.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "lesson04.png")
    assert page.locator("button.copybtn").count() > 5, "code cells have no copy button"
    assert outside == [] and failed == [] and errors == []


def test_search_finds_lesson_04(browser_page):
    page, site, outside, failed, errors = browser_page
    page.goto((site / "search.html").as_uri() + "?q=vanishing")
    results = page.locator("#search-results ul.search li")
    expect(results.first).to_be_visible()
    expect(page.locator("#search-results")).to_contain_text("recurrent network from scratch")
    hrefs = results.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert any("04_rnn_from_scratch.html" in h for h in hrefs), hrefs
    page.screenshot(path=SHOTS / "search_vanishing.png")
    # No fetch() of the result pages for snippets, which file:// refuses (tools/book.py, JS).
    assert outside == [] and failed == [] and errors == []
