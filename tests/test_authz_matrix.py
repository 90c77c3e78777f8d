"""Every endpoint against every role: a table-driven matrix of who may call what (deny by default).

EXPECTED is the desk's access rule written out by hand: viewers read, traders also quote and trade, admins also
edit pools and users. It must agree with auth.POLICY and with what the app actually answers. Browser pages are
called with a signed-in session, the API with a bearer token; anonymous pages redirect to the login page, the
anonymous API answers 401, a too-low role 403, an allowed call anything but 401/403/5xx.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter

from app import create_app
from models import db
from services import accounts
from tests.conftest import build_app, client_with_token, make_token
from web import auth

PUBLIC = auth.PUBLIC
EXPECTED: dict[str, str] = {
    "static": PUBLIC, "auth.login": PUBLIC, "auth.logout": PUBLIC, "api.healthz": PUBLIC, "api.openapi": PUBLIC,
    "sim.quote": PUBLIC,
    "sim.price": PUBLIC,
    "sim.swap": PUBLIC, "sim_solana.solana": PUBLIC,
    "sim_rfq.maker_quote": PUBLIC, "sim_rfq.maker_swap": PUBLIC, "sim_rfq.maker_tokens": PUBLIC,
    "web.dashboard": "viewer", "web.history": "viewer", "web.history_csv": "viewer", "web.trade_detail": "viewer",
    "web.quote_detail": "viewer", "web.analytics": "viewer", "web.pools": "viewer", "web.monitoring": "viewer",
    "web.api_docs": "viewer",
    "charts.dashboard": "viewer", "charts.charts": "viewer", "charts.cost_curve": "viewer",
    "charts.monitoring_data": "viewer", "events.me_events": "viewer",
    "api.list_trades": "viewer", "api.get_trade": "viewer", "api.list_pools": "viewer", "api.get_pool": "viewer",
    "api.analytics_summary": "viewer",
    "web.trade_ticket": "trader", "web.execute_quote": "trader", "api.create_quote": "trader",
    "api.create_trade": "trader",
    "web.pools_edit": "admin", "admin.users": "admin", "admin.audit_log": "admin", "api_admin.update_pool": "admin",
    "admin.user_new": "admin", "admin.user_password": "admin", "admin.token_new": "admin",
    "admin.token_revoke": "admin",
    "api_makers.list_makers": "admin", "api_makers.create_maker": "admin", "api_makers.get_maker": "admin",
    "api_makers.update_maker": "admin", "api_makers.delete_maker": "admin",
    "admin_makers.makers_page": "admin", "admin_makers.maker_new": "admin", "admin_makers.maker_edit": "admin",
    "admin_makers.maker_delete": "admin",
    "api_orders.list_orders": "viewer", "api_orders.get_order": "viewer", "api_orders.create_order": "trader",
    "api_orders.cancel_order": "trader", "api_orders.estimate_order": "trader",
    "orders.orders_page": "viewer", "orders.order_page": "viewer",
}
ROLES = ("anonymous", "viewer", "trader", "admin")
RANK = {"anonymous": -1, "viewer": 0, "trader": 1, "admin": 2}
SAMPLE_ARGS = {"filename": "css/app.css", "quote_id": "q_missing"}  # int arguments get 1
JSON_PATHS = ("/api/", "/sim/", "/healthz")


def _rules() -> list[tuple[str, str, str]]:
    """(endpoint, method, url) of every route, with sample path arguments."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "collect"})
    out = []
    with app.test_request_context():
        from flask import url_for

        for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
            args = {a: SAMPLE_ARGS.get(a, 1 if isinstance(rule._converters[a], IntegerConverter) else "x")
                    for a in rule.arguments}
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((rule.endpoint, method, url_for(rule.endpoint, **args)))
    return out


RULES = _rules()
CASES = [(endpoint, method, url, role) for endpoint, method, url in RULES for role in ROLES]


@pytest.fixture(scope="module")
def matrix_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One migrated, seeded app for the whole matrix (no test here changes state that another reads)."""
    app = build_app(f"sqlite:///{Path(tmp_path_factory.mktemp('matrix')) / 'matrix.db'}")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def clients(matrix_app: Flask) -> dict[tuple[str, bool], FlaskClient]:
    """(role, api?) -> a client: a bearer token for the API, a signed-in session for pages; anonymous has neither."""
    out: dict[tuple[str, bool], FlaskClient] = {}
    for role in ROLES:
        if role == "anonymous":
            out[(role, True)] = out[(role, False)] = client_with_token(matrix_app, None)
            continue
        out[(role, True)] = client_with_token(matrix_app, make_token(matrix_app, role, f"api-{role}"))
        with matrix_app.app_context():
            accounts.create_user(f"web-{role}", role, "matrix password 123")
        session = client_with_token(matrix_app, None)
        res = session.post("/login", data={"username": f"web-{role}", "password": "matrix password 123"})
        assert res.status_code == 303
        out[(role, False)] = session
    return out


def test_every_endpoint_is_classified_in_the_policy_and_the_table() -> None:
    endpoints = {endpoint for endpoint, _, _ in RULES}
    assert endpoints - set(auth.POLICY) == set(), "classify new endpoints in auth.POLICY"
    assert endpoints - set(EXPECTED) == set(), "add new endpoints to EXPECTED"
    assert set(EXPECTED) - endpoints == set(), "EXPECTED lists endpoints that no longer exist"
    assert {k: v for k, v in auth.POLICY.items() if " " not in k and k in endpoints} == EXPECTED


def test_unclassified_endpoints_are_denied_to_everyone(matrix_app: Flask) -> None:
    with matrix_app.test_request_context("/x"):
        assert auth.required_role("web.some_new_page", "GET") is None
    saved = auth.POLICY.pop("web.monitoring")
    try:
        res = client_with_token(matrix_app, matrix_app.config["TEST_ADMIN_TOKEN"]).get("/monitoring")
        assert res.status_code == 403
    finally:
        auth.POLICY["web.monitoring"] = saved


@pytest.mark.parametrize(("endpoint", "method", "url", "role"), CASES,
                         ids=[f"{e}-{m}-{r}" for e, m, _, r in CASES])
def test_role_against_endpoint(endpoint: str, method: str, url: str, role: str, matrix_app: Flask,
                               clients: dict[tuple[str, bool], FlaskClient]) -> None:
    is_json = url.startswith(JSON_PATHS)
    client = clients[(role, is_json)]
    if endpoint == "auth.logout":
        client = client_with_token(matrix_app, None)  # never sign the shared session clients out
    kwargs = {"json": {}} if is_json and method in ("POST", "PATCH", "PUT") else {}
    res = client.open(url, method=method, **kwargs)
    res.close()  # static files are streamed
    required = EXPECTED[endpoint]
    if required == PUBLIC or RANK[role] >= RANK[required]:
        assert res.status_code not in (401, 403), res.get_data(as_text=True)[:300]
        assert not res.headers.get("Location", "").startswith("/login?next=")
        assert res.status_code < 500
    elif role == "anonymous":
        if is_json:
            assert res.status_code == 401 and res.get_json()["error"]["code"] == "AUTH_REQUIRED"
        else:
            assert res.status_code == 302 and res.headers["Location"].startswith("/login?next=")
    else:
        assert res.status_code == 403
        if is_json:
            assert res.get_json()["error"]["code"] == "FORBIDDEN"


def test_matrix_size_is_reported() -> None:
    print(f"\nauthz matrix: {len(RULES)} endpoint-methods x {len(ROLES)} roles = {len(CASES)} cases")
    assert len(CASES) == len(RULES) * len(ROLES) >= 100
