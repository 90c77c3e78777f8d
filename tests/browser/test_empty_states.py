"""A fresh database (no trades): every page says so and points at the first trade; 404 is styled."""
from __future__ import annotations

from tests.browser.conftest import shot, sign_in

EMPTY_PAGES = {
    "dashboard": ("/", "#feed-empty", "Open the trade ticket"),
    "history": ("/trades", ".olr-empty", "Open the trade ticket"),
    "analytics": ("/analytics", ".olr-empty", "Open the trade ticket"),
    "orders": ("/orders", ".olr-empty", "Open the trade ticket"),
}


def test_fresh_database_pages_show_empty_states_with_a_pointer_to_the_first_trade(
        fresh_page, fresh_phone_page, empty_live_server):
    for page, width in ((fresh_page, "desktop"), (fresh_phone_page, "phone")):
        sign_in(page, empty_live_server)
        for name, (path, selector, action) in EMPTY_PAGES.items():
            page.goto(empty_live_server + path)
            page.wait_for_load_state("networkidle")
            box = page.locator(selector)
            assert box.is_visible(), f"{name}: no empty state"
            link = box.get_by_role("link", name=action)
            assert link.get_attribute("href") == "/trade", f"{name}: no pointer to the ticket"
            assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), name
            shot(page, f"empty-{name}-{width}")
        page.goto(empty_live_server + "/analytics")
        assert page.locator(".olr-chart-empty").count() >= 5, "charts without data show a placeholder"
        page.goto(empty_live_server + "/monitoring")
        page.wait_for_load_state("networkidle")
        shot(page, f"empty-monitoring-{width}")
        page.goto(empty_live_server + "/pools")
        assert page.locator(".olr-pool").count() == 2
        assert "no fills yet" in page.locator("#pool-1").inner_text()


def test_unknown_trade_is_a_styled_404(page, live_server):
    page.allow_console_error(r"status of 404")
    response = page.goto(live_server + "/trades/999999")
    assert response is not None and response.status == 404
    assert page.locator(".olr-error-code").inner_text().strip() == "404"
    assert "no trade #999999" in page.locator(".olr-error-message").inner_text()
    assert page.title().startswith("404")
