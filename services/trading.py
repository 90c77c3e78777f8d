"""The service layer, trading side: execute an order or a stored quote once, through reserve → execute → settle.

Idempotent per (user, key); a refusal before anything moved is recorded as a rejected trade.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select

import jupiter_api
import trade_logger
from core import codec, orders, router
from core.tokens import resolve_token
from core.venue import JUPITER, is_dealer
from ledger.tca_store import Decided
from models import Quote, Trade, db, utcnow
from services import execution, guardrails, quoting, rfq_quoting, tca
from services.errors import InputError, ServiceError
from services.market import Market
from services.quoting import Gathered, parse_order


def request_hash(body: Any) -> str:
    """A stable hash of a request body, to tell a retry from a different request under the same key."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def canonical_request(body: Mapping[str, Any]) -> tuple[orders.Order | None, dict[str, Any]]:
    """Parse a trade request and return (order or None for a quote_id, its canonical form for the replay hash).

    The hash covers what the request means, not how it is spelled: an order is hashed as its parsed fields
    (mints, swap mode, amount in atoms, slippage), so spelling out a default (slippage_bps 50, swap_mode ExactIn),
    a symbol for a mint, "25,000" for "25000" or amount_atoms for amount is the same request.
    """
    if "quote_id" in body:
        if set(body) - {"quote_id", guardrails.ACK_FIELD}:
            raise InputError("give either quote_id alone or an order, not both", field="quote_id")
        return None, {"quote_id": str(body["quote_id"])}
    order = parse_order(body)
    return order, codec.order_json(order)


def execute(market: Market, order: orders.Order, *, idempotency_key: str | None = None, body_hash: str | None = None,
            user_id: int | None = None, hard_confirm: bool = False, acknowledged: bool = False) -> Trade:
    """Gather, decide and apply a fresh order; a rejected trade is recorded with its reason. With hard_confirm, a
    route above the desk's hard-confirm threshold needs `acknowledged` (else 422 CONFIRM_REQUIRED, nothing recorded)."""
    started = time.perf_counter()
    g = quoting.gather(market, order)
    try:
        decision = quoting.decide(market, g)
    except ServiceError as exc:
        exc.trade = trade_logger.record_rejection(None, order, str(exc), utcnow(), code=exc.code,
                                                  options=[codec.option_json(o) for o in g.options],
                                                  idempotency_key=idempotency_key, request_hash=body_hash,
                                                  user_id=user_id)
        raise
    if hard_confirm:
        guardrails.require_acknowledgement(decision.cost_bps, quoting.usd_atoms(
            market, g, decision.in_amount_atoms, order.input_token), acknowledged, market.settings.guardrails)
    plan = plan_fill(market, g, decision, idempotency_key=idempotency_key, body_hash=body_hash, user_id=user_id,
                     started=started)
    return _apply(market, plan)


# HTTP status of each refusal code (API.md); any other refusal is a 422.
HTTP_STATUS = {"VENUE_UNAVAILABLE": 503, "REFERENCE_UNAVAILABLE": 503, "EXECUTION_FAILED": 503,
               "EXECUTION_LOST": 503, "CONTENTION": 503,
               "INTERNAL": 503, "QUOTE_EXPIRED": 410, "QUOTE_ALREADY_USED": 409}


def _apply(market: Market, plan: trade_logger.FillPlan) -> Trade:
    """Reserve, execute and settle (execution.run); a refusal before anything moved is recorded as rejected."""
    try:
        return execution.run(market, plan)
    except trade_logger.FillRejected as exc:
        trade = trade_logger.record_rejection(plan, plan.order, str(exc), utcnow(), code=exc.code)
        raise ServiceError(HTTP_STATUS.get(exc.code, 422), exc.code, str(exc), trade) from None
    except trade_logger.QuoteExpired as exc:
        raise ServiceError(410, "QUOTE_EXPIRED", str(exc)) from None
    except execution.ExecutionFailed as exc:
        raise ServiceError(HTTP_STATUS.get(exc.code, 422), exc.code, str(exc), exc.trade) from None
    except execution.ExecutionUnknown as exc:
        return exc.trade  # `unknown`: its transaction may have landed; recovery asks the chain
    except execution.ExecutionPartial as exc:
        return exc.trade  # `partial`: a maker accepted its leg at last look; that leg filled, the rest did not


