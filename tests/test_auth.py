"""Authentication rules: sign-in and out, brute-force throttling, CSRF, tokens from the CLI and their revocation."""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from flask_login import UserMixin, login_user

from app import create_app
from models import AuditLog, OTCPool, Trade, User, db
from services import accounts
from tests.conftest import build_app, client_with_token

PASSWORD = "correct horse battery staple"
ORDER = {"input": "SOL", "output": "USDC", "amount": "25000"}


def add_user(app: Flask, username: str, role: str, password: str = PASSWORD) -> None:
    """A user with a password, created as the CLI would."""
    with app.app_context():
        accounts.create_user(username, role, password)


def login(client: FlaskClient, username: str, password: str = PASSWORD, next_path: str | None = None):
    """POST the sign-in form (with its CSRF token when CSRF is on)."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"username": username, "password": password, **({"csrf_token": token.group(1)} if token else {})}
    return client.post("/login" + (f"?next={next_path}" if next_path else ""), data=data)


def inventory(app: Flask) -> list[tuple[int, int]]:
    """Every pool's stored (base, quote) atoms."""
    with app.app_context():
        return [(p.base_atoms, p.quote_atoms) for p in db.session.scalars(db.select(OTCPool).order_by(OTCPool.id))]


def test_anonymous_browser_is_sent_to_the_login_page_and_comes_back_after_signing_in(
        app: Flask, anon_client: FlaskClient) -> None:
    add_user(app, "tina", "trader")
    res = anon_client.get("/api")
    assert res.status_code == 302 and res.headers["Location"] == "/login?next=/api"
    res = login(anon_client, "tina", next_path="/api")
    assert res.status_code == 303 and res.headers["Location"] == "/api"
    page = anon_client.get("/api")
    assert page.status_code == 200
    assert "tina" in page.get_data(as_text=True) and "trader" in page.get_data(as_text=True)


def test_wrong_password_is_refused_with_one_message_for_unknown_users_too(app: Flask, anon_client: FlaskClient) -> None:
    add_user(app, "tina", "trader")
    for username, password in [("tina", "not the password"), ("nobody", PASSWORD)]:
        res = login(anon_client, username, password)
        assert res.status_code == 200  # the form again, with the error
        assert "Wrong username or password" in res.get_data(as_text=True)
    assert anon_client.get("/").status_code == 302


def test_login_never_redirects_to_another_site(app: Flask, anon_client: FlaskClient) -> None:
    add_user(app, "tina", "trader")
    res = login(anon_client, "tina", next_path="//evil.example/steal")
    assert res.status_code == 303 and res.headers["Location"] == "/"


@pytest.mark.parametrize("next_path", ["/%0D%0ASet-Cookie:x%3D1", "/trades%0A", "/%09api", "/%E2%80%A8x"])
def test_login_with_control_characters_in_next_goes_home(app: Flask, anon_client: FlaskClient, next_path: str) -> None:
    add_user(app, "tina", "trader")
    res = login(anon_client, "tina", next_path=next_path)
    assert res.status_code == 303 and res.headers["Location"] == "/"
    assert "x=1" not in res.headers.get("Set-Cookie", "")
    res = anon_client.get(f"/login?next={next_path}")  # signed in already: the same rule
    assert res.status_code == 302 and res.headers["Location"] == "/"


def test_logout_ends_the_session(app: Flask, anon_client: FlaskClient) -> None:
    add_user(app, "vic", "viewer")
    login(anon_client, "vic")
    assert anon_client.get("/").status_code == 200
    res = anon_client.post("/logout")
    assert res.status_code == 303 and res.headers["Location"] == "/login"
    assert anon_client.get("/").status_code == 302


def test_deactivated_user_cannot_sign_in_and_loses_an_open_session(app: Flask, anon_client: FlaskClient) -> None:
    add_user(app, "tina", "trader")
    login(anon_client, "tina")
    with app.app_context():
        accounts.update_user(accounts.get_user("tina"), active=False)
    assert anon_client.get("/").status_code == 302
    assert "Wrong username or password" in login(anon_client, "tina").get_data(as_text=True)


