"""Issue 14's reader checks in a real browser: the home overview and its table alternative, the
project page's collapsed dimensions, Japanese pages without stray English, and the badge in a
page that requires cross-origin resources to opt in (COEP)."""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize(("lang", "width"), [("en", 1280), ("ja", 1280), ("en", 360), ("ja", 360)])
def test_the_overview_shows_both_charts_and_opens_its_table(open_page, lang, width):
    page = open_page(width=width, height=900)
    page.goto(f"/{lang}/")
    overview = page.locator("section.overview")
    matrix, scatter = overview.locator("svg.overview-matrix"), overview.locator("svg.overview-scatter")
    expect(matrix).to_be_visible()
    expect(scatter).to_be_visible()
    for chart in (matrix, scatter):
        box = chart.bounding_box()
        assert box["width"] <= width and box["height"] > 150
    expect(matrix.locator("g.matrix-row")).to_have_count(14)
    expect(scatter.locator("g.point")).to_have_count(14)
    table = overview.locator("table.overview-figures-table")
    expect(table).to_be_hidden()
    overview.locator("details.overview-table > summary").click()
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(14)
    # The first row of the table is the first of the chart and of the rankings.
    first = page.locator("table.rankings tbody tr").first.locator("th a").inner_text()
    expect(table.locator("tbody tr").first.locator("th a")).to_have_text(first)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    ARTIFACTS.mkdir(exist_ok=True)
    overview.screenshot(path=str(ARTIFACTS / f"overview-{lang}-{width}.png"))


def test_project_page_dimensions_are_one_line_each_until_opened(page):
    page.goto("/en/projects/interlune-he3/")
    dimensions = page.locator("details.dimension-ratings")
    expect(dimensions).to_have_count(5)
    for index in range(5):
        assert dimensions.nth(index).get_attribute("open") is None
    summary = dimensions.first.locator(":scope > summary")
    expect(summary).to_contain_text(re.compile(r"score \d+\.\d; \d of 5 criteria rated"))
    evidence = dimensions.first.locator("li.criterion").first.locator("dl.evidence")
    expect(evidence).to_be_hidden()
    summary.click()
    expect(evidence).to_be_visible()
    # Collapsed, the ratings take little room: the page is far shorter than with every card open.
    page.goto("/en/projects/interlune-he3/")
    collapsed = page.evaluate("document.documentElement.scrollHeight")
    page.evaluate("document.querySelectorAll('details.dimension-ratings').forEach(d => d.open = true)")
    assert page.evaluate("document.documentElement.scrollHeight") > collapsed + 3000


def test_a_link_to_a_criterion_opens_its_dimension(page):
    page.goto("/en/projects/interlune-he3/")
    severe = page.locator("section.risks a[href^='#criterion-']").first
    target = severe.get_attribute("href")
    severe.click()
    expect(page.locator(target)).to_be_visible()
    expect(page.locator(target).locator("xpath=ancestor::details[1]")).to_have_attribute("open", "")


def test_printing_shows_every_criterion_whether_opened_or_not(page):
    page.goto("/en/projects/hera/")
    page.emulate_media(media="print")
    expect(page.locator("details.dimension-ratings li.criterion dl.evidence").first).to_be_visible()
    expect(page.locator("details.dimension-ratings li.criterion dl.evidence").last).to_be_visible()


JAPANESE_PAGES = [
    "/ja/",
    "/ja/?body=moon&sort=-sdg7",
    "/ja/projects/interlune-he3/",
    "/ja/projects/moxie/",
    "/ja/projects/hera/",
    "/ja/methodology/",
    "/ja/compare/?p=hera&p=viper&p=astroforge-odin",
    "/ja/operators/",
    "/ja/open-data/",
    "/ja/projects/no-such-project/",
]
# Text outside lang="en" with three Latin words in a row (names like "IM-2 Athena" have fewer
# lower-case words than that; a sentence has more); links written out are addresses, not English.
STRAY_ENGLISH = """() => {
  const english = /[A-Za-z]+[ ,.'’-]+[a-z]+[ ,.'’-]+[a-z]+/;
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!element || element.closest('script, style, code')) continue;
    if (element.closest('[lang]').lang !== 'ja') continue;
    const text = node.textContent.trim();
    if (/^https?:\\/\\//.test(text)) continue;
    if (english.test(text)) found.push(text.slice(0, 100));
  }
  for (const element of document.querySelectorAll('[aria-label], [title], [alt], [placeholder]')) {
    if (element.closest('[lang]').lang !== 'ja') continue;
    for (const name of ['aria-label', 'title', 'alt', 'placeholder']) {
      const value = element.getAttribute(name);
      if (value && english.test(value)) found.push(`${name}: ${value.slice(0, 100)}`);
    }
  }
  return found;
}"""


