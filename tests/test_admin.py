"""Admin rules: pool changes are validated like the engine's own parameters, audited, and visible only to admins."""
from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from models import ApiToken, AuditLog, OTCPool, db
from services import accounts
from services.accounts import PREFIX_CHARS
from tests.conftest import build_app, client_with_token, make_token


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


# ---------- users and tokens from the admin pages (issue 18 item 14) ----------

def _login(app: Flask, username: str, password: str) -> int:
    """The status of a sign-in attempt with a fresh client (303 = signed in)."""
    return client_with_token(app, None).post("/login", data={"username": username, "password": password}).status_code


def _once(client: FlaskClient) -> str | None:
    """The secret the users page shows once, or None."""
    body = client.get("/admin/users").get_data(as_text=True)
    found = re.search(r'id="once-secret" value="([^"]+)"', body)
    return found.group(1) if found else None


def test_admin_creates_a_user_with_a_generated_password_shown_exactly_once(app: Flask, client: FlaskClient,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    assert client.get("/admin/users/new").status_code == 200
    res = client.post("/admin/users/new", data={"username": "Nora", "role": "trader", "mode": "generate"})
    assert res.status_code == 303 and res.headers["Location"] == "/admin/users"
    password = _once(client)
    assert password and len(password) >= 12
    assert _once(client) is None  # never again
    assert _login(app, "nora", password) == 303
    [entry] = audit_entries(app, "user.create")
    assert entry.actor_name == "test-admin" and entry.after == {"username": "nora", "role": "trader", "active": True}
    assert password not in caplog.text and password not in str([(e.before, e.after) for e in audit_entries(app)])


def test_admin_creates_a_user_with_a_typed_password(app: Flask, client: FlaskClient) -> None:
    res = client.post("/admin/users/new", data={"username": "omar", "role": "viewer", "mode": "set",
                                                "password": "a long enough pass", "confirm": "a long enough pass"})
    assert res.status_code == 303 and _once(client) is None  # a typed password is not echoed
    assert _login(app, "omar", "a long enough pass") == 303


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"username": "", "mode": "generate"}, "username", "Enter a username."),
    ({"username": "Bad Name!", "mode": "generate"}, "username", "lowercase letters, digits"),
    ({"username": "test-admin", "mode": "generate"}, "username", "exists already"),
    ({"username": "pia", "mode": "set", "password": "", "confirm": ""}, "password", "Type the new password"),
    ({"username": "pia", "mode": "set", "password": "short", "confirm": "short"}, "password", "12 to 256"),
    ({"username": "pia", "mode": "set", "password": "x" * 12, "confirm": "y" * 12}, "confirm", "differ"),
    ({"username": "pia", "role": "root", "mode": "generate"}, "role", "Not a valid choice"),
    ({"username": "pia", "mode": "maybe"}, "mode", "Not a valid choice"),
])
def test_a_refused_new_user_shows_the_error_under_its_field_and_creates_nothing(
        app: Flask, client: FlaskClient, form: dict[str, str], field: str, message: str) -> None:
    res = client.post("/admin/users/new", data={"role": "viewer", **form})
    body = res.get_data(as_text=True)
    assert res.status_code == 400 and 'id="form-errors"' in body
    error = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', body)
    assert error and message in error.group(1), body[:2000]
    assert audit_entries(app, "user.create") == []
    with app.app_context():
        assert accounts.user_by_name("pia") is None


