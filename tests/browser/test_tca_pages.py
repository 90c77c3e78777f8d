"""TCA in the browser: analytics with the benchmark picker, shortfall by size and markout curves; the trade's TCA."""
from __future__ import annotations

from typing import Any

from tests.browser.conftest import api_post, shot

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def test_analytics_pick_the_benchmark_and_draw_shortfall_and_markouts(page: Any, phone_page: Any,
                                                                       live_server: str) -> None:
    for p, width, name in ((page, 1400, "tca-analytics"), (phone_page, 390, "tca-analytics-phone")):
        p.set_viewport_size({"width": width, "height": 900})
        p.goto(live_server + "/analytics")
        p.wait_for_load_state("networkidle")
        assert "Saved vs best single venue" in p.locator("#kpi-saved").locator("xpath=..").text_content()
        assert p.locator("#benchmark-best_single_venue").get_attribute("aria-current") == "true"
        for chart in ("chart-shortfall", "chart-markouts", "chart-savings"):
            assert p.locator(f"#{chart}").count() == 1, chart
        assert p.evaluate(NO_SIDEWAYS_SCROLL)
        shot(p, name)
    page.locator("#benchmark-twap").click()
    page.wait_for_load_state("networkidle")
    assert "benchmark=twap" in page.url
    assert "Saved vs TWAP" in page.locator("#kpi-saved").locator("xpath=..").text_content()
    page.get_by_role("link", name="7d").click()
    assert "benchmark=twap" in page.url  # the range keeps the benchmark


def test_the_trade_page_shows_shortfall_components_markouts_and_benchmarks(page: Any, phone_page: Any,
                                                                            live_server: str) -> None:
    page.goto(live_server + "/")
    trade = api_post(page, live_server, "/api/v1/trades", {"input": "SOL", "output": "USDC", "amount": "5000"}).json()
    for p, width, name in ((page, 1400, "tca-trade"), (phone_page, 390, "tca-trade-phone")):
        p.set_viewport_size({"width": width, "height": 900})
        p.goto(f"{live_server}/trades/{trade['id']}")
        card = p.locator("#tca-card")
        assert "Shortfall" in card.inner_text() and card.locator("[data-markout='300s']").inner_text() == "pending"
        dealer = p.locator("#options-table tr[data-venue^='otc:']:not(.text-olr-muted)")
        if dealer.count():  # a dealer that quoted (earlier tests may have drained it): a firm quote, no timing charge
            assert "firm quote" in dealer.first.inner_text()
        assert p.evaluate(NO_SIDEWAYS_SCROLL)
        shot(p, name)