def test_the_user_model_is_flask_logins_user_and_a_deactivated_one_cannot_be_logged_in(app: Flask) -> None:
    add_user(app, "tina", "trader")
    with app.test_request_context():
        user = accounts.get_user("tina")
        assert isinstance(user, UserMixin) and (user.is_active, user.is_authenticated, user.is_anonymous) == (
            True, True, False)
        assert user.get_id() == str(user.id)
        user.active = False
        assert (user.is_active, user.is_authenticated) == (False, False)
        assert login_user(user) is False  # Flask-Login refuses an inactive user


def replay(app: Flask, cookie: str) -> FlaskClient:
    """A fresh browser that sends a copied `session` cookie."""
    client = client_with_token(app, None)
    client.set_cookie("session", cookie)
    return client


def signed_in_cookie(app: Flask, username: str) -> tuple[FlaskClient, str]:
    """A browser signed in as `username` and a copy of its session cookie."""
    browser = client_with_token(app, None)
    assert login(browser, username).status_code == 303
    cookie = browser.get_cookie("session")
    assert cookie is not None
    return browser, cookie.value


def test_replayed_session_cookie_after_logout_is_refused(app: Flask) -> None:
    add_user(app, "ada", "admin")
    browser, cookie = signed_in_cookie(app, "ada")
    assert replay(app, cookie).get("/api/v1/trades").status_code == 200  # the copy works while the session lives
    assert browser.post("/logout").status_code == 303
    stale = replay(app, cookie)
    res = stale.get("/api/v1/trades")
    assert res.status_code == 401 and res.get_json()["error"]["code"] == "AUTH_REQUIRED"
    res = stale.get("/admin/users")
    assert res.status_code == 302 and res.headers["Location"].startswith("/login")


def test_logout_ends_every_session_of_the_user_in_every_browser(app: Flask) -> None:
    add_user(app, "tina", "trader")
    first, _ = signed_in_cookie(app, "tina")
    second, _ = signed_in_cookie(app, "tina")
    assert first.post("/logout").status_code == 303
    assert second.get("/api/v1/trades").status_code == 401
    assert login(second, "tina").status_code == 303  # signing in again starts a session of the new generation
    assert second.get("/api/v1/trades").status_code == 200


@pytest.mark.parametrize("change", [{"password": "a brand new passphrase"}, {"active": False}])
def test_password_change_or_deactivation_ends_every_session_of_the_user(app: Flask, change: dict) -> None:
    add_user(app, "tina", "trader")
    _, cookie = signed_in_cookie(app, "tina")
    assert replay(app, cookie).get("/api/v1/trades").status_code == 200
    with app.app_context():
        accounts.update_user(accounts.get_user("tina"), **change)
    assert replay(app, cookie).get("/api/v1/trades").status_code == 401
    assert replay(app, cookie).get("/").status_code == 302


def test_a_role_change_keeps_the_session_and_applies_at_once(app: Flask) -> None:
    add_user(app, "tina", "trader")
    browser, _ = signed_in_cookie(app, "tina")
    with app.app_context():
        accounts.update_user(accounts.get_user("tina"), role="viewer")
    assert browser.get("/api/v1/trades").status_code == 200
    assert browser.post("/api/v1/quotes", json=ORDER).status_code == 403


def test_repeated_failed_logins_from_one_address_are_throttled_with_a_lockout_message(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'rl.db'}", RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="10/minute")
    add_user(app, "tina", "trader")
    client = client_with_token(app, None)
    statuses = [login(client, "tina", f"guess number {i:04d}").status_code for i in range(10)]
    assert statuses == [200] * 10  # the form again, with the error
    locked = login(client, "tina")  # even the right password waits out the lockout
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) > 0
    other_ip = client_with_token(app, None)
    other_ip.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    assert login(other_ip, "tina").status_code == 303


def test_trading_is_rate_limited_per_token(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'rl.db'}", RATELIMIT_ENABLED=True, RATELIMIT_QUOTING="3/minute")
    from tests.conftest import make_token

    first, second = (client_with_token(app, make_token(app, "trader")) for _ in range(2))
    assert [first.post("/api/v1/quotes", json=ORDER).status_code for _ in range(3)] == [200] * 3
    limited = first.post("/api/v1/quotes", json=ORDER)
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "RATE_LIMITED"
    assert "Retry-After" in limited.headers
    assert second.post("/api/v1/quotes", json=ORDER).status_code == 200


