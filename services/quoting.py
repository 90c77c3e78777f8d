"""The service layer, quoting side: validate orders, gather every venue's quote and pool state, run the pure router.

Execution (the apply side) lives in trading.py.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import jupiter_api
import otc_engine
from core import codec, orders, router
from core.curves import VenueCurve
from core.tokens import USDC, Token, parse_atoms, resolve_token, to_atoms
from core.units import BPS, BPS_PLACES, SwapMode, invert_price, iso_z, pool_mid
from core.venue import JUPITER
from ledger import quotes
from ledger.pools import pair_pools
from models import Quote, utcnow
from services import alerts, cost_curves, guardrails, ladder, makers, rfq_quoting, tca
from services.errors import InputError, ServiceError
from services.market import Market

__all__ = ["Gathered", "InputError", "ServiceError", "decide", "gather", "parse_order", "quote"]


@dataclass(frozen=True, slots=True)
class Gathered:
    """What the gather step saw: every venue's option, the OTC quotes behind them and the mid."""

    order: orders.Order
    options: tuple[orders.VenueOption, ...]
    otc_quotes: dict[str, tuple[int, otc_engine.OtcQuote]]
    mid_price: Decimal
    quoted_at: datetime
    jupiter_quote: jupiter_api.JupiterQuote | None
    curves: tuple[VenueCurve, ...] = ()  # each venue's cost curve, for a split
    pool_ids: dict[str, int] = field(default_factory=dict)  # OTC venue -> pool row id, for every pool of the pair
    rfq: rfq_quoting.MakerRound | None = None  # the RFQ makers' answers (issue 15), when asked
    alerts: tuple[dict[str, Any], ...] = ()  # the pair's liquidity alerts at quoted_at (gather with_alerts)


def parse_order(data: Any) -> orders.Order:
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
    try:
        swap_mode = SwapMode.parse(data.get("swap_mode", SwapMode.EXACT_IN))
    except ValueError as exc:
        raise InputError(str(exc), field="swap_mode") from None
    slippage = data.get("slippage_bps", 50)
    if isinstance(slippage, str) and slippage.strip().isascii() and slippage.strip().isdigit():
        slippage = int(slippage)
    if isinstance(slippage, bool) or not isinstance(slippage, int) or not 1 <= slippage <= 5000:
        raise InputError("slippage_bps must be a whole number from 1 to 5000", field="slippage_bps")
    amount_token = tokens["input"] if swap_mode == SwapMode.EXACT_IN else tokens["output"]
    amount_atoms = _amount_atoms(data, amount_token.decimals)
    return orders.Order(tokens["input"], tokens["output"], amount_atoms, swap_mode, slippage)


def _amount_atoms(data: Mapping[str, Any], decimals: int) -> int:
    """Atoms from `amount` (human) or `amount_atoms` (integer string), exactly one of them."""
    has_ui, has_atoms = data.get("amount") not in (None, ""), data.get("amount_atoms") not in (None, "")
    if has_ui == has_atoms:
        raise InputError("give exactly one of amount or amount_atoms", field="amount")
    try:  # core.tokens is the one parser: decimal strings only, a JSON number is refused (API.md)
        if has_atoms:
            return parse_atoms(data["amount_atoms"])
        return to_atoms(data["amount"], decimals)
    except ValueError as exc:
        raise InputError(str(exc), field="amount_atoms" if has_atoms else "amount", code="INVALID_AMOUNT") from None


