"""The service layer, trading side: execute an order or a stored quote once, through reserve → execute → settle.

Idempotent per (user, key); a refusal before anything moved is recorded as a rejected trade.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import select

import jupiter_api
import trade_logger
from core import router
from core.tokens import USDC, USDT, Token, resolve_token
from models import Quote, Trade, db, utcnow
from services import execution, market, quoting
from services.quoting import Gathered, InputError, ServiceError, parse_order
from web import serializers


def request_hash(body: Any) -> str:
    """A stable hash of a request body, to tell a retry from a different request under the same key."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def execute(order: router.Order, *, idempotency_key: str | None = None, body_hash: str | None = None,
            user_id: int | None = None) -> Trade:
    """Gather, decide and apply a fresh order; a rejected trade is recorded with its reason."""
    started = time.perf_counter()
    g = quoting.gather(order)
    try:
        decision = quoting.decide(g)
    except ServiceError as exc:
        exc.trade = trade_logger.record_rejection(None, order, str(exc), utcnow(), code=exc.code,
                                                  options=[serializers.option_json(o) for o in g.options],
                                                  idempotency_key=idempotency_key, request_hash=body_hash,
                                                  user_id=user_id)
        raise
    plan = plan_fill(g, decision, idempotency_key=idempotency_key, body_hash=body_hash, user_id=user_id,
                     started=started)
    return _apply(plan)


# HTTP status of each refusal code (API.md); any other refusal is a 422.
HTTP_STATUS = {"VENUE_UNAVAILABLE": 503, "EXECUTION_FAILED": 503, "EXECUTION_LOST": 503, "CONTENTION": 503,
                "INTERNAL": 503, "QUOTE_EXPIRED": 410, "QUOTE_ALREADY_USED": 409}


def _apply(plan: trade_logger.FillPlan) -> Trade:
    """Reserve, execute and settle (execution.run); a refusal before anything moved is recorded as rejected."""
    try:
        return execution.run(plan)
    except trade_logger.FillRejected as exc:
        trade = trade_logger.record_rejection(plan, plan.order, str(exc), utcnow(), code=exc.code)
        raise ServiceError(HTTP_STATUS.get(exc.code, 422), exc.code, str(exc), trade) from None
    except trade_logger.QuoteExpired as exc:
        raise ServiceError(410, "QUOTE_EXPIRED", str(exc)) from None
    except execution.ExecutionFailed as exc:
        raise ServiceError(HTTP_STATUS.get(exc.code, 422), exc.code, str(exc), exc.trade) from None


def plan_fill(g: Gathered, decision: router.Decision, *, idempotency_key: str | None, body_hash: str | None,
          user_id: int | None, started: float, quote_id: str | None = None) -> trade_logger.FillPlan:
    """Turn a decision into the legs and records the apply step writes."""
    order = g.order
    legs = []
    for leg in decision.legs:  # a split leg carries its own fee and delay; a whole-order leg takes its option's
        option = next(o for o in g.options if o.venue == leg.venue)
        legs.append(trade_logger.LegFill(
            venue=leg.venue, pool_id=g.pool_ids.get(leg.venue), input_mint=order.input_token.mint,
            in_amount_atoms=leg.in_amount_atoms, out_amount_atoms=leg.out_amount_atoms,
            fee_atoms=(option.fee_atoms or 0) if leg.fee_atoms is None else leg.fee_atoms, cost_bps=leg.cost_bps,
            delay_ms=option.delay_ms if leg.delay_ms is None else leg.delay_ms,
        ))
    notional = _usd_atoms(g, decision.in_amount_atoms, order.input_token)
    saved_token = order.output_token if order.exact_in else order.input_token
    saved_usd = (_usd_atoms(g, abs(decision.savings_atoms), saved_token)
                 * (1 if decision.savings_atoms >= 0 else -1)) if decision.savings_atoms else 0
    jupiter = next((o for o in g.options if o.venue == "jupiter" and o.available), None)
    return trade_logger.FillPlan(
        order=order, decision=decision, legs=tuple(legs), options=[serializers.option_json(o) for o in g.options],
        quoted_at=g.quoted_at, notional_usd_atoms=notional, savings_usd_atoms=saved_usd,
        price_impact_bps=jupiter.price_impact_bps if jupiter else None, quote_id=quote_id,
        idempotency_key=idempotency_key, request_hash=body_hash, user_id=user_id,
        latency_ms=int((time.perf_counter() - started) * 1000), arrival_mid=g.mid_price,
    )


