"""An admin adds a simulated RFQ maker in the browser, sees it quoted on the ticket and the firm quote, its
scorecard on the makers page and its state on monitoring, then removes it; at 1440 (1400) and 390 px."""
from __future__ import annotations

import re

from tests.browser.conftest import shot

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def test_admin_adds_a_maker_sees_it_quoted_scored_and_monitored_then_removes_it(page, phone_page, live_server):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(live_server + "/admin/makers")
    page.locator("#new-maker").click()
    page.wait_for_url(live_server + "/admin/makers/new")
    page.get_by_label("Name").fill("Bad Name")
    page.get_by_label("Base URL").fill("sim://browser")
    page.allow_console_error(r"status of 400")
    page.locator("#submit-maker-form").click()
    page.wait_for_load_state()
    assert page.locator("#form-errors").is_visible()
    shot(page, "rfq-maker-form-errors")
    page.get_by_label("Name").fill("browser")
    page.get_by_label("API key").fill("never-shown-key")
    page.locator("#submit-maker-form").click()
    page.wait_for_url(live_server + "/admin/makers")
    assert "rfq:browser" in page.locator("#makers-table").inner_text()

    page.goto(live_server + "/trade")
    page.get_by_label("Amount", exact=True).fill("25000")
    page.wait_for_function("() => [...document.querySelectorAll('#live-options tbody tr')]"
                           ".some(r => r.dataset.venue === 'rfq:browser')", timeout=10_000)
    shot(page, "rfq-ticket-live-quote")
    page.get_by_role("button", name="Get firm quote to execute").click()
    page.wait_for_url(re.compile(r".*/quotes/q_[\w-]+$"))
    assert "rfq:browser" in page.locator("#options-table").inner_text()
    shot(page, "rfq-quote-firm")

    page.goto(live_server + "/admin/makers?period=all")
    row = page.locator("tr[data-maker='browser']")
    assert row.is_visible() and "never-shown-key" not in page.content()
    shot(page, "rfq-makers-page")
    phone_page.goto(live_server + "/admin/makers?period=all")
    assert phone_page.evaluate(NO_SIDEWAYS_SCROLL)
    shot(phone_page, "rfq-makers-page-phone")

    page.goto(live_server + "/monitoring")
    assert page.locator("#makers-state tr[data-maker='browser']").is_visible()
    shot(page, "rfq-monitoring")
    phone_page.goto(live_server + "/monitoring")
    assert phone_page.evaluate(NO_SIDEWAYS_SCROLL)
    shot(phone_page, "rfq-monitoring-phone")

    page.goto(live_server + "/admin/makers")
    page.get_by_role("button", name="Remove browser").click()
    page.wait_for_url(live_server + "/admin/makers")
    assert page.locator("tr[data-maker='browser']").count() == 0