def test_trading_limits_are_shared_by_workers_through_redis(tmp_path: Path) -> None:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but TEST_REDIS_URL is not set")
        pytest.skip("Redis tests need TEST_REDIS_URL")
    prefix = f"test-limits-{uuid.uuid4().hex}"
    config = {"RATELIMIT_ENABLED": True, "RATELIMIT_QUOTING": "4/minute", "REDIS_URL": url,
              "RATELIMIT_KEY_PREFIX": prefix}
    worker_a = build_app(f"sqlite:///{tmp_path / 'shared.db'}", **config)
    worker_b = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shared.db'}",
                           "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False, **config})
    from tests.conftest import make_token

    token = make_token(worker_a, "trader")
    a, b = client_with_token(worker_a, token), client_with_token(worker_b, token)
    statuses = [c.post("/api/v1/quotes", json=ORDER).status_code for c in (a, b, a, b, a)]
    assert statuses == [200, 200, 200, 200, 429]  # 4 per minute between both workers, not 4 each
    with redis.Redis.from_url(url) as r:
        for key in r.scan_iter(f"{prefix}*"):
            r.delete(key)
    for app in (worker_a, worker_b):
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def csrf_app(tmp_path: Path) -> Flask:
    """An app with CSRF protection on, as in production."""
    return build_app(f"sqlite:///{tmp_path / 'csrf.db'}", WTF_CSRF_ENABLED=True)


def test_forms_without_a_csrf_token_are_rejected(csrf_app: Flask) -> None:
    add_user(csrf_app, "tina", "trader")
    client = client_with_token(csrf_app, None)
    assert client.post("/login", data={"username": "tina", "password": PASSWORD}).status_code == 400
    assert login(client, "tina").status_code == 303
    res = client.post("/trade", data={"input": "SOL", "output": "USDC", "amount": "1", "swap_mode": "ExactIn",
                                      "slippage_bps": "50"})
    assert res.status_code == 400 and "Form expired" in res.get_data(as_text=True)
    assert client.post("/logout").status_code == 400


def test_cross_site_post_to_the_api_with_a_session_cookie_cannot_trade(csrf_app: Flask) -> None:
    add_user(csrf_app, "tina", "trader")
    client = client_with_token(csrf_app, None)
    login(client, "tina")
    before = inventory(csrf_app)
    for kwargs in ({"json": ORDER}, {"data": ORDER}, {"data": '{"input": "SOL"}', "content_type": "text/plain"}):
        res = client.post("/api/v1/trades", **kwargs)
        assert res.status_code == 400 and res.get_json()["error"]["code"] == "CSRF_FAILED"
    assert inventory(csrf_app) == before
    with csrf_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Trade)) == 0


def test_our_pages_js_can_trade_with_the_session_and_the_csrf_header(csrf_app: Flask) -> None:
    add_user(csrf_app, "tina", "trader")
    client = client_with_token(csrf_app, None)
    login(client, "tina")
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    res = client.post("/api/v1/trades", json=ORDER, headers={"X-CSRFToken": token})
    assert res.status_code == 201
    with csrf_app.app_context():
        assert res.get_json()["user_id"] == accounts.get_user("tina").id


def test_bearer_token_needs_no_csrf_token(csrf_app: Flask) -> None:
    from tests.conftest import make_token

    client = client_with_token(csrf_app, make_token(csrf_app, "trader"))
    assert client.post("/api/v1/quotes", json=ORDER).status_code == 200


def test_cli_creates_a_user_and_a_token_printed_alone_on_the_last_line(app: Flask) -> None:
    runner = app.test_cli_runner()
    res = runner.invoke(args=["users", "create", "Alice", "--role", "trader", "--password-stdin"],
                        input=PASSWORD + "\n")
    assert res.exit_code == 0, res.output
    assert "created trader 'alice'" in res.output
    res = runner.invoke(args=["tokens", "create", "alice", "--name", "pricing-bot"])
    assert res.exit_code == 0, res.output
    secret = res.output.strip().splitlines()[-1]
    assert re.fullmatch(r"olr_[A-Za-z0-9_-]{43}", secret)
    with app.app_context():
        token = accounts.tokens(accounts.get_user("alice"))[0]
        assert token.token_hash == accounts.hash_token(secret) and secret not in token.token_hash
    client = client_with_token(app, secret)
    assert client.post("/api/v1/quotes", json=ORDER).status_code == 200
    assert client.patch("/api/v1/pools/1", json={"active": False}).status_code == 403
    assert login(client_with_token(app, None), "alice").status_code == 303


