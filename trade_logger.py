"""The apply step: the only module that writes trades, legs, pool inventory and metrics, and commits.

A trade moves pending -> filled | failed | unknown, and unknown -> filled | failed, each step one transaction:
- reserve(): lock the OTC pools in id order, debit what they pay out, insert the trade as `pending` (the
  idempotency key and the quote are claimed in the same transaction: unique key, conditional UPDATE of the quote);
- settle(): `pending` -> `filled`, record the executed legs, credit what the pools received;
- fail(): `pending` -> `failed`, give the reserved payouts back;
- ledger.chain_legs.mark_unknown(): `pending` -> `unknown`, a Jupiter leg's transaction was sent but not seen
  confirmed: its OTC reservations stay held until recovery asks the chain (settle or fail finish it).
A rejected trade is inserted as `rejected` and moves nothing. Each transaction is retried on SQLITE_BUSY and on
PostgreSQL deadlock/serialization errors; pool inventory moves are in inventory.move().
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Context, Decimal
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.orders import Decision, Order
from core.units import BPS, SwapMode, bps_of, saved_atoms
from ledger import inventory, maker_log, rollups, tca_store
from ledger.inventory import FillRejected, pool_inventory, pool_params
from models import Quote, Trade, TradeLeg, db

__all__ = ["DuplicateTrade", "FillPlan", "FillRejected", "LegFill", "QuoteExpired", "fail", "pool_inventory",
           "pool_params", "record_fill", "record_rejection", "reserve", "settle"]
UNFINISHED = ("pending", "unknown")  # statuses a finisher (settle, fail) moves on

TXN_ATTEMPTS = 6
MID_STEP = Decimal(1).scaleb(-18)  # trades.arrival_mid keeps 18 decimals: rounded here, so it reads back exactly
T = TypeVar("T")


class DuplicateTrade(Exception):
    """A trade with this idempotency key or quote id already exists: `trade_id` is the first one."""

    def __init__(self, trade_id: int | None):
        self.trade_id = trade_id
        super().__init__("duplicate trade")


class QuoteExpired(Exception):
    """The firm quote expired before the trade could be reserved; nothing moved."""


@dataclass(frozen=True, slots=True)
class LegFill:
    """A leg to apply: venue, pool row id (OTC only), atoms in/out, fee and delay."""

    venue: str
    pool_id: int | None
    input_mint: str
    in_amount_atoms: int
    out_amount_atoms: int
    fee_atoms: int = 0
    cost_bps: Decimal | None = None
    delay_ms: int = 0


@dataclass(frozen=True, slots=True)
class FillPlan:
    """Everything the apply step records for one trade."""

    order: Order
    decision: Decision
    legs: tuple[LegFill, ...]
    options: list[dict[str, Any]]
    quoted_at: datetime
    notional_usd_atoms: int
    savings_usd_atoms: int
    price_impact_bps: Decimal | None = None
    quote_id: str | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    user_id: int | None = None
    latency_ms: int | None = None
    arrival_mid: Decimal | None = None  # the reference mid the decision was priced against
    tca: tca_store.Decided | None = None  # decision-time TCA facts (services/tca.py), stored with the trade
    extra: dict[str, Any] = field(default_factory=dict)


def unique_violation(exc: IntegrityError) -> bool:
    """True when an insert hit a unique key (idempotency key, quote id): PostgreSQL 23505 or SQLite's UNIQUE."""
    if getattr(exc.orig, "pgcode", None) is not None:
        return exc.orig.pgcode == "23505"  # type: ignore[union-attr]
    return "unique constraint failed" in str(exc.orig).lower()


def _transient(exc: DBAPIError) -> bool:
    """SQLITE_BUSY / locked, or a PostgreSQL deadlock or serialization failure: worth retrying the transaction."""
    if getattr(exc.orig, "pgcode", None) in ("40001", "40P01"):
        return True
    text = str(exc.orig).lower()
    return "database is locked" in text or "database table is locked" in text or "busy" in text


