"""RFQ makers in the app: options in quotes, the window, refusals, last look mid-split, idempotent swaps,
suspension and recovery, and the admin API (the simulated makers through the in-process transport)."""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ledger import maker_log
from ledger.maker_tables import Maker, MakerRequest, MakerSwap
from models import AuditLog, OTCPool, Trade, db, utcnow
from services import makers
from services.seed import seed_makers
from tests.conftest import behave, build_app, seed_instant_makers

ORDER = {"input": "SOL", "output": "USDC", "amount": "25000"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app with the two seeded simulated makers, quick (no latency) and honest (no rejects)."""
    app = build_app(f"sqlite:///{tmp_path / 'rfq.db'}", RFQ_SUSPEND_AFTER=2, RFQ_COOLDOWN_S=60)
    seed_instant_makers(app)
    yield app
    with app.app_context():
        db.engine.dispose()


def options(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["venue"]: o for o in body["options"]}


def inventories(app: Flask) -> dict[str, tuple[int, int]]:
    with app.app_context():
        return {p.name: (p.base_atoms, p.quote_atoms) for p in db.session.scalars(select(OTCPool))}


def test_a_quote_lists_maker_options_next_to_jupiter_and_the_pools(client: FlaskClient) -> None:
    res = client.post("/api/v1/quotes", json=ORDER)
    assert res.status_code == 200
    opts = options(res.get_json())
    assert {"jupiter", "otc:sol-usdc", "rfq:alpha", "rfq:beta"} <= set(opts)
    alpha = opts["rfq:alpha"]
    assert alpha["available"] and alpha["delay_risk_bps"] == "0.0"  # firm: no timing-risk charge
    assert len(alpha["detail"]["answered_sizes_atoms"]) <= 4


def test_the_decision_uses_a_maker_when_it_is_cheapest(app: Flask, client: FlaskClient) -> None:
    behave(app, "alpha", fresh=True, price_offset_bps=40)  # 40 bps better than its engine: in the band, the best
    body = client.post("/api/v1/quotes", json=ORDER).get_json()
    assert "rfq:alpha" in {leg["venue"] for leg in body["decision"]["legs"]}
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(MakerRequest.won.is_(True))) >= 1


def test_a_slow_maker_does_not_delay_the_quote_past_the_window(app: Flask, client: FlaskClient) -> None:
    behave(app, "beta", fresh=True, latency_ms=2000)
    client.post("/api/v1/quotes", json=ORDER)  # warm-up (ladder, caches)
    started = time.perf_counter()
    body = client.post("/api/v1/quotes", json=ORDER).get_json()
    assert time.perf_counter() - started < 1.5
    beta = options(body)["rfq:beta"]
    assert beta["available"] is False and beta["reason"].startswith("late")
    assert options(body)["rfq:alpha"]["available"]


@pytest.mark.parametrize(("behaviour", "code"), [
    ({"garbage_pct": 100}, "malformed"),
    ({"price_offset_bps": 500}, "out_of_band"),
    ({"down": True}, "error"),
])
def test_refused_answers_keep_their_reason_on_the_quote(app: Flask, client: FlaskClient,
                                                        behaviour: dict[str, Any], code: str) -> None:
    behave(app, "beta", fresh=True, **behaviour)
    body = client.post("/api/v1/quotes", json=ORDER).get_json()
    beta = options(body)["rfq:beta"]
    assert beta["available"] is False and beta["reason"].startswith(code)
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(MakerRequest.outcome == code)) >= 1


def test_a_maker_that_does_not_quote_the_pair_answers_no_quote(client: FlaskClient) -> None:
    body = client.post("/api/v1/quotes", json={"input": "SOL", "output": "mSOL", "amount": "100"}).get_json()
    assert options(body)["rfq:alpha"]["reason"].startswith("no_quote")


def test_last_look_rejection_mid_split_is_rerouted_once_and_recorded(app: Flask, client: FlaskClient) -> None:
    behave(app, "alpha", fresh=True, price_offset_bps=40, reject_pct=100)
    before = inventories(app)
    body = client.post("/api/v1/quotes", json=ORDER).get_json()
    assert "rfq:alpha" in {leg["venue"] for leg in body["decision"]["legs"]}
    res = client.post("/api/v1/trades", json={"quote_id": body["quote_id"]})
    assert res.status_code in (201, 422), res.get_json()
    trade = res.get_json() if res.status_code == 201 else \
        client.get(f"/api/v1/trades/{res.get_json()['error']['trade_id']}").get_json()
    with app.app_context():
        swaps = maker_log.swaps_of_trade(trade["id"])
        rejected = [s for s in swaps if s.venue == "rfq:alpha"]
        assert rejected and rejected[0].state == "rejected" and rejected[0].rerouted_to is not None
    detail = client.get(f"/api/v1/trades/{trade['id']}").get_json()
    assert detail["rfq_attempts"][0]["venue"] == "rfq:alpha" and detail["rfq_attempts"][0]["state"] == "rejected"
    assert detail["rfq_attempts"][0]["rerouted_to"]
    page = client.get(f"/trades/{trade['id']}").get_data(as_text=True)
    assert 'id="rfq-attempts"' in page and "rejected" in page
    if res.status_code == 201:
        assert "rfq:alpha" not in {leg["venue"] for leg in trade["legs"]}
        assert trade["explanation"].startswith("Last look: rfq:alpha rejected")  # what happened comes first
    else:  # the re-routed total broke the trader's slippage: a clean failure, nothing moved
        assert trade["status"] == "failed" and inventories(app) == before


def test_a_rerouted_rejection_keeps_the_time_the_maker_took_to_answer(app: Flask, client: FlaskClient) -> None:
    behave(app, "alpha", fresh=True, price_offset_bps=40, reject_pct=100)
    body = client.post("/api/v1/quotes", json=ORDER).get_json()
    res = client.post("/api/v1/trades", json={"quote_id": body["quote_id"]})
    assert res.status_code in (201, 422), res.get_json()
    with app.app_context():
        alpha = [s for s in maker_log.swaps_of_trade(db.session.scalar(
            select(Trade.id).where(Trade.quote_id == body["quote_id"]))) if s.venue == "rfq:alpha"]
        assert alpha and alpha[0].state == "rejected" and alpha[0].rerouted_to is not None
        assert alpha[0].latency_ms is not None and alpha[0].latency_ms >= 0  # its answer was timed: kept


def test_last_look_rejection_without_reroute_fails_the_trade_cleanly(app: Flask, client: FlaskClient) -> None:
    app.extensions["market"] = _with_settings(app, rfq_reroute=False)
    behave(app, "alpha", fresh=True, price_offset_bps=40, reject_pct=100)
    before = inventories(app)
    body = client.post("/api/v1/quotes", json=ORDER).get_json()
    res = client.post("/api/v1/trades", json={"quote_id": body["quote_id"]})
    assert res.status_code == 422
    err = res.get_json()["error"]
    assert err["code"] == "RFQ_REJECTED" and "rfq:alpha rejected at last look" in err["message"]
    with app.app_context():
        trade = db.session.scalar(select(Trade).where(Trade.quote_id == body["quote_id"]))
        assert trade is not None and trade.status == "failed"
    assert inventories(app) == before  # the OTC leg's reservation was released


def _with_settings(app: Flask, **changes: Any) -> Any:
    """The app's market with some settings changed."""
    market = app.extensions["market"]
    return replace(market, settings=replace(market.settings, **changes))


def test_a_swap_for_the_same_quote_id_is_never_sent_twice(app: Flask) -> None:
    with app.app_context():
        row = MakerSwap(quote_id="qz-1", request_id="r", maker_id=1, venue="rfq:alpha", state="sending",
                        in_amount_atoms=1, out_amount_atoms=1)
        assert maker_log.claim_swap(row) is not None
        again = MakerSwap(quote_id="qz-1", request_id="r", maker_id=1, venue="rfq:alpha", state="sending",
                          in_amount_atoms=1, out_amount_atoms=1)
        assert maker_log.claim_swap(again) is None
        assert db.session.scalar(select(func.count()).select_from(MakerSwap)) == 1


def test_the_quote_whose_round_suspends_a_maker_carries_its_alert(app: Flask, client: FlaskClient) -> None:
    behave(app, "beta", fresh=True, down=True)
    first = client.post("/api/v1/quotes", json=ORDER).get_json()
    assert [a for a in first["guardrails"]["alerts"] if a["kind"] == "maker_suspended"] == []  # one failed round
    second = client.post("/api/v1/quotes", json=ORDER).get_json()  # the round that suspends beta
    found = [a for a in second["guardrails"]["alerts"] if a["kind"] == "maker_suspended"]
    assert [a["venue"] for a in found] == ["rfq:beta"]
    assert found[0]["suspensions"] == 1 and found[0]["last_error"]
    third = client.post("/api/v1/quotes", json=ORDER).get_json()  # beta not asked: the alert comes from the read
    assert [a["venue"] for a in third["guardrails"]["alerts"] if a["kind"] == "maker_suspended"] == ["rfq:beta"]


def test_a_persistently_failing_maker_is_suspended_then_asked_again(app: Flask, client: FlaskClient) -> None:
    behave(app, "beta", fresh=True, down=True)
    for _ in range(2):
        client.post("/api/v1/quotes", json=ORDER)
    with app.app_context():
        beta = db.session.scalar(select(Maker).where(Maker.name == "beta"))
        assert beta is not None and beta.suspended_until is not None
        asked = db.session.scalar(select(func.count()).where(MakerRequest.maker_id == beta.id))
        beta_id = beta.id
    listing = client.get(f"/api/v1/makers/{beta_id}").get_json()
    assert listing["state"] == "suspended"
    body = client.post("/api/v1/quotes", json=ORDER).get_json()
    assert "rfq:beta" not in options(body)  # not asked while suspended
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(MakerRequest.maker_id == beta_id)) == asked
        beta = db.session.get(Maker, beta_id)
        assert beta is not None
        beta.suspended_until = utcnow() - timedelta(seconds=1)  # the cool-down is over
        db.session.commit()
    behave(app, "beta", fresh=True)
    body = client.post("/api/v1/quotes", json=ORDER).get_json()
    assert options(body)["rfq:beta"]["available"]
    assert client.get(f"/api/v1/makers/{beta_id}").get_json()["state"] == "enabled"


