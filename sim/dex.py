"""Simulated Jupiter aggregator: AMM pools per pair, an output-maximising split, two-hop routes, Jupiter's wire format.

Pure: no I/O, no clock reads, no global random; time (`now_s`, Unix seconds), the seed (`SimConfig`) and the pools'
displacements by our own past swaps (`displaced`: base atoms per amm_key, see sim.impact) are passed in.
Amounts are integer atoms throughout; Decimal is used only for prices. Pool tables are built once per time bucket
(sim.amm.centres) and ExactOut is solved in closed form, then made exact by a short integer search.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Any

from core.tokens import SOL, USDC
from core.units import BPS, SwapMode, max_in, min_out
from sim.amm import Pool, centres, input_guess, split
from sim.pools import POOLS, PoolSpec
from sim.price import SimConfig, reference_price, time_bucket
from sim.request import QuoteRequest, Reject, parse_request

__all__ = ["POOLS", "PoolSpec", "SimConfig", "quote_response", "reference_price", "split"]

INTERMEDIATE_MINTS = (USDC.mint, SOL.mint)  # tried in this order when a pair has no pool of its own
ANCHOR_UNIX, ANCHOR_SLOT = 1_760_000_000, 372_000_000  # contextSlot advances 2.5 slots per second from here
_CTX = Context(prec=34)
NO_ROUTE = "COULD_NOT_FIND_ANY_ROUTE"
NO_DISPLACEMENT: Mapping[str, int] = {}

Leg = tuple[Pool, int, int]  # pool, input atoms, output atoms


def run_route(hops: list[list[Pool]], amount: int) -> tuple[list[list[Leg]], int] | None:
    """ExactIn through hops (leg outputs of one hop feed the next); None if an amount exceeds a hop's capacity."""
    route: list[list[Leg]] = []
    for pools in hops:
        if amount > sum(p.cap for p in pools):
            return None
        if amount == 0:
            route.append([])
            continue
        legs = [(p, a, p.out(a)) for p, a in zip(pools, split(pools, amount), strict=True) if a > 0]
        route.append(legs)
        amount = sum(out for _, _, out in legs)
    return route, amount


def _hop_pools(req: QuoteRequest, input_mint: str, output_mint: str, now_s: float, config: SimConfig,
               displaced: Mapping[str, int]) -> list[Pool]:
    """The pools of one pair allowed by dexes/excludeDexes, oriented input → output and displaced, in POOLS order."""
    pools = []
    for centre in centres(input_mint, output_mint, time_bucket(now_s, config), config):
        spec = centre.pool.spec
        if (req.dexes is None or spec.label in req.dexes) and spec.label not in req.exclude_dexes:
            pool = centre.displaced(displaced.get(spec.amm_key, 0))
            if pool.cap > 0:
                pools.append(pool)
    return pools


def find_path(req: QuoteRequest, now_s: float, config: SimConfig,
              displaced: Mapping[str, int] = NO_DISPLACEMENT) -> list[list[Pool]]:
    """The direct pair if it has pools, else two hops via the first intermediate (USDC, then SOL) that connects."""
    direct = _hop_pools(req, req.input_mint, req.output_mint, now_s, config, displaced)
    if direct:
        return [direct]
    if not req.only_direct:
        for mid in INTERMEDIATE_MINTS:
            if mid in (req.input_mint, req.output_mint):
                continue
            first = _hop_pools(req, req.input_mint, mid, now_s, config, displaced)
            second = _hop_pools(req, mid, req.output_mint, now_s, config, displaced)
            if first and second:
                return [first, second]
    raise Reject(NO_ROUTE, "Could not find any route")


def _route_guess(hops: list[list[Pool]], out_atoms: int) -> int:
    """Input atoms about enough for `out_atoms` through the hops (closed form per hop, last hop first)."""
    need = out_atoms
    for pools in reversed(hops):
        guess = input_guess(pools, need)
        if guess is None:
            raise Reject(NO_ROUTE, "Could not find any route")
        need = max(guess, 1)
    return need