def test_admin_resets_a_password_generated_or_typed_and_it_is_audited_without_the_secret(
        app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        user_id = accounts.create_user("quinn", "trader", "the old password").id
    assert "Reset the password of quinn" in client.get(f"/admin/users/{user_id}/password").get_data(as_text=True)
    assert client.post(f"/admin/users/{user_id}/password", data={"mode": "generate"}).status_code == 303
    fresh = _once(client)
    assert fresh and _login(app, "quinn", fresh) == 303 and _login(app, "quinn", "the old password") == 200
    res = client.post(f"/admin/users/{user_id}/password", data={"mode": "set", "password": "typed by the admin",
                                                                "confirm": "typed by the admin"})
    assert res.status_code == 303 and _once(client) is None
    assert _login(app, "quinn", "typed by the admin") == 303 and _login(app, "quinn", fresh) == 200
    entries = audit_entries(app, "user.set_password")
    assert [(e.before, e.after) for e in entries] == [({"password": "(hidden)"}, {"password": "changed"})] * 2
    assert client.get("/admin/users/999/password").status_code == 404


def test_admin_creates_a_token_whose_secret_is_shown_once_and_works(app: Flask, client: FlaskClient,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    with app.app_context():
        accounts.create_user("rita", "viewer", "rita's password")
    form = client.get("/admin/tokens/new?user=rita").get_data(as_text=True)
    assert '<option selected value="rita">' in form or '<option value="rita" selected>' in form
    res = client.post("/admin/tokens/new", data={"username": "rita", "name": "pricing-bot"})
    assert res.status_code == 303
    secret = _once(client)
    assert secret and secret.startswith("olr_") and _once(client) is None
    assert client_with_token(app, secret).get("/api/v1/trades").status_code == 200
    entry = audit_entries(app, "token.create")[-1]
    assert entry.actor_name == "test-admin" and entry.after["user"] == "rita" and entry.after["name"] == "pricing-bot"
    everything = str([(e.target, e.before, e.after) for e in audit_entries(app)])
    assert secret not in everything and secret[:PREFIX_CHARS] in everything
    assert secret not in caplog.text
    page = client.get("/admin/users").get_data(as_text=True)
    assert "pricing-bot" in page and secret not in page


def test_a_token_is_refused_for_a_deactivated_or_unknown_user_and_for_a_long_label(app: Flask,
                                                                                   client: FlaskClient) -> None:
    with app.app_context():
        accounts.update_user(accounts.create_user("sam", "viewer", "sam's password!"), active=False)
    before = len(audit_entries(app, "token.create"))  # the test admin's own token
    for data, field in (({"username": "sam"}, "username"), ({"username": "nobody"}, "username"),
                        ({"username": "test-admin", "name": "x" * 65}, "name")):
        res = client.post("/admin/tokens/new", data=data)
        assert res.status_code == 400 and f'id="{field}-error"' in res.get_data(as_text=True), data
    assert len(audit_entries(app, "token.create")) == before


def test_admin_revokes_a_token_after_confirming_it(app: Flask, client: FlaskClient) -> None:
    secret = make_token(app, "viewer", "tom")
    bot = client_with_token(app, secret)
    with app.app_context():
        token_id = accounts.find_token(secret[:PREFIX_CHARS]).id
    confirm = client.get(f"/admin/tokens/{token_id}/revoke").get_data(as_text=True)
    assert "Revoke token" in confirm and f'name="token_id" type="hidden" value="{token_id}"' in confirm
    assert client.post(f"/admin/tokens/{token_id}/revoke", data={"token_id": "1"}).status_code == 400
    assert bot.get("/api/v1/trades").status_code == 200  # the wrong confirmation revoked nothing
    res = client.post(f"/admin/tokens/{token_id}/revoke", data={"token_id": str(token_id)})
    assert res.status_code == 303 and res.headers["Location"] == "/admin/users"
    assert bot.get("/api/v1/trades").status_code == 401
    [entry] = audit_entries(app, "token.revoke")
    assert entry.actor_name == "test-admin" and entry.after == {"revoked": True, "user": "tom"}
    again = client.post(f"/admin/tokens/{token_id}/revoke", data={"token_id": str(token_id)}, follow_redirects=True)
    assert "already revoked" in again.get_data(as_text=True) and len(audit_entries(app, "token.revoke")) == 1
    assert client.get("/admin/tokens/999/revoke").status_code == 404


@pytest.mark.parametrize("path", ["/admin/users/new", "/admin/users/1/password", "/admin/tokens/new",
                                  "/admin/tokens/1/revoke"])
def test_an_empty_post_changes_nothing(app: Flask, client: FlaskClient, path: str) -> None:
    before = [e.id for e in audit_entries(app)]
    res = client.post(path)
    assert res.status_code == 400 and 'id="form-errors"' in res.get_data(as_text=True)
    assert [e.id for e in audit_entries(app)] == before
    assert client.get("/api/v1/trades").status_code == 200  # token 1 (the test admin's) still works


def test_admin_forms_need_the_csrf_token(tmp_path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'csrf.db'}", WTF_CSRF_ENABLED=True)
    with app.app_context():
        accounts.create_user("uma", "admin", "uma's admin password")
    browser = client_with_token(app, None)
    assert browser.post("/login", data={"username": "uma", "password": "uma's admin password"}).status_code in (
        303, 400)
    form = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    assert browser.post("/login", data={"username": "uma", "password": "uma's admin password",
                                         "csrf_token": token}).status_code == 303
    data = {"username": "vic", "role": "viewer", "mode": "generate"}
    assert browser.post("/admin/users/new", data=data).status_code == 400  # no token: refused
    page = browser.get("/admin/users/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert browser.post("/admin/users/new", data={**data, "csrf_token": token}).status_code == 303
    with app.app_context():
        assert accounts.user_by_name("vic") is not None
        db.engine.dispose()
