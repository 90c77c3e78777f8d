"""Admin changes to an OTC pool's configuration: parse and validate a partial update, apply it locked, audit it.

Used by `PATCH /api/v1/pools/<id>` and by the pools page's edit form. Validation is two-step: each field's own
type and column range here, then the whole new configuration through otc_engine.PoolParams, whose checks
(min <= max, spreads and fee under 10,000 bps at full size, TTL > 0, ...) are the single source of truth.
"""
from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from sqlalchemy import select

import trade_logger
from core.tokens import parse_atoms, parse_decimal
from ledger import audit, inventory
from models import OTCPool, User, db, utcnow

# field -> maximum integer digits of its Numeric column (all have 4 decimal places)
DECIMAL_FIELDS = {"base_spread_bps": 8, "size_spread_bps": 8, "fee_bps": 8, "size_exponent": 4,
                  "annual_vol_pct": 4, "vol_z": 4, "replenish_pct_per_hour": 4}
ATOM_FIELDS = ("min_trade_base_atoms", "max_trade_base_atoms", "target_base_atoms", "target_quote_atoms")
MS_FIELDS = ("execution_delay_ms", "delay_jitter_ms", "quote_ttl_ms")
MAX_MS = 3_600_000  # an hour: longer delays or TTLs are configuration mistakes
EDITABLE = (*DECIMAL_FIELDS, *ATOM_FIELDS, *MS_FIELDS, "active")
DECIMAL_PLACES = 4


class PoolConfigError(ValueError):
    """A refused pool change: message, the field at fault (if one) and an API.md code."""

    def __init__(self, message: str, field: str | None = None, code: str = "INVALID_POOL_CONFIG"):
        self.field, self.code = field, code
        super().__init__(message)


def _decimal(name: str, value: Any) -> Decimal:
    """A decimal string (core.tokens.parse_decimal, as amounts) or a whole JSON number, with at most 4 decimal
    places, that fits the column; floats are refused."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PoolConfigError(f"{name} must be a decimal string such as \"12.5\"", name)
    try:
        d = parse_decimal(value, name) if isinstance(value, str) else Decimal(value)
    except ValueError as exc:
        raise PoolConfigError(str(exc), name) from None
    if not d.is_finite() or d < 0:
        raise PoolConfigError(f"{name} must be a finite number >= 0", name)
    if d >= Decimal(10) ** DECIMAL_FIELDS[name]:  # before quantize, which overflows on huge values
        raise PoolConfigError(f"{name} must be below {10 ** DECIMAL_FIELDS[name]}", name)
    if d != d.quantize(Decimal(1).scaleb(-DECIMAL_PLACES), rounding="ROUND_DOWN"):
        raise PoolConfigError(f"{name} allows at most {DECIMAL_PLACES} decimal places", name)
    return d.quantize(Decimal(1).scaleb(-DECIMAL_PLACES))


def _ms(name: str, value: Any) -> int:
    """A whole number of milliseconds from 0 to an hour."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MS:
        raise PoolConfigError(f"{name} must be a whole number of milliseconds from 0 to {MAX_MS}", name)
    return value


def parse_changes(body: Any) -> dict[str, Any]:
    """Validate a partial update (API.md types: atoms and decimals as strings, ms as integers, active as bool)."""
    if not isinstance(body, dict):
        raise PoolConfigError("the request body must be a JSON object", code="MALFORMED_JSON")
    unknown = sorted(set(body) - set(EDITABLE))
    if unknown:
        raise PoolConfigError(f"{unknown[0]} cannot be changed; editable fields: {', '.join(EDITABLE)}",
                              unknown[0], "UNKNOWN_FIELD")
    if not body:
        raise PoolConfigError("give at least one field to change", code="EMPTY_CHANGE")
    changes: dict[str, Any] = {}
    for name, value in body.items():
        if name in DECIMAL_FIELDS:
            changes[name] = _decimal(name, value)
        elif name in ATOM_FIELDS:
            try:
                changes[name] = parse_atoms(value, name)
            except ValueError:
                raise PoolConfigError(f"{name} must be a string of ASCII digits: a positive number of atoms below "
                                      "2^63", name) from None
        elif name in MS_FIELDS:
            changes[name] = _ms(name, value)
        elif not isinstance(value, bool):
            raise PoolConfigError("active must be true or false", name)
        else:
            changes[name] = value
    return changes


def snapshot(pool: OTCPool) -> dict[str, Any]:
    """The editable configuration of a pool, for the audit log."""
    return {name: getattr(pool, name) for name in EDITABLE}


def apply_changes(pool_id: int, changes: dict[str, Any], actor: User | None) -> OTCPool:
    """Lock the pool, check the new configuration with the engine, settle replenishment so far, apply, audit, commit.

    Inventory replenished up to now is booked under the OLD parameters (as a fill would), so a new rate or
    target only applies from this instant. The version bump makes any fill racing with the edit retry.
    """
    row = db.session.execute(select(OTCPool).where(OTCPool.id == pool_id).with_for_update()
                             .execution_options(populate_existing=True)).scalar_one()
    old_params = trade_logger.pool_params(row)
    try:
        dataclasses.replace(old_params, **changes)
    except ValueError as exc:
        db.session.rollback()
        raise PoolConfigError(str(exc)) from None
    inventory.move(pool_id, 0, 0, utcnow())  # book replenishment so far under the old parameters (as a fill does)
    row = db.session.execute(select(OTCPool).where(OTCPool.id == pool_id)
                             .execution_options(populate_existing=True)).scalar_one()
    before = snapshot(row)
    for name, value in changes.items():
        setattr(row, name, value)
    row.version += 1
    old, new = audit.diff(before, snapshot(row))
    if new:
        audit.record(actor, "pool.update", f"pool:{row.id} {row.name}", old, new)
    db.session.commit()
    return row
