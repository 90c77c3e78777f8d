"""Issue 18 ("A desk that trusts it") in a real browser: unavailable options, expired quotes, viewers' links,
toasts for the user's own events, and local/UTC times."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import DESKTOP, _open_page, api_post, shot

UNAVAILABLE_WITH_CHECK_JS = """sel => [...document.querySelectorAll(sel + ' tbody tr')]
  .filter(tr => tr.querySelector('td[colspan]')
    && (tr.querySelector('.bi-check-circle-fill') || tr.classList.contains('olr-chosen')))
  .map(tr => tr.dataset.venue + ': ' + tr.innerText.trim())"""


def test_an_unavailable_option_never_shows_the_green_check(page, live_server):
    page.goto(live_server + "/trade")
    page.get_by_label("Amount", exact=True).fill("123456")  # above otc:sol-usdc's max: the split still uses it
    page.locator("#live-result").wait_for(state="visible", timeout=10_000)
    page.wait_for_function("() => document.querySelectorAll('#live-options tbody tr td[colspan]').length >= 1")
    assert page.evaluate(UNAVAILABLE_WITH_CHECK_JS, "#live-options") == []
    assert "split fills part" in page.locator("#live-options tbody tr td[colspan]").first.inner_text()
    shot(page, "ticket-unavailable-option")
    response = api_post(page, live_server, "/api/v1/quotes", {"input": "SOL", "output": "USDC", "amount": "123456"})
    page.goto(f"{live_server}/quotes/{response.json()['quote_id']}")
    assert page.locator("#options-table tbody tr td[colspan]").count() >= 1
    assert page.evaluate(UNAVAILABLE_WITH_CHECK_JS, "#options-table") == []


def test_pool_edit_errors_are_plain_words_with_the_fields_label(page, live_server):
    page.goto(live_server + "/pools/1/edit")
    page.get_by_label("Annual volatility").fill("10000")
    page.get_by_label("Maximum trade").fill("99999999999")  # 1e20 atoms: above 2^63
    page.get_by_label("Fee").fill("1.23456")
    page.allow_console_error(r"status of 400")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state()
    errors = {f: page.locator(f"#{f}-error").inner_text() for f in ("annual_vol_pct", "max_trade_base", "fee_bps")}
    shot(page, "pool-edit-plain-errors")
    assert errors["annual_vol_pct"] == "Annual volatility must be less than 10,000.", errors
    assert errors["max_trade_base"].startswith("Maximum trade is too large: at most 9,223,372,036"), errors
    assert errors["fee_bps"] == "Fee allows at most 4 digits after the point.", errors
    text = page.locator("#pool-form").inner_text()
    for jargon in ("2^63", "atoms", "annual_vol_pct", "_bps"):
        assert jargon not in text, f"{jargon!r} on the pool form: {text}"


VIEWER_USER, VIEWER_PASSWORD = "desk-viewer", "browser-viewer-password"


@pytest.fixture(scope="module")
def viewer_state(browser, live_app, live_server):
    """Cookies of a signed-in viewer on `live_server` (the user is created once)."""
    with live_app.app_context():
        from models import User, db
        from services import accounts

        if db.session.query(User).filter_by(username=VIEWER_USER).one_or_none() is None:
            accounts.create_user(VIEWER_USER, "viewer", VIEWER_PASSWORD)
    context = browser.new_context()
    try:
        p = context.new_page()
        p.goto(live_server + "/login")
        p.fill("#username", VIEWER_USER)
        p.fill("#password", VIEWER_PASSWORD)
        p.locator("#login-form button[type=submit]").click()
        p.wait_for_url(live_server + "/")
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture
def viewer_page(browser, viewer_state, request):
    """A desktop page signed in as a viewer (same console rules as `page`)."""
    yield from _open_page(browser, request, DESKTOP, "", viewer_state)


def _links_to_forbidden_pages(page, live_server) -> list[str]:
    """Every same-site link and form on the page that answers 403 to this user."""
    targets = page.evaluate("""() => [...document.querySelectorAll('main a[href], main form[action]')]
      .map(e => e.getAttribute('href') || e.getAttribute('action'))""")
    bad = []
    for target in {t for t in targets if t.startswith("/") and not t.endswith(".csv")}:
        if page.request.get(live_server + target, max_redirects=0).status == 403:
            bad.append(target)
    return bad


def test_viewers_meet_no_link_to_a_403(viewer_page, page, live_server):
    page.goto(live_server + "/trade")
    response = api_post(page, live_server, "/api/v1/quotes", {"input": "SOL", "output": "USDC", "amount": "10"})
    quote_id = response.json()["quote_id"]
    trade = api_post(page, live_server, "/api/v1/trades", {"input": "SOL", "output": "USDC", "amount": "10"}).json()
    viewer_page.allow_console_error(r"status of 403")
    for path in ("/", f"/trades/{trade['id']}", f"/quotes/{quote_id}", "/trade", "/analytics", "/pools"):
        viewer_page.goto(live_server + path)
        assert _links_to_forbidden_pages(viewer_page, live_server) == [], path
        if path == "/trade":
            assert viewer_page.title().startswith("403")
            shot(viewer_page, "viewer-403")
    viewer_page.goto(f"{live_server}/trades/{trade['id']}")
    assert viewer_page.get_by_role("link", name="New trade").count() == 0
    shot(viewer_page, "viewer-trade-detail")
    viewer_page.goto(f"{live_server}/quotes/{quote_id}")
    assert viewer_page.locator("#execute-button").count() == 0
    assert "needs the trader role" in viewer_page.locator("#execute-needs-role").inner_text()


def _expire_quote(live_app, quote_id: str, in_seconds: float = -1) -> None:
    """Move a stored quote's expiry to now + in_seconds (both the column and the payload the page counts down)."""
    from datetime import timedelta

    from core.units import iso_z
    from models import Quote, db, utcnow

    with live_app.app_context():
        quote = db.session.get(Quote, quote_id)
        quote.expires_at = utcnow() + timedelta(seconds=in_seconds)
        quote.payload = {**quote.payload, "expires_at": iso_z(quote.expires_at)}
        db.session.commit()


