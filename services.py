"""The service layer: gather quotes and pool state, call the pure router, hand the fill to the apply step."""
from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

import cost_curves
import execution
import jupiter_api
import market
import otc_engine
import router
import serializers
import trade_logger
from models import OTCPool, Quote, Trade, db, utcnow
from tokens import parse_atoms, resolve_token, to_atoms


class InputError(ValueError):
    """Invalid client input: API code, message and the field at fault."""

    def __init__(self, message: str, field: str | None = None, code: str = "INVALID_INPUT"):
        self.field, self.code = field, code
        super().__init__(message)


class ServiceError(Exception):
    """A request that was valid but cannot be served: HTTP status, API code and message."""

    def __init__(self, status: int, code: str, message: str, trade: Trade | None = None):
        self.status, self.code, self.trade = status, code, trade
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Gathered:
    """What the gather step saw: every venue's option, the OTC quotes behind them and the mid."""

    order: router.Order
    options: tuple[router.VenueOption, ...]
    otc_quotes: dict[str, tuple[int, otc_engine.OtcQuote]]
    mid_price: Decimal
    quoted_at: datetime
    jupiter_quote: jupiter_api.JupiterQuote | None
    curves: tuple[router.VenueCurve, ...] = ()  # each venue's cost curve, for a split
    pool_ids: dict[str, int] = field(default_factory=dict)  # OTC venue -> pool row id, for every pool of the pair


def parse_order(data: Any) -> router.Order:
    """Validate an order body (API.md) into an Order; raise InputError naming the field."""
    if not isinstance(data, Mapping):
        raise InputError("the request body must be a JSON object", code="MALFORMED_JSON")
    tokens = {}
    for name in ("input", "output"):
        try:
            tokens[name] = resolve_token(data.get(name, ""))  # type: ignore[arg-type]
        except ValueError as exc:
            raise InputError(f"{name}: {exc}", field=name, code="UNKNOWN_TOKEN") from None
    if tokens["input"] == tokens["output"]:
        raise InputError("input and output must be different tokens", field="output", code="SAME_TOKEN")
    swap_mode = data.get("swap_mode", router.EXACT_IN)
    if swap_mode not in router.SWAP_MODES:
        raise InputError("swap_mode must be ExactIn or ExactOut", field="swap_mode")
    slippage = data.get("slippage_bps", 50)
    if isinstance(slippage, str) and slippage.strip().isdigit():
        slippage = int(slippage)
    if isinstance(slippage, bool) or not isinstance(slippage, int) or not 1 <= slippage <= 5000:
        raise InputError("slippage_bps must be a whole number from 1 to 5000", field="slippage_bps")
    amount_token = tokens["input"] if swap_mode == router.EXACT_IN else tokens["output"]
    amount_atoms = _amount_atoms(data, amount_token.decimals)
    return router.Order(tokens["input"], tokens["output"], amount_atoms, swap_mode, slippage)


def _amount_atoms(data: Mapping[str, Any], decimals: int) -> int:
    """Atoms from `amount` (human) or `amount_atoms` (integer string), exactly one of them."""
    has_ui, has_atoms = data.get("amount") not in (None, ""), data.get("amount_atoms") not in (None, "")
    if has_ui == has_atoms:
        raise InputError("give exactly one of amount or amount_atoms", field="amount")
    try:
        if has_atoms:
            return parse_atoms(data["amount_atoms"])
        value = data["amount"]
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return to_atoms(value, decimals)
    except ValueError as exc:
        raise InputError(str(exc), field="amount_atoms" if has_atoms else "amount", code="INVALID_AMOUNT") from None


def _pools_for(order: router.Order) -> list[OTCPool]:
    """Pools that trade the order's pair, in id order."""
    mints = {order.input_token.mint, order.output_token.mint}
    rows = db.session.scalars(select(OTCPool).order_by(OTCPool.id)).all()
    return [p for p in rows if {p.base_mint, p.quote_mint} == mints]


