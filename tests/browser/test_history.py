"""The blotter in a real browser: its count, previous page, my trades, search, the trader column, sort by cost."""
from __future__ import annotations

import re

from tests.browser.conftest import ADMIN_USER, api_post, shot

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def _ids(page) -> list[str]:
    """Trade ids of the table's rows, in order."""
    return page.locator("#history-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)")


def test_history_counts_pages_back_searches_and_filters_my_trades(page, phone_page, live_server):
    page.goto(live_server + "/trade")
    mine = api_post(page, live_server, "/api/v1/trades", {"input": "SOL", "output": "USDC", "amount": "12"})
    assert mine.status == 201, mine.text()
    trade_id = str(mine.json()["id"])

    page.goto(live_server + "/trades")
    assert re.fullmatch(r"[\d,]+ trades match\.", page.locator("#history-count").inner_text().strip())
    first = _ids(page)
    assert len(first) == 50 and first[0] == trade_id
    assert page.locator("#history-table tbody tr").first.locator("td[data-label='Trader']").inner_text() == ADMIN_USER
    page.locator("#next-page").click()
    page.wait_for_url(re.compile(r".*cursor=.*"))
    assert _ids(page) and not set(_ids(page)) & set(first)
    page.locator("#prev-page").click()
    page.wait_for_url(re.compile(r".*before=.*"))
    assert _ids(page) == first

    page.goto(live_server + "/trades")
    page.get_by_label("My trades only").check()
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*mine=1.*"))
    traders = page.locator("#history-table tbody td[data-label='Trader']").all_inner_texts()
    assert traders and set(traders) == {ADMIN_USER}
    assert "these filters" in page.locator("#history-count").inner_text()

    page.locator("a.olr-sort[data-sort='cost']").click()
    page.locator("th[aria-sort='descending'] a[data-sort='cost']").wait_for()
    assert "mine=1" in page.url and "sort=cost" in page.url
    shot(page, "history-mine-by-cost")

    page.goto(live_server + "/trades")
    page.get_by_label("Trade or quote id").fill(f"#{trade_id}")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*q=.*"))
    assert _ids(page) == [trade_id]
    assert page.locator("#history-count").inner_text().startswith("1 trade matches")

    page.goto(live_server + "/trades")
    page.locator("#history-table tbody tr").first.locator("a.olr-trader").click()
    page.wait_for_url(re.compile(rf".*trader={ADMIN_USER}.*"))
    assert page.locator("#trader-chip").is_visible()
    page.goto(live_server + "/trades?sort=cost")  # the screenshot this test leaves: the whole blotter by cost
    page.set_viewport_size({"width": 1400, "height": 900})
    shot(page, "history-by-cost-1400")

    phone_page.goto(live_server + f"/trades?trader={ADMIN_USER}&sort=cost")
    assert phone_page.locator("#history-table tbody tr").count() >= 1
    assert phone_page.locator("#trader-chip").is_visible()
    assert phone_page.evaluate(NO_SIDEWAYS_SCROLL), "the history scrolls sideways at 390 px"
