"""Last look: send each RFQ leg's swap to its maker before anything else of the trade executes; re-route once.

Maker legs go first (largest first), so a rejection fails the trade before any other venue moved. Each swap is
claimed under the maker's unique quote id before it is sent: a retried swap for the same quote is never sent
twice. `accepted`: the leg fills at exactly the quoted amounts. `rejected` (or no answer within
RFQ_SWAP_TIMEOUT_MS): with RFQ_REROUTE the leg's amount goes once to the next-best venue that needs no
reservation (another maker's firm quote at that exact size not used by this trade, else Jupiter at its price then),
and the whole trade must still meet the trader's minimum out / maximum in (execution.limit_breach). Otherwise the
trade fails with the maker's reason and every reservation is released.

The `transaction` a Jupiter Z swap carries is the fill for the quoted amounts, built for the maker (fee payer) and
signed by the desk wallet as taker (core/rfq_fill.py, venues/rfq_fill_tx.py; the key never leaves venues.wallet);
without chain access (tests injecting a Jupiter client) the documented placeholder: base64 of a JSON note naming
the quote.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import trade_logger
from core import rfq_fill
from core.orders import Order
from core.rfq_fill import FillTerms
from core.venue import JUPITER, is_rfq
from ledger import audit, chain_legs, maker_log
from ledger.maker_tables import MakerSwap
from models import Trade
from services import makers
from services.errors import ServiceError
from services.market import Market
from venues.rfq_client import transaction_placeholder
from venues.rfq_fill_tx import fill_message
from venues.solana_rpc import SolanaRpcError
from venues.wallet import WalletError

DESK_TAKER = "desk"  # the taker named in the placeholder transaction


class LastLookRejected(Exception):
    """A maker rejected its leg at last look and it could not be re-routed: the trade fails with this reason, or is
    `partial` when other makers accepted before (`accepted`: leg index -> the accepted leg)."""

    def __init__(self, message: str, accepted: dict[int, trade_logger.LegFill] | None = None) -> None:
        self.accepted = dict(accepted or {})
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One last-look attempt of a trade: the venue asked, its verdict and where the leg went instead."""

    venue: str
    quote_id: str
    accepted: bool
    reason: str | None
    rerouted_to: str | None = None


def _entry(plan: trade_logger.FillPlan, leg: trade_logger.LegFill) -> dict[str, Any] | None:
    """The stored maker quote a leg fills (same venue and quoted amounts), from the plan's rfq_quotes."""
    for q in plan.extra.get("rfq_quotes", []):
        if q["venue"] == leg.venue and (int(q["in_amount_atoms"]), int(q["out_amount_atoms"])) == (
                leg.in_amount_atoms, leg.out_amount_atoms):
            return q
    return None


def _swap(market: Market, order: Order, trade_id: int | None, q: dict[str, Any]) -> tuple[bool, str | None,
                                                                                       int | None]:
    """Claim and send one maker swap: (accepted, reason, latency ms); never sent twice for one quote id."""
    claimed = maker_log.claim_swap(MakerSwap(
        quote_id=q["quote_id"], request_id=q["request_id"], maker_id=int(q["maker_id"]), venue=q["venue"],
        trade_id=trade_id, state="sending", in_amount_atoms=int(q["in_amount_atoms"]),
        out_amount_atoms=int(q["out_amount_atoms"])))
    if claimed is None:
        first = maker_log.swap_of(q["quote_id"])
        if first is not None and first.state == "accepted":
            return True, None, first.latency_ms
        return False, "this maker quote's swap was already attempted; it is never sent twice", None
    try:
        ep = makers.endpoint(makers.get(int(q["maker_id"])), market.settings.maker_key)
        transaction = fill_transaction(market, order, q)
    except (ServiceError, FillNotBuilt) as exc:  # removed, its key unreadable, or no fill to sign: not sent
        maker_log.finish_swap(q["quote_id"], "rejected", str(exc), None)
        return False, str(exc), None
    started = time.perf_counter()
    verdict = market.rfq.swap(ep, q["request_id"], q["quote_id"], transaction,
                              market.settings.rfq_swap_timeout_ms) if market.rfq else None
    latency_ms = int((time.perf_counter() - started) * 1000)
    accepted = verdict is not None and verdict.accepted
    reason = None if accepted else (verdict.reason if verdict else "no RFQ client")
    maker_log.finish_swap(q["quote_id"], "accepted" if accepted else "rejected", reason, latency_ms)
    return accepted, reason, latency_ms


