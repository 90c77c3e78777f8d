"""HTTP hardening: security headers on every response, rate limits (Flask-Limiter), proxy trust, 429 answers.

Rate limits (per endpoint, configurable, see config.py):
- login POST: RATELIMIT_LOGIN per client IP, counting failed attempts only; then a lockout message and 429;
- trading (API quotes/trades, the ticket and the execute button): per API token, else per logged-in user.
Counters live in Redis when REDIS_URL is set (shared by every gunicorn worker), in memory otherwise; if Redis
is unreachable the limiter falls back to memory rather than failing requests.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from models import db
from web import auth
from web.errors import api_error
from web.views.auth import LoginForm

# style-src: no 'unsafe-inline'. Templates carry no style="" attributes and no <style> blocks; Chart.js and
# Bootstrap set element styles through the CSSOM (element.style.x = ...), which CSP allows.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def _client_ip() -> str:
    """The client address (behind TRUSTED_PROXIES reverse proxies, the one they report)."""
    return f"ip:{request.remote_addr or 'unknown'}"


def _failed_login(response: Response) -> bool:
    """Count a login POST against the limit unless it succeeded (a redirect)."""
    return response.status_code not in (302, 303)


def rate_limits(app: Flask) -> dict[str, list[dict[str, Any]]]:
    """endpoint -> the limits applied to it (keyword arguments of Limiter.limit)."""
    trading = {"limit_value": app.config["RATELIMIT_TRADING"], "key_func": auth.rate_key}
    quoting = {"limit_value": app.config["RATELIMIT_QUOTING"], "key_func": auth.rate_key}
    login = {"limit_value": app.config["RATELIMIT_LOGIN"], "key_func": _client_ip, "methods": ["POST"],
             "deduct_when": _failed_login,
             "error_message": "Too many failed sign-ins from your address; wait a minute before trying again."}
    return {
        "auth.login": [login],
        "api.create_trade": [trading],
        "web.execute_quote": [trading],
        "api.create_quote": [quoting],
        "web.trade_ticket": [{**quoting, "methods": ["POST"]}],
    }


def _limit_views(app: Flask, limiter: Limiter) -> None:
    """Wrap the registered view functions of rate_limits() with their limits (views stay undecorated)."""
    for endpoint, limits in rate_limits(app).items():
        view: Callable[..., Any] | None = app.view_functions.get(endpoint)
        if view is None:
            app.logger.warning("rate limit for unknown endpoint %s skipped", endpoint)
            continue
        for kwargs in limits:
            view = limiter.limit(**kwargs)(view)
        app.view_functions[endpoint] = view


def _rate_limited(exc: RateLimitExceeded):
    """429: the API.md error shape, or the login page with a lockout message (Retry-After added by the limiter)."""
    db.session.rollback()
    if auth.is_api_request():
        return api_error(429, "RATE_LIMITED", f"rate limit exceeded ({exc.description}); retry later")
    if request.endpoint == "auth.login":
        return render_template("auth/login.html", form=LoginForm(), locked_out=exc.description), 429
    return render_template("errors/error.html", code=429, title="Too many requests",
                           message=f"Slow down: {exc.description}."), 429


def _refuse_nul_bytes():
    """before_request: 400 for a NUL character in the path, query or body (PostgreSQL text cannot store one)."""
    texts = [request.path]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        texts += [text for item in request.form.lists() for text in (item[0], *item[1])]  # parsed (CSRF reads it)
        body = b""
    else:
        body = request.get_data(cache=True) if request.content_length else b""
    raw = (request.query_string + body).lower()
    if any("\x00" in t for t in texts) or any(marker in raw for marker in (b"\x00", b"%00", b"\\u0000")):
        if auth.is_api_request():
            return api_error(400, "INVALID_INPUT", "text may not contain NUL (\\u0000) characters")
        abort(400, "Text may not contain NUL characters.")
    return None


def _security_headers(response: Response) -> Response:
    """Add the security headers (HSTS only over HTTPS) and keep dynamic answers out of shared caches."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static" and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


class IdConverter(IntegerConverter):
    """`<int:...>` ids of at most 18 digits: a longer one is a 404, never an overflow in the database (a 500)."""

    regex = r"\d{1,18}"


def init_routing(app: Flask) -> None:
    """Before any blueprint: `<int:...>` route arguments use IdConverter."""
    app.url_map.converters["int"] = IdConverter


def init_app(app: Flask) -> None:
    """Trust proxies, add security headers, rate limits and the 429 handler (call after registering blueprints)."""
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    if app.config.get("ENV_NAME") == "production":
        app.config["SESSION_COOKIE_SECURE"] = True  # cookies only over HTTPS
    app.before_request(_refuse_nul_bytes)
    app.after_request(_security_headers)
    storage = app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL") or "memory://"
    limiter = Limiter(key_func=auth.rate_key, storage_uri=storage, headers_enabled=True, swallow_errors=True,
                      in_memory_fallback_enabled=True, strategy="fixed-window",
                      key_prefix=app.config.get("RATELIMIT_KEY_PREFIX") or "olr")
    limiter.init_app(app)
    app.extensions["olr_limiter"] = limiter  # limits hold only a weak reference to their limiter
    if limiter.enabled:
        _limit_views(app, limiter)
    app.register_error_handler(RateLimitExceeded, _rate_limited)