def _in_transaction(work: Callable[[], T], plan: FillPlan | None = None) -> T:
    """Run work() and commit; roll back on any error, retry transient ones, map a unique violation to DuplicateTrade."""
    for attempt in range(TXN_ATTEMPTS):
        try:
            result = work()
            _commit_keeping(result)
            return result
        except IntegrityError as exc:
            db.session.rollback()
            if not unique_violation(exc):
                raise  # a broken foreign key or NOT NULL is a bug, not a retried request
            raise DuplicateTrade(_existing_trade_id(plan)) from None
        except DBAPIError as exc:
            db.session.rollback()
            if not _transient(exc) or attempt == TXN_ATTEMPTS - 1:
                raise
            time.sleep(0.005 * 2**attempt)
        except BaseException:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")


def _commit_keeping(result: object) -> None:
    """Commit; a Trade result (with its legs and TCA row) stays loaded as just written, every other object expires.

    The trade, its legs and TCA row hold exactly what this transaction flushed (or read under its claim), so the
    caller and the serialiser read them without the SELECTs a commit's expiry would cost; pools and quotes moved by
    Core UPDATEs expire as usual.
    """
    session = db.session()
    if not isinstance(result, Trade):
        session.commit()
        return
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit
    if not expire_on_commit:
        return
    loaded = result.__dict__  # no lazy load here: only what the transaction loaded stays
    kept = {id(result), *(id(leg) for leg in loaded.get("legs", ())), id(loaded.get("tca"))}
    for obj in list(session.identity_map.values()):
        if id(obj) not in kept:
            session.expire(obj)


in_transaction = _in_transaction  # the unit of work, for the ledger's other writers (ledger.chain_legs)


def _resolved_legs(plan: FillPlan) -> tuple[LegFill, ...]:
    """The plan's legs with every OTC leg's pool id filled in from its venue; FillRejected for an unknown pool."""
    legs = []
    for leg in plan.legs:
        if leg.pool_id is None and leg.venue.startswith("otc:"):
            pool_id = inventory.pool_id_for(leg.venue)
            if pool_id is None:
                raise FillRejected("POOL_UNKNOWN", f"{leg.venue} no longer exists; nothing was executed")
            leg = replace(leg, pool_id=pool_id)
        legs.append(leg)
    return tuple(legs)


def reserve(plan: FillPlan, now: datetime) -> Trade:
    """Insert the trade as `pending` and debit each OTC pool's payout, in one transaction.

    Raises FillRejected (nothing moved), DuplicateTrade (key or quote used already) or QuoteExpired.
    """
    def work() -> Trade:
        legs = _resolved_legs(plan)
        pays = [(leg.pool_id, leg.out_amount_atoms) for leg in legs if leg.pool_id is not None]
        inventory.move_legs(pays, plan.order.input_token.mint, now, received=False, sign=-1, require_active=True)
        trade = _trade_row(plan, "pending", now, legs)
        db.session.add(trade)
        db.session.flush()
        tca_store.add_decided(trade, plan.tca)
        if plan.quote_id:
            _claim_quote(plan.quote_id, trade.id, now, check_expiry=True)
        return trade

    return _in_transaction(work, plan)