def plan_fill(market: Market, g: Gathered, decision: orders.Decision, *, idempotency_key: str | None,
              body_hash: str | None, user_id: int | None, started: float,
              quote_id: str | None = None) -> trade_logger.FillPlan:
    """Turn a decision into the legs and records the apply step writes."""
    order = g.order
    legs = []
    for leg in decision.legs:  # a split leg carries its own fee and delay; a whole-order leg takes its option's
        option = next((o for o in g.options if o.venue == leg.venue), None)  # a maker is not re-asked at execution
        legs.append(trade_logger.LegFill(
            venue=leg.venue, pool_id=g.pool_ids.get(leg.venue), input_mint=order.input_token.mint,
            in_amount_atoms=leg.in_amount_atoms, out_amount_atoms=leg.out_amount_atoms,
            fee_atoms=((option.fee_atoms if option else 0) or 0) if leg.fee_atoms is None else leg.fee_atoms,
            cost_bps=leg.cost_bps, delay_ms=(option.delay_ms if option else 0) if leg.delay_ms is None
            else leg.delay_ms,
        ))
    notional = quoting.usd_atoms(market, g, decision.in_amount_atoms, order.input_token)
    saved_token = order.output_token if order.exact_in else order.input_token
    saved_usd = (quoting.usd_atoms(market, g, abs(decision.savings_atoms), saved_token)
                 * (1 if decision.savings_atoms >= 0 else -1)) if decision.savings_atoms else 0
    jupiter = next((o for o in g.options if o.venue == JUPITER and o.available), None)
    return trade_logger.FillPlan(
        order=order, decision=decision, legs=tuple(legs), options=[codec.option_json(o) for o in g.options],
        quoted_at=g.quoted_at, notional_usd_atoms=notional, savings_usd_atoms=saved_usd,
        price_impact_bps=jupiter.price_impact_bps if jupiter else None, quote_id=quote_id,
        idempotency_key=idempotency_key, request_hash=body_hash, user_id=user_id,
        latency_ms=int((time.perf_counter() - started) * 1000), arrival_mid=g.mid_price,
        extra={"rfq_quotes": rfq_quoting.stored(g.rfq)},
        tca=tca.decided(market, order, g.options, decision, g.mid_price, g.curves),
    )


def execute_request(market: Market, body: Any, *, idempotency_key: str | None = None,
                    user_id: int | None = None, hard_confirm: bool = False) -> tuple[Trade, bool]:
    """Execute an API/web trade request once per (user, idempotency key); return (trade, created).

    The unique trades.idempotency_key is the guard: a racing duplicate fails its insert and gets the first trade.
    hard_confirm applies the desk's hard confirm (the body's `acknowledge_cost`, never part of the replay hash).
    """
    if not isinstance(body, Mapping):
        raise InputError("the request body must be a JSON object", code="MALFORMED_JSON")
    acknowledged = guardrails.acknowledged(body)
    order, canonical = canonical_request(body)
    body_hash = request_hash(canonical)
    key = execution.scoped_key(idempotency_key, user_id)
    if key:
        first = _replay(key, body_hash)
        if first is not None:
            return first, False
    try:
        if order is None:
            trade = execute_quote(market, canonical["quote_id"], idempotency_key=key, body_hash=body_hash,
                                  user_id=user_id, hard_confirm=hard_confirm, acknowledged=acknowledged)
        else:
            trade = execute(market, order, idempotency_key=key, body_hash=body_hash, user_id=user_id,
                            hard_confirm=hard_confirm, acknowledged=acknowledged)
    except trade_logger.DuplicateTrade as dup:
        if key:
            first = _replay(key, body_hash)
            if first is not None:
                return first, False
        raise ServiceError(409, "QUOTE_ALREADY_USED", "this quote was executed already",
                           db.session.get(Trade, dup.trade_id) if dup.trade_id else None) from None
    return trade, True


