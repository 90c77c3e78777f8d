"""Security headers on every response (pages, API, errors, static files), secure cookies and request size limits."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services import quoting
from tests.conftest import build_app, client_with_token
from web import security

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {
    "Content-Security-Policy": security.CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# (method, path, who) -> the answers every kind of response gives: success, redirect, 4xx and static files
REQUESTS = [
    ("GET", "/", "admin"), ("GET", "/", "anon"), ("GET", "/login", "anon"), ("GET", "/api", "admin"),
    ("GET", "/api/v1/trades", "admin"), ("GET", "/api/v1/trades", "anon"), ("GET", "/api/v1/trades/999", "admin"),
    ("GET", "/api/v1/openapi.json", "anon"), ("GET", "/healthz", "anon"), ("GET", "/no/such/page", "anon"),
    ("GET", "/api/v1/no-such-thing", "admin"), ("DELETE", "/api/v1/trades", "admin"),
    ("POST", "/api/v1/quotes", "admin"), ("GET", "/static/css/app.css", "anon"),
    ("GET", "/static/js/app.js", "anon"), ("GET", "/static/missing.js", "anon"),
    ("GET", "/sim/jupiter/swap/v1/quote", "anon"), ("GET", "/admin/audit", "admin"),
]


@pytest.mark.parametrize(("method", "path", "who"), REQUESTS, ids=[f"{m} {p} {w}" for m, p, w in REQUESTS])
def test_every_response_carries_the_security_headers(method: str, path: str, who: str, client: FlaskClient,
                                                     anon_client: FlaskClient) -> None:
    res = (client if who == "admin" else anon_client).open(path, method=method)
    res.close()
    for name, value in REQUIRED.items():
        assert res.headers.get(name) == value, (name, res.status_code)
    assert "Strict-Transport-Security" not in res.headers  # plain HTTP: no HSTS


def test_csp_forbids_inline_scripts_styles_and_framing() -> None:
    directives = dict(d.split(" ", 1) for d in security.CSP.split("; "))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["default-src"] == "'self'"
    assert "unsafe" not in security.CSP


def test_hsts_is_sent_only_over_https(client: FlaskClient) -> None:
    res = client.get("/healthz", base_url="https://localhost")
    assert res.headers["Strict-Transport-Security"].startswith("max-age=")


def test_unhandled_errors_get_the_headers_and_leak_no_trace_or_sql(app: Flask, client: FlaskClient,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("SELECT password_hash FROM users -- secret detail")

    monkeypatch.setattr(quoting, "quote", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    res = client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "1"})
    assert res.status_code == 500 and res.headers["X-Frame-Options"] == "DENY"
    body = res.get_data(as_text=True)
    assert "SELECT" not in body and "Traceback" not in body and "secret" not in body
    assert res.get_json()["error"]["code"] == "INTERNAL"


def test_session_cookie_is_httponly_samesite_lax_and_secure_in_production(tmp_path: Path) -> None:
    dev = client_with_token(build_app(f"sqlite:///{tmp_path / 'dev.db'}"), None)
    cookie = dev.get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    prod_app = build_app(f"sqlite:///{tmp_path / 'prod.db'}", ENV_NAME="production")
    cookie = client_with_token(prod_app, None).get("/login", base_url="https://localhost").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_request_bodies_over_the_size_limit_get_413_in_the_api_error_shape(client: FlaskClient) -> None:
    res = client.post("/api/v1/quotes", data="{" + " " * (65 * 1024) + "}", content_type="application/json")
    assert res.status_code == 413
    assert res.get_json()["error"]["code"] == "REQUEST_ENTITY_TOO_LARGE"


def test_templates_have_no_inline_scripts_styles_or_event_handlers() -> None:
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.S)  # Jinja comments may mention them
        for pattern in (r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")", r"<style",
                        r"\sstyle=\"", r"\son[a-z]+=\"", r"javascript:"):
            offenders += [f"{path.name}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert offenders == []


@pytest.mark.parametrize(("path", "kwargs"), [
    ("/api/v1/trades?venue=a%00b", {}),
    ("/api/v1/quotes", {"method": "POST", "json": {"input": "SOL\u0000", "output": "USDC", "amount": "1"}}),
    ("/api/v1/trades", {"method": "POST", "json": {"quote_id": "q_\u0000"}}),
    ("/login", {"method": "POST", "data": {"username": "a\x00b", "password": "x" * 12}}),
    ("/trades?pair=%00", {}),
])
def test_nul_characters_are_refused_before_they_reach_the_database(client: FlaskClient, path: str,
                                                                   kwargs: dict) -> None:
    res = client.open(path, **kwargs)
    assert res.status_code == 400
