"""Simulated Jupiter aggregator: AMM pools per pair, an output-maximising split, two-hop routes, Jupiter's wire format.

Pure: no I/O, no clock reads, no global random; time (`now_s`, Unix seconds) and the seed (`SimConfig`) are passed in.
Amounts are integer atoms throughout; Decimal is used only for prices and for the split's continuous first guess.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Any

from core.tokens import SOL, USDC, token_by_mint
from core.units import BPS, SwapMode, max_in, min_out
from sim.pools import POOLS, PoolSpec
from sim.price import SimConfig, reference_price, time_bucket, usd_price
from sim.request import QuoteRequest, Reject, parse_request

__all__ = ["POOLS", "PoolSpec", "SimConfig", "quote_response", "reference_price"]

INTERMEDIATE_MINTS = (USDC.mint, SOL.mint)  # tried in this order when a pair has no pool of its own
ANCHOR_UNIX, ANCHOR_SLOT = 1_760_000_000, 372_000_000  # contextSlot advances 2.5 slots per second from here
_CTX = Context(prec=34)
NO_ROUTE = "COULD_NOT_FIND_ANY_ROUTE"


@dataclass(frozen=True, slots=True)
class _Pool:
    """A pool oriented input → output at one bucket: virtual reserves x (in) and y (out), input cap, all in atoms."""

    spec: PoolSpec
    input_mint: str
    output_mint: str
    x: int
    y: int
    cap: int  # most input atoms before the pool's price leaves its range
    mid: Decimal  # output atoms per input atom at the reference mid

    def out(self, amount: int) -> int:
        """Constant-product output for `amount` input atoms after the fee; fee and output both round down."""
        eff = amount * (BPS - self.spec.fee_bps) // BPS
        return self.y * eff // (self.x + eff)

    def ideal(self, amount: int) -> Decimal:
        """Output at the mid price (no curve) for `amount` input atoms after the fee, exact Decimal."""
        return amount * (BPS - self.spec.fee_bps) // BPS * self.mid

    def key_terms(self, k: int) -> tuple[int, int]:
        """Marginal output of the k-th input atom as numerator/denominator: y·x·Φ·BPS / (BPS·x + Φ·k)²."""
        phi = BPS - self.spec.fee_bps
        return self.y * self.x * phi * BPS, (BPS * self.x + phi * k) ** 2


def _oriented(spec: PoolSpec, input_mint: str, output_mint: str, now_s: float, config: SimConfig) -> _Pool:
    """Re-centre a pool on the current mid: y/x never exceeds the mid, so the pool never pays more than mid."""
    dec_in, dec_out = token_by_mint(input_mint).decimals, token_by_mint(output_mint).decimals
    with localcontext(_CTX):
        mid = reference_price(input_mint, output_mint, now_s, config).scaleb(dec_out - dec_in)
        depth = spec.depth_usd * config.depth_multiplier / usd_price(output_mint, now_s, config)
        y = int(depth.scaleb(dec_out))
        x = int(y / mid) + 1
        cap_eff = int(x * (spec.range_factor.sqrt() - 1))
    return _Pool(spec, input_mint, output_mint, x, y, cap_eff * BPS // (BPS - spec.fee_bps), mid)


def _key_before(pools: list[_Pool], i: int, ki: int, j: int, kj: int) -> bool:
    """True if atom ki of pool i earns more at the margin than atom kj of pool j (ties: lower pool index first)."""
    num_i, den_i = pools[i].key_terms(ki)
    num_j, den_j = pools[j].key_terms(kj)
    return num_i * den_j > num_j * den_i or (num_i * den_j == num_j * den_i and i < j)


def _continuous_split(pools: list[_Pool], amount: int) -> list[int]:
    """First guess: equalise marginal output across pools (piecewise solve in t = λ^-1/2), each rounded down."""
    with localcontext(_CTX):
        terms = [
            (Decimal(p.key_terms(0)[0]).sqrt(), Decimal(BPS * p.x), Decimal(BPS - p.spec.fee_bps), p.cap) for p in pools
        ]

        def alloc(t: Decimal) -> list[Decimal]:
            return [min(max((r * t - x) / phi, Decimal(0)), Decimal(cap)) for r, x, phi, cap in terms]

        events = sorted({x / r for r, x, _, _ in terms} | {(cap * phi + x) / r for r, x, phi, cap in terms})
        prev = events[0]
        for event in events[1:]:
            if sum(alloc(event)) >= amount:
                break
            prev = event
        mid_t = (prev + event) / 2
        slope, offset = Decimal(0), Decimal(amount)
        for (r, x, phi, cap), share in zip(terms, alloc(mid_t), strict=True):
            if share == cap:
                offset -= cap
            elif share > 0:
                slope += r / phi
                offset += x / phi
        t = offset / slope if slope else event
        return [int(share) for share in alloc(t)]


def split(pools: list[_Pool], amount: int) -> list[int]:
    """Input atoms per pool: the `amount` atoms with the highest marginal output (so each pool's share never
    shrinks as `amount` grows); exact integers summing to `amount`, which must not exceed the pools' total cap."""
    n = _continuous_split(pools, amount)
    idx = range(len(pools))
    while sum(n) < amount:
        best = None
        for i in idx:
            if n[i] < pools[i].cap and (best is None or _key_before(pools, i, n[i] + 1, best, n[best] + 1)):
                best = i
        if best is None:
            raise ValueError("amount exceeds the pools' capacity")
        n[best] += 1
    while sum(n) > amount:
        worst = None
        for i in idx:
            if n[i] > 0 and (worst is None or _key_before(pools, worst, n[worst], i, n[i])):
                worst = i
        assert worst is not None
        n[worst] -= 1
    while True:  # swap until no excluded atom beats an included one
        best = worst = None
        for i in idx:
            if n[i] < pools[i].cap and (best is None or _key_before(pools, i, n[i] + 1, best, n[best] + 1)):
                best = i
            if n[i] > 0 and (worst is None or _key_before(pools, worst, n[worst], i, n[i])):
                worst = i
        if best is None or worst is None or best == worst or not _key_before(pools, best, n[best] + 1, worst, n[worst]):
            return n
        n[best] += 1
        n[worst] -= 1