def test_makers_api_never_returns_the_api_key_and_audits_changes(app: Flask, client: FlaskClient) -> None:
    res = client.post("/api/v1/makers", json={"name": "gamma", "base_url": "sim://gamma", "api_key": "s3cret-key",
                                              "enabled": True, "timeout_ms": 200})
    assert res.status_code == 201, res.get_json()
    made = res.get_json()
    assert made["has_api_key"] is True and made["venue"] == "rfq:gamma" and SOL_MINT in made["tokens"]
    assert client.post("/api/v1/makers", json={"name": "gamma", "base_url": "sim://x"}).status_code == 409
    assert client.post("/api/v1/makers", json={"name": "Bad Name", "base_url": "sim://x"}).status_code == 400
    assert client.post("/api/v1/makers", json={"name": "ok", "base_url": "ftp://x"}).status_code == 400
    assert client.patch(f"/api/v1/makers/{made['id']}", json={"timeout_ms": 9999}).status_code == 400
    patched = client.patch(f"/api/v1/makers/{made['id']}", json={"enabled": False, "api_key": "other-key-9"})
    assert patched.status_code == 200 and patched.get_json()["state"] == "disabled"
    got = client.get(f"/api/v1/makers/{made['id']}?period=all").get_json()
    assert got["stats"]["period"] == "all" and "quote_requests" in got["stats"]
    texts = [client.get("/api/v1/makers").get_data(as_text=True), str(got), str(patched.get_json())]
    with app.app_context():
        texts += [str(a.before) + str(a.after) for a in db.session.scalars(select(AuditLog))]
        actions = set(db.session.scalars(select(AuditLog.action)))
    assert not any("s3cret-key" in t or "other-key-9" in t for t in texts)
    assert {"maker.create", "maker.update"} <= actions
    assert client.delete(f"/api/v1/makers/{made['id']}").status_code == 204
    assert client.get(f"/api/v1/makers/{made['id']}").status_code == 404


