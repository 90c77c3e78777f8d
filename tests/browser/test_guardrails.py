"""Pre-trade guardrails in a real browser (issue 16): the hard-confirm dialog above the desk's threshold, none below
it, costs coloured by the server's level on the ticket and the quote page, and a drained pool raising an alert on
the dashboard. A live server of its own with low thresholds: hard confirm above 100,000 USD notional."""
from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import ADMIN_PASSWORD, ADMIN_USER, _require_browser, _serving, shot, sign_in

RAILS = {"HARD_CONFIRM_USD": "100000", "HARD_CONFIRM_BPS": "150", "COST_WARN_BPS": "10", "COST_DANGER_BPS": "30",
         "POOL_LOW_WATER_PCT": "10"}


@pytest.fixture(scope="module")
def rails_server() -> Iterator[tuple[Any, str]]:
    """(app, base URL) of a fresh app with seeded pools, the admin user and the low thresholds above."""
    _require_browser()
    from app import create_app

    tmp = tempfile.mkdtemp(prefix="olr-browser-rails-")
    app = create_app({"TESTING": False, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/rails.db",
                      "SECRET_KEY": "browser-tests", "WTF_CSRF_ENABLED": True, **RAILS})
    with app.app_context():
        from services import accounts
        from services.seed import init_database

        init_database()
        accounts.create_user(ADMIN_USER, "admin", ADMIN_PASSWORD)
    try:
        with _serving(app) as url:
            yield app, url
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _trades(app: Any) -> int:
    """Trades recorded so far."""
    with app.app_context():
        from models import Trade, db

        return db.session.scalar(db.select(db.func.count()).select_from(Trade)) or 0


def _firm_quote(page: Any, url: str, amount: str) -> None:
    """Sign in, type the order on the ticket and open its firm quote."""
    sign_in(page, url)
    page.goto(url + "/trade")
    page.get_by_label("Amount", exact=True).fill(amount)
    page.locator("#live-result").wait_for(state="visible")
    page.get_by_role("button", name="Get firm quote to execute").click()
    page.wait_for_url(re.compile(r".*/quotes/q_[\w-]+$"))


def test_above_the_threshold_the_dialog_states_the_cost_and_execute_waits_for_the_tick(
        fresh_page: Any, rails_server: tuple[Any, str]) -> None:
    app, url = rails_server
    page = fresh_page
    _firm_quote(page, url, "1000")  # about 150,000 USD: above HARD_CONFIRM_USD
    before = _trades(app)
    page.get_by_role("button", name="Execute…").click()
    dialog = page.get_by_role("dialog", name="Execute this trade?")
    dialog.wait_for(state="visible")
    text = page.locator("#hard-confirm-text").inner_text()
    assert re.search(r"costs [\d,.]+ bps all-in, \$[\d,]+\.\d\d, on \$[\d,]+ notional", text), text
    assert "notional is above the desk's hard-confirm threshold of $100,000" in text  # the threshold it crossed
    assert "cost is above" not in text  # 1,000 SOL costs a few bps: only the notional crosses
    confirm = dialog.get_by_role("button", name="Confirm and execute")
    assert confirm.is_disabled()
    shot(page, "guardrails-hard-confirm-dialog")
    page.get_by_label(re.compile("I accept this cost")).check()
    assert confirm.is_enabled()
    page.get_by_label(re.compile("I accept this cost")).uncheck()
    assert confirm.is_disabled()
    dialog.locator(".modal-footer").get_by_role("button", name="Cancel").click()
    dialog.wait_for(state="hidden")
    assert _trades(app) == before  # cancel moved nothing
    page.get_by_role("button", name="Execute…").click()
    dialog.wait_for(state="visible")
    assert confirm.is_disabled()  # reopened: asks again
    page.get_by_label(re.compile("I accept this cost")).check()
    confirm.click()
    page.wait_for_url(re.compile(r".*/trades/\d+$"))
    assert page.locator(".alert-success").inner_text().strip().startswith("Trade #")
    assert _trades(app) == before + 1


