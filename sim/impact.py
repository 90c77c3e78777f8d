"""Persistent impact: our own swaps displace the simulated pools, and arbitrage pulls them back. Pure.

A pool's state is its displacement: base atoms it holds beyond its arbitrage equilibrium (negative: fewer), stored
as of a whole second. Arbitrage takes back the same fraction every second, d(t) = d0 · 2^(−(t − t0) / half_life),
evaluated at the start of the price bucket (one state per bucket, so its pool tables can be reused) and rounded
toward zero. A swap adds to it: + the base atoms paid in after the fee when the pool is sold base, − the base atoms
paid out when it is bought from; the curve (sim.amm.Centre.displaced) then prices from the moved reserves.

The half-life is SimConfig.arb_half_life_s for constant-product pools, whose 25 bps fee leaves arbitrage nothing
until the gap is wide; concentrated pools, the main CEX-DEX arbitrage venues, recover in half of it and prop AMMs,
which re-price from their own oracle every slot, in a quarter (HALF_LIFE_SCALE).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Protocol

from core.tokens import token_by_mint
from core.units import BPS
from sim.amm import centres
from sim.pools import POOL_BY_KEY, POOLS, PoolKind
from sim.price import SimConfig, time_bucket

_CTX = Context(prec=34)
RECOVERED_BPS = Decimal(1)  # a pool within this of the reference counts as recovered
HALF_LIFE_SCALE = {PoolKind.CONSTANT_PRODUCT: Decimal(1), PoolKind.CONCENTRATED: Decimal("0.5"),
                   PoolKind.PROP_AMM: Decimal("0.25")}
_GONE_HALF_LIVES = 80  # beyond this many half-lives any displacement below 2^63 atoms has decayed to zero


@dataclass(frozen=True, slots=True)
class Displacement:
    """A pool's displacement by our swaps: base atoms beyond equilibrium (signed), as of a Unix second."""

    amm_key: str
    base_atoms: int
    as_of_s: int


class Step(Protocol):
    """One swap of a route, as Jupiter's routePlan describes it (venues.jupiter_wire.RouteStep fits)."""

    @property
    def amm_key(self) -> str: ...
    @property
    def input_mint(self) -> str: ...
    @property
    def output_mint(self) -> str: ...
    @property
    def in_amount_atoms(self) -> int: ...
    @property
    def out_amount_atoms(self) -> int: ...


@dataclass(frozen=True, slots=True)
class PoolDeviation:
    """A pool now: its base-token price against the reference (bps, negative = cheaper) and seconds to recover."""

    amm_key: str
    label: str
    kind: PoolKind
    pair: str
    base_mint: str
    base_atoms: int
    deviation_bps: Decimal
    recover_s: int  # seconds until within RECOVERED_BPS of the reference (0: already)


def bucket_start_s(now_s: float, config: SimConfig) -> int:
    """The Unix second where now_s's price bucket starts (the instant the state is evaluated at)."""
    return time_bucket(now_s, config) * config.bucket_s


def half_life_s(amm_key: str, config: SimConfig) -> Decimal:
    """The pool's arbitrage half-life in seconds: the configured one scaled by its kind."""
    return config.arb_half_life_s * HALF_LIFE_SCALE[POOL_BY_KEY[amm_key].kind]


def decayed_atoms(base_atoms: int, elapsed_s: int, half_life_s: Decimal) -> int:
    """base_atoms · 2^(−elapsed/half_life), rounded toward zero; no decay for elapsed ≤ 0."""
    if elapsed_s <= 0 or base_atoms == 0:
        return base_atoms
    if elapsed_s >= _GONE_HALF_LIVES * half_life_s:
        return 0
    with localcontext(_CTX):
        return int(base_atoms * Decimal(2) ** (Decimal(-elapsed_s) / half_life_s))


def displacements_at(rows: Iterable[Row], now_s: float, config: SimConfig) -> dict[str, int]:
    """Each displaced pool's base atoms at the start of now_s's bucket (pools at equilibrium left out)."""
    at_s = bucket_start_s(now_s, config)
    found = {}
    for row in rows:
        if row.amm_key not in POOL_BY_KEY:
            continue
        d = decayed_atoms(row.base_atoms, at_s - row.as_of_s, half_life_s(row.amm_key, config))
        if d:
            found[row.amm_key] = d
    return found


def step_delta_atoms(step: Step) -> int:
    """The base atoms one swap adds to its pool (fee kept out, rounded down); 0 for a pool not in the table."""
    spec = POOL_BY_KEY.get(step.amm_key)
    if spec is None:
        return 0
    if step.input_mint == spec.base_mint:
        return step.in_amount_atoms * (BPS - spec.fee_bps) // BPS
    return -step.out_amount_atoms if step.output_mint == spec.base_mint else 0


