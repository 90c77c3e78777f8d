"""Execution of a planned trade: reserve (pending) -> call the venues -> settle (filled) or fail; and recovery.

Without chain access (an injected Jupiter client, in tests) the Jupiter leg "executes" as a swap at the price of that
moment: a fresh Jupiter quote for the leg's amount. OTC legs are firm at their reserved price. The trade
as a whole must still meet the minimum out (ExactIn) or maximum in (ExactOut) the trader accepted, or it fails and
every reservation is given back.

With on-chain execution (market.chain, services/chain_execution.py) the Jupiter leg is swapped, signed, sent and
confirmed, and its amounts are what moved in the wallet; a transaction sent but not seen confirmed leaves the
trade `unknown` (never `failed`), with its OTC reservations held.

Recovery: a trade left `pending` by a process that died (crash, worker killed), or `unknown`, is finished by
`recover()`: OTC-only trades are completed at their firm, already reserved prices; a trade whose Jupiter leg was
signed asks the chain (landed: filled at what moved; its blockhash expired with no status: failed and released;
else `unknown`); a Jupiter leg never signed is failed and its OTC reservations released. Maker legs (issue 15): a
leg whose maker accepted at last look is filled in every outcome (the rest failing makes the trade `partial`); a
swap sent whose answer was never recorded leaves the trade `unknown` with everything held (Jupiter Z has no status
endpoint: ops records the maker's answer with `flask rfq-swap-answer`, and the next recovery finishes it).
Its entry points: each gunicorn worker at start-up and on its jobs cadence (cli/worker.py, for trades pending past
PENDING_TIMEOUT_S and every `unknown` one) and `flask ... recover`.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select

import jupiter_api
import trade_logger
from core import orders
from core.venue import JUPITER, is_otc
from ledger import chain_legs, partial_fills
from models import Trade, db, utcnow
from services import chain_execution, onchain, rfq_execution
from services.market import Market

log = logging.getLogger(__name__)
LOST_CODE = "EXECUTION_LOST"


class ExecutionUnknown(Exception):
    """The Jupiter leg's transaction was sent but not seen confirmed: the trade is `unknown` until recovery."""

    code = chain_execution.UNCONFIRMED_CODE

    def __init__(self, message: str, trade: Trade):
        self.trade = trade
        super().__init__(message)


class ExecutionPartial(Exception):
    """A maker accepted its leg at last look, then another leg failed: the trade is `partial` (only what filled)."""

    def __init__(self, code: str, message: str, trade: Trade):
        self.code, self.trade = code, trade
        super().__init__(message)


class ExecutionFailed(Exception):
    """The trade was reserved but could not be executed; it is `failed` and nothing moved. `code` is the API code."""

    def __init__(self, code: str, message: str, trade: Trade):
        self.code, self.trade = code, trade
        super().__init__(message)