def gather(order: router.Order, now: datetime | None = None, *, with_curves: bool = True) -> Gathered:
    """Quote every venue for the order: Jupiter (sim or live) and each OTC pool of the pair; with_curves also
    samples each venue's cost curve (a few Jupiter sizes, the pools' engines) so the router can split."""
    now = now or utcnow()
    mid = market.mid_price(order.input_token, order.output_token, now.timestamp())
    options: list[router.VenueOption] = []
    jq: jupiter_api.JupiterQuote | None = None
    try:
        jq = market.jupiter_client().quote(order.input_token.mint, order.output_token.mint, order.amount_atoms,
                                           order.slippage_bps, order.swap_mode)
        options.append(_jupiter_option(order, jq, mid))
    except jupiter_api.JupiterError as exc:
        options.append(router.unavailable("jupiter", f"{exc.code}: {exc}"))
    otc_quotes: dict[str, tuple[int, otc_engine.OtcQuote]] = {}
    curves: list[router.VenueCurve] = []
    pool_ids: dict[str, int] = {}
    for row in _pools_for(order):
        params = trade_logger.pool_params(row)
        inv = otc_engine.replenish(params, trade_logger.pool_inventory(row), now)
        pool_mid = mid if order.input_token.mint == row.base_mint else 1 / mid
        result = otc_engine.quote_pool(params, inv, pool_mid, order.input_token.mint, order.output_token.mint,
                                       order.amount_atoms, order.swap_mode, now, jitter_seed=int(now.timestamp()))
        pool_ids[row.venue] = row.id
        if with_curves:
            up_to = result.in_amount_atoms if isinstance(result, otc_engine.OtcQuote) else None
            curve = cost_curves.otc_curve(params, inv, pool_mid, order, now, int(now.timestamp()),
                                          up_to_in_atoms=order.amount_atoms if order.exact_in else up_to)
            curves += [curve] if curve else []
        if isinstance(result, otc_engine.OtcRefusal):
            options.append(router.unavailable(row.venue, result.reason))
            continue
        otc_quotes[row.venue] = (row.id, result)
        options.append(_otc_option(order, result, mid, params))
    if with_curves and jq is not None:
        curves += _jupiter_curve(order, jq, curves, mid)
    return Gathered(order, tuple(options), otc_quotes, mid, now, jq, tuple(curves), pool_ids)


def _jupiter_curve(order: router.Order, full: jupiter_api.JupiterQuote, others: list[router.VenueCurve],
                   mid: Decimal) -> list[router.VenueCurve]:
    """Jupiter's sampled cost curve, refined around its cut in the best split with the other venues' curves."""
    delay_ms = current_app.config["JUPITER_DELAY_MS"]
    risk = router.delay_risk_bps(market.JUPITER_ANNUAL_VOL_PCT, market.JUPITER_VOL_Z, delay_ms)

    def cut(curve: router.VenueCurve) -> int | None:
        ordered, _, found = router.allocate(order, [curve, *others], mid)
        return next((n for c, n in zip(ordered, found.sizes, strict=True) if c.venue == "jupiter"), None) \
            if found else None

    curve = cost_curves.jupiter_curve(market.jupiter_client(), order, full, risk, delay_ms, cut=cut if others else None,
                                      parallel=current_app.config["JUPITER_MODE"] == "live")
    return [curve] if curve else []


def _jupiter_option(order: router.Order, q: jupiter_api.JupiterQuote, mid: Decimal) -> router.VenueOption:
    """Jupiter's quote priced against the mid, with the delay-risk charge of on-chain inclusion."""
    delay_ms = current_app.config["JUPITER_DELAY_MS"]
    risk = router.delay_risk_bps(market.JUPITER_ANNUAL_VOL_PCT, market.JUPITER_VOL_Z, delay_ms)
    route = [{"label": s.label, "amm_key": s.amm_key, "percent": s.percent,
              "in_amount_atoms": str(s.in_amount_atoms), "out_amount_atoms": str(s.out_amount_atoms)}
             for s in q.route_plan]
    return router.priced_option(order, "jupiter", q.in_amount_atoms, q.out_amount_atoms, mid, risk_bps=risk,
                                delay_ms=delay_ms, price_impact_bps=(q.price_impact_pct * 10_000).quantize(
                                    router.BPS_PLACES), detail={"route_plan": route, "context_slot": q.context_slot})