def test_the_hard_confirm_dialog_fits_a_phone(fresh_phone_page: Any, rails_server: tuple[Any, str]) -> None:
    _, url = rails_server
    page = fresh_phone_page
    _firm_quote(page, url, "1000")
    page.get_by_role("button", name="Execute…").click()
    page.get_by_role("dialog", name="Execute this trade?").wait_for(state="visible")
    assert page.locator("#hard-confirm").is_visible()
    box = page.locator("#hard-confirm").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    shot(page, "guardrails-hard-confirm-dialog-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the legend wraps: no sideways scroll


def test_below_the_threshold_there_is_no_hard_confirm(fresh_page: Any, rails_server: tuple[Any, str]) -> None:
    app, url = rails_server
    page = fresh_page
    _firm_quote(page, url, "10")  # about 1,500 USD, a few bps
    page.get_by_role("button", name="Execute…").click()
    dialog = page.get_by_role("dialog", name="Execute this trade?")
    dialog.wait_for(state="visible")
    assert page.locator("#hard-confirm").count() == 0
    before = _trades(app)
    dialog.get_by_role("button", name="Confirm and execute").click()
    page.wait_for_url(re.compile(r".*/trades/\d+$"))
    assert _trades(app) == before + 1


def test_costs_are_coloured_by_the_desk_thresholds_on_the_ticket_and_the_quote(
        fresh_page: Any, rails_server: tuple[Any, str]) -> None:
    _, url = rails_server
    page = fresh_page
    sign_in(page, url)
    page.goto(url + "/trade")
    page.get_by_label("Amount", exact=True).fill("25000")
    page.locator("#live-result").wait_for(state="visible")
    page.wait_for_function("() => document.querySelectorAll('#live-options td[data-level]').length >= 2")
    levels = page.locator("#live-options td[data-level]").evaluate_all("tds => tds.map(t => t.dataset.level)")
    assert "danger" in levels and len(set(levels)) >= 2, levels  # Jupiter red, the dealer not
    jupiter = page.locator("#live-options tr[data-venue='jupiter'] td[data-level]")
    assert "olr-cost-danger" in (jupiter.get_attribute("class") or "")
    assert page.locator("#live-cost").get_attribute("data-level") in ("ok", "warn", "danger")
    legend = page.locator("#live-legend").inner_text()
    assert "amber above 10.0 bps" in legend and "red above 30.0 bps" in legend and "$100,000" in legend
    shot(page, "guardrails-ticket-colours")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "guardrails-ticket-colours-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1400, "height": 900})
    page.get_by_role("button", name="Get firm quote to execute").click()
    page.wait_for_url(re.compile(r".*/quotes/q_[\w-]+$"))
    assert page.locator("#options-table td.olr-cost-danger").count() >= 1
    assert page.locator("#cost-legend").is_visible()
    shot(page, "guardrails-quote-colours")


def test_a_drained_pool_raises_an_alert_on_the_dashboard(fresh_page: Any, rails_server: tuple[Any, str]) -> None:
    app, url = rails_server
    page = fresh_page
    sign_in(page, url)
    assert page.locator("#desk-alerts").is_hidden()
    from models import OTCPool, db, utcnow

    with app.app_context():
        pool = db.session.scalar(db.select(OTCPool).where(OTCPool.name == "sol-usdc"))
        assert pool is not None
        kept = (pool.quote_atoms, pool.inventory_at)
        pool.quote_atoms, pool.inventory_at = pool.target_quote_atoms // 500, utcnow()  # 0.2 % of its USDC
        db.session.commit()
    try:
        alert = page.locator("#desk-alerts li[data-venue='otc:sol-usdc']")
        alert.wait_for(state="visible", timeout=15_000)  # the dashboard's poll brings it without a reload
        assert "0.2 % of its" in alert.inner_text() and "USDC" in alert.inner_text()
        shot(page, "guardrails-dashboard-alert")
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, "guardrails-dashboard-alert-phone")
        page.set_viewport_size({"width": 1400, "height": 900})
        page.goto(url + "/trade?input=SOL&output=USDC")
        assert page.locator("#ticket-alerts li[data-venue='otc:sol-usdc']").is_visible()
        shot(page, "guardrails-ticket-alert")
    finally:
        with app.app_context():
            pool = db.session.scalar(db.select(OTCPool).where(OTCPool.name == "sol-usdc"))
            assert pool is not None
            pool.quote_atoms, pool.inventory_at = kept
            db.session.commit()


def test_a_suspended_maker_is_an_alert_on_the_dashboard_and_the_ticket(fresh_page: Any,
                                                                      rails_server: tuple[Any, str]) -> None:
    app, url = rails_server
    page = fresh_page
    sign_in(page, url)
    from datetime import timedelta

    from ledger.maker_tables import Maker
    from models import db, utcnow

    with app.app_context():  # suspended: never asked, so the module's other quotes do not change
        db.session.add(Maker(name="beta", base_url="sim://beta", enabled=True, tokens=[], suspensions=1,
                             suspended_until=utcnow() + timedelta(minutes=5),
                             last_error="unreachable: connection refused"))
        db.session.commit()
    try:
        alert = page.locator("#desk-alerts li[data-venue='rfq:beta']")
        alert.wait_for(state="visible", timeout=15_000)
        assert "suspension 1" in alert.inner_text() and "connection refused" in alert.inner_text()
        shot(page, "guardrails-dashboard-maker-alert")
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, "guardrails-dashboard-maker-alert-phone")
        page.set_viewport_size({"width": 1400, "height": 900})
        page.goto(url + "/trade?input=SOL&output=USDC")
        assert page.locator("#ticket-alerts li[data-venue='rfq:beta']").is_visible()
        shot(page, "guardrails-ticket-maker-alert")
    finally:
        with app.app_context():
            db.session.execute(db.delete(Maker).where(Maker.name == "beta"))
            db.session.commit()
