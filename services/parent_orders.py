"""Parent orders (issue 16): validate and place one, then step it on the job runner, slice by slice.

Each step gathers (the parent, its slices, a quote for the slice), decides with core.schedule (what is owed now, wait
or go, the limit price) and applies one slice as a normal trade through the router: a firm quote executed under the
slice attempt's idempotency key, so a retried slice never fills twice.

The rule for a failed slice: the attempt is recorded `failed` with its trade (or the refusal), the same slice is tried
again under a new attempt key after PARENT_RETRY_S, and after PARENT_MAX_ATTEMPTS failures in a row of one slice the
parent order fails, keeping what it filled. A slice whose route is worse than the limit price waits (no trade); at
the deadline a parent with a limit price ends `completed`, short of its amount when slices waited, never filled worse
than the limit; one without a limit catches up on what is owed (a runner that was down sends the remainder late).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import jupiter_api
import trade_logger
from core import codec, router, schedule
from core.orders import Decision, Order
from core.schedule import Strategy
from ledger import parent_orders as store
from ledger.parent_orders import ParentOrder, ParentSlice
from models import EXECUTED, Trade, db, utcnow
from services import execution, quoting, trading
from services.errors import ServiceError
from services.market import Market
from services.parent_progress import children, filled_atoms, order_of
from services.parent_requests import parse_request


@dataclass(frozen=True, slots=True)
class ParentSettings:
    """How parent orders are stepped (README's table): lease, retries, the adaptive strategy's threshold."""

    lease_s: float = 60.0  # one worker steps a parent at a time; a dead worker's lease expires after this
    retry_s: float = 10.0  # a failed or limit-held slice is tried again after this (at most an interval)
    max_attempts: int = 3  # failures in a row of one slice before the parent fails
    adaptive_min_gain_bps: Decimal = Decimal(2)  # adaptive waits only when waiting saves at least this

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ParentSettings:
        """The settings of a Flask config mapping (defaults where a key is absent)."""
        return cls(lease_s=float(config.get("PARENT_LEASE_S", 60)), retry_s=float(config.get("PARENT_RETRY_S", 10)),
                   max_attempts=int(config.get("PARENT_MAX_ATTEMPTS", 3)),
                   adaptive_min_gain_bps=Decimal(str(config.get("ADAPTIVE_MIN_GAIN_BPS", 2))))


def place(market: Market, body: Any, *, user_id: int | None, idempotency_key: str | None = None,
          now: datetime | None = None) -> tuple[ParentOrder, bool]:
    """Create a working parent order (its arrival mid recorded now); (parent, created). A retried key replays."""
    req = parse_request(body)
    order, duration_s, slices, limit_price = req.order, req.schedule.duration_s, req.schedule.slices, req.limit_price
    body_hash = trading.request_hash({**codec.order_json(order), "strategy": req.strategy, "duration_s": duration_s,
                                      "slices": slices, "limit_price": str(limit_price) if limit_price else None})
    key = execution.scoped_key(idempotency_key, user_id)
    if key and (first := _replay(key, body_hash)) is not None:
        return first, False
    now = now or utcnow()
    try:
        mid = market.mid_price(order.input_token, order.output_token, now.timestamp())
    except jupiter_api.JupiterError as exc:
        raise ServiceError(503, "REFERENCE_UNAVAILABLE", f"no reference price ({exc}); nothing was placed") from None
    row = ParentOrder(status=store.WORKING, user_id=user_id, idempotency_key=key, request_hash=body_hash,
                      input_mint=order.input_token.mint, output_mint=order.output_token.mint,
                      swap_mode=str(order.swap_mode), slippage_bps=order.slippage_bps,
                      amount_atoms=order.amount_atoms, strategy=str(req.strategy), duration_s=duration_s, slices=slices,
                      limit_price=limit_price, arrival_mid=mid.quantize(trade_logger.MID_STEP), created_at=now,
                      start_at=now, deadline_at=now + timedelta(seconds=duration_s), next_due_at=now, note="")
    try:
        return store.create(row), True
    except store.DuplicateParent:
        first = _replay(key or "", body_hash)
        if first is None:
            raise
        return first, False


def _replay(key: str, body_hash: str) -> ParentOrder | None:
    """The parent placed under this key; 409 when the same key came with another body."""
    first = store.by_key(key)
    if first is not None and first.request_hash != body_hash:
        raise ServiceError(409, "IDEMPOTENCY_CONFLICT", "this Idempotency-Key was used with a different request body")
    return first


def cancel(parent_id: int, now: datetime | None = None) -> ParentOrder:
    """Stop a working parent: no new slice starts; a slice already executing finishes and is recorded."""
    parent = db.session.get(ParentOrder, parent_id)
    if parent is None:
        raise ServiceError(404, "NOT_FOUND", f"no parent order with id {parent_id}")
    if parent.status != store.WORKING:
        raise ServiceError(409, "NOT_WORKING", f"parent order {parent_id} is {parent.status} already")
    store.finish(parent_id, store.CANCELLED, now or utcnow(), "cancelled by the trader")
    db.session.refresh(parent)
    return parent


def step(market: Market, ps: ParentSettings, parent_id: int, now: datetime | None = None) -> datetime | None:
    """Advance a parent order once; return when it is next due (None: finished, or another worker holds it)."""
    now = now or utcnow()
    if not store.take_lease(parent_id, now, ps.lease_s):
        return None
    next_at: datetime | None = None
    note: str | None = None
    try:
        next_at, note = _step(market, ps, parent_id, now)
    finally:
        store.release(parent_id, next_at, note)
    return next_at


def _step(market: Market, ps: ParentSettings, parent_id: int, now: datetime) -> tuple[datetime | None, str | None]:
    """The step under the lease: resolve slices in flight, then finish, wait or send the next slice."""
    parent = db.session.get(ParentOrder, parent_id)
    if parent is None:
        return None, None
    if parent.status == store.WORKING and parent.next_due_at is not None and parent.next_due_at > now:
        return parent.next_due_at, None  # not due yet (an adaptive wait, a retry back-off): a duplicate drops out
    for sl in [s for s in store.slices_of(parent_id) if s.status == store.SENT]:
        waiting = _resolve(market, ps, parent, sl, now)
        if waiting is not None:
            return waiting, "a slice's trade is still pending: waiting for it to settle or be recovered"
    db.session.refresh(parent)
    if parent.status != store.WORKING:
        return None, None
    slices = store.slices_of(parent_id)
    trades = children(slices)
    filled = filled_atoms(parent, slices, trades)
    index = sum(1 for s in slices if s.status == store.FILLED)
    failures = [s for s in slices if s.index == index and s.status == store.SLICE_FAILED]
    sizes = schedule.slice_sizes(parent.amount_atoms, parent.slices)
    start_s, now_s = parent.start_at.timestamp(), now.timestamp()
    plan = schedule.plan_step(sizes, start_s, parent.duration_s, filled, now_s, len(failures), ps.max_attempts,
                              ps.retry_s, limited=parent.limit_price is not None)
    if plan.done:
        why = f": {failures[-1].note}" if plan.done == store.FAILED and failures else ""
        store.finish(parent_id, plan.done, now, plan.reason + why)
        return None, None
    if plan.wake_s is not None:
        return _at(plan.wake_s), plan.reason
    retry_at = max((s.done_at for s in failures if s.done_at), default=None)
    if retry_at is not None and (retry_at + timedelta(seconds=ps.retry_s)) > now:
        return retry_at + timedelta(seconds=ps.retry_s), f"slice {index + 1} failed; retrying"
    order = order_of(parent, plan.size_atoms)
    gap_s = schedule.interval_s(parent.duration_s, parent.slices)
    if parent.strategy == Strategy.ADAPTIVE:
        cost_now, cost_after = cost_now_and_after(market, order, gap_s)
        slices_left = parent.slices - schedule.slices_due(start_s, parent.duration_s, parent.slices, now_s) + 1
        if cost_now is not None and cost_after is not None and schedule.adaptive_wait(
                cost_now, cost_after, ps.adaptive_min_gain_bps, now_s, gap_s, parent.deadline_at.timestamp(),
                slices_left):
            return now + timedelta(seconds=gap_s), (f"adaptive: {cost_now:.1f} bps now, {cost_after:.1f} bps after "
                                                    f"{gap_s:.0f} s: waiting (the slice joins the next)")
    attempt = 1 + max((s.attempt for s in slices if s.index == index), default=0)
    return _send(market, ps, parent, index, attempt, order, now, min(ps.retry_s, gap_s))


def _at(epoch_s: float) -> datetime:
    """A UTC datetime of epoch seconds."""
    return datetime.fromtimestamp(epoch_s, tz=utcnow().tzinfo)


def cost_now_and_after(market: Market, order: Order, wait_s: float) -> tuple[Decimal | None, Decimal | None]:
    """The market model's all-in cost of the slice now, and after waiting wait_s (dealer inventories replenished to
    then, plus the timing risk of waiting); None when the slice cannot be routed."""
    try:
        cost_now = quoting.decide(market, quoting.gather(market, order)).cost_bps
        later = quoting.decide(market, quoting.gather(market, order, utcnow() + timedelta(seconds=wait_s))).cost_bps
    except ServiceError:
        return None, None
    s = market.settings
    return cost_now, later + router.delay_risk_bps(s.jupiter_annual_vol_pct, s.jupiter_vol_z, int(wait_s * 1000))


def limit_breach(parent: ParentOrder, order: Order, decision: Decision) -> str | None:
    """Why the slice's worst accepted fill (min out / max in at its slippage) misses the limit price, or None."""
    if parent.limit_price is None:
        return None
    i, o = order.input_token.decimals, order.output_token.decimals
    if order.exact_in:
        need = schedule.limit_out_atoms(order.amount_atoms, parent.limit_price, i, o)
        got = decision.min_out_amount_atoms or 0
        return None if got >= need else f"the route pays at least {got} atoms, the limit needs {need}: waiting"
    most = schedule.limit_in_atoms(order.amount_atoms, parent.limit_price, i, o)
    cost = decision.max_in_amount_atoms or decision.in_amount_atoms
    return None if cost <= most else f"the route may cost {cost} atoms, the limit allows {most}: waiting"