class FillNotBuilt(Exception):
    """The fill transaction for a maker swap could not be built or signed; the swap is not sent."""


def fill_transaction(market: Market, order: Order, q: dict[str, Any]) -> str:
    """The `transaction` of a maker swap: the Jupiter Z fill for the quoted amounts, signed by the desk wallet as
    taker, on a recent blockhash (venues/rfq_fill_tx.py); without chain access (tests that inject a Jupiter client)
    the documented placeholder. FillNotBuilt when it cannot be had."""
    if market.chain is None:
        return transaction_placeholder(q["quote_id"], DESK_TAKER)
    try:
        blockhash, _ = market.chain.rpc.latest_blockhash()
        terms = FillTerms(market.chain.wallet.pubkey, str(q.get("maker", "")), order.input_token.mint,
                          order.output_token.mint, int(q["in_amount_atoms"]), int(q["out_amount_atoms"]),
                          int(market.rfq.clock() if market.rfq else time.time()) + rfq_fill.EXPIRY_S)  # makers' clock
        return market.chain.wallet.sign_rfq_fill(fill_message(terms, blockhash))
    except SolanaRpcError as exc:
        raise FillNotBuilt(f"no recent blockhash for the fill transaction ({exc}); the swap was not sent") from None
    except (ValueError, WalletError) as exc:
        raise FillNotBuilt(f"the fill transaction could not be built ({exc}); the swap was not sent") from None


def _alternative(plan: trade_logger.FillPlan, leg: trade_logger.LegFill, q: dict[str, Any],
                 busy: set[str]) -> dict[str, Any] | None:
    """Another maker's firm quote at exactly this leg's size, not used by the trade, best for the trader."""
    exact_in = plan.order.exact_in
    same = [x for x in plan.extra.get("rfq_quotes", []) if x["size_atoms"] == q["size_atoms"]
            and x["venue"] not in busy]
    if not same:
        return None
    return max(same, key=lambda x: int(x["out_amount_atoms"]) if exact_in else -int(x["in_amount_atoms"]))


def last_look(market: Market, plan: trade_logger.FillPlan, trade_id: int | None) -> tuple[trade_logger.FillPlan,
                                                                                  list[Attempt]]:
    """Swap every maker leg (largest first): the plan with re-routed legs replaced, and the attempts made.

    Raises LastLookRejected when a leg is rejected and cannot be re-routed.
    """
    legs, attempts = list(plan.legs), []
    busy = {leg.venue for leg in legs if is_rfq(leg.venue)}
    order = sorted((i for i, leg in enumerate(legs) if is_rfq(leg.venue)),
                   key=lambda i: -(legs[i].in_amount_atoms if plan.order.exact_in else legs[i].out_amount_atoms))
    done: dict[int, trade_logger.LegFill] = {}  # accepted so far: filled whatever happens to the legs after them
    for i in order:
        leg = legs[i]
        q = _entry(plan, leg)
        if q is None:
            raise LastLookRejected(f"{leg.venue}: no maker quote matches this leg; nothing was executed", done)
        accepted, reason, latency_ms = _swap(market, plan.order, trade_id, q)
        if accepted:
            attempts.append(Attempt(leg.venue, q["quote_id"], True, None))
            done[i] = leg
            continue
        if not market.settings.rfq_reroute:
            raise LastLookRejected(f"{leg.venue} rejected at last look: {reason}", done)
        alt = _alternative(plan, leg, q, busy)
        if alt is not None:
            busy.add(alt["venue"])
            ok, alt_reason, _ = _swap(market, plan.order, trade_id, alt)
            maker_log.finish_swap(q["quote_id"], "rejected", reason, latency_ms, rerouted_to=alt["venue"])
            attempts.append(Attempt(leg.venue, q["quote_id"], False, reason, alt["venue"]))
            if not ok:
                raise LastLookRejected(f"{leg.venue} rejected at last look ({reason}); re-routed once to "
                                       f"{alt['venue']}, which rejected too ({alt_reason})", done)
            attempts.append(Attempt(alt["venue"], alt["quote_id"], True, None))
            legs[i] = done[i] = replace(leg, venue=alt["venue"], in_amount_atoms=int(alt["in_amount_atoms"]),
                                        out_amount_atoms=int(alt["out_amount_atoms"]), fee_atoms=0, delay_ms=0)
            continue
        maker_log.finish_swap(q["quote_id"], "rejected", reason, latency_ms, rerouted_to=JUPITER)
        attempts.append(Attempt(leg.venue, q["quote_id"], False, reason, JUPITER))
        legs[i] = replace(leg, venue=JUPITER, pool_id=None, fee_atoms=0)  # Jupiter prices the fixed side now
    return replace(plan, legs=tuple(legs)), attempts


