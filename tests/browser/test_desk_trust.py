"""Issue 18 ("A desk that trusts it") in a real browser: unavailable options, expired quotes, viewers' links,
toasts for the user's own events, and local/UTC times."""
from __future__ import annotations

import re

from tests.browser.conftest import api_post, shot

UNAVAILABLE_WITH_CHECK_JS = """sel => [...document.querySelectorAll(sel + ' tbody tr')]
  .filter(tr => tr.querySelector('td[colspan]') && (tr.querySelector('.bi-check-circle-fill') || tr.classList.contains('olr-chosen')))
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
