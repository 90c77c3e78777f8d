"""Central authentication and authorization: one policy table, one before-request hook, deny by default.

Every endpoint of the url_map must appear in POLICY with the least role that may call it (or PUBLIC); an
endpoint missing from the table answers 403 to everyone (tests/test_authz_matrix.py fails until it is classified).

Who is asking:
- `Authorization: Bearer olr_...` (API tokens from `flask --app main tokens create`): checked on any path;
  a bad, revoked or deactivated user's token is a 401. Bearer requests need no CSRF token: a browser never
  attaches the header by itself, so a cross-site page cannot forge one.
- otherwise the Flask-Login session cookie (the browser). Pages and forms are CSRF-protected by Flask-WTF.
  The API blueprint is exempt from Flask-WTF's global check (tokens), so this hook checks CSRF itself for
  session-authenticated API writes: our pages' JS (OLR.fetchJSON) sends the X-CSRFToken header, a cross-site
  form post cannot, and it is refused before the view runs. The session cookie is also SameSite=Lax.
Unauthenticated browsers are redirected to the login page; the API answers 401, a too-low role 403 (API.md shape).
"""
from __future__ import annotations

import logging

from flask import Flask, abort, current_app, g, jsonify, redirect, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user

from models import ROLES, User, db
from services import accounts
from web.errors import is_api_request

PUBLIC = "public"
RANK = {role: rank for rank, role in enumerate(ROLES)}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_GENERATION = "_olr_generation"  # session key: the user's session_generation when this session was issued

# endpoint -> least role; "METHOD endpoint" keys override the endpoint's row for one method.
POLICY: dict[str, str] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "api.healthz": PUBLIC,
    "api.openapi": PUBLIC,
    "sim.quote": PUBLIC,  # the simulated Jupiter speaks Jupiter's keyless public API
    "sim.price": PUBLIC,  # and its keyless Price API v3
    "sim_rfq.maker_quote": PUBLIC,  # the simulated RFQ makers (Jupiter Z's webhook format; no key needed)
    "sim_rfq.maker_swap": PUBLIC,
    "sim_rfq.maker_tokens": PUBLIC,
    "sim.swap": PUBLIC,  # and its POST /swap (an unsigned transaction moves nothing)
    "sim_solana.solana": PUBLIC,  # the simulated Solana node is a public RPC endpoint (signatures are checked)
    "bench.constant": PUBLIC,  # constant JSON, registered only with BENCH_ENDPOINTS=1 (bench/api.py)
    # pages
    "web.dashboard": "viewer",
    "web.history": "viewer",
    "web.history_csv": "viewer",
    "web.trade_detail": "viewer",
    "web.quote_detail": "viewer",
    "web.analytics": "viewer",
    "web.pools": "viewer",
    "web.monitoring": "viewer",
    "web.api_docs": "viewer",
    "web.trade_ticket": "trader",
    "web.execute_quote": "trader",
    "web.pools_edit": "admin",
    "admin.users": "admin",
    "admin.user_new": "admin",  # issue 18 item 14: users and tokens from the browser (GET form, POST change)
    "admin.user_password": "admin",
    "admin.token_new": "admin",
    "admin.token_revoke": "admin",
    "admin.audit_log": "admin",
    "admin_makers.makers_page": "admin",  # issue 15: the RFQ makers page, add / edit / remove
    "admin_makers.maker_new": "admin",
    "admin_makers.maker_edit": "admin",
    "admin_makers.maker_delete": "admin",
    # JSON API
    "api.list_trades": "viewer",
    "api.get_trade": "viewer",
    "api.list_pools": "viewer",
    "api.get_pool": "viewer",
    "api.analytics_summary": "viewer",
    "charts.dashboard": "viewer",  # issue 4: GET-only JSON of the dashboard, analytics and monitoring pages
    "charts.charts": "viewer",
    "charts.cost_curve": "viewer",
    "charts.monitoring_data": "viewer",
    "events.me_events": "viewer",  # the caller's own trades and quotes only
    "api.create_quote": "trader",
    "api.create_trade": "trader",
    "api_admin.update_pool": "admin",
    "api_makers.list_makers": "admin",  # issue 15: external RFQ makers (API keys are admin business)
    "api_makers.create_maker": "admin",
    "api_makers.get_maker": "admin",
    "api_makers.update_maker": "admin",
    "api_makers.delete_maker": "admin",
    "api_orders.list_orders": "viewer",  # parent orders (issue 16)
    "api_orders.get_order": "viewer",
    "api_orders.create_order": "trader",
    "api_orders.cancel_order": "trader",  # and only the trader who placed it, or an admin (checked in the view)
    "api_orders.estimate_order": "trader",
    "orders.orders_page": "viewer",  # parent-order pages (issue 16); cancel is the API's, above
    "orders.order_page": "viewer",
}