def _otc_option(order: router.Order, q: otc_engine.OtcQuote, mid: Decimal,
                params: otc_engine.PoolParams) -> router.VenueOption:
    """An OTC pool's firm quote priced against the mid, with the delay-risk charge of its settlement delay."""
    risk = router.delay_risk_bps(params.annual_vol_pct, params.vol_z, q.execution_delay_ms)
    return router.priced_option(
        order, q.venue, q.in_amount_atoms, q.out_amount_atoms, mid, risk_bps=risk, delay_ms=q.execution_delay_ms,
        spread_bps=q.spread_bps, fee_atoms=q.fee_atoms, fee_bps=q.fee_bps,
        detail={"base_spread_bps": str(q.base_spread_bps), "size_spread_bps": str(q.size_spread_bps),
                "vol_spread_bps": str(q.vol_spread_bps), "expires_at": serializers.iso(q.expires_at)},
    )


def quote(order: router.Order) -> tuple[Quote, dict[str, Any]]:
    """Quote an order on every venue, decide, and store the firm quote; nothing is executed."""
    started = time.perf_counter()
    g = gather(order)
    decision = _decide(g)
    used = _venues(decision)
    expiries = [q.expires_at for _, q in g.otc_quotes.values() if q.venue in used]
    expiries += [c.book.now + timedelta(milliseconds=c.book.params.quote_ttl_ms) for c in g.curves
                 if c.book is not None and c.venue in used and c.venue not in g.otc_quotes]
    if "jupiter" in used or not expiries:  # each venue's TTL: OTC pools their own, Jupiter QUOTE_TTL_MS
        expiries.append(g.quoted_at + timedelta(milliseconds=current_app.config["QUOTE_TTL_MS"]))
    row = Quote(id="q_" + secrets.token_urlsafe(18), created_at=g.quoted_at, expires_at=min(expiries),
                input_mint=order.input_token.mint, output_mint=order.output_token.mint, swap_mode=order.swap_mode,
                amount_atoms=order.amount_atoms, slippage_bps=order.slippage_bps, payload={})
    body = serializers.quote_json(row.id, row.expires_at, g, decision)
    body["latency_ms"] = int((time.perf_counter() - started) * 1000)
    row.payload = body
    trade_logger.store_quote(row)
    return row, body


def _venues(decision: router.Decision) -> set[str]:
    """Venues the decision uses."""
    return {leg.venue for leg in decision.legs}


def _decide(g: Gathered) -> router.Decision:
    """Run the router (single venue or split); a 503 when Jupiter is down and nothing else serves, 422 otherwise."""
    try:
        return _firm_jupiter_leg(g, router.decide(g.order, g.options, g.curves, g.mid_price))
    except router.NoRouteAvailable as exc:
        jupiter_down = any(o.venue == "jupiter" and o.reason and o.reason.startswith(("UPSTREAM", "CIRCUIT"))
                           for o in g.options)
        if jupiter_down:
            raise ServiceError(503, "VENUE_UNAVAILABLE",
                               f"Jupiter is unavailable and no OTC pool can fill: {exc}") from None
        raise ServiceError(422, "NO_ROUTE", str(exc)) from None


def _firm_jupiter_leg(g: Gathered, decision: router.Decision) -> router.Decision:
    """Re-quote a split's Jupiter leg at exactly its size and decide again on that firm price (the split stays
    only if it still beats the best single venue); without a Jupiter quote, split over the other venues only."""
    leg = next((x for x in decision.legs if x.venue == "jupiter"), None)
    if leg is None or len(decision.legs) == 1:
        return decision
    size = leg.in_amount_atoms if g.order.exact_in else leg.out_amount_atoms
    try:
        q = cost_curves.leg_quote(market.jupiter_client(), g.order, size)
    except jupiter_api.JupiterError:
        others = [c for c in g.curves if c.venue != "jupiter"]
        return router.decide(g.order, g.options, others, g.mid_price)
    return router.decide(g.order, g.options, g.curves, g.mid_price,
                         firm={("jupiter", size): (q.in_amount_atoms, q.out_amount_atoms)})