Leg = tuple[_Pool, int, int]  # pool, input atoms, output atoms


def run_route(hops: list[list[_Pool]], amount: int) -> tuple[list[list[Leg]], int] | None:
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


def _hop_pools(req: QuoteRequest, input_mint: str, output_mint: str, now_s: float, config: SimConfig) -> list[_Pool]:
    """The pools of one pair allowed by dexes/excludeDexes, oriented input → output, in POOLS order."""
    pools = [
        _oriented(spec, input_mint, output_mint, now_s, config)
        for spec in POOLS
        if {spec.base_mint, spec.quote_mint} == {input_mint, output_mint}
        and (req.dexes is None or spec.label in req.dexes)
        and spec.label not in req.exclude_dexes
    ]
    return [pool for pool in pools if pool.y > 0 and pool.cap > 0]  # a tiny depth_multiplier can empty a pool


def find_path(req: QuoteRequest, now_s: float, config: SimConfig) -> list[list[_Pool]]:
    """The direct pair if it has pools, else two hops via the first intermediate (USDC, then SOL) that connects."""
    direct = _hop_pools(req, req.input_mint, req.output_mint, now_s, config)
    if direct:
        return [direct]
    if not req.only_direct:
        for mid in INTERMEDIATE_MINTS:
            if mid in (req.input_mint, req.output_mint):
                continue
            first = _hop_pools(req, req.input_mint, mid, now_s, config)
            second = _hop_pools(req, mid, req.output_mint, now_s, config)
            if first and second:
                return [first, second]
    raise Reject(NO_ROUTE, "Could not find any route")


def _exact_out(hops: list[list[_Pool]], out_atoms: int) -> tuple[list[list[Leg]], int]:
    """Least input whose ExactIn output reaches `out_atoms` (bisection on a monotone output); the surplus of the
    final hop is trimmed from its largest leg so the route delivers exactly `out_atoms`."""

    def enough(amount: int) -> bool:
        result = run_route(hops, amount)
        return result is None or result[1] >= out_atoms  # beyond capacity counts as "enough" to bound the search

    hi = sum(p.cap for p in hops[0])
    if not enough(hi):
        raise Reject(NO_ROUTE, "Could not find any route")
    with localcontext(_CTX):
        rate = Decimal(1)
        for pools in hops:
            rate *= pools[0].mid
        lo = max(0, min(int(out_atoms / rate) - 1, hi - 1))  # output can never beat the mid rate
    if enough(lo):
        lo = 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if enough(mid) else (mid, hi)
    result = run_route(hops, hi)
    if result is None:
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


def _step(pool: _Pool, a: int, b: int, percent: int, bps: int) -> dict[str, Any]:
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


def quote_response(params: Mapping[str, str], now_s: float, config: SimConfig) -> tuple[int, dict]:
    """(HTTP status, JSON body) for GET /swap/v1/quote query params, exactly Jupiter's wire format."""
    try:
        req = parse_request(params)
        hops = find_path(req, now_s, config)
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