def _send(market: Market, ps: ParentSettings, parent: ParentOrder, index: int, attempt: int, order: Order,
          now: datetime, retry_s: float) -> tuple[datetime | None, str | None]:
    """Quote the slice, check the limit, record the attempt, execute it under its key."""
    try:
        row, _ = quoting.quote(market, order, user_id=parent.user_id)
    except ServiceError as exc:
        store.add_slice(parent.id, index, attempt, order.amount_atoms, now, store.SLICE_FAILED, f"{exc.code}: {exc}")
        return now + timedelta(seconds=retry_s), f"slice {index + 1} could not be quoted ({exc.code})"
    breach = limit_breach(parent, order, codec.decision_from_json(row.payload["decision_exact"]))
    if breach:
        return now + timedelta(seconds=retry_s), f"limit price: {breach}"
    sl = store.add_slice(parent.id, index, attempt, order.amount_atoms, now)
    return _execute(market, parent, sl, row.id, now, retry_s)


def _execute(market: Market, parent: ParentOrder, sl: ParentSlice, quote_id: str, now: datetime,
             retry_s: float) -> tuple[datetime | None, str | None]:
    """Execute a recorded attempt's quote under its key and close the attempt with its trade."""
    key = sl.idempotency_key
    try:
        trade = trading.execute_quote(market, quote_id, idempotency_key=key, body_hash=trading.request_hash(key),
                                      user_id=parent.user_id)
    except trade_logger.DuplicateTrade:
        trade = store.trade_by_key(key)
    except ServiceError as exc:
        trade = exc.trade if exc.trade is not None and exc.trade.id else store.trade_by_key(key)
        if trade is None or trade.status != "pending":
            store.close_slice(sl.id, store.SLICE_FAILED, utcnow(), trade.id if trade else None, f"{exc.code}: {exc}")
            return now + timedelta(seconds=retry_s), f"slice {sl.index + 1} failed ({exc.code})"
    return _close(sl, trade, now, retry_s)


