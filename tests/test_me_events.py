"""GET /api/v1/me/events: the caller's own trades finished and the firm quotes of its session expiring (issue 18.13)."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from jsonschema import Draft202012Validator

from core.units import iso_z
from models import Quote, db, utcnow
from tests.conftest import client_with_token, make_token
from web import openapi_spec

SPEC = openapi_spec.spec()
ORDER = {"input": "SOL", "output": "USDC", "amount": "10"}


def _valid(body: object) -> list[str]:
    schema = SPEC["paths"]["/api/v1/me/events"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return [e.message for e in Draft202012Validator({**schema, "components": SPEC["components"]}).iter_errors(body)]


def test_without_since_it_answers_no_event_and_the_cursor(app: Flask) -> None:
    res = client_with_token(app, make_token(app, "viewer")).get("/api/v1/me/events")
    assert res.status_code == 200
    body = res.get_json()
    assert body["events"] == [] and body["now"].endswith("Z") and _valid(body) == []


def test_a_bad_since_is_a_400_naming_it(app: Flask) -> None:
    res = client_with_token(app, make_token(app, "viewer")).get("/api/v1/me/events?since=yesterday")
    assert res.status_code == 400
    assert res.get_json()["error"]["field"] == "since"


def test_anonymous_callers_get_401(app: Flask) -> None:
    assert client_with_token(app, None).get("/api/v1/me/events").status_code == 401


def test_the_callers_finished_trades_and_no_one_elses(app: Flask) -> None:
    alice = client_with_token(app, make_token(app, "trader", "alice"))
    bob = client_with_token(app, make_token(app, "trader", "bob"))
    since = alice.get("/api/v1/me/events").get_json()["now"]
    mine = alice.post("/api/v1/trades", json=ORDER).get_json()
    bob.post("/api/v1/trades", json=ORDER)
    refused = alice.post("/api/v1/trades", json={**ORDER, "amount": "0.000000001"}).get_json()
    body = alice.get(f"/api/v1/me/events?since={since}").get_json()
    assert _valid(body) == []
    kinds = {e["trade_id"]: e["kind"] for e in body["events"]}
    assert kinds[mine["id"]] == "trade_filled"
    assert kinds[refused["error"]["trade_id"]] in ("trade_rejected", "trade_failed")
    assert len(kinds) == 2, body
    filled = next(e for e in body["events"] if e["trade_id"] == mine["id"])
    assert filled["message"].startswith(f"Trade #{mine['id']} filled: 10.0000 SOL → ")
    assert filled["url"] == f"/trades/{mine['id']}"
    again = alice.get(f"/api/v1/me/events?since={body['now']}").get_json()
    assert again["events"] == [], "an event is sent once"


def test_a_firm_quote_of_the_session_warns_before_and_at_expiry(app: Flask) -> None:
    trader = client_with_token(app, make_token(app, "trader"))
    res = trader.post("/trade", data={**ORDER, "swap_mode": "ExactIn", "slippage_bps": "50"})
    assert res.status_code == 303
    quote_id = res.headers["Location"].rsplit("/", 1)[1]
    other_session = client_with_token(app, make_token(app, "trader"))

    def move_expiry(seconds: float) -> None:
        with app.app_context():
            db.session.get(Quote, quote_id).expires_at = utcnow() + timedelta(seconds=seconds)
            db.session.commit()

    since = iso_z(utcnow() - timedelta(seconds=30))
    move_expiry(5)
    body = trader.get(f"/api/v1/me/events?since={since}").get_json()
    assert [e["kind"] for e in body["events"]] == ["quote_expiring"], body
    assert "expires in 10 s" in body["events"][0]["message"] and _valid(body) == []
    move_expiry(-1)
    body = trader.get(f"/api/v1/me/events?since={since}").get_json()
    assert [e["kind"] for e in body["events"]] == ["quote_expiring", "quote_expired"], body
    assert body["events"][1]["url"] == f"/quotes/{quote_id}"
    assert other_session.get(f"/api/v1/me/events?since={since}").get_json()["events"] == []