SOL_MINT = "So11111111111111111111111111111111111111112"


def test_the_admin_makers_page_lists_scorecards_and_its_forms_add_edit_and_remove(app: Flask,
                                                                                  client: FlaskClient) -> None:
    client.post("/api/v1/quotes", json=ORDER)
    page = client.get("/admin/makers?period=all")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-maker="alpha"' in html and 'data-maker="beta"' in html and "rfq:alpha" in html
    res = client.post("/admin/makers/new", data={"name": "delta", "base_url": "sim://delta", "api_key": "pk-123",
                                                 "enabled": "y", "timeout_ms": "300"})
    assert res.status_code == 303
    with app.app_context():
        delta = db.session.scalar(select(Maker).where(Maker.name == "delta"))
        assert delta is not None and delta.timeout_ms == 300 and delta.api_key_sealed is not None
        assert "pk-123" not in delta.api_key_sealed  # sealed at rest
        assert makers.endpoint(delta, app.extensions["market"].settings.maker_key).api_key == "pk-123"
        delta_id = delta.id
    edit = client.get(f"/admin/makers/{delta_id}/edit").get_data(as_text=True)
    assert "pk-123" not in edit
    res = client.post(f"/admin/makers/{delta_id}/edit", data={"name": "delta", "base_url": "sim://delta",
                                                             "api_key": "", "timeout_ms": "250"})
    assert res.status_code == 303
    with app.app_context():
        delta = db.session.get(Maker, delta_id)
        assert delta is not None and not delta.enabled and delta.timeout_ms == 250
        assert makers.endpoint(delta, app.extensions["market"].settings.maker_key).api_key == "pk-123"  # kept
    bad = client.post("/admin/makers/new", data={"name": "Bad Name", "base_url": "ftp://x", "timeout_ms": "9000"})
    assert bad.status_code == 400
    assert client.post(f"/admin/makers/{delta_id}/delete", data={"maker_id": str(delta_id)}).status_code == 303
    with app.app_context():
        assert db.session.get(Maker, delta_id) is None
    assert client.get("/admin/makers/999/edit").status_code == 404