def _claim_pending(trade_id: int, status: str, **values: Any) -> Trade | None:
    """Move a trade out of `pending`/`unknown` (conditional UPDATE: one finisher wins); the reloaded trade, or None."""
    result = db.session.execute(
        update(Trade).where(Trade.id == trade_id, Trade.status.in_(UNFINISHED)).values(status=status, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    return db.session.execute(
        select(Trade).where(Trade.id == trade_id).execution_options(populate_existing=True)
    ).scalar_one()


def settle(trade_id: int, fills: Mapping[int, tuple[int, int]], now: datetime, delay_ms: int = 0,
           slots: Mapping[int, int] | None = None, *, venues: Mapping[int, str] | None = None,
           note: str = "") -> Trade:
    """`pending`/`unknown` -> `filled`: store executed leg atoms (leg id -> (in, out)) and each on-chain leg's slot,
    and credit what each pool received; `venues` names the venue a re-routed leg (leg id) filled on instead (RFQ
    last look), `note` says why."""
    def work() -> Trade | None:
        trade = _claim_pending(trade_id, "filled", executed_at=now, settled_at=now + timedelta(milliseconds=delay_ms),
                               error=None, error_code=None)
        if trade is None:
            return None
        changed = maker_log.reroute(trade, venues or {}, note)
        for leg in trade.legs:
            if slots and leg.id in slots:
                leg.slot = slots[leg.id]
            if leg.id in fills and fills[leg.id] != (leg.in_amount_atoms, leg.out_amount_atoms):
                leg.in_amount_atoms, leg.out_amount_atoms = fills[leg.id]
                changed = True
        if changed:
            _retotal(trade)
        tca_store.settle(trade)
        gets = [(leg.pool_id, leg.in_amount_atoms) for leg in trade.legs if leg.pool_id is not None]
        inventory.move_legs(gets, trade.input_mint, now, received=True, sign=1)
        rollups.add_trades([trade_id])  # analytics rollups, same transaction (ORM inserts: rollups' flush hook)
        return trade

    return _in_transaction(work) or _current(trade_id)


def fail(trade_id: int, code: str, reason: str, now: datetime) -> Trade:
    """`pending` -> `failed`: give every reserved payout back to its pool; nothing stays executed."""
    def work() -> Trade | None:
        trade = _claim_pending(trade_id, "failed", error=reason, error_code=code, failed_at=now)
        if trade is None:
            return None
        pays = [(leg.pool_id, leg.out_amount_atoms) for leg in trade.legs if leg.pool_id is not None]
        inventory.move_legs(pays, trade.input_mint, now, received=False, sign=1)
        rollups.add_trades([trade_id])
        return trade

    return _in_transaction(work) or _current(trade_id)


def record_fill(plan: FillPlan, now: datetime) -> Trade:
    """Reserve and settle at once at the plan's amounts (for callers with no venue call between the two)."""
    trade = reserve(plan, now)
    return settle(trade.id, {}, now, max((leg.delay_ms for leg in plan.legs), default=0))


def _current(trade_id: int) -> Trade:
    """The trade as stored now (another finisher moved it out of pending first)."""
    return db.session.execute(
        select(Trade).where(Trade.id == trade_id).execution_options(populate_existing=True)
    ).scalar_one()


def _retotal(trade: Trade) -> None:
    """Recompute a trade's totals and savings (atoms, bps rounded down) from its legs after execution."""
    trade.in_amount_atoms = sum(leg.in_amount_atoms for leg in trade.legs)
    trade.out_amount_atoms = sum(leg.out_amount_atoms for leg in trade.legs)
    baseline = (trade.jupiter_only_out_amount_atoms if trade.swap_mode == SwapMode.EXACT_IN
                else trade.jupiter_only_in_amount_atoms)
    if not baseline:
        return
    saved, base = saved_atoms(trade.swap_mode, trade.in_amount_atoms, trade.out_amount_atoms,
                              trade.jupiter_only_in_amount_atoms or 0, trade.jupiter_only_out_amount_atoms or 0)
    decided_atoms, decided_usd = trade.savings_atoms, trade.savings_usd_atoms
    trade.savings_atoms = saved
    trade.savings_bps = bps_of(saved, base)
    # USD follows the atoms at the rate used when deciding (or, without one, the notional's), rounded toward zero
    if decided_atoms and decided_usd:
        trade.savings_usd_atoms = int(Decimal(decided_usd) * saved / decided_atoms)
    else:
        trade.savings_usd_atoms = int(Decimal(trade.notional_usd_atoms) * trade.savings_bps / BPS)


def _claim_quote(quote_id: str, trade_id: int, now: datetime, *, check_expiry: bool) -> None:
    """Mark a firm quote used by this trade, once (conditional UPDATE); DuplicateTrade or QuoteExpired otherwise."""
    cond = [Quote.id == quote_id, Quote.used_at.is_(None)]
    if check_expiry:
        cond.append(Quote.expires_at > now)
    result = db.session.execute(
        update(Quote).where(*cond).values(used_at=now, trade_id=trade_id).execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        return
    row = db.session.execute(select(Quote.used_at, Quote.trade_id).where(Quote.id == quote_id)).one_or_none()
    if row is not None and row.used_at is None:
        raise QuoteExpired(f"quote {quote_id} expired before it could be executed; nothing moved")
    raise DuplicateTrade(row.trade_id if row is not None else None)


def record_rejection(plan: FillPlan | None, order: Order, reason: str, now: datetime, *,
                     code: str = "REJECTED", **fields: Any) -> Trade:
    """Record a rejected trade (no liquidity moved) in its own transaction; it uses up its quote, if any."""
    def work() -> Trade:
        if plan is not None:
            trade = _trade_row(plan, "rejected", now, plan.legs)
        else:
            # the order's fixed side keeps the requested amount; the other side was never quoted to a fill
            requested = {"in_amount_atoms": order.amount_atoms if order.exact_in else 0,
                         "out_amount_atoms": 0 if order.exact_in else order.amount_atoms}
            trade = Trade(status="rejected", **_order_fields(order), venue="none", **requested, explanation="",
                          created_at=now, **{"options": [], **fields})
        trade.error, trade.error_code = reason, code
        trade.legs = []
        db.session.add(trade)
        db.session.flush()
        if trade.quote_id:
            _claim_quote(trade.quote_id, trade.id, now, check_expiry=False)
        return trade

    return _in_transaction(work, plan)


def _order_fields(order: Order) -> dict[str, Any]:
    """Columns that describe the order itself."""
    return {
        "pair": order.pair, "input_mint": order.input_token.mint, "output_mint": order.output_token.mint,
        "input_symbol": order.input_token.symbol, "output_symbol": order.output_token.symbol,
        "swap_mode": order.swap_mode, "slippage_bps": order.slippage_bps,
    }


def _trade_row(plan: FillPlan, status: str, now: datetime, legs: Iterable[LegFill]) -> Trade:
    """A Trade with its legs from a plan (not yet added to the session)."""
    d = plan.decision
    trade = Trade(
        status=status, quote_id=plan.quote_id, idempotency_key=plan.idempotency_key,
        request_hash=plan.request_hash, user_id=plan.user_id, **_order_fields(plan.order), venue=d.venue,
        in_amount_atoms=d.in_amount_atoms, out_amount_atoms=d.out_amount_atoms,
        min_out_amount_atoms=d.min_out_amount_atoms, max_in_amount_atoms=d.max_in_amount_atoms,
        jupiter_only_out_amount_atoms=d.jupiter_only_out_amount_atoms,
        jupiter_only_in_amount_atoms=d.jupiter_only_in_amount_atoms,
        savings_atoms=d.savings_atoms, savings_bps=d.savings_bps,
        notional_usd_atoms=plan.notional_usd_atoms, savings_usd_atoms=plan.savings_usd_atoms,
        price_impact_bps=plan.price_impact_bps, cost_bps=d.cost_bps, explanation=d.explanation,
        options=plan.options, latency_ms=plan.latency_ms, created_at=now, quoted_at=plan.quoted_at,
        arrival_mid=None if plan.arrival_mid is None else plan.arrival_mid.quantize(MID_STEP, context=Context(prec=38)),
    )
    trade.legs = [
        TradeLeg(venue=leg.venue, pool_id=leg.pool_id, in_amount_atoms=leg.in_amount_atoms,
                 out_amount_atoms=leg.out_amount_atoms, fee_atoms=leg.fee_atoms, cost_bps=leg.cost_bps)
        for leg in legs
    ]
    return trade


def _existing_trade_id(plan: FillPlan | None) -> int | None:
    """The trade that already holds this plan's idempotency key or quote id."""
    if plan is None:
        return None
    if plan.idempotency_key:
        found = db.session.scalar(select(Trade.id).where(Trade.idempotency_key == plan.idempotency_key))
        if found:
            return found
    if plan.quote_id:
        return db.session.scalar(select(Trade.id).where(Trade.quote_id == plan.quote_id))
    return None