def gather(market: Market, order: orders.Order, now: datetime | None = None, *, with_curves: bool = True,
           with_alerts: bool = False) -> Gathered:
    """Quote every venue for the order: Jupiter (sim or live) and each OTC pool of the pair; with_curves also
    samples each venue's cost curve (a few Jupiter sizes, the pools' engines) so the router can split; with_alerts
    also gives the pair's liquidity alerts (services/alerts.py) from the same read of pools and makers."""
    now = now or utcnow()
    pair = (order.input_token.mint, order.output_token.mint)
    rows = makers.enabled_makers() if with_alerts or (with_curves and market.rfq is not None) else []
    endpoints = rfq_quoting.endpoints_for(market, order, now, rows) if with_curves else []
    maker_alerts = alerts.maker_alerts(alerts.pair_makers(rows, pair), now) if with_alerts else []
    pools = pair_pools(*pair)  # ends the read: makers and pools in one
    try:
        mid = market.mid_price(order.input_token, order.output_token, now.timestamp())
    except jupiter_api.JupiterError as exc:  # no independent price: no venue's answer can be checked
        raise ServiceError(503, "REFERENCE_UNAVAILABLE",
                           f"no reference price ({exc.code}: {exc}); nothing was quoted") from None
    options: list[orders.VenueOption] = []
    jq: jupiter_api.JupiterQuote | None = None
    try:
        jq = market.jupiter.quote(order.input_token.mint, order.output_token.mint, order.amount_atoms,
                                  order.slippage_bps, order.swap_mode)
        refused = market.out_of_band(order, jq, mid)
        if refused:
            options.append(router.unavailable(JUPITER, refused))
            jq = None
        else:
            options.append(_jupiter_option(market, order, jq, mid))
    except jupiter_api.JupiterError as exc:
        options.append(router.unavailable(JUPITER, f"{exc.code}: {exc}", down=exc.outage))
    otc_quotes: dict[str, tuple[int, otc_engine.OtcQuote]] = {}
    curves: list[VenueCurve] = []
    pool_ids: dict[str, int] = {}
    seed = int(now.timestamp())
    for pool in pools:
        pool_id, venue, params = pool.pool_id, pool.venue, pool.params
        inv = otc_engine.replenish(params, pool.inventory, now)
        p_mid = pool_mid(mid, pool.sells_base(order.input_token.mint))
        result = otc_engine.quote_pool(params, inv, p_mid, order.input_token.mint, order.output_token.mint,
                                       order.amount_atoms, order.swap_mode, now, jitter_seed=seed)
        pool_ids[venue] = pool_id
        if with_curves:
            up_to = result.in_amount_atoms if isinstance(result, otc_engine.OtcQuote) else None
            curve = cost_curves.otc_curve(params, inv, p_mid, order, now, seed,
                                          up_to_in_atoms=order.amount_atoms if order.exact_in else up_to)
            curves += [curve] if curve else []
        if isinstance(result, otc_engine.OtcRefusal):
            options.append(router.unavailable(venue, result.reason))
            continue
        otc_quotes[venue] = (pool_id, result)
        options.append(_otc_option(order, result, mid, params))
    if with_curves and jq is not None:
        curves += _jupiter_curve(market, order, jq, mid, now.timestamp())
    rnd = rfq_quoting.gather_makers(market, order, mid, now, endpoints) if with_curves else None  # firm, no re-ask
    if rnd is not None:
        options += rnd.options
        curves += rnd.curves
    if rnd is not None and with_alerts:  # a maker this very round suspended is an alert of this quote
        known = {a["venue"] for a in maker_alerts}
        maker_alerts += [a for a in alerts.maker_alerts(rnd.suspended, now) if a["venue"] not in known]
    found = (*alerts.snapshot_alerts(pools, now, market.settings.guardrails.low_water_pct), *maker_alerts) \
        if with_alerts else ()
    return Gathered(order, tuple(options), otc_quotes, mid, now, jq, tuple(curves), pool_ids, rnd, found)


def _jupiter_curve(market: Market, order: orders.Order, full: jupiter_api.JupiterQuote, mid: Decimal,
                   now_s: float) -> list[VenueCurve]:
    """Jupiter's cost curve from the shared ladder, exact at the order's size (services/ladder.py)."""
    delay_ms, risk = market.settings.jupiter_delay_ms, market.jupiter_risk_bps()
    return [ladder.jupiter_curve(market, order, full, mid, now_s, risk, delay_ms)]