@pytest.mark.parametrize("path", JAPANESE_PAGES)
def test_japanese_pages_have_no_english_outside_lang_en(page, path):
    page.goto(path)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert page.evaluate(STRAY_ENGLISH) == []


def test_japanese_evidence_shows_and_english_only_is_noted(page):
    page.goto("/ja/projects/moxie/")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    evidence = page.locator("#criterion-s71 dl.evidence dd").first
    expect(evidence).to_contain_text("例示的な判断")
    assert evidence.get_attribute("lang") is None


@pytest.fixture
def embedder():
    """A page on another loopback origin, served with Cross-Origin-Embedder-Policy: require-corp
    (a real server: Chrome's local network access checks refuse loopback images to a page that
    Playwright made up). ``embedder(html)`` gives its address."""
    pages = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(html: str) -> str:
        pages["/embedder.html"] = html
        return f"http://127.0.0.1:{server.server_port}/embedder.html"

    yield serve
    server.shutdown()


def test_the_badge_shows_in_a_page_that_requires_corp(browser, demo_site, embedder):
    """A page with Cross-Origin-Embedder-Policy: require-corp, on another origin, shows the badge
    (Cross-Origin-Resource-Policy: cross-origin) and not an image that lacks the header: the
    browser does enforce the policy here."""
    badge = f"{demo_site.url}/en/projects/hera/badge.svg"
    plain = f"{demo_site.url}/static/web/icon.svg"
    address = embedder(
        "<!doctype html><html lang='en'><title>Embedder</title>"
        f"<img id='badge' src='{badge}' alt='sdgscore badge'><img id='plain' src='{plain}' alt=''>"
    )
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(address)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("crossOriginIsolated") is True
        assert page.evaluate("document.getElementById('badge').naturalWidth") > 60
        assert page.evaluate("document.getElementById('plain').naturalWidth") == 0
    finally:
        context.close()


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def strict_axe(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    return [
        f"{violation['id']}: {[node['target'] for node in violation['nodes']][:3]}"
        for violation in results.response["violations"]
    ]


def test_the_api_docs_are_axe_clean_opened_and_closed(page):
    """/api/docs/ (Swagger UI, linked from every footer): English declared, contrast, headings in
    order, no link inside a button, named fields, a named dialog (docs_access.js, docs.css)."""
    page.goto("/api/docs/")
    page.wait_for_load_state("networkidle")
    expect(page.locator(".opblock-summary-control").first).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert strict_axe(page) == []
    # Every operation opened and checked, a tag's operations at a time (closed again after):
    # with all 34 open at once the page grows so large that axe runs for many minutes.
    for section in page.locator(".opblock-tag-section").all():
        controls = section.locator(".opblock-summary-control").all()
        for control in controls:
            control.click()
        assert strict_axe(page) == [], section.locator("h3").first.inner_text()
        for control in controls:
            control.click()
    page.locator(".opblock-summary-control", has_text="List projects").first.click()
    page.locator("section.models h4").first.click()
    expect(page.locator("tr[data-param-name='ordering']").first).to_be_visible()
    assert strict_axe(page) == []
    page.locator(".btn.authorize").first.click()
    expect(page.get_by_role("dialog", name="Available authorizations")).to_be_visible()
    assert strict_axe(page) == []
    assert page.problems.console_errors == []
    assert page.problems.other_hosts == []
