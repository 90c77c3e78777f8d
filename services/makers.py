"""External RFQ makers as configuration: validate, create, edit, remove (audited), refresh tokens, pick for an order.

The API key is stored sealed (ledger.sealed, under the instance key Settings.maker_key) to be sent as X-API-KEY; it is
never returned by any endpoint or page, nor logged: listings and audit entries say only whether one is set.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.orders import Order
from ledger import audit, maker_log, sealed
from ledger.maker_tables import Maker
from models import User, db, utcnow
from read import maker_scorecards
from services.errors import InputError, ServiceError
from services.market import Market
from venues.rfq_client import SIM_SCHEME, MakerEndpoint

log = logging.getLogger(__name__)
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
MIN_TIMEOUT_MS, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS = 10, 500, 500
TOKENS_MAX_AGE = timedelta(minutes=10)  # Jupiter Z refreshes a webhook's /tokens every 10 minutes
UNANSWERED_AFTER = timedelta(seconds=30)  # a swap still `sending` after this was lost with its process
FIELDS = ("name", "base_url", "api_key", "enabled", "timeout_ms", "sim_behaviour")


def parse_body(body: Any, *, partial: bool) -> dict[str, Any]:
    """A maker create (all required fields) or partial update body, checked field by field; InputError naming it."""
    if not isinstance(body, dict):
        raise InputError("the request body must be a JSON object", code="MALFORMED_JSON")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InputError(f"unknown field {unknown[0]}", field=unknown[0])
    if not partial:
        for name in ("name", "base_url"):
            if name not in body:
                raise InputError(f"{name} is required", field=name)
    out: dict[str, Any] = {}
    if "name" in body:
        if not isinstance(body["name"], str) or not NAME_RE.match(body["name"]):
            raise InputError("name: 1-48 lowercase letters, digits, - or _", field="name")
        out["name"] = body["name"]
    if "base_url" in body:
        url = body["base_url"]
        if not isinstance(url, str) or len(url) > 255 or not url.startswith(("https://", "http://", SIM_SCHEME)):
            raise InputError("base_url must start with https:// (http:// or sim://<name> for tests)",
                             field="base_url")
        out["base_url"] = url.rstrip("/")
    if "api_key" in body:
        key = body["api_key"]
        if key is not None and (not isinstance(key, str) or len(key) > 255 or not key.isprintable()):
            raise InputError("api_key must be a printable string of at most 255 characters", field="api_key")
        out["api_key"] = key or None
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise InputError("enabled must be true or false", field="enabled")
        out["enabled"] = body["enabled"]
    if "timeout_ms" in body:
        t = body["timeout_ms"]
        if isinstance(t, bool) or not isinstance(t, int) or not MIN_TIMEOUT_MS <= t <= MAX_TIMEOUT_MS:
            raise InputError(f"timeout_ms must be a whole number from {MIN_TIMEOUT_MS} to {MAX_TIMEOUT_MS}",
                             field="timeout_ms")
        out["timeout_ms"] = t
    if "sim_behaviour" in body:
        sb = body["sim_behaviour"]
        if sb is not None and (not isinstance(sb, dict) or not all(
                isinstance(v, bool | int | str) for v in sb.values())):
            raise InputError("sim_behaviour must be an object of numbers, strings or booleans",
                             field="sim_behaviour")
        out["sim_behaviour"] = sb
    return out


def snapshot(m: Maker) -> dict[str, Any]:
    """The audited fields of a maker (the API key only as whether one is set)."""
    return {"name": m.name, "base_url": m.base_url, "api_key_set": m.has_api_key, "enabled": m.enabled,
            "timeout_ms": m.timeout_ms, "sim_behaviour": m.sim_behaviour}


def get(maker_id: int) -> Maker:
    """The maker with this id; 404 otherwise."""
    m = db.session.get(Maker, maker_id)
    if m is None:
        raise ServiceError(404, "NOT_FOUND", f"no maker with id {maker_id}")
    return m


def all_makers() -> list[Maker]:
    """Every configured maker, by name."""
    return list(db.session.scalars(select(Maker).order_by(Maker.name)))


def create(market: Market, body: Any, actor: User | None) -> Maker:
    """Add a maker (name unique), ask its /tokens, audit, commit."""
    values = parse_body(body, partial=False)
    if db.session.scalar(select(Maker.id).where(Maker.name == values["name"])) is not None:
        raise InputError(f"a maker named {values['name']} exists already", field="name", code="DUPLICATE_NAME")
    key = values.pop("api_key", None)
    m = Maker(**{"enabled": True, "timeout_ms": DEFAULT_TIMEOUT_MS, "tokens": [], **values})
    m.api_key_sealed = _sealed(market, key)
    db.session.add(m)
    db.session.flush()
    audit.record(actor, "maker.create", f"maker:{m.id} {m.name}", None, snapshot(m))
    db.session.commit()
    refresh_tokens(market, m)
    return m


def update(market: Market, maker_id: int, body: Any, actor: User | None) -> Maker:
    """Apply a partial change (a re-enable also lifts a suspension), audit the fields that changed, commit."""
    m = get(maker_id)
    values = parse_body(body, partial=True)
    if "name" in values and values["name"] != m.name and db.session.scalar(
            select(Maker.id).where(Maker.name == values["name"])) is not None:
        raise InputError(f"a maker named {values['name']} exists already", field="name", code="DUPLICATE_NAME")
    before = snapshot(m)
    for key, value in values.items():
        if key == "api_key":
            m.api_key_sealed = _sealed(market, value)
        else:
            setattr(m, key, value)
    if values.get("enabled") is True:
        m.suspended_until, m.fail_streak = None, 0
    old, new = audit.diff(before, snapshot(m))
    if "api_key" in values and "api_key_set" not in new:
        old, new = {**old, "api_key": "(replaced)"}, {**new, "api_key": "(replaced)"}
    if new:
        audit.record(actor, "maker.update", f"maker:{m.id} {m.name}", old, new)
    db.session.commit()
    if "base_url" in values or "api_key" in values:
        refresh_tokens(market, m)
    return m


def delete(maker_id: int, actor: User | None) -> None:
    """Remove a maker (its request and swap history stays), audited."""
    m = get(maker_id)
    audit.record(actor, "maker.delete", f"maker:{m.id} {m.name}", snapshot(m), None)
    db.session.delete(m)
    db.session.commit()


def _sealed(market: Market, api_key: str | None) -> str | None:
    """The API key sealed under the instance key (a Fernet token with a fresh random IV; None stays None)."""
    if api_key is None:
        return None
    return sealed.seal(market.settings.maker_key, api_key)


def endpoint(m: Maker, maker_key: bytes) -> MakerEndpoint:
    """How the RFQ client reaches a maker (its API key unsealed); 503 MAKER_KEY_UNREADABLE when the key was sealed
    under another instance key (MAKER_KEY changed or instance/maker-key lost: set the maker's key again)."""
    api_key = None
    if m.api_key_sealed:
        try:
            api_key = sealed.unseal(maker_key, m.api_key_sealed)
        except sealed.SealError:
            raise ServiceError(503, "MAKER_KEY_UNREADABLE", f"{m.venue}: its API key cannot be unsealed with this "
                               "instance's MAKER_KEY; an admin must set it again") from None
    return MakerEndpoint(m.id, m.venue, m.base_url, api_key, m.timeout_ms, dict(m.sim_behaviour or {}))


def refresh_tokens(market: Market, m: Maker) -> list[str] | None:
    """Ask the maker's GET /tokens and store the list (commit); None when it could not say (kept as it was)."""
    if market.rfq is None:
        return None
    try:
        ep = endpoint(m, market.settings.maker_key)
    except ServiceError:
        return None
    found = market.rfq.tokens(ep)
    if found is not None:
        m.tokens, m.tokens_at = found, utcnow()
        db.session.commit()
    return found


def state_of(m: Maker, now: datetime) -> str:
    """enabled, disabled or suspended (until a cool-down ends)."""
    if not m.enabled:
        return "disabled"
    if m.suspended_until is not None and m.suspended_until > now:
        return "suspended"
    return "enabled"


def enabled_makers() -> list[Maker]:
    """Every enabled maker (suspended ones too), by name."""
    return list(db.session.scalars(select(Maker).where(Maker.enabled.is_(True)).order_by(Maker.name)))


def for_order(order: Order, now: datetime, maker_key: bytes,
              rows: Iterable[Maker] | None = None) -> list[MakerEndpoint]:
    """The makers to ask for an order: enabled, not suspended, and advertising both mints in a /tokens list younger
    than 10 minutes (refreshed when an admin saves the maker; an older or missing list filters nothing: the
    maker answers 404 for what it does not quote). `rows`: enabled_makers() when the caller has read them."""
    found = []
    for m in enabled_makers() if rows is None else rows:
        if state_of(m, now) != "enabled":
            continue
        mints = set(m.tokens or [])
        fresh = m.tokens_at is not None and now - m.tokens_at <= TOKENS_MAX_AGE  # a stale list filters nothing
        if fresh and not {order.input_token.mint, order.output_token.mint} <= mints:
            continue
        try:
            found.append(endpoint(m, maker_key))
        except ServiceError as exc:  # never asked without its key (the message holds no secret)
            log.warning("maker %s not asked: %s", m.venue, exc)
    return found


def monitoring_rows(now: datetime) -> list[dict[str, Any]]:
    """Each maker for the monitoring page: state, failure streak, suspension, last error, last hour's figures, and
    the swaps it was sent whose answer was never recorded (their trades are held `unknown` for ops)."""
    since, stuck = now - timedelta(hours=1), now - UNANSWERED_AFTER
    return [{"name": m.name, "venue": m.venue, "state": state_of(m, now), "fail_streak": m.fail_streak,
             "suspended_until": m.suspended_until, "suspensions": m.suspensions, "last_error": m.last_error,
             "hour": maker_scorecards.scorecard(m.id, since), "unanswered": maker_log.unanswered(m.id, stuck)}
            for m in all_makers()]