def _jupiter_option(market: Market, order: orders.Order, q: jupiter_api.JupiterQuote,
                    mid: Decimal) -> orders.VenueOption:
    """Jupiter's quote priced against the mid, with the delay-risk charge of on-chain inclusion."""
    delay_ms, risk = market.settings.jupiter_delay_ms, market.jupiter_risk_bps()
    route = [{"label": s.label, "amm_key": s.amm_key, "percent": s.percent,
              "in_amount_atoms": str(s.in_amount_atoms), "out_amount_atoms": str(s.out_amount_atoms)}
             for s in q.route_plan]
    return router.priced_option(order, JUPITER, q.in_amount_atoms, q.out_amount_atoms, mid, risk_bps=risk,
                                delay_ms=delay_ms, price_impact_bps=(q.price_impact_pct * BPS).quantize(
                                    BPS_PLACES), detail={"route_plan": route, "context_slot": q.context_slot})


def _otc_option(order: orders.Order, q: otc_engine.OtcQuote, mid: Decimal,
                params: otc_engine.PoolParams) -> orders.VenueOption:
    """An OTC pool's firm quote priced against the mid: no desk timing charge (its spread prices its delay)."""
    risk = router.timing_risk_bps(q.venue, params.annual_vol_pct, params.vol_z, q.execution_delay_ms)
    return router.priced_option(
        order, q.venue, q.in_amount_atoms, q.out_amount_atoms, mid, risk_bps=risk, delay_ms=q.execution_delay_ms,
        spread_bps=q.spread_bps, fee_atoms=q.fee_atoms, fee_bps=q.fee_bps,
        detail={"base_spread_bps": str(q.base_spread_bps), "size_spread_bps": str(q.size_spread_bps),
                "vol_spread_bps": str(q.vol_spread_bps), "expires_at": iso_z(q.expires_at)},
    )


def quote(market: Market, order: orders.Order, now: datetime | None = None, *,
          user_id: int | None = None) -> tuple[Quote, dict[str, Any]]:
    """Quote an order on every venue at `now` (default: the clock), decide, store the firm quote for `user_id` (the
    only user who may execute it); nothing executes."""
    started = time.perf_counter()
    with market.one_pool_read():  # the full-size and the firm leg's simulated Jupiter quotes: one read of the pools
        g = gather(market, order, now, with_alerts=True)
        decision = decide(market, g)
    used = _venues(decision)
    expiries = [q.expires_at for _, q in g.otc_quotes.values() if q.venue in used]
    expiries += [c.book.now + timedelta(milliseconds=c.book.params.quote_ttl_ms) for c in g.curves
                 if c.book is not None and c.venue in used and c.venue not in g.otc_quotes]
    expiries += rfq_quoting.expiry(market, g.quoted_at, g.rfq, decision)  # makers: theirs or ours, the shorter
    if JUPITER in used or not expiries:  # each venue's TTL: OTC pools their own, Jupiter QUOTE_TTL_MS
        expiries.append(g.quoted_at + timedelta(milliseconds=market.settings.quote_ttl_ms))
    row = Quote(id="q_" + secrets.token_urlsafe(18), created_at=g.quoted_at, expires_at=min(expiries),
                input_mint=order.input_token.mint, output_mint=order.output_token.mint, swap_mode=order.swap_mode,
                amount_atoms=order.amount_atoms, slippage_bps=order.slippage_bps, payload={}, user_id=user_id)
    body = quote_json(row.id, row.expires_at, g, decision)
    rails = market.settings.guardrails
    body["guardrails"] = {**guardrails.assessment(
        decision.cost_bps, usd_atoms(market, g, decision.in_amount_atoms, order.input_token), rails,
        {o.venue: o.cost_bps for o in g.options if o.available}), "alerts": list(g.alerts)}
    body["latency_ms"] = int((time.perf_counter() - started) * 1000)
    row.payload = {**body, "decision_exact": codec.decision_json(decision, exact=True),
                   "rfq_quotes": rfq_quoting.stored(g.rfq),
                   "tca": tca.decided(market, order, g.options, decision, g.mid_price, g.curves).to_json()}
    quotes.store_quote(row)
    return row, body