def test_monitoring_shows_each_makers_state(app: Flask, client: FlaskClient) -> None:
    behave(app, "beta", fresh=True, down=True)
    for _ in range(2):
        client.post("/api/v1/quotes", json=ORDER)
    html = client.get("/monitoring").get_data(as_text=True)
    assert 'id="makers-state"' in html and 'data-maker="alpha"' in html
    assert "suspended until" in html and "error: the maker answered HTTP 503" in html


def test_makers_quote_trade_and_never_send_a_swap_twice_on_both_backends(any_app: Flask) -> None:
    with any_app.app_context():
        seed_makers()
    behave(any_app, "alpha", fresh=True, price_offset_bps=40)
    behave(any_app, "beta", fresh=True)
    client = any_app.test_client()
    body = client.post("/api/v1/quotes", json=ORDER).get_json()
    assert "rfq:alpha" in {leg["venue"] for leg in body["decision"]["legs"]}
    res = client.post("/api/v1/trades", json={"quote_id": body["quote_id"]})
    assert res.status_code == 201, res.get_json()
    with any_app.app_context():
        swap = db.session.scalar(select(MakerSwap).where(MakerSwap.venue == "rfq:alpha"))
        assert swap is not None and swap.state == "accepted" and swap.trade_id == res.get_json()["id"]
        again = MakerSwap(quote_id=swap.quote_id, request_id="r", maker_id=swap.maker_id, venue="rfq:alpha",
                          state="sending", in_amount_atoms=1, out_amount_atoms=1)
        assert maker_log.claim_swap(again) is None


def test_a_maker_is_asked_only_for_pairs_its_fresh_token_list_names(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        alpha = db.session.scalar(select(Maker).where(Maker.name == "alpha"))
        assert alpha is not None
        alpha.tokens, alpha.tokens_at = ["So11111111111111111111111111111111111111112"], utcnow()
        db.session.commit()
    body = client.post("/api/v1/quotes", json=ORDER).get_json()
    assert "rfq:alpha" not in options(body) and "rfq:beta" in options(body)
    with app.app_context():
        alpha = db.session.scalar(select(Maker).where(Maker.name == "alpha"))
        assert alpha is not None
        alpha.tokens_at = utcnow() - timedelta(minutes=11)  # stale: asked again
        db.session.commit()
    assert "rfq:alpha" in options(client.post("/api/v1/quotes", json=ORDER).get_json())