def moved(rows: Mapping[str, Row], steps: Iterable[Step], now_s: float,
          config: SimConfig) -> dict[str, Displacement]:
    """The new state of every pool the steps swapped through: decayed to now's bucket, plus each step's delta."""
    at_s = bucket_start_s(now_s, config)
    deltas: dict[str, int] = {}
    for step in steps:
        if step.amm_key in POOL_BY_KEY:
            deltas[step.amm_key] = deltas.get(step.amm_key, 0) + step_delta_atoms(step)
    result = {}
    for key, delta in deltas.items():
        row = rows.get(key)
        base = 0 if row is None else decayed_atoms(row.base_atoms, at_s - row.as_of_s, half_life_s(key, config))
        result[key] = Displacement(key, base + delta, max(at_s, row.as_of_s) if row else at_s)
    return result


def deviations(rows: Iterable[Row], now_s: float, config: SimConfig) -> list[PoolDeviation]:
    """Every pool of the table now, in table order: deviation from the reference (bps, 0.01) and time to recover."""
    now_d = displacements_at(rows, now_s, config)
    bucket = time_bucket(now_s, config)
    found = []
    for spec in POOLS:
        centre = next((c for c in centres(spec.base_mint, spec.quote_mint, bucket, config)
                       if c.pool.spec.amm_key == spec.amm_key), None)
        if centre is None:
            continue
        x0 = centre.pool.x
        x = centre.displaced(now_d.get(spec.amm_key, 0)).x
        with localcontext(_CTX):
            dev = ((Decimal(x0) / x) ** 2 - 1) * BPS
            recover = Decimal(0)
            if abs(dev) > RECOVERED_BPS:  # |dev| ∝ |d| while small: halves every half-life
                recover = (abs(dev) / RECOVERED_BPS).ln() / Decimal(2).ln() * half_life_s(spec.amm_key, config)
        pair = f"{token_by_mint(spec.base_mint).symbol}/{token_by_mint(spec.quote_mint).symbol}"
        found.append(PoolDeviation(spec.amm_key, spec.label, spec.kind, pair, spec.base_mint, x - x0,
                                   dev.quantize(Decimal("0.01"), ROUND_HALF_EVEN),
                                   int(recover.to_integral_value(ROUND_CEILING))))
    return found


class Row(Protocol):
    """A stored displacement (ledger.sim_pools.StoredDisplacement fits)."""

    @property
    def amm_key(self) -> str: ...
    @property
    def base_atoms(self) -> int: ...
    @property
    def as_of_s(self) -> int: ...


class PoolBook:
    """The simulated pools' shared state behind two injected callables (like SimTransport's clock): `read` returns
    every stored row (one query), `write(keys, change)` applies a pure change to the locked rows of keys."""

    def __init__(self, config: SimConfig, read: Callable[[], Iterable[Row]],
                 write: Callable[[Iterable[str], Callable[[Mapping[str, Row]], Mapping[str, Displacement]]], None]):
        self.config, self.read, self.write = config, read, write
        # inside one_read(): a box holding the block's one read (empty until the first displaced())
        self._held: ContextVar[list[tuple[Row, ...]] | None] = ContextVar(f"pool_book_{id(self)}", default=None)

    @contextmanager
    def one_read(self) -> Iterator[None]:
        """A block (one quote: its full-size and firm leg quotes) in which displaced() reads the rows once; nothing
        is kept past the block (another worker's fill is seen by the next one), nor across threads."""
        token = self._held.set([])
        try:
            yield
        finally:
            self._held.reset(token)

    def displaced(self, now_s: float) -> dict[str, int]:
        """Each displaced pool's base atoms at now_s (one read; inside one_read() the block's one read)."""
        held = self._held.get()
        if held is None:
            return displacements_at(self.read(), now_s, self.config)
        if not held:
            held.append(tuple(self.read()))
        return displacements_at(held[0], now_s, self.config)

    def apply_fill(self, steps: Sequence[Step], now_s: float) -> None:
        """Move every pool the route swapped through by what went through it, atomically."""
        keys = [s.amm_key for s in steps if s.amm_key in POOL_BY_KEY]
        self.write(keys, lambda rows: moved(rows, steps, now_s, self.config))

    def deviations(self, now_s: float) -> list[PoolDeviation]:
        """Every pool's deviation from the reference now (bps) and its time to recover (s)."""
        return deviations(self.read(), now_s, self.config)