def _exact_out(hops: list[list[Pool]], out_atoms: int) -> tuple[list[list[Leg]], int]:
    """Least input whose ExactIn output reaches `out_atoms`: a closed-form guess, then a gallop and bisection over
    the few atoms of rounding around it; the surplus of the final hop is trimmed from its largest leg so the route
    delivers exactly `out_atoms`."""
    cap = sum(p.cap for p in hops[0])

    def enough(amount: int) -> bool:
        result = run_route(hops, amount)
        return result is None or result[1] >= out_atoms  # beyond capacity counts as "enough" to bound the search

    rate = 1.0
    for pools in hops:
        rate *= float(pools[0].mid)
    step = int((len(hops[-1]) + 2) / rate) + 1  # the rounding the continuous guess ignores, in input atoms
    guess = min(max(_route_guess(hops, out_atoms), 1), cap)
    if enough(guess):
        hi = guess
        while hi - step > 0 and enough(hi - step):
            hi, step = hi - step, step * 2
        lo = max(0, hi - step)
    else:
        lo = guess
        while lo + step < cap and not enough(lo + step):
            lo, step = lo + step, step * 2
        hi = min(cap, lo + step)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if enough(mid) else (mid, hi)
    result = run_route(hops, hi)
    if result is None or result[1] < out_atoms:
        raise Reject(NO_ROUTE, "Could not find any route")
    route, out = result
    last = route[-1]
    k = max(range(len(last)), key=lambda i: last[i][2])
    pool, a, b = last[k]
    last[k] = (pool, a, b - (out - out_atoms))
    return route, hi


def _shares(amounts: list[int], units: int) -> list[int]:
    """Split `units` in proportion to amounts by largest remainder (ties to the earlier leg); sums to `units`."""
    total = sum(amounts)
    base = [a * units // total for a in amounts]
    order = sorted(range(len(amounts)), key=lambda i: (-(amounts[i] * units % total), i))
    for i in order[: units - sum(base)]:
        base[i] += 1
    return base


def _price_impact(route: list[list[Leg]]) -> str:
    """Fraction of output lost to the curves (fees excluded) against the reference mid, compounded over hops."""
    with localcontext(_CTX):
        kept = Decimal(1)
        for legs in route:
            kept *= sum(Decimal(out) for _, _, out in legs) / sum(p.ideal(a) for p, a, _ in legs)
        impact = (1 - kept).quantize(Decimal("1e-10"), rounding=ROUND_HALF_EVEN).normalize()
        return format(impact, "f")


def _step(pool: Pool, a: int, b: int, percent: int, bps: int) -> dict[str, Any]:
    """One routePlan entry in Jupiter's wire format."""
    swap = {"ammKey": pool.spec.amm_key, "label": pool.spec.label, "inputMint": pool.input_mint}
    swap["outputMint"] = pool.output_mint
    return {"swapInfo": {**swap, "inAmount": str(a), "outAmount": str(b)}, "percent": percent, "bps": bps}


def _body(
    req: QuoteRequest, route: list[list[Leg]], in_atoms: int, out_atoms: int, now_s: float, config: SimConfig
) -> dict[str, Any]:
    """The 200 body of GET /swap/v1/quote, field for field as Jupiter sends it."""
    if req.swap_mode == SwapMode.EXACT_IN:
        threshold = min_out(out_atoms, req.slippage_bps)
    else:
        threshold = max_in(in_atoms, req.slippage_bps)
    plan = []
    for legs in route:
        amounts = [a for _, a, _ in legs]
        for (pool, a, b), pct, bps in zip(legs, _shares(amounts, 100), _shares(amounts, BPS), strict=True):
            plan.append(_step(pool, a, b, pct, bps))
    bucket_start = time_bucket(now_s, config) * config.bucket_s
    return {
        "inputMint": req.input_mint,
        "inAmount": str(in_atoms),
        "outputMint": req.output_mint,
        "outAmount": str(out_atoms),
        "otherAmountThreshold": str(threshold),
        "swapMode": req.swap_mode,
        "slippageBps": req.slippage_bps,
        "platformFee": None,
        "priceImpactPct": _price_impact(route),
        "routePlan": plan,
        "contextSlot": max(0, ANCHOR_SLOT + (bucket_start - ANCHOR_UNIX) * 5 // 2),
        "timeTaken": round(0.002 + 0.0007 * len(plan) + (0.004 if req.swap_mode == "ExactOut" else 0), 6),
    }


def quote_response(params: Mapping[str, str], now_s: float, config: SimConfig,
                   displaced: Mapping[str, int] = NO_DISPLACEMENT) -> tuple[int, dict]:
    """(HTTP status, JSON body) for GET /swap/v1/quote query params, exactly Jupiter's wire format; `displaced`
    holds each pool's displacement by our past swaps now (base atoms, sim.impact.displacements_at)."""
    try:
        req = parse_request(params)
        hops = find_path(req, now_s, config, displaced)
        if req.swap_mode == "ExactIn":
            result = run_route(hops, req.amount)
            if result is None or result[1] == 0:
                raise Reject(NO_ROUTE, "Could not find any route")
            route, in_atoms, out_atoms = result[0], req.amount, result[1]
        else:
            route, in_atoms = _exact_out(hops, req.amount)
            out_atoms = req.amount
        return 200, _body(req, route, in_atoms, out_atoms, now_s, config)
    except Reject as reject:
        return 400, {"error": reject.message, "errorCode": reject.code}
