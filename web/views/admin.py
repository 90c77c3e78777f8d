"""Admin pages: the desk's users and their API tokens (create, reset a password, create and revoke a token) and the
audit log. The rules and the audit entries are services.accounts' (the CLI's too); these views parse and redirect.

A generated password or a new token's secret is shown exactly once: the POST keeps it in the session (signed,
HttpOnly, SameSite=Lax; only the admin's own browser holds it) and redirects; the next page view pops it, and
`Cache-Control: no-store` (web/security.py) keeps the page out of caches. It is never logged or audited.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from ledger import audit
from models import ApiToken, User, db
from services import accounts
from web.forms import NewTokenForm, NewUserForm, ResetPasswordForm, RevokeTokenForm

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PAGE_SIZE = 100
ONCE_KEY = "admin_shown_once"  # session key of the secret the next users page shows, once


def _show_once(kind: str, subject: str, secret: str) -> None:
    """Keep a new secret for the next users page only."""
    session[ONCE_KEY] = {"kind": kind, "subject": subject, "secret": secret}


def _done():
    """Back to the users page (Post/Redirect/Get)."""
    return redirect(url_for("admin.users"), code=303)


def _form_page(form: Any, status: int, **context: Any):
    """A form page again with its errors (400) or fresh (200)."""
    return render_template("admin/form.html", form=form, **context), status


@bp.get("/users")
def users():
    """Every user with role, state and API tokens (prefixes only); a secret created just now, once."""
    return render_template("admin/users.html", users=accounts.users(), tokens=accounts.tokens(),
                           once=session.pop(ONCE_KEY, None))


def _sentence(exc: Exception) -> str:
    """A service's message as a sentence under a form field: capitalised, with a full stop."""
    text = str(exc)
    return f"{text[:1].upper()}{text[1:]}."


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    """Create a user with a role and a typed or generated initial password (audited)."""
    form = NewUserForm()
    if form.validate_on_submit():
        password, generated = form.chosen_password()
        try:
            user = accounts.create_user(form.username.data, form.role.data, password, current_user)
        except accounts.AccountError as exc:  # e.g. created by someone else a moment ago
            form.username.errors.append(_sentence(exc))
        else:
            if generated:
                _show_once("password", user.username, password)
            flash(f"Created the {user.role} {user.username}.", "success")
            return _done()
    return _form_page(form, 400 if form.errors else 200, kind="user_new", title="New user",
                      action=url_for("admin.user_new"))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
def user_password(user_id: int):
    """Reset a user's password: typed twice or generated and shown once (audited as 'changed')."""
    user = db.session.get(User, user_id) or abort(404, f"There is no user #{user_id}.")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        password, generated = form.chosen_password()
        accounts.update_user(user, current_user, password=password)
        if generated:
            _show_once("password", user.username, password)
        flash(f"Changed the password of {user.username}.", "success")
        return _done()
    return _form_page(form, 400 if form.errors else 200, kind="user_password", user=user,
                      title=f"Reset the password of {user.username}",
                      action=url_for("admin.user_password", user_id=user.id))


@bp.route("/tokens/new", methods=["GET", "POST"])
def token_new():
    """Create an API token for an active user; its secret is shown once on the users page (audited)."""
    names = [u.username for u in accounts.users() if u.active]
    form = NewTokenForm(usernames=names)
    if request.method == "GET" and request.args.get("user") in names:
        form.username.data = request.args["user"]
    if form.validate_on_submit():
        try:
            token, secret = accounts.create_token(accounts.get_user(form.username.data), form.name.data or "",
                                                  current_user)
        except accounts.AccountError as exc:
            form.username.errors.append(_sentence(exc))
        else:
            _show_once("token", f"{token.user.username} ({token.prefix}…)", secret)
            flash(f"Created token {token.id} for {token.user.username}.", "success")
            return _done()
    return _form_page(form, 400 if form.errors else 200, kind="token_new", title="New API token",
                      action=url_for("admin.token_new"))


@bp.route("/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
def token_revoke(token_id: int):
    """Confirm, then revoke a token: it answers 401 from the next request on (audited)."""
    token = db.session.get(ApiToken, token_id) or abort(404, f"There is no API token #{token_id}.")
    form = RevokeTokenForm()
    if request.method == "GET":
        form.token_id.data = str(token.id)
    elif form.validate_on_submit():
        if form.token_id.data != str(token.id):
            abort(400, "The confirmation was for another token; nothing was revoked.")
        if token.revoked_at is not None:
            flash(f"Token {token.id} ({token.prefix}…) was already revoked.", "info")
        else:
            accounts.revoke_token(token, current_user)
            flash(f"Revoked token {token.id} ({token.prefix}…) of {token.user.username}.", "success")
        return _done()
    return _form_page(form, 400 if form.errors else 200, kind="token_revoke", token=token,
                      title=f"Revoke token {token.id}", action=url_for("admin.token_revoke", token_id=token.id))


@bp.get("/audit")
def audit_log():
    """Admin changes newest first, keyset-paginated, optionally one action."""
    before = request.args.get("before", type=int)
    if before is not None and not 0 < before < 2**63:
        before = None
    action = request.args.get("action") or None
    entries = audit.recent(limit=AUDIT_PAGE_SIZE + 1, before_id=before, action=action)
    more = len(entries) > AUDIT_PAGE_SIZE
    entries = entries[:AUDIT_PAGE_SIZE]
    next_url = url_for("admin.audit_log", before=entries[-1].id, action=action) if more else None
    return render_template("admin/audit.html", entries=entries, action=action, next_url=next_url)
