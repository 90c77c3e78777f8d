"""The audit log of admin changes (pools, users, tokens): who did what to which target, before and after."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from models import AuditLog, User, db

CLI_ACTOR = "cli"


def _jsonable(value: Any) -> Any:
    """A JSON-safe copy: Decimals and big ints become strings, so nothing loses precision in the JSON column."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53):
        return str(value)
    return value


def record(actor: User | None, action: str, target: str, before: dict[str, Any] | None,
           after: dict[str, Any] | None) -> AuditLog:
    """Add an audit entry to the current session; the caller's commit writes it atomically with the change.

    `actor` None means the command line (`flask users ...`). `action` is dotted, e.g. "pool.update";
    `target` names the object, e.g. "pool:3 sol-usdc". Only fields that changed need to be in before/after.
    """
    entry = AuditLog(actor_user_id=actor.id if actor is not None else None,
                     actor_name=actor.username if actor is not None else CLI_ACTOR,
                     action=action, target=target[:128], before=_jsonable(before), after=_jsonable(after))
    db.session.add(entry)
    return entry


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def recent(limit: int = 100, before_id: int | None = None, action: str | None = None) -> list[AuditLog]:
    """Audit entries newest first, keyset-paginated by id, optionally of one action."""
    q = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if before_id is not None:
        q = q.where(AuditLog.id < before_id)
    if action:
        q = q.where(AuditLog.action == action)
    return list(db.session.scalars(q))