def test_cli_without_password_prints_a_one_time_password_that_works(app: Flask) -> None:
    res = app.test_cli_runner().invoke(args=["users", "create", "root", "--role", "admin"])
    assert res.exit_code == 0, res.output
    password = res.output.strip().splitlines()[-1].rsplit(": ", 1)[1]
    assert len(password) >= 16
    assert login(client_with_token(app, None), "root", password).status_code == 303


def test_cli_refuses_short_passwords_and_unknown_roles(app: Flask) -> None:
    runner = app.test_cli_runner()
    res = runner.invoke(args=["users", "create", "bob", "--password-stdin"], input="short\n")
    assert res.exit_code != 0 and "12 to 256 characters" in res.output
    res = runner.invoke(args=["users", "create", "bob", "--role", "root"])
    assert res.exit_code != 0


def test_revoked_token_gets_401_from_the_next_request(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "create", "bot", "--role", "viewer"])
    secret = runner.invoke(args=["tokens", "create", "bot"]).output.strip().splitlines()[-1]
    client = client_with_token(app, secret)
    assert client.get("/api/v1/trades").status_code == 200
    res = runner.invoke(args=["tokens", "revoke", secret[:10]])
    assert res.exit_code == 0 and "revoked" in res.output, res.output
    res = client.get("/api/v1/trades")
    assert res.status_code == 401 and res.get_json()["error"]["code"] == "INVALID_TOKEN"
    assert res.headers["WWW-Authenticate"].startswith("Bearer")
    listing = runner.invoke(args=["tokens", "list", "--user", "bot"]).output
    assert "revoked" in listing and secret not in listing


def test_deactivating_or_demoting_a_user_applies_to_their_tokens_at_once(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "create", "tina", "--role", "trader"])
    client = client_with_token(app, runner.invoke(args=["tokens", "create", "tina"]).output.strip().splitlines()[-1])
    assert client.post("/api/v1/quotes", json=ORDER).status_code == 200
    assert runner.invoke(args=["users", "set-role", "tina", "viewer"]).exit_code == 0
    assert client.post("/api/v1/quotes", json=ORDER).status_code == 403
    assert runner.invoke(args=["users", "deactivate", "tina"]).exit_code == 0
    assert client.get("/api/v1/trades").status_code == 401
    with app.app_context():
        actions = [e.action for e in db.session.scalars(db.select(AuditLog).order_by(AuditLog.id))]
    assert actions[-4:] == ["user.create", "token.create", "user.set_role", "user.set_active"]


def test_missing_or_malformed_credentials_get_401_in_the_api_error_shape(anon_client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic YWxhZGRpbjpvcGVu"},
                    {"Authorization": "Bearer olr_" + "x" * 43}, {"Authorization": "Bearer " + "y" * 5000}):
        res = anon_client.get("/api/v1/trades", headers=headers)
        assert res.status_code == 401, headers
        assert set(res.get_json()["error"]) == {"code", "message"}


def test_trades_record_who_placed_them_and_history_filters_by_trader(app: Flask, client: FlaskClient) -> None:
    from tests.conftest import make_token

    tina = client_with_token(app, make_token(app, "trader", "tina"))
    assert tina.post("/api/v1/trades", json=ORDER).status_code == 201
    assert client.post("/api/v1/trades", json={**ORDER, "amount": "10"}).status_code == 201
    with app.app_context():
        tina_id = accounts.get_user("tina").id
    trades = client.get("/api/v1/trades?trader=tina").get_json()["trades"]
    assert [t["user_id"] for t in trades] == [tina_id]
    assert client.get("/api/v1/trades?trader=nobody").get_json()["trades"] == []


def test_init_db_explains_how_to_create_the_first_admin_until_one_exists(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.db'}",
                      "SECRET_KEY": "test"})
    runner = app.test_cli_runner()
    out = runner.invoke(args=["init-db"]).output
    assert "users create NAME --role admin" in out and "password" in out
    runner.invoke(args=["users", "create", "root", "--role", "admin"])
    assert "users create" not in runner.invoke(args=["init-db"]).output
    with app.app_context():
        assert db.session.scalar(db.select(User).where(User.username == "root")).password_hash.startswith("scrypt:")
        db.engine.dispose()


@pytest.mark.parametrize("env_name", ["production", "staging"])
def test_secret_key_is_required_outside_development(env_name: str, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app({"ENV_NAME": env_name, "SECRET_KEY": "", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