def accepted_legs(plan: trade_logger.FillPlan) -> dict[int, trade_logger.LegFill]:
    """After a successful last look every maker leg left in the plan was accepted: leg index -> leg."""
    return {i: leg for i, leg in enumerate(plan.legs) if is_rfq(leg.venue)}


def kept_fills(accepted: dict[int, trade_logger.LegFill], leg_ids: list[int]) -> dict[int, tuple[str, int, int]]:
    """Accepted maker legs by trade leg id: (venue that accepted, in atoms, out atoms), for a partial fill."""
    return {leg_ids[i]: (leg.venue, leg.in_amount_atoms, leg.out_amount_atoms) for i, leg in accepted.items()}


def note(attempts: list[Attempt]) -> str:
    """A sentence for the trade's explanation about re-routed legs ('' when none was)."""
    moved = [a for a in attempts if a.rerouted_to]
    return "; ".join(f"last look: {a.venue} rejected ({a.reason}), its leg was re-routed to {a.rerouted_to}"
                     for a in moved)


UNANSWERED_CODE = "RFQ_SWAP_UNANSWERED"


def recovered_legs(trade: Trade) -> tuple[dict[int, tuple[str, int, int]], list[MakerSwap]]:
    """What the recorded last-look answers say of a trade left mid-flight: its accepted maker legs (leg id ->
    (venue, in, out) atoms, a re-routed leg at the maker that accepted it) and the swaps claimed but never answered.

    Jupiter Z has no swap status endpoint: the maker's answer, recorded here, is the only record of what it moved.
    """
    swaps = maker_log.swaps_of_trade(trade.id)
    legs = {(leg.venue, leg.in_amount_atoms, leg.out_amount_atoms): leg.id for leg in trade.legs if leg.pool_id is None}
    kept: dict[int, tuple[str, int, int]] = {}
    for s in swaps:
        leg_id = legs.get((s.venue, s.in_amount_atoms, s.out_amount_atoms))
        if leg_id is None:
            continue
        if s.state == "accepted":
            kept[leg_id] = (s.venue, s.in_amount_atoms, s.out_amount_atoms)
        elif s.state == "rejected" and s.rerouted_to and is_rfq(s.rerouted_to):
            alt = next((x for x in swaps if x.venue == s.rerouted_to and x.id > s.id and x.state == "accepted"), None)
            if alt is not None:
                kept[leg_id] = (alt.venue, alt.in_amount_atoms, alt.out_amount_atoms)
    return kept, [s for s in swaps if s.state == "sending"]


def hold_unanswered(trade: Trade, unanswered: list[MakerSwap], now: datetime) -> Trade | None:
    """A swap was sent and its answer never recorded: the maker may have moved money, so nothing is released; the
    trade is `unknown` for ops to settle with the maker (flask rfq-swap-answer), None when it is already."""
    if trade.status == "unknown":
        return None
    names = ", ".join(f"{s.venue} quote {s.quote_id}" for s in unanswered)
    reason = (f"the last-look swap to {names} was sent but its answer was never recorded (the process was lost); "
              "Jupiter Z has no status endpoint, so only the maker can say whether it filled: every reservation "
              "stays held until ops records its answer (flask rfq-swap-answer <quote_id> accepted|rejected)")
    return chain_legs.mark_unknown(trade.id, UNANSWERED_CODE, reason, now)


def record_answer(quote_id: str, state: str, reason: str | None) -> MakerSwap:
    """Ops records the maker's answer to a swap whose answer was lost (accepted|rejected), audited; ValueError
    otherwise."""
    if state not in ("accepted", "rejected"):
        raise ValueError("state must be accepted or rejected")
    swap = maker_log.swap_of(quote_id)
    if swap is None or swap.state != "sending":
        raise ValueError(f"no unanswered swap with quote id {quote_id}")
    audit.record(None, "rfq.swap_answer", f"swap:{quote_id} trade:{swap.trade_id}", {"state": "sending"},
                 {"state": state, "reason": reason})  # committed with the answer
    maker_log.finish_swap(quote_id, state, reason or (None if state == "accepted" else "recorded by ops"), None)
    found = maker_log.swap_of(quote_id)
    assert found is not None
    return found
