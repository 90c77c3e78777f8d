"""Admin pages: the desk's users and the audit log of admin changes (read-only; changes go through the CLI/API)."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from ledger import audit
from services import accounts

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PAGE_SIZE = 100


@bp.get("/users")
def users():
    """Every user with role, state and API tokens (prefixes only)."""
    return render_template("admin/users.html", users=accounts.users(), tokens=accounts.tokens())


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
