"""The shared layout in a real browser: navbar, vendored assets only, styled errors, phone layout."""
from __future__ import annotations

from urllib.parse import urlsplit

NAV_LINKS = ["Dashboard", "Trade", "History", "Analytics", "Pools", "Monitoring", "API"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
INLINE_HANDLERS_JS = """
[...document.querySelectorAll('*')].flatMap(el => [...el.attributes]
  .filter(a => a.name.startsWith('on') || a.value.trim().toLowerCase().startsWith('javascript:'))
  .map(a => el.tagName.toLowerCase() + '[' + a.name + ']'))
"""


def _relative_luminance(css_color: str) -> float:
    """Luminance 0..1 of an `rgb(...)`/`rgba(...)` computed colour."""
    inner = css_color[css_color.index("(") + 1 : css_color.index(")")]
    r, g, b = (float(part) / 255 for part in inner.replace("/", ",").split(",")[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _record_requests(page) -> list[str]:
    """Collect the URL of every request the page makes."""
    urls: list[str] = []
    page.on("request", lambda req: urls.append(req.url))
    return urls


def test_every_nav_page_renders_with_vendored_assets_and_no_console_errors(page, live_server):
    requests = _record_requests(page)
    page.goto(live_server + "/")
    hrefs = {
        label: page.get_by_role("navigation", name="Main navigation").get_by_role("link", name=label, exact=True)
        .get_attribute("href")
        for label in NAV_LINKS
    }
    assert all(hrefs.values()), hrefs

    for label, href in hrefs.items():
        response = page.goto(live_server + href)
        status = response.status if response else None
        assert status == 200, f"{label} ({href}) answered {status}"
        page.wait_for_load_state("networkidle")
        navbar = page.locator("nav.navbar")
        assert navbar.is_visible(), f"{label}: navbar missing"
        assert page.locator("nav.navbar .navbar-brand").inner_text().strip() == "OTC Liquidity Router"
        active = page.locator("nav.navbar .nav-link.active")
        assert active.count() == 1, f"{label}: expected exactly one active nav link"
        assert active.inner_text().strip() == label, f"{label}: active link is {active.inner_text()!r}"
        assert page.title().endswith("OTC Liquidity Router"), page.title()
        assert page.locator("html").get_attribute("data-bs-theme") == "dark"
        assert page.locator('meta[name="csrf-token"]').get_attribute("content")

        body_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert _relative_luminance(body_bg) < 0.1, f"{label}: body background {body_bg} is not dark"
        # Bootstrap's CSS is applied: its .navbar rule makes the navbar a flex container.
        assert page.evaluate("getComputedStyle(document.querySelector('nav.navbar')).display") == "flex"
        # CSP-ready: no inline scripts (JSON data blocks are fine) and no inline event handlers.
        inline = page.locator("script:not([src]):not([type='application/json'])").count()
        assert inline == 0, f"{label}: {inline} inline <script> block(s)"
        handlers = page.evaluate(INLINE_HANDLERS_JS)
        assert handlers == [], f"{label}: inline event handlers {handlers}"
        # Bootstrap's JS and our helpers loaded from static files.
        assert page.evaluate("typeof window.bootstrap === 'object' && typeof window.OLR === 'object'")
        # Bootstrap Icons' font is loaded (not the fallback box).
        assert page.evaluate("document.fonts.check('16px bootstrap-icons')"), f"{label}: icon font not loaded"
        # The health pill was filled from /healthz.
        page.wait_for_function("() => document.getElementById('jupiter-status').dataset.state !== 'unknown'")
        assert page.locator("#jupiter-status").get_attribute("data-state") in {"ok", "degraded", "down"}

    external = [url for url in requests
                if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname not in LOCAL_HOSTS]
    assert external == [], f"requests left the machine: {external}"
    static = [url for url in requests if "/static/" in url]
    for asset in ("vendor/bootstrap/css/bootstrap.min.css", "vendor/bootstrap/js/bootstrap.bundle.min.js",
                  "vendor/bootstrap-icons/bootstrap-icons.min.css", "css/app.css", "js/app.js"):
        assert any(asset in url for url in static), f"{asset} was not loaded"


def test_unknown_url_shows_styled_404(page, live_server):
    # Chromium logs a non-2xx document as a console error; that one 404 is the point of this test.
    page.allow_console_error(r"status of 404 .*/no-such-page")
    response = page.goto(live_server + "/no-such-page")
    assert response is not None and response.status == 404
    assert page.locator("nav.navbar").is_visible()
    assert page.locator(".olr-error-code").inner_text().strip() == "404"
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Not Found"
    back = page.get_by_role("link", name="Back to the dashboard")
    assert back.is_visible()
    assert page.title().startswith("404")
    body_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert _relative_luminance(body_bg) < 0.1
    assert back.get_attribute("href") == "/"


def test_navbar_collapses_at_phone_width(phone_page, live_server):
    page = phone_page
    page.goto(live_server + "/")
    toggler = page.locator("nav.navbar .navbar-toggler")
    assert toggler.is_visible(), "the hamburger button should show at phone width"
    trade_link = page.locator("#olr-nav").get_by_role("link", name="Trade", exact=True)
    assert not trade_link.is_visible(), "nav links should be collapsed at phone width"
    assert page.locator("nav.navbar .navbar-brand").is_visible()
    assert page.locator("#jupiter-status").is_visible()

    no_horizontal_scroll = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_horizontal_scroll), "the page scrolls sideways at 390px"

    toggler.click()
    trade_link.wait_for(state="visible")
    assert toggler.get_attribute("aria-expanded") == "true"
    assert page.evaluate(no_horizontal_scroll)
    trade_link.click()
    page.wait_for_url(live_server + "/trade")
    assert page.locator("#olr-nav").get_by_role("link", name="Dashboard", exact=True).is_hidden()
