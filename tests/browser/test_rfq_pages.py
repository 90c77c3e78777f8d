"""An admin adds a simulated RFQ maker in the browser, sees it quoted on the ticket and the firm quote, its
scorecard on the makers page and its state on monitoring, then removes it; at 1440 (1400) and 390 px."""
from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import delete, select

import jupiter_api
import trade_logger
from ledger.maker_tables import Maker, MakerSwap
from models import db, utcnow
from services import tca
from services.market import Market
from tests.browser.conftest import shot
from tests.conftest import make_token

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


def test_a_partial_trade_makers_markouts_and_an_unanswered_swap_read_clearly(page, phone_page, live_app, live_server,
                                                                            monkeypatch):
    """A maker's accepted leg filled while Jupiter then failed (partial), the makers' markouts, and a swap whose
    answer was lost, shown to ops on monitoring; at 1400 and 390 px."""
    names = ("brw-alpha", "brw-beta")
    with live_app.app_context():
        db.session.add_all(Maker(name=n, base_url=f"sim://{n}", tokens=[], enabled=True, timeout_ms=500,
                                 sim_behaviour={"latency_ms": 0, "jitter_ms": 0, "price_offset_bps": 40 - 10 * i})
                           for i, n in enumerate(names))
        db.session.commit()
    client = FlaskClient(live_app, live_app.response_class)
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {make_token(live_app, 'trader')}"
    try:
        quote = client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "100000"}).get_json()
        assert "rfq:brw-alpha" in {leg["venue"] for leg in quote["decision"]["legs"]}
        real_reserve = trade_logger.reserve

        def reserve_then_outage(plan, now):
            trade = real_reserve(plan, now)
            monkeypatch.setattr(Market, "leg_quote", _jupiter_down)
            return trade

        monkeypatch.setattr(trade_logger, "reserve", reserve_then_outage)
        res = client.post("/api/v1/trades", json={"quote_id": quote["quote_id"]})
        monkeypatch.undo()
        trade = res.get_json()
        assert res.status_code == 201 and trade["status"] == "partial", trade
        with live_app.app_context():
            tca.markouts(live_app.extensions["market"], utcnow() + timedelta(seconds=400))
            db.session.add(MakerSwap(quote_id=f"lost-{trade['id']}", request_id="r", maker_id=db.session.scalar(
                select(Maker.id).where(Maker.name == names[0])), venue="rfq:brw-alpha", trade_id=trade["id"],
                state="sending", at=utcnow() - timedelta(minutes=2), in_amount_atoms=1, out_amount_atoms=1))
            db.session.commit()

        page.set_viewport_size({"width": 1400, "height": 900})
        page.goto(f"{live_server}/trades/{trade['id']}")
        assert "partially filled" in page.locator("#trade-error").inner_text()
        shot(page, "rfq-trade-partial")
        phone_page.goto(f"{live_server}/trades/{trade['id']}")
        assert phone_page.evaluate(NO_SIDEWAYS_SCROLL)
        shot(phone_page, "rfq-trade-partial-phone")

        page.goto(f"{live_server}/admin/makers?period=24h")
        cell = page.locator("tr[data-maker='brw-alpha'] td[data-label='Markouts']")
        assert cell.get_attribute("data-markout-trades") == "1" and "300s" in cell.inner_text()
        shot(page, "rfq-makers-markouts")
        phone_page.goto(f"{live_server}/admin/makers?period=24h")
        assert phone_page.evaluate(NO_SIDEWAYS_SCROLL)
        shot(phone_page, "rfq-makers-markouts-phone")

        page.goto(f"{live_server}/monitoring")
        assert page.locator(f"[data-unanswered='lost-{trade['id']}']").is_visible()
        shot(page, "rfq-monitoring-unanswered")
        phone_page.goto(f"{live_server}/monitoring")
        assert phone_page.evaluate(NO_SIDEWAYS_SCROLL)
        shot(phone_page, "rfq-monitoring-unanswered-phone")
    finally:
        with live_app.app_context():
            db.session.execute(delete(MakerSwap).where(MakerSwap.quote_id.like("lost-%")))
            db.session.execute(delete(Maker).where(Maker.name.in_(names)))
            db.session.commit()


def _jupiter_down(self, *args, **kwargs):
    raise jupiter_api.JupiterError("simulated outage at execution", code="UPSTREAM_5XX")