log = logging.getLogger(__name__)
login_manager = LoginManager()


def required_role(endpoint: str, method: str) -> str | None:
    """The least role for an endpoint and method, PUBLIC, or None when the endpoint is not classified."""
    return POLICY.get(f"{method} {endpoint}") or POLICY.get(endpoint)


def allows(user: User | None, role: str) -> bool:
    """True when `user` (None: anonymous) meets `role`."""
    if role == PUBLIC:
        return True
    return user is not None and RANK.get(user.role, -1) >= RANK[role]


def _json_error(status: int, code: str, message: str):
    """An API.md error response."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _unauthenticated(code: str, message: str):
    """401 for the API; a redirect to the login page for the browser."""
    if is_api_request():
        return _json_error(401, code, message)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _bearer_user(header: str) -> User | None:
    """The user of a valid `Bearer` header, or None."""
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    found = accounts.token_user(secret.strip())
    if found is None:
        return None
    g.api_token_id = found[0]
    return found[1]


def authorize():
    """before_request: identify the caller, check CSRF for session API writes, enforce POLICY (deny by default)."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: the 404/405 handler answers
        return None
    role = required_role(endpoint, request.method)
    if role == PUBLIC:
        return None
    if role is None:
        log.error("endpoint %s is not in auth.POLICY; denied", endpoint)
        if is_api_request():
            return _json_error(403, "FORBIDDEN", "this endpoint is not open to any role yet")
        abort(403, "This page is not open to any role yet.")
    header = request.headers.get("Authorization")
    if header is not None:
        user = _bearer_user(header)
        if user is None:
            return _unauthenticated("INVALID_TOKEN", "the bearer token is unknown, revoked or its user is deactivated")
        g._login_user = user  # Flask-Login's current_user for this request only; no session cookie is written
        g.auth_via = "token"
    else:
        if not current_user.is_authenticated:
            return _unauthenticated("AUTH_REQUIRED", "send Authorization: Bearer <token> (flask --app main tokens "
                                    "create NAME) or log in")
        user = current_user._get_current_object()
        g.auth_via = "session"
        if is_api_request() and request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
            current_app.extensions["csrf"].protect()  # raises CSRFError -> 400 CSRF_FAILED
    if not allows(user, role):
        message = f"this needs the {role} role; {user.username} is a {user.role}"
        if is_api_request():
            return _json_error(403, "FORBIDDEN", message)
        abort(403, f"This page needs the {role} role; you are signed in as a {user.role}.")
    return None


def can(endpoint: str, method: str = "GET") -> bool:
    """Template helper: may the current user open this endpoint (hides links the user cannot follow)?"""
    role = required_role(endpoint, method)
    if role is None:
        return False
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return allows(user, role)


def owns_or_admin(owner_id: int | None) -> bool:
    """True when the signed-in user is `owner_id` or an admin (who may stop a trader's parent order)."""
    return current_user.is_authenticated and (current_user.id == owner_id or current_user.role == "admin")


def rate_key() -> str:
    """The rate-limit identity of the caller: its API token, else its user, else its IP address."""
    token_id = g.get("api_token_id")
    if token_id is not None:
        return f"token:{token_id}"
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{request.remote_addr or 'unknown'}"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The session's user while it exists, is active and the session is of the user's current generation.

    Logout, a password change and deactivation bump User.session_generation, so every session issued before
    (a copied cookie included) loads no user: 401 on the API, the login page for the browser.
    """
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active:
        return None
    generation = session.get(SESSION_GENERATION)
    if isinstance(generation, bool) or not isinstance(generation, int) or generation != user.session_generation:
        return None
    return user


def start_session(user: User) -> None:
    """Sign `user` in on a fresh session that carries the user's current session generation."""
    session.clear()  # no pre-login state (or fixation) survives into the signed-in session
    login_user(user)
    session[SESSION_GENERATION] = user.session_generation


def end_session() -> None:
    """Sign out: end every session of the current user (all browsers, copied cookies too), then this one."""
    if current_user.is_authenticated:
        accounts.end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()


def init_app(app: Flask) -> None:
    """Install Flask-Login, the policy hook (before rate limiting) and the `can` template helper."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    app.before_request(authorize)
    app.jinja_env.globals["can"] = can