def _replay(idempotency_key: str, body_hash: str) -> Trade | None:
    """The first trade under this key when the body matches (a refused one is refused again); 409 when it does not."""
    first = db.session.scalar(select(Trade).where(Trade.idempotency_key == idempotency_key))
    if first is None:
        return None
    if first.request_hash != body_hash:
        raise ServiceError(409, "IDEMPOTENCY_CONFLICT",
                           "this Idempotency-Key was used with a different request body")
    if first.status in ("rejected", "failed"):
        code = first.error_code or "REJECTED"
        raise ServiceError(HTTP_STATUS.get(code, 422), code, first.error or "this trade was not executed", first)
    return first


def execute_quote(market: Market, quote_id: str, *, idempotency_key: str | None = None, body_hash: str | None = None,
                  user_id: int | None = None, hard_confirm: bool = False, acknowledged: bool = False) -> Trade:
    """Execute a stored firm quote within its TTL: OTC legs at the quoted price, the whole within its slippage.

    404 unknown or another user's quote, 409 used, 410 expired (re-checked atomically when the trade is reserved);
    a slippage breach or an unavailable venue is recorded as a rejected trade that uses up the quote. With
    hard_confirm, a quote above the hard-confirm threshold needs `acknowledged`: else 422 CONFIRM_REQUIRED, nothing
    recorded and the quote still usable.
    """
    started = time.perf_counter()
    row = db.session.get(Quote, quote_id)
    if row is None or row.user_id != user_id:  # a quote belongs to who requested it: to anyone else it does not exist
        raise ServiceError(404, "NOT_FOUND", f"no quote with id {quote_id}")
    if row.used_at is not None or row.trade_id is not None:
        raise ServiceError(409, "QUOTE_ALREADY_USED", "this quote was executed already")
    now = utcnow()
    if now >= row.expires_at:
        raise ServiceError(410, "QUOTE_EXPIRED", "this quote has expired; request a new one")
    order = orders.Order(resolve_token(row.input_mint), resolve_token(row.output_mint), row.amount_atoms,
                         row.swap_mode, row.slippage_bps)
    decision = codec.decision_from_json(row.payload.get("decision_exact") or row.payload["decision"])
    g = quoting.gather(market, order, now, with_curves=False)
    if hard_confirm:  # the cost and notional the trader was shown with the quote
        stored = row.payload.get("guardrails", {}).get("notional_usd_atoms")
        notional = int(stored) if stored is not None else quoting.usd_atoms(market, g, decision.in_amount_atoms,
                                                                             order.input_token)
        guardrails.require_acknowledgement(decision.cost_bps, notional, acknowledged, market.settings.guardrails)
    try:
        checked = guard_slippage(market, g, decision)
    except ServiceError as exc:
        exc.trade = trade_logger.record_rejection(None, order, str(exc), utcnow(), code=exc.code,
                                                  options=[codec.option_json(o) for o in g.options],
                                                  quote_id=quote_id,
                                                  idempotency_key=idempotency_key, request_hash=body_hash,
                                                  user_id=user_id)
        raise
    plan = plan_fill(market, g, checked, idempotency_key=idempotency_key, body_hash=body_hash, user_id=user_id,
                     started=started, quote_id=quote_id)
    plan = replace(plan, arrival_mid=Decimal(row.payload["mid_price"]),  # decided when quoted: the quote's mid
                   tca=Decided.from_json(row.payload["tca"]) if "tca" in row.payload
                   else plan.tca,
                   extra={"rfq_quotes": row.payload.get("rfq_quotes", [])})  # the quoted makers' firm answers
    return _apply(market, execution.with_quoted_terms(plan, row.payload))


