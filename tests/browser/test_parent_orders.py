"""Parent orders in the browser (issue 16): the ticket's over-time panel, a TWAP placed from it working live on its
page, cancel with the filled part shown, and the list; screenshots at 1400 and 390 px.

The job runner: this module serves its own app with JOBS_BACKEND=memory (Huey's in-process storage, not immediate)
and runs a real Huey consumer (one worker thread and the scheduler, started as `jobs consumer` starts them, without its
signal handlers) in the test process, so slices execute on the runner's own schedule while the page is watched.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import _make_app, _open_page, _require_browser, _serving, api_post, shot, sign_in

WIDE = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def orders_server() -> Iterator[str]:
    """A live app whose parent orders are worked by a Huey consumer running beside the server; yields its URL."""
    _require_browser()
    tmp = tempfile.mkdtemp(prefix="olr-browser-orders-")
    app = _make_app(f"{tmp}/orders.db", 0, JOBS_BACKEND="memory", JOBS_NAME="browser-orders", PARENT_RETRY_S=1)
    consumer = app.extensions["jobs"].huey.create_consumer(workers=1, worker_type="thread", periodic=False,
                                                           initial_delay=0.05, backoff=1.15, max_delay=0.25,
                                                           scheduler_interval=1)
    consumer.scheduler.start()
    for _, worker in consumer.worker_threads:
        worker.start()
    try:
        with _serving(app) as url:
            yield url
    finally:
        consumer.stop(graceful=True)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def wide(browser: Any, request: pytest.FixtureRequest, orders_server: str) -> Iterator[Any]:
    """A 1400 px page signed in on orders_server (console errors fail the test)."""
    for page in _open_page(browser, request, WIDE, ""):
        sign_in(page, orders_server)
        yield page


@pytest.fixture
def phone(browser: Any, request: pytest.FixtureRequest, orders_server: str) -> Iterator[Any]:
    """A 390 px page signed in on orders_server."""
    for page in _open_page(browser, request, PHONE, "-phone"):
        sign_in(page, orders_server)
        yield page


def fill_ticket(page: Any, base: str, amount: str) -> None:
    """Open the ticket and type an SOL → USDC amount (the live indication follows)."""
    page.goto(base + "/trade")
    page.fill("#amount", amount)


def test_a_large_order_gets_the_over_time_panel_with_three_coloured_costs(wide: Any, phone: Any,
                                                                          orders_server: str) -> None:
    for page, name in ((wide, "parent-panel"), (phone, "parent-panel-phone")):
        fill_ticket(page, orders_server, "100000")
        panel = page.locator("#parent-panel")
        panel.wait_for(state="visible", timeout=20_000)
        page.wait_for_function("() => document.querySelector('#parent-over_time-bps').textContent.includes('bps')",
                               timeout=20_000)
        costs = {k: page.locator(f"#parent-{k}-bps").inner_text() for k in ("now", "split", "over_time")}
        assert all(re.fullmatch(r"[\d,]+\.\d bps", v) for v in costs.values()), costs
        bps = {k: float(v.split()[0].replace(",", "")) for k, v in costs.items()}
        assert bps["over_time"] < bps["split"] <= bps["now"]  # the market model: time is the cheapest venue here
        levels = [panel.locator(f'[data-option="{k}"]').get_attribute("data-level") for k in costs]
        assert set(levels) <= {"ok", "warn", "danger"} and levels[0] == "danger"
        assert page.locator("#parent-now-usd").inner_text().startswith("$")
        ack = page.locator("#parent-ack-wrap")  # 100,000 SOL is above the desk's hard-confirm notional
        assert ack.is_visible() and "I accept an estimated cost of" in ack.inner_text()
        page.locator("#parent-submit").click()
        assert "Tick the box" in page.locator("#parent-error").inner_text()
        assert "/orders/" not in page.url
        panel.scroll_into_view_if_needed()
        shot(page, name)


def test_a_small_order_keeps_the_panel_behind_a_link(wide: Any, orders_server: str) -> None:
    fill_ticket(wide, orders_server, "10")
    wide.locator("#parent-open-wrap").wait_for(state="visible", timeout=20_000)
    assert wide.locator("#parent-panel").is_hidden()
    wide.locator("#parent-open").click()
    wide.locator("#parent-panel").wait_for(state="visible")
    wide.wait_for_function("() => document.querySelector('#parent-split-bps').textContent.includes('bps')",
                           timeout=20_000)
    assert wide.locator("#parent-ack-wrap").is_hidden()


def test_a_twap_placed_from_the_ticket_works_live_on_its_page(wide: Any, phone: Any, orders_server: str) -> None:
    fill_ticket(wide, orders_server, "300")
    wide.locator("#parent-open").click()
    wide.fill("#parent-duration", "0.2")  # 12 s: three slices 4 s apart
    wide.fill("#parent-slices", "3")
    wide.wait_for_function("() => document.querySelector('#parent-over_time-label').textContent.includes('3 slices')",
                           timeout=20_000)
    wide.locator("#parent-submit").click()
    wide.wait_for_url(re.compile(r".*/orders/\d+$"), timeout=20_000)
    order_id = wide.url.rsplit("/", 1)[1]
    wide.evaluate("window.__sameDocument = true")
    rows = wide.locator("#slices-table tbody tr")
    assert rows.count() == 3
    wide.wait_for_selector('#slices-table tr[data-status="filled"]', timeout=15_000)
    first = wide.locator("#order-track").get_attribute("data-filled-pct")
    assert wide.locator("#slices-table tr[data-status=filled]").count() < 3  # the test sees it before it ends
    assert wide.locator("#order-status [data-status]").get_attribute("data-status") == "working"
    shot(wide, "parent-order-working")
    phone.goto(f"{orders_server}/orders/{order_id}")
    phone.wait_for_selector('#slices-table tr[data-status="filled"]', timeout=15_000)
    shot(phone, "parent-order-working-phone")
    wide.wait_for_selector('#order-status [data-status="completed"]', timeout=30_000)
    assert wide.evaluate("window.__sameDocument") is True  # no reload: the poller moved the page
    assert first != "100.0" and wide.locator("#order-track").get_attribute("data-filled-pct") == "100.0"
    assert wide.locator("#slices-table tr[data-status=filled]").count() == 3
    assert "Completed: filled 300" in wide.locator("#order-banner").inner_text()
    assert wide.locator("#order-live").inner_text() == "final" and wide.locator("#cancel-button").is_hidden()
    links = wide.locator("#slices-table a[href^='/trades/']")
    assert links.count() == 3
    shot(wide, "parent-order-completed")
    phone.wait_for_selector('#order-status [data-status="completed"]', timeout=15_000)
    shot(phone, "parent-order-completed-phone")


def test_cancel_stops_the_order_with_the_filled_part_shown(wide: Any, phone: Any, orders_server: str) -> None:
    wide.goto(orders_server + "/orders")
    placed = api_post(wide, orders_server, "/api/v1/orders", {"input": "SOL", "output": "USDC", "amount": "300",
                                                              "strategy": "twap", "duration_s": 120, "slices": 3})
    assert placed.status == 201, placed.text()
    order_id = placed.json()["id"]
    wide.goto(f"{orders_server}/orders/{order_id}")
    wide.wait_for_selector('#slices-table tr[data-status="filled"]', timeout=15_000)
    wide.locator("#cancel-button").click()
    wide.locator("#cancel-modal").wait_for(state="visible")
    assert "100" in wide.locator("#cancel-filled").inner_text()
    wide.locator("#cancel-confirm").click()
    wide.wait_for_selector('#order-status [data-status="cancelled"]', timeout=10_000)
    banner = wide.locator("#order-banner").inner_text()
    assert "Cancelled: filled 100" in banner and "of 300" in banner and "33.3 %" in banner
    assert wide.locator("#cancel-button").is_hidden()
    assert wide.locator('#slices-table tr[data-status="not_sent"]').count() == 2
    wide.wait_for_timeout(1500)
    after = wide.request.get(f"{orders_server}/api/v1/orders/{order_id}").json()
    assert after["status"] == "cancelled" and after["filled_atoms"] == str(100 * 10**9)
    shot(wide, "parent-order-cancelled")
    for page, name in ((wide, "parent-orders-list"), (phone, "parent-orders-list-phone")):
        page.goto(orders_server + "/orders")
        row = page.locator(f'#orders-table tr[data-id="{order_id}"]')
        assert row.get_attribute("data-status") == "cancelled" and "33.3%" in row.inner_text()
        shot(page, name)


def test_a_limit_price_no_route_meets_ends_completed_short_and_says_why(wide: Any, orders_server: str) -> None:
    wide.goto(orders_server + "/orders")
    placed = api_post(wide, orders_server, "/api/v1/orders", {"input": "SOL", "output": "USDC", "amount": "20",
                                                              "strategy": "twap", "duration_s": 3, "slices": 2,
                                                              "limit_price": "100000"})
    assert placed.status == 201, placed.text()
    wide.goto(f"{orders_server}/orders/{placed.json()['id']}")
    wide.wait_for_selector('#order-status [data-status="completed"]', timeout=20_000)
    assert wide.locator("#order-status").inner_text().strip() == "completed short"
    banner = wide.locator("#order-banner").inner_text()
    assert "Completed short of its amount at the deadline: filled 0" in banner
    assert "limit price of 100000 USDC per SOL" in banner
    assert wide.locator("#order-track").get_attribute("data-filled-pct") == "0.0"
    assert wide.locator('#slices-table tr[data-status="waited"]').count() == 2
    assert "olr-status-rejected" in (wide.locator("#order-status .badge").get_attribute("class") or "")
    shot(wide, "parent-order-short")
