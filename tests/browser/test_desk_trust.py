"""Issue 18 ("A desk that trusts it") in a real browser: unavailable options, expired quotes, viewers' links,
toasts for the user's own events, and local/UTC times."""
from __future__ import annotations

from tests.browser.conftest import api_post, shot

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