def guard_slippage(market: Market, g: Gathered, quoted: orders.Decision) -> orders.Decision:
    """The quoted decision priced now: firm OTC legs keep their price, Jupiter legs are re-quoted for their amount.

    The OTC dealer honours its quote within the TTL (its inventory is re-checked under lock when reserved). The
    whole must still meet the accepted minimum out (ExactIn) or maximum in (ExactOut): 422 otherwise, 503 when
    Jupiter cannot quote. Execution checks the same limits again against the actual fills.
    """
    fresh = {o.venue: o for o in g.options}
    order = g.order
    legs: list[orders.Leg] = []
    for leg in quoted.legs:
        if is_dealer(leg.venue):  # OTC pools and RFQ makers: firm at the quoted price (makers: until last look)
            legs.append(leg)
            continue
        try:
            in_atoms, out_atoms = execution.requote_leg(market, order, leg, fresh.get(leg.venue), g.mid_price)
        except jupiter_api.PriceOutOfBandError as exc:
            raise ServiceError(422, exc.code, f"{leg.venue} re-quoted out of band ({exc}); nothing was executed") \
                from None
        except jupiter_api.JupiterError as exc:
            raise ServiceError(503, "VENUE_UNAVAILABLE",
                               f"{leg.venue} cannot fill now ({exc.code}: {exc}); nothing was executed") from None
        legs.append(replace(leg, in_amount_atoms=in_atoms, out_amount_atoms=out_atoms))
    in_atoms, out_atoms = sum(x.in_amount_atoms for x in legs), sum(x.out_amount_atoms for x in legs)
    if quoted.min_out_amount_atoms is not None and out_atoms < quoted.min_out_amount_atoms:
        raise ServiceError(422, "SLIPPAGE_EXCEEDED",
                           f"the route would now pay {out_atoms} atoms, below the minimum "
                           f"{quoted.min_out_amount_atoms} accepted with the quote ({quoted.out_amount_atoms} at "
                           f"{order.slippage_bps} bps slippage); nothing was executed")
    if quoted.max_in_amount_atoms is not None and in_atoms > quoted.max_in_amount_atoms:
        raise ServiceError(422, "SLIPPAGE_EXCEEDED",
                           f"the route would now cost {in_atoms} atoms, above the maximum "
                           f"{quoted.max_in_amount_atoms} accepted with the quote ({quoted.in_amount_atoms} at "
                           f"{order.slippage_bps} bps slippage); nothing was executed")
    jupiter = fresh.get(JUPITER)
    saved_atoms, saved_bps = router.savings(order, in_atoms, out_atoms, jupiter)
    cost_bps = _repriced_cost(g, quoted, in_atoms, out_atoms)
    explanation = quoted.explanation if cost_bps == quoted.cost_bps else (
        f"{quoted.explanation}; at execution the Jupiter leg was re-quoted: {cost_bps:.1f} bps all-in")
    return replace(quoted, legs=tuple(legs), in_amount_atoms=in_atoms, out_amount_atoms=out_atoms,
                   cost_bps=cost_bps, explanation=explanation, savings_atoms=saved_atoms, savings_bps=saved_bps,
                   jupiter_only_in_amount_atoms=jupiter.in_amount_atoms if jupiter else None,
                   jupiter_only_out_amount_atoms=jupiter.out_amount_atoms if jupiter else None)


def _repriced_cost(g: Gathered, quoted: orders.Decision, in_atoms: int, out_atoms: int) -> Decimal:
    """The quoted all-in cost moved by the change in execution cost of the re-quoted totals against today's mid
    (the timing-risk part is the quote's: the legs and their venues did not change)."""
    if (in_atoms, out_atoms) == (quoted.in_amount_atoms, quoted.out_amount_atoms):
        return quoted.cost_bps
    now_cost = router.priced_option(g.order, "route", in_atoms, out_atoms, g.mid_price, risk_bps=Decimal(0),
                                    delay_ms=0).cost_bps
    then_cost = router.priced_option(g.order, "route", quoted.in_amount_atoms, quoted.out_amount_atoms, g.mid_price,
                                     risk_bps=Decimal(0), delay_ms=0).cost_bps
    assert now_cost is not None and then_cost is not None
    return quoted.cost_bps + now_cost - then_cost