def _ticket_order(page) -> dict[str, str]:
    """What the ticket's form holds."""
    values = {name: page.locator(f"#{name}").input_value() for name in ("input", "output", "amount", "slippage_bps")}
    return {**values, "swap_mode": page.locator("input[name=swap_mode]:checked").input_value()}


ORDER = {"input": "USDC", "output": "SOL", "amount": "1234.5", "swap_mode": "ExactIn", "slippage_bps": "75"}


def test_an_expired_quote_keeps_its_order_and_refreshes_in_place(page, live_app, live_server):
    page.goto(live_server + "/trade")
    body = {**ORDER, "slippage_bps": 75}
    quote_id = api_post(page, live_server, "/api/v1/quotes", body).json()["quote_id"]
    _expire_quote(live_app, quote_id)
    page.goto(f"{live_server}/quotes/{quote_id}")
    assert page.locator("#quote-expired").is_visible()
    shot(page, "quote-expired-refresh")
    page.get_by_role("link", name="New quote").click()
    page.wait_for_url(re.compile(r".*/trade\?.*"))
    assert _ticket_order(page) == ORDER

    page.goto(f"{live_server}/quotes/{quote_id}")
    page.locator("#refresh-quote").click()
    page.wait_for_url(re.compile(r".*/quotes/q_[\w-]+$"))
    assert quote_id not in page.url
    assert page.locator("#quote-countdown").is_visible()
    assert page.locator("#quote-in").inner_text() == "1,234.50 USDC"
    assert "max slippage 75 bps" in page.locator(".olr-page-sub").inner_text()


def test_back_from_a_quote_and_a_quote_expiring_on_screen_keep_the_order(page, live_app, live_server):
    page.goto(live_server + "/trade")
    page.locator("#input").select_option("USDC")
    page.locator("#output").select_option("SOL")
    page.get_by_label("Amount", exact=True).fill("1234.5")
    page.get_by_label("Max slippage").fill("75")
    page.get_by_role("button", name="Get firm quote to execute").click()
    page.wait_for_url(re.compile(r".*/quotes/q_[\w-]+$"))
    quote_id = page.url.rsplit("/", 1)[1]
    page.go_back()
    page.wait_for_url(re.compile(r".*/trade.*"))
    assert _ticket_order(page) == ORDER

    _expire_quote(live_app, quote_id, in_seconds=1.5)
    page.goto(f"{live_server}/quotes/{quote_id}")
    page.locator("#refresh-quote").wait_for(state="visible", timeout=5_000)
    assert page.locator("#execute-button").is_disabled()
    page.locator("#new-quote").click()
    page.wait_for_url(re.compile(r".*/trade\?.*"))
    assert _ticket_order(page) == ORDER


def test_a_fill_raises_a_toast_on_every_open_page_of_the_user(page, live_server):
    page.goto(live_server + "/")
    other = page.context.new_page()  # a second tab of the same user
    other.goto(live_server + "/analytics")
    page.wait_for_timeout(1000)  # both pages have polled once (they now hold a cursor)
    trade = api_post(page, live_server, "/api/v1/trades", {"input": "SOL", "output": "USDC", "amount": "10"}).json()
    for p in (page, other):
        toast = p.locator(f"#olr-toasts .toast[data-event-id='trade:{trade['id']}:filled']")
        toast.wait_for(state="visible", timeout=12_000)
        assert toast.inner_text().count(f"Trade #{trade['id']} filled") == 1
    shot(page, "toast-trade-filled")
    other.close()


def test_times_switch_between_utc_and_local_and_the_choice_is_remembered(browser, auth_state, live_server):
    context = browser.new_context(viewport=DESKTOP, timezone_id="Asia/Tokyo", storage_state=auth_state)
    try:
        p = context.new_page()
        p.goto(live_server + "/trades/1")
        first = p.locator("#timeline time").first
        utc = first.inner_text()
        assert utc.endswith("UTC") and p.locator("#olr-tz-toggle").inner_text() == "UTC"
        p.locator("#olr-tz-toggle").click()
        local = first.inner_text()
        assert local.endswith("GMT+9"), local
        assert int(local[11:13]) == (int(utc[11:13]) + 9) % 24
        assert first.get_attribute("title") == utc
        p.goto(live_server + "/")
        assert p.locator("#olr-tz-toggle").inner_text() == "Local"
        p.wait_for_function("() => /GMT\\+9/.test(document.getElementById('dash-updated').textContent)")
        shot(p, "times-local")
        p.locator("#olr-tz-toggle").click()
        assert p.locator("table time").first.inner_text().endswith("UTC") if p.locator("table time").count() else True
    finally:
        context.close()