def _usd_atoms(g: Gathered, amount_atoms: int, token: Token) -> int:
    """USD value (USDC atoms, rounded down) of an amount of one of the order's tokens, from the gathered mid.

    Stablecoins count at par; the other side of a stablecoin pair is valued at the mid already gathered, so no
    further upstream call is made. Other pairs ask the market, and count 0 when no price can be had.
    """
    stable = {USDC.mint, USDT.mint}
    if token.mint in stable:
        return amount_atoms * 10**USDC.decimals // 10**token.decimals
    other, per_token = ((g.order.output_token, g.mid_price) if token == g.order.input_token
                        else (g.order.input_token, 1 / g.mid_price))
    if other.mint in stable:
        value = router.mid_value_atoms(amount_atoms, per_token, token, other)
        return int(value) * 10**USDC.decimals // 10**other.decimals
    try:
        return market.usd_value_atoms(amount_atoms, token, g.quoted_at.timestamp())
    except jupiter_api.JupiterError:
        return 0


def execute_request(body: Any, *, idempotency_key: str | None = None,
                    user_id: int | None = None) -> tuple[Trade, bool]:
    """Execute an API/web trade request once per (user, idempotency key); return (trade, created).

    The unique trades.idempotency_key is the guard: a racing duplicate fails its insert and gets the first trade.
    """
    if not isinstance(body, Mapping):
        raise InputError("the request body must be a JSON object", code="MALFORMED_JSON")
    body_hash = request_hash(body)
    key = execution.scoped_key(idempotency_key, user_id)
    if key:
        first = _replay(key, body_hash)
        if first is not None:
            return first, False
    try:
        if "quote_id" in body:
            if set(body) - {"quote_id"}:
                raise InputError("give either quote_id alone or an order, not both", field="quote_id")
            trade = execute_quote(str(body["quote_id"]), idempotency_key=key, body_hash=body_hash, user_id=user_id)
        else:
            trade = execute(parse_order(body), idempotency_key=key, body_hash=body_hash, user_id=user_id)
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


def execute_quote(quote_id: str, *, idempotency_key: str | None = None, body_hash: str | None = None,
                  user_id: int | None = None) -> Trade:
    """Execute a stored firm quote within its TTL: OTC legs at the quoted price, the whole within its slippage.

    404 unknown, 409 used, 410 expired (re-checked atomically when the trade is reserved); a slippage breach or an
    unavailable venue is recorded as a rejected trade that uses up the quote.
    """
    started = time.perf_counter()
    row = db.session.get(Quote, quote_id)
    if row is None:
        raise ServiceError(404, "NOT_FOUND", f"no quote with id {quote_id}")
    if row.used_at is not None or row.trade_id is not None:
        raise ServiceError(409, "QUOTE_ALREADY_USED", "this quote was executed already")
    now = utcnow()
    if now >= row.expires_at:
        raise ServiceError(410, "QUOTE_EXPIRED", "this quote has expired; request a new one")
    order = router.Order(resolve_token(row.input_mint), resolve_token(row.output_mint), row.amount_atoms,
                         row.swap_mode, row.slippage_bps)
    decision = serializers.decision_from_json(row.payload["decision"])
    g = quoting.gather(order, now, with_curves=False)
    try:
        checked = guard_slippage(g, decision)
    except ServiceError as exc:
        exc.trade = trade_logger.record_rejection(None, order, str(exc), utcnow(), code=exc.code,
                                                  options=[serializers.option_json(o) for o in g.options],
                                                  quote_id=quote_id,
                                                  idempotency_key=idempotency_key, request_hash=body_hash,
                                                  user_id=user_id)
        raise
    plan = plan_fill(g, checked, idempotency_key=idempotency_key, body_hash=body_hash, user_id=user_id,
                     started=started, quote_id=quote_id)
    return _apply(execution.with_quoted_terms(plan, row.payload))


def guard_slippage(g: Gathered, quoted: router.Decision) -> router.Decision:
    """The quoted decision priced now: firm OTC legs keep their price, Jupiter legs are re-quoted for their amount.

    The OTC dealer honours its quote within the TTL (its inventory is re-checked under lock when reserved). The
    whole must still meet the accepted minimum out (ExactIn) or maximum in (ExactOut): 422 otherwise, 503 when
    Jupiter cannot quote. Execution checks the same limits again against the actual fills.
    """
    fresh = {o.venue: o for o in g.options}
    order = g.order
    legs: list[router.Leg] = []
    for leg in quoted.legs:
        if leg.venue.startswith("otc:"):
            legs.append(leg)
            continue
        try:
            in_atoms, out_atoms = execution.requote_leg(order, leg, fresh.get(leg.venue))
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
    jupiter = fresh.get("jupiter")
    saved_atoms, saved_bps = router.savings(order, in_atoms, out_atoms, jupiter)
    return replace(quoted, legs=tuple(legs), in_amount_atoms=in_atoms, out_amount_atoms=out_atoms,
                   savings_atoms=saved_atoms, savings_bps=saved_bps,
                   jupiter_only_in_amount_atoms=jupiter.in_amount_atoms if jupiter else None,
                   jupiter_only_out_amount_atoms=jupiter.out_amount_atoms if jupiter else None)