def usd_atoms(market: Market, g: Gathered, amount_atoms: int, token: Token) -> int:
    """USD value (USDC atoms, rounded down) of an amount of one of the order's tokens, from the gathered mid.

    Stablecoins count at par; the other side of a stablecoin pair is valued at the mid already gathered, so no
    further upstream call is made. Other pairs ask the market, and count 0 when no price can be had.
    """
    if token.stable:
        return market.usd_value_atoms(amount_atoms, token)
    other, per_token = ((g.order.output_token, g.mid_price) if token == g.order.input_token
                        else (g.order.input_token, invert_price(g.mid_price)))
    if other.stable:
        value = router.mid_value_atoms(amount_atoms, per_token, token, other)
        return int(value) * 10**USDC.decimals // 10**other.decimals
    try:
        return market.usd_value_atoms(amount_atoms, token, g.quoted_at.timestamp())
    except jupiter_api.JupiterError:
        return 0


def quote_json(quote_id: str, expires_at: datetime, g: Gathered, d: orders.Decision) -> dict[str, Any]:
    """The response of POST /api/v1/quotes (API.md)."""
    return {
        "quote_id": quote_id, "expires_at": iso_z(expires_at), "quoted_at": iso_z(g.quoted_at),
        "mid_price": str(g.mid_price.quantize(Decimal("0.000000001"))),
        "order": codec.order_json(g.order), "options": [codec.option_json(o) for o in g.options],
        "decision": codec.decision_json(d),
    }


def _venues(decision: orders.Decision) -> set[str]:
    """Venues the decision uses."""
    return {leg.venue for leg in decision.legs}


def decide(market: Market, g: Gathered) -> orders.Decision:
    """Run the router (single venue or split); 503 when Jupiter is down and nothing else serves, 422 when no
    venue can fill or the best route costs more than the desk's MAX_COST_BPS."""
    plans = router.Plans()  # the allocation runs once per set of curves: the firm re-decision reuses it
    try:
        decision = _firm_jupiter_leg(market, g, rfq_quoting.decide(g.rfq, g.order, g.options, g.curves,
                                                                   g.mid_price, plans=plans), plans)
    except orders.NoRouteAvailable as exc:
        if any(o.down for o in g.options):
            raise ServiceError(503, "VENUE_UNAVAILABLE",
                               f"Jupiter is unavailable and no OTC pool can fill: {exc}") from None
        raise ServiceError(422, "NO_ROUTE", str(exc)) from None
    limit_bps = market.settings.max_cost_bps
    if decision.cost_bps > limit_bps:  # the desk's ceiling: a route this dear is a mistake, not a trade
        raise ServiceError(422, "COST_LIMIT",
                           f"the best route costs {decision.cost_bps:.1f} bps all-in, above the desk's limit of "
                           f"{limit_bps} bps (MAX_COST_BPS); trade a smaller size or split the order over time")
    rfq_quoting.note_decision(g.rfq, g.options, g.order, decision, g.curves, g.mid_price)
    return decision


def _firm_jupiter_leg(market: Market, g: Gathered, decision: orders.Decision,
                      plans: router.Plans) -> orders.Decision:
    """Re-quote a split's Jupiter leg at exactly its size and decide again on that firm price, on the same cut
    (`plans`; the split stays only if it still beats the best single venue); without a Jupiter quote, split over the
    other venues only."""
    leg = next((x for x in decision.legs if x.venue == JUPITER), None)
    if leg is None or len(decision.legs) == 1:
        return decision
    size = leg.in_amount_atoms if g.order.exact_in else leg.out_amount_atoms
    try:
        q = market.leg_quote(g.order, size, g.mid_price)
    except jupiter_api.JupiterError:
        others = [c for c in g.curves if c.venue != JUPITER]
        return rfq_quoting.decide(g.rfq, g.order, g.options, others, g.mid_price, plans=plans)
    return rfq_quoting.decide(g.rfq, g.order, g.options, g.curves, g.mid_price,
                              firm={(JUPITER, size): (q.in_amount_atoms, q.out_amount_atoms)}, plans=plans)