def _close(sl: ParentSlice, trade: Trade | None, now: datetime, retry_s: float) -> tuple[datetime | None, str | None]:
    """Close an attempt from its trade's state; a pending trade keeps it open."""
    if trade is None or trade.status == "pending":
        return now + timedelta(seconds=min(retry_s, 5)), "a slice's trade is pending"
    status = store.FILLED if trade.status in EXECUTED else store.SLICE_FAILED  # partial: what filled counts
    store.close_slice(sl.id, status, utcnow(), trade.id, "" if status == store.FILLED
                      else f"{trade.error_code}: {trade.error}")
    return now, None


def _resolve(market: Market, ps: ParentSettings, parent: ParentOrder, sl: ParentSlice,
             now: datetime) -> datetime | None:
    """Settle an attempt a (possibly dead) worker left `sent`: close it from its trade, recover a stale pending
    trade, or execute it again under the same key when no trade was made. Returns a wake time while it pends."""
    trade = store.trade_by_key(sl.idempotency_key)
    if trade is not None and trade.status == "pending":
        execution.recover(now, market.settings.pending_timeout_s)
        db.session.expire_all()
        trade = store.trade_by_key(sl.idempotency_key)
    if trade is not None:
        wake, _ = _close(sl, trade, now, ps.retry_s)
        return wake if trade.status == "pending" else None
    if parent.status != store.WORKING:
        store.close_slice(sl.id, store.WAITED, now, None, "the parent stopped before this slice executed")
        return None
    order = order_of(parent, sl.planned_atoms)
    try:
        row, _ = quoting.quote(market, order, user_id=parent.user_id)
    except ServiceError as exc:
        store.close_slice(sl.id, store.SLICE_FAILED, now, None, f"{exc.code}: {exc}")
        return None
    breach = limit_breach(parent, order, codec.decision_from_json(row.payload["decision_exact"]))
    if breach:
        store.close_slice(sl.id, store.WAITED, now, None, f"limit price: {breach}")
        return None
    _execute(market, parent, sl, row.id, now, ps.retry_s)
    trade = store.trade_by_key(sl.idempotency_key)
    return now + timedelta(seconds=min(ps.retry_s, 5)) if trade is not None and trade.status == "pending" else None
