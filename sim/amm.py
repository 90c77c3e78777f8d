"""The simulated DEX's pool math: pools oriented input → output, displaced by persistent impact, and the exact split.

Pure: no I/O, no clock. Amounts are integer atoms. Floats appear only in first guesses (which segment of the
piecewise split is active, the start of an integer search); every answer is then found exactly in integers.

A pool is a constant-product curve on virtual reserves x (input) and y (output) within its price range. At a time
bucket its centre is re-drawn on the reference mid (arbitrage keeps it there); our own swaps move it off centre by
a displacement `d`: base atoms the pool holds beyond that equilibrium (sim.impact decays it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from functools import lru_cache

from core.tokens import token_by_mint
from core.units import BPS
from sim.pools import POOLS, PoolSpec
from sim.price import SimConfig, reference_price, usd_price

_CTX = Context(prec=34)


@dataclass(frozen=True, slots=True)
class Pool:
    """A pool oriented input → output: virtual reserves x (in), y (out), input cap, mid, and key terms; all atoms."""

    spec: PoolSpec
    input_mint: str
    output_mint: str
    x: int
    y: int
    cap: int  # most input atoms before the pool's price leaves its range
    mid: Decimal  # output atoms per input atom at the reference mid
    phi: int  # BPS - fee_bps
    key_num: int  # y·x·φ·BPS: the marginal output of atom k is key_num / (key_den + φ·k)²
    key_den: int  # BPS·x
    root: int  # isqrt(key_num)

    def out(self, amount: int) -> int:
        """Constant-product output for `amount` input atoms after the fee; fee and output both round down."""
        eff = amount * self.phi // BPS
        return self.y * eff // (self.x + eff)

    def input_for(self, out: int) -> int | None:
        """Fewest input atoms whose out() reaches `out` (closed form, rounded up), or None beyond the reserve."""
        if out >= self.y:
            return None
        eff = -(-out * self.x // (self.y - out))
        return -(-eff * BPS // self.phi)

    def ideal(self, amount: int) -> Decimal:
        """Output at the mid price (no curve) for `amount` input atoms after the fee, exact Decimal."""
        return amount * self.phi // BPS * self.mid

    def key_terms(self, k: int) -> tuple[int, int]:
        """Marginal output of the k-th input atom as numerator/denominator: y·x·Φ·BPS / (BPS·x + Φ·k)²."""
        return self.key_num, (self.key_den + self.phi * k) ** 2


def make_pool(spec: PoolSpec, input_mint: str, output_mint: str, x: int, y: int, x_max: int, mid: Decimal) -> Pool:
    """A Pool from its reserves; the cap is how far x may grow to x_max, grossed up for the fee."""
    phi = BPS - spec.fee_bps
    key_num = y * x * phi * BPS
    cap = max(0, x_max - x) * BPS // phi
    return Pool(spec, input_mint, output_mint, x, y, cap, mid, phi, key_num, BPS * x, math.isqrt(key_num))


@dataclass(frozen=True, slots=True)
class Centre:
    """A pool at equilibrium in one bucket, oriented input → output: reserves and their range bounds (atoms)."""

    pool: Pool  # the undisplaced pool
    base_in: bool  # the input is the pool's base token
    lo: int  # least base reserve within range
    hi: int  # most base reserve within range
    x_max: int  # most input reserve within range

    def displaced(self, d: int) -> Pool:
        """The pool holding d more base atoms than at equilibrium (clamped to its range), same k (rounded against
        the trader: the reserve the trader receives from rounds down, the one it pays into rounds up)."""
        p = self.pool
        if d == 0:
            return p
        if self.base_in:
            x = min(max(p.x + d, self.lo), self.hi)
            y = p.y * p.x // x
        else:
            y = min(max(p.y + d, self.lo), self.hi)
            x = -(-p.x * p.y // y)
        return make_pool(p.spec, p.input_mint, p.output_mint, x, y, self.x_max, p.mid)


@lru_cache(maxsize=512)
def centres(input_mint: str, output_mint: str, bucket: int, config: SimConfig) -> tuple[Centre, ...]:
    """Every pool of the pair re-centred on the bucket's mid, in POOLS order; y/x stays below the mid, so an
    undisplaced pool never pays more than mid. Pools emptied by a tiny depth_multiplier are left out."""
    now_s = bucket * config.bucket_s
    dec_in, dec_out = token_by_mint(input_mint).decimals, token_by_mint(output_mint).decimals
    found = []
    with localcontext(_CTX):
        mid = reference_price(input_mint, output_mint, now_s, config).scaleb(dec_out - dec_in)
        out_usd = usd_price(output_mint, now_s, config)
        for spec in POOLS:
            if {spec.base_mint, spec.quote_mint} != {input_mint, output_mint}:
                continue
            y = int((spec.depth_usd * config.depth_multiplier / out_usd).scaleb(dec_out))
            x = int(y / mid) + 1
            root_r = spec.range_factor.sqrt()
            x_max = int(x * root_r)
            base = x if spec.base_mint == input_mint else y
            lo, hi = int(base / root_r) + 1, int(base * root_r)
            pool = make_pool(spec, input_mint, output_mint, x, y, x_max, mid)
            if y > 0 and pool.cap > 0:
                found.append(Centre(pool, spec.base_mint == input_mint, lo, hi, x_max))
    return tuple(found)


def _key_before(pools: list[Pool], i: int, ki: int, j: int, kj: int) -> bool:
    """True if atom ki of pool i earns more at the margin than atom kj of pool j (ties: lower pool index first)."""
    num_i, den_i = pools[i].key_terms(ki)
    num_j, den_j = pools[j].key_terms(kj)
    return num_i * den_j > num_j * den_i or (num_i * den_j == num_j * den_i and i < j)


def _events(pools: list[Pool]) -> list[float]:
    """Values of t = λ^-1/2 where a pool starts (its first atom) or fills up (its cap), sorted (float guesses)."""
    return sorted({p.key_den / p.root for p in pools} | {(p.key_den + p.phi * p.cap) / p.root for p in pools})


def _state(pools: list[Pool], t: float) -> tuple[list[int], list[int]]:
    """Indices of pools filling (between start and cap) and of pools full, at level t."""
    filling = [i for i, p in enumerate(pools) if p.key_den < p.root * t < p.key_den + p.phi * p.cap]
    full = [i for i, p in enumerate(pools) if p.root * t >= p.key_den + p.phi * p.cap]
    return filling, full


def _segment(pools: list[Pool], total_at: object, target: float) -> tuple[list[int], list[int]]:
    """The filling and full pools on the segment of t where total_at(t) (non-decreasing) reaches target: a binary
    search over the sorted events (floats, a guess)."""
    events = _events(pools)
    lo, hi = 0, len(events) - 1  # the first event whose total reaches target, or the last
    while lo < hi:
        mid = (lo + hi) // 2
        if total_at(events[mid]) >= target:  # type: ignore[operator]
            hi = mid
        else:
            lo = mid + 1
    prev = events[max(lo - 1, 0)]
    return _state(pools, (prev + events[lo]) / 2)


def _continuous_split(pools: list[Pool], amount: int) -> list[int]:
    """First guess: equalise marginal output (D_i + φ_i·k_i = r_i·t), t solved exactly in integers on the active
    segment; each share rounded down and clamped to [0, cap]."""
    def total_at(t: float) -> float:
        return sum(min(max((p.root * t - p.key_den) / p.phi, 0.0), p.cap) for p in pools)

    filling, full = _segment(pools, total_at, amount)
    n = [0] * len(pools)
    for i in full:
        n[i] = pools[i].cap
    if not filling:
        return n
    common = math.prod(pools[i].phi for i in filling)
    t_num = (amount - sum(n)) * common + sum(pools[i].key_den * (common // pools[i].phi) for i in filling)
    t_den = sum(pools[i].root * (common // pools[i].phi) for i in filling)
    for i in filling:
        p = pools[i]
        n[i] = min(max((p.root * t_num - p.key_den * t_den) // (p.phi * t_den), 0), p.cap)
    return n


def split(pools: list[Pool], amount: int) -> list[int]:
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


def input_guess(pools: list[Pool], out_atoms: int) -> int | None:
    """Input atoms whose best split yields about `out_atoms` (closed form on the active segment: Σ y_i − Σ y_i·x_i·
    BPS/(r_i·t) = out), a guess for the exact search; None when even every pool's full cap yields less."""
    def out_at(t: float) -> float:
        total = 0.0
        for p in pools:
            level = min(t, (p.key_den + p.phi * p.cap) / p.root)
            if p.root * level > p.key_den:
                total += p.y - p.y * p.key_den / (p.root * level)
        return total

    if sum(p.out(p.cap) for p in pools) < out_atoms:
        return None
    filling, full = _segment(pools, out_at, out_atoms)
    capped_out = sum(pools[i].out(pools[i].cap) for i in full)
    rest = sum(pools[i].y for i in filling) + capped_out - out_atoms
    weight = sum(pools[i].y * pools[i].key_den / pools[i].root for i in filling)
    amount = sum(pools[i].cap for i in full)
    if filling and rest > 0:
        t = weight / rest
        amount += sum(max((pools[i].root * t - pools[i].key_den) / pools[i].phi, 0.0) for i in filling)
    return int(min(amount, sum(p.cap for p in pools)))
