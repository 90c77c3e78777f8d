"""Admin rules: pool changes are validated like the engine's own parameters, audited, and visible only to admins."""
from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from models import ApiToken, AuditLog, OTCPool, db
from services import accounts
from tests.conftest import client_with_token, make_token


def audit_entries(app: Flask, action: str | None = None) -> list[AuditLog]:
    """Audit entries oldest first, optionally of one action."""
    with app.app_context():
        q = select(AuditLog).order_by(AuditLog.id)
        if action:
            q = q.where(AuditLog.action == action)
        return list(db.session.scalars(q))


def test_admin_changes_a_pool_and_the_change_is_audited_with_before_and_after(app: Flask, client: FlaskClient) -> None:
    res = client.patch("/api/v1/pools/1", json={"base_spread_bps": "4.25", "max_trade_base_atoms": "40000000000000"})
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["base_spread_bps"] == "4.2500"
    assert res.get_json()["max_trade_base_atoms"] == "40000000000000"
    [entry] = audit_entries(app, "pool.update")
    assert entry.actor_name == "test-admin" and entry.target == "pool:1 sol-usdc"
    assert entry.before == {"base_spread_bps": "5.0000", "max_trade_base_atoms": 50_000_000_000_000}
    assert entry.after == {"base_spread_bps": "4.2500", "max_trade_base_atoms": 40_000_000_000_000}
    page = client.get("/admin/audit?action=pool.update").get_data(as_text=True)
    assert "pool:1 sol-usdc" in page and "4.2500" in page


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"base_spread_bps": "-1"}, "base_spread_bps", "INVALID_POOL_CONFIG"),
    ({"base_spread_bps": 4.5}, "base_spread_bps", "INVALID_POOL_CONFIG"),
    ({"fee_bps": "NaN"}, "fee_bps", "INVALID_POOL_CONFIG"),
    ({"fee_bps": "1.00001"}, "fee_bps", "INVALID_POOL_CONFIG"),
    ({"size_exponent": "12345"}, "size_exponent", "INVALID_POOL_CONFIG"),
    ({"min_trade_base_atoms": "0"}, "min_trade_base_atoms", "INVALID_POOL_CONFIG"),
    ({"max_trade_base_atoms": "9223372036854775808"}, "max_trade_base_atoms", "INVALID_POOL_CONFIG"),
    ({"min_trade_base_atoms": "60000000000000"}, None, "INVALID_POOL_CONFIG"),  # min above max
    ({"base_spread_bps": "9000", "fee_bps": "2000"}, None, "INVALID_POOL_CONFIG"),  # over 10,000 bps
    ({"quote_ttl_ms": 0}, None, "INVALID_POOL_CONFIG"),
    ({"quote_ttl_ms": 1.5}, "quote_ttl_ms", "INVALID_POOL_CONFIG"),
    ({"execution_delay_ms": 10**12}, "execution_delay_ms", "INVALID_POOL_CONFIG"),
    ({"active": "yes"}, "active", "INVALID_POOL_CONFIG"),
    ({"base_atoms": "1"}, "base_atoms", "UNKNOWN_FIELD"),
    ({"name": "evil"}, "name", "UNKNOWN_FIELD"),
    ({}, None, "EMPTY_CHANGE"),
    ([1, 2], None, "MALFORMED_JSON"),
])
def test_invalid_pool_changes_are_refused_with_the_field_and_change_nothing(
        app: Flask, client: FlaskClient, body: object, field: str | None, code: str) -> None:
    before = client.get("/api/v1/pools/1").get_json()
    res = client.patch("/api/v1/pools/1", json=body)
    assert res.status_code == 400
    error = res.get_json()["error"]
    assert error["code"] == code and error.get("field") == field and error["message"]
    after = client.get("/api/v1/pools/1").get_json()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {k: v for k, v in before.items()
                                                                      if k != "updated_at"}
    assert audit_entries(app, "pool.update") == []


def test_pool_change_of_an_unknown_pool_is_404(client: FlaskClient) -> None:
    res = client.patch("/api/v1/pools/999", json={"active": False})
    assert res.status_code == 404 and res.get_json()["error"]["code"] == "NOT_FOUND"


def test_deactivated_pool_takes_no_more_trades(client: FlaskClient) -> None:
    assert client.patch("/api/v1/pools/1", json={"active": False}).status_code == 200
    body = client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "25000"}).get_json()
    assert all(leg["venue"] != "otc:sol-usdc" for leg in body["decision"]["legs"])


def test_only_admins_see_users_and_the_audit_log(app: Flask, client: FlaskClient) -> None:
    trader = client_with_token(app, make_token(app, "trader"))
    for path in ("/admin/users", "/admin/audit"):
        assert trader.get(path).status_code == 403
        assert client.get(path).status_code == 200
    assert trader.patch("/api/v1/pools/1", json={"active": False}).status_code == 403


def test_users_page_lists_users_and_token_prefixes_but_never_a_secret_or_hash(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        user = accounts.create_user("tina", "trader", "correct horse battery staple")
        token, secret = accounts.create_token(user, "pricing-bot")
        token_hash = token.token_hash
    page = client.get("/admin/users").get_data(as_text=True)
    assert "tina" in page and "pricing-bot" in page and secret[:12] in page
    assert secret not in page and token_hash not in page and "scrypt" not in page


def test_every_token_is_stored_only_as_a_sha256_hash(app: Flask) -> None:
    with app.app_context():
        token, secret = accounts.create_token(accounts.create_user("bot", "viewer", "x" * 12), "t")
        stored = db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.token_hash == secret))
        assert stored == 0 and len(token.token_hash) == 64


def test_pool_change_books_replenishment_so_far_under_the_old_rate(app: Flask, client: FlaskClient) -> None:
    from datetime import timedelta

    with app.app_context():
        pool = db.session.get(OTCPool, 1)
        pool.base_atoms = pool.target_base_atoms // 2
        pool.inventory_at = pool.inventory_at - timedelta(hours=1)
        db.session.commit()
        half = pool.base_atoms
    assert client.patch("/api/v1/pools/1", json={"replenish_pct_per_hour": "0"}).status_code == 200
    with app.app_context():
        pool = db.session.get(OTCPool, 1)
        refilled = pool.base_atoms - half
        assert refilled > 0  # an hour at the old 10 %/h was booked before the rate went to 0
        assert pool.replenished_base_atoms == refilled