def run(market: Market, plan: trade_logger.FillPlan) -> Trade:
    """Reserve, execute each leg, then settle: the filled trade, or ExecutionFailed (after releasing everything), or
    ExecutionPartial when a maker accepted at last look and a later leg failed (issue 15: the maker leg is filled).

    Raises what reserve() raises (FillRejected, DuplicateTrade, QuoteExpired) when nothing was reserved.
    """
    trade = trade_logger.reserve(plan, utcnow())
    trade_id, leg_ids = trade.id, [leg.id for leg in trade.legs]
    db.session.rollback()  # end the read: no transaction stays open while the venues execute
    slots: dict[int, int] = {}
    kept: dict[int, tuple[str, int, int]] = {}  # issue 15: maker legs accepted at last look are filled, come what may
    try:
        plan, attempts = rfq_execution.last_look(market, plan, trade_id)  # maker legs first: a rejection moves nothing
        kept = rfq_execution.kept_fills(rfq_execution.accepted_legs(plan), leg_ids)
        if market.chain is None:
            fills = execute_legs(market, plan)
        else:
            done = chain_execution.execute(market, plan, leg_ids)
            fills, slots = done.fills, done.slots
        breach = limit_breach(plan, fills)
    except rfq_execution.LastLookRejected as exc:
        kept = rfq_execution.kept_fills(exc.accepted, leg_ids)
        raise _failed(trade_id, "RFQ_REJECTED", f"{exc}; every reservation was released and nothing else was "
                      "executed", kept) from None
    except onchain.Unconfirmed as exc:
        reason = (f"the Jupiter leg's transaction {exc.signature} was sent but not confirmed ({exc}); the trade "
                  "is unknown until recovery asks the chain")
        raise ExecutionUnknown(reason, chain_legs.mark_unknown(trade_id, ExecutionUnknown.code, reason,
                                                              utcnow())) from None
    except onchain.NotLanded as exc:
        raise _failed(trade_id, exc.code, f"{exc}; every reservation was released and nothing was executed",
                      kept) from None
    except chain_execution.FailedOnChain as exc:
        raise _failed(trade_id, "SLIPPAGE_EXCEEDED" if "6001" in str(exc.err) else chain_execution.FAILED_ON_CHAIN,
                      f"{exc}; every reservation was released and nothing was executed", kept) from None
    except jupiter_api.PriceOutOfBandError as exc:
        raise _failed(trade_id, exc.code, f"Jupiter's price at execution is out of band ({exc}); every reservation "
                      "was released and nothing was executed", kept) from None
    except jupiter_api.JupiterError as exc:
        raise _failed(trade_id, "EXECUTION_FAILED", f"Jupiter failed while executing the trade ({exc.code}: {exc}); "
                      "every reservation was released and nothing was executed", kept) from None
    except Exception:
        if not kept:
            trade_logger.fail(trade_id, "INTERNAL", "internal error while executing; nothing was executed", utcnow())
            raise
        log.exception("trade %s: internal error after a maker accepted at last look", trade_id)
        raise _failed(trade_id, "INTERNAL", "internal error while executing the other legs; every reservation was "
                      "released and nothing was executed", kept) from None
    moved = rfq_execution.note(attempts)  # a re-routed maker leg: say why it moved
    if breach and not slots:
        raise _failed(trade_id, "SLIPPAGE_EXCEEDED", f"{moved}; {breach}" if moved else breach, kept)
    if breach:  # the chain moved it (its own threshold should have stopped this): record what moved, never hide it
        log.error("trade %s: on-chain fill breaks the accepted limit: %s", trade_id, breach)
    delay_ms = max((leg.delay_ms for leg in plan.legs), default=0)
    done = trade_logger.settle(trade_id, dict(zip(leg_ids, fills, strict=True)), utcnow(), delay_ms, slots=slots,
                               venues=dict(zip(leg_ids, (leg.venue for leg in plan.legs), strict=True)), note=moved)
    if done.status != "filled":
        raise ExecutionFailed(done.error_code or LOST_CODE, done.error or "the trade was finished elsewhere", done)
    return done


def _failed(trade_id: int, code: str, reason: str,
            kept: dict[int, tuple[str, int, int]] | None = None) -> ExecutionFailed | ExecutionPartial:
    """Fail the pending trade (release its reservations) and build the error to raise; with maker legs accepted at
    last look (`kept`: leg id -> (venue, in, out) atoms) the trade is `partial` instead: those legs filled."""
    if kept:
        trade = partial_fills.settle_partial(trade_id, kept, code, _partial_reason(kept, reason), utcnow())
        return ExecutionPartial(trade.error_code or code, trade.error or reason, trade)
    trade = trade_logger.fail(trade_id, code, reason, utcnow())
    return ExecutionFailed(trade.error_code or code, trade.error or reason, trade)


def _partial_reason(kept: dict[int, tuple[str, int, int]], reason: str) -> str:
    """The partial trade's error: which maker legs filled (atoms) and why the rest did not."""
    filled = ", ".join(f"{venue} ({in_atoms} in, {out_atoms} out atoms)" for venue, in_atoms, out_atoms
                       in kept.values())
    rest = reason.replace("every reservation was released and nothing else was executed",
                          "every other leg was released").replace(
        "every reservation was released and nothing was executed", "every other leg was released")
    return f"partially filled: accepted at last look and filled: {filled}; the rest was not executed: {rest}."


def execute_legs(market: Market, plan: trade_logger.FillPlan) -> list[tuple[int, int]]:
    """Each leg's executed (in, out) atoms: OTC legs at their firm amounts, Jupiter legs swapped now.

    When the fills meet the accepted limits, each Jupiter swap moves the simulated pools it went through
    (persistent impact, Market.apply_jupiter_fill); a trade that fails its limits moves nothing.
    """
    order, fills, swaps = plan.order, [], []
    for leg in plan.legs:
        if leg.venue != JUPITER:
            fills.append((leg.in_amount_atoms, leg.out_amount_atoms))
            continue
        amount = leg.in_amount_atoms if order.exact_in else leg.out_amount_atoms
        q = market.leg_quote(order, amount, plan.arrival_mid)
        swaps.append(q)
        fills.append((leg.in_amount_atoms, q.out_amount_atoms) if order.exact_in
                     else (q.in_amount_atoms, leg.out_amount_atoms))
    if limit_breach(plan, fills) is None:
        for q in swaps:
            market.apply_jupiter_fill(q, time.time())  # the hook: the swap moves the pools it went through
    return fills