def request_hash(body: Any) -> str:
    """A stable hash of a request body, to tell a retry from a different request under the same key."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def execute(order: router.Order, *, idempotency_key: str | None = None, body_hash: str | None = None,
            user_id: int | None = None) -> Trade:
    """Gather, decide and apply a fresh order; a rejected trade is recorded with its reason."""
    started = time.perf_counter()
    g = gather(order)
    try:
        decision = _decide(g)
    except ServiceError as exc:
        exc.trade = trade_logger.record_rejection(None, order, str(exc), utcnow(), code=exc.code,
                                                  idempotency_key=idempotency_key, request_hash=body_hash,
                                                  user_id=user_id)
        raise
    plan = _plan(g, decision, idempotency_key=idempotency_key, body_hash=body_hash, user_id=user_id,
                 started=started)
    return _apply(plan)


# HTTP status of each refusal code (API.md); any other refusal is a 422.
_HTTP_STATUS = {"VENUE_UNAVAILABLE": 503, "EXECUTION_FAILED": 503, "EXECUTION_LOST": 503, "CONTENTION": 503,
                "INTERNAL": 503, "QUOTE_EXPIRED": 410, "QUOTE_ALREADY_USED": 409}


def _apply(plan: trade_logger.FillPlan) -> Trade:
    """Reserve, execute and settle (execution.run); a refusal before anything moved is recorded as rejected."""
    try:
        return execution.run(plan)
    except trade_logger.FillRejected as exc:
        trade = trade_logger.record_rejection(plan, plan.order, str(exc), utcnow(), code=exc.code)
        raise ServiceError(_HTTP_STATUS.get(exc.code, 422), exc.code, str(exc), trade) from None
    except trade_logger.QuoteExpired as exc:
        raise ServiceError(410, "QUOTE_EXPIRED", str(exc)) from None
    except execution.ExecutionFailed as exc:
        raise ServiceError(_HTTP_STATUS.get(exc.code, 422), exc.code, str(exc), exc.trade) from None


def _plan(g: Gathered, decision: router.Decision, *, idempotency_key: str | None, body_hash: str | None,
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
    now_s = g.quoted_at.timestamp()
    notional = market.usd_value_atoms(decision.in_amount_atoms, order.input_token, now_s)
    saved_token = order.output_token if order.exact_in else order.input_token
    saved_usd = (market.usd_value_atoms(abs(decision.savings_atoms), saved_token, now_s)
                 * (1 if decision.savings_atoms >= 0 else -1)) if decision.savings_atoms else 0
    jupiter = next((o for o in g.options if o.venue == "jupiter" and o.available), None)
    return trade_logger.FillPlan(
        order=order, decision=decision, legs=tuple(legs), options=[serializers.option_json(o) for o in g.options],
        quoted_at=g.quoted_at, notional_usd_atoms=notional, savings_usd_atoms=saved_usd,
        price_impact_bps=jupiter.price_impact_bps if jupiter else None, quote_id=quote_id,
        idempotency_key=idempotency_key, request_hash=body_hash, user_id=user_id,
        latency_ms=int((time.perf_counter() - started) * 1000),
    )


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
        raise ServiceError(_HTTP_STATUS.get(code, 422), code, first.error or "this trade was not executed", first)
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
    g = gather(order, now, with_curves=False)
    try:
        checked = _guard_slippage(g, decision)
    except ServiceError as exc:
        exc.trade = trade_logger.record_rejection(None, order, str(exc), utcnow(), code=exc.code, quote_id=quote_id,
                                                  idempotency_key=idempotency_key, request_hash=body_hash,
                                                  user_id=user_id)
        raise
    plan = _plan(g, checked, idempotency_key=idempotency_key, body_hash=body_hash, user_id=user_id,
                 started=started, quote_id=quote_id)
    return _apply(execution.with_quoted_terms(plan, row.payload))


def _guard_slippage(g: Gathered, quoted: router.Decision) -> router.Decision:
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