def limit_breach(plan: trade_logger.FillPlan, fills: list[tuple[int, int]]) -> str | None:
    """Why the executed fills break the accepted minimum out / maximum in (atoms), or None when they do not."""
    d = plan.decision
    total_in, total_out = sum(f[0] for f in fills), sum(f[1] for f in fills)
    if d.min_out_amount_atoms is not None and total_out < d.min_out_amount_atoms:
        return (f"the fill came out at {total_out} atoms, below the accepted minimum {d.min_out_amount_atoms}; "
                "every reservation was released and nothing was executed")
    if d.max_in_amount_atoms is not None and total_in > d.max_in_amount_atoms:
        return (f"the fill would cost {total_in} atoms, above the accepted maximum {d.max_in_amount_atoms}; "
                "every reservation was released and nothing was executed")
    return None


def recover(now: datetime, older_than_s: float, market: Market | None = None) -> list[Trade]:
    """Finish every trade pending since before now − older_than_s, and every `unknown` one (asking the chain through
    market.chain); return those that moved, in their new state."""
    cutoff = now - timedelta(seconds=older_than_s)
    ids = db.session.scalars(
        select(Trade.id).where(or_(and_(Trade.status == "pending", Trade.created_at <= cutoff),
                                   Trade.status == "unknown")).order_by(Trade.id)
    ).all()
    db.session.rollback()  # end the read: each trade is finished in its own transaction
    done = []
    for trade_id in ids:
        trade = db.session.get(Trade, trade_id)
        if trade is None:
            continue
        kept, unanswered = rfq_execution.recovered_legs(trade)  # issue 15: what the makers answered at last look
        if unanswered:  # a maker may have filled: hold everything, ops settles it with the maker
            held = rfq_execution.hold_unanswered(trade, unanswered, now)
            if held is not None:
                done.append(held)
        elif any(leg.pool_id is None and leg.tx_signature for leg in trade.legs):
            found = chain_execution.recover_trade(market.chain if market else None, trade, now, kept)
            if found is not None:
                done.append(found)
        elif any(leg.pool_id is None and leg.id not in kept for leg in trade.legs):
            lost = ("the process executing this trade was lost before its Jupiter leg was confirmed; every OTC "
                    "reservation was released and nothing was executed")
            done.append(_failed(trade_id, LOST_CODE, lost, kept).trade)
        else:  # OTC legs at their firm reserved prices, maker legs as accepted
            done.append(trade_logger.settle(trade_id, {i: (k[1], k[2]) for i, k in kept.items()}, now,
                                            venues={i: k[0] for i, k in kept.items()}))
    return done


def requote_leg(market: Market, order: orders.Order, leg: orders.Leg, fresh: orders.VenueOption | None,
                mid: Decimal | None = None) -> tuple[int, int]:
    """A Jupiter leg's (in, out) atoms now: the fresh full-order option when the leg is the whole order, else a quote.

    Raises JupiterError when Jupiter cannot quote.
    """
    fixed = leg.in_amount_atoms if order.exact_in else leg.out_amount_atoms
    if fresh is not None and fresh.available and fresh.in_amount_atoms is not None \
            and fresh.out_amount_atoms is not None \
            and fixed == (fresh.in_amount_atoms if order.exact_in else fresh.out_amount_atoms):
        return fresh.in_amount_atoms, fresh.out_amount_atoms
    q = market.leg_quote(order, fixed, mid)
    return (fixed, q.out_amount_atoms) if order.exact_in else (q.in_amount_atoms, fixed)


def with_quoted_terms(plan: trade_logger.FillPlan, payload: dict[str, Any]) -> trade_logger.FillPlan:
    """A firm quote's plan, recorded with the options it was decided on and each firm OTC leg's quoted fee and delay."""
    stored = {o["venue"]: o for o in payload.get("options", []) if o.get("available")}
    legs = []
    for leg in plan.legs:
        opt = stored.get(leg.venue)
        if is_otc(leg.venue) and opt is not None and (str(leg.in_amount_atoms), str(leg.out_amount_atoms)) \
                == (opt.get("in_amount_atoms"), opt.get("out_amount_atoms")):
            leg = replace(leg, fee_atoms=int(opt.get("fee_atoms") or 0), delay_ms=int(opt.get("delay_ms") or 0))
        legs.append(leg)
    return replace(plan, legs=tuple(legs), options=list(payload.get("options", plan.options)))


def scoped_key(key: str | None, user_id: int | None) -> str | None:
    """The stored idempotency key: the client's, namespaced by user so two users' keys never meet (≤ 128 chars)."""
    if not key or user_id is None:
        return key
    scoped = f"u{user_id}:{key}"
    return scoped if len(scoped) <= 128 else f"u{user_id}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
