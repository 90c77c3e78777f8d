"""Demo data: N realistic trades through the real gather → decide → apply path, back-dated over past days.

`flask --app main simulate --trades N [--days D] [--seed S]` (or `make demo TRADES=N`). Sim mode only: prices
must be known in the past, and the simulated DEX is a pure function of (seed, time). Each trade happens at a
back-dated instant `at`: the gather step quotes Jupiter (through a Jupiter client whose clock is the simulated
one, behind a network model with latency, 429s, 5xx, timeouts and one outage) and the OTC pools at `at`; the
router decides; the apply step records the fill at `at` plus the decision latency, moving pool inventory.
About a quarter of the orders go through a stored firm quote executed a few seconds later (slippage-guarded),
so "realised vs quoted" has data. Metrics snapshots are written over the same period; at the end every markout
already due is computed (the background step's work, from the simulator's past reference prices).

Before the first trade, pools whose inventory clock is later than the start are set back to the start (inventory
unchanged) so replenishment runs over the simulated period. The services module has no `now` parameter on
quote/execute yet, so this module calls its gather/_decide/_guard_slippage/_plan steps with an explicit clock.
"""
from __future__ import annotations

import dataclasses
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select, update

import jupiter_api
import trade_logger
from core import codec, orders
from core.tokens import SOL, USDC, USDT, to_atoms
from core.units import SwapMode
from core.venue import is_rfq
from ledger import maker_log, partial_fills
from models import OTCPool, Trade, db, utcnow
from services import execution, monitoring, quoting, rfq_execution, tca, trading
from services.market import Market
from sim.transport import SimTransport
from venues.rfq_client import RfqClient

FIRM_QUOTE_SHARE = 0.25
SIZE_CLASSES = ((0.55, 1, 500), (0.30, 500, 5_000), (0.15, 5_000, 80_000))  # (share, SOL from, SOL to)


class SimClock:
    """A settable clock in Unix seconds: the Jupiter client, its breaker and the simulator read it."""

    def __init__(self, now_s: float) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        """The simulated time."""
        return self.now_s

    def advance(self, seconds: float) -> None:
        """Let simulated time pass (used as the client's sleep, and for network latency)."""
        self.now_s += max(0.0, seconds)

    def at_least(self, at: datetime) -> None:
        """Move the clock forward to `at` (never back)."""
        self.now_s = max(self.now_s, at.timestamp())


class NetworkModel:
    """Wraps the in-process simulator with a network: lognormal latency, some 429/5xx/timeouts, outage windows."""

    def __init__(self, inner: Callable[[dict[str, str]], jupiter_api.RawResponse], clock: SimClock,
                 rng: random.Random, outages: list[tuple[float, float]]) -> None:
        self.inner, self.clock, self.rng, self.outages = inner, clock, rng, outages

    def __call__(self, params: dict[str, str]) -> jupiter_api.RawResponse:
        """One simulated HTTP round trip."""
        latency_s = 0.14 * math.exp(self.rng.gauss(0, 0.45)) * (4 if self.rng.random() < 0.02 else 1)
        roll = self.rng.random()
        if any(start <= self.clock.now_s < end for start, end in self.outages):
            self.clock.advance(latency_s)
            return jupiter_api.RawResponse(503, {"Content-Type": "application/json"}, '{"error": "unavailable"}')
        if roll < 0.004:
            self.clock.advance(5.0)
            raise jupiter_api.UpstreamUnavailableError("Jupiter timed out (simulated)", code="UPSTREAM_TIMEOUT")
        self.clock.advance(latency_s)
        if roll < 0.02:
            return jupiter_api.RawResponse(429, {"Retry-After": "1"}, '{"error": "Rate limit exceeded"}')
        if roll < 0.03:
            return jupiter_api.RawResponse(502, {}, "Bad Gateway")
        return self.inner(params)


@dataclasses.dataclass
class SimReport:
    """What a simulation did: outcomes by kind, metrics snapshots written, the simulated period."""

    outcomes: Counter[str]
    snapshots: int
    since: datetime
    until: datetime


def _trade_times(rng: random.Random, n: int, since: datetime, until: datetime) -> list[datetime]:
    """n instants in [since, until), denser during 12:00–22:00 UTC desk hours, in order."""
    span_s = (until - since).total_seconds()
    out: list[datetime] = []
    while len(out) < n:
        at = since + timedelta(seconds=rng.random() * span_s)
        if 12 <= at.hour < 22 or rng.random() < 0.35:
            out.append(at)
    return sorted(out)


def random_order(rng: random.Random, at: datetime) -> orders.Order:
    """A desk order: SOL/USDC or SOL/USDT, either direction, ExactIn or ExactOut, small to block size."""
    stable = USDC if rng.random() < 0.65 else USDT
    roll, size_sol = rng.random(), 1.0
    for share, low, high in SIZE_CLASSES:
        if roll < share:
            size_sol = math.exp(rng.uniform(math.log(low), math.log(high)))
            break
        roll -= share
    sell = rng.random() < 0.55
    exact_in = rng.random() < 0.8
    amount_in_sol = sell == exact_in  # the fixed side is SOL: sell ExactIn, or buy ExactOut
    if amount_in_sol:
        atoms = to_atoms(f"{size_sol:.2f}", SOL.decimals)
    else:
        price = current_app.extensions["market"].mid_price(SOL, stable, at.timestamp())
        atoms = to_atoms((Decimal(f"{size_sol:.2f}") * price).quantize(Decimal("0.01")), stable.decimals)
    slippage = 50 if rng.random() < 0.85 else rng.choice((10, 20, 30, 100))
    pair = (SOL, stable) if sell else (stable, SOL)
    return orders.Order(*pair, max(atoms, 1), SwapMode.EXACT_IN if exact_in else SwapMode.EXACT_OUT, slippage)


def _fill(market: Market, g: quoting.Gathered, decision: orders.Decision, at: datetime, latency_ms: int,
          quote_id: str | None = None, rfq_quotes: list[dict[str, Any]] | None = None) -> str:
    """The apply step at `at` + latency: 'filled', or 'rejected' (recorded) when liquidity moved away or a maker
    rejected at last look (maker legs go through last look first, as in execution.run)."""
    plan = trading.plan_fill(market, g, decision, idempotency_key=None, body_hash=None, user_id=None,
                             started=time.perf_counter(), quote_id=quote_id)
    plan = dataclasses.replace(plan, latency_ms=latency_ms)
    if rfq_quotes is not None:
        plan = dataclasses.replace(plan, extra={"rfq_quotes": rfq_quotes})
    fill_at = at + timedelta(milliseconds=latency_ms)
    if any(is_rfq(leg.venue) for leg in plan.legs):
        try:
            plan, _ = rfq_execution.last_look(market, plan, None)
            fills = execution.execute_legs(market, plan)
        except (rfq_execution.LastLookRejected, jupiter_api.JupiterError) as exc:
            accepted = exc.accepted if isinstance(exc, rfq_execution.LastLookRejected) else \
                rfq_execution.accepted_legs(plan)
            if accepted:  # a maker accepted before the rest failed: its leg filled (issue 15)
                return _partial(plan, accepted, "RFQ_REJECTED", str(exc), fill_at)
            _link(plan, trade_logger.record_rejection(plan, plan.order, str(exc), fill_at, code="RFQ_REJECTED"))
            return "rejected at last look"
        legs = tuple(dataclasses.replace(leg, in_amount_atoms=f[0], out_amount_atoms=f[1])
                     for leg, f in zip(plan.legs, fills, strict=True))
        if execution.limit_breach(plan, fills):
            if rfq_execution.accepted_legs(plan):
                return _partial(plan, rfq_execution.accepted_legs(plan), "SLIPPAGE_EXCEEDED",
                                "the re-routed rest would break the slippage limit", fill_at)
            _link(plan, trade_logger.record_rejection(plan, plan.order, "re-routed past the slippage limit", fill_at,
                                                      code="SLIPPAGE_EXCEEDED"))
            return "rejected at last look"
        plan = dataclasses.replace(plan, legs=legs)
    try:
        _link(plan, trade_logger.record_fill(plan, fill_at))
    except trade_logger.FillRejected as exc:
        trade_logger.record_rejection(plan, plan.order, str(exc), fill_at, code=exc.code)
        return "rejected"
    except trade_logger.QuoteExpired:
        return "quote expired"
    return "filled"


def _partial(plan: trade_logger.FillPlan, accepted: dict[int, trade_logger.LegFill], code: str, reason: str,
             at: datetime) -> str:
    """Record a trade whose accepted maker legs filled and whose rest did not ('partial')."""
    try:
        trade = trade_logger.reserve(plan, at)
    except (trade_logger.FillRejected, trade_logger.QuoteExpired):
        return "rejected"
    kept = rfq_execution.kept_fills(accepted, [leg.id for leg in trade.legs])
    _link(plan, partial_fills.settle_partial(trade.id, kept, code, f"partially filled at last look; the rest: {reason}",
                                             at))
    return "partial"


def _link(plan: trade_logger.FillPlan, trade: Trade) -> None:
    """Name the trade on the maker swaps its last look made (sent before the trade was recorded)."""
    maker_log.link_trade([q["quote_id"] for q in plan.extra.get("rfq_quotes", [])], trade.id)


def execute_at(market: Market, order: orders.Order, at: datetime, clock: SimClock) -> str:
    """Gather, decide and apply an order at `at` (trading.execute with an explicit clock)."""
    started = clock()
    g = quoting.gather(market, order, at)
    try:
        decision = quoting.decide(market, g)
    except quoting.ServiceError as exc:
        trade_logger.record_rejection(None, order, str(exc), at, code=exc.code)
        return "rejected"
    return _fill(market, g, decision, at, int((clock() - started) * 1000) + 15)


def quote_then_execute(market: Market, order: orders.Order, at: datetime, delay_s: float, clock: SimClock) -> str:
    """Store a firm quote at `at`, execute it `delay_s` later through the slippage guard."""
    try:
        row, _ = quoting.quote(market, order, at)
    except quoting.ServiceError:
        return "no route"
    decision = codec.decision_from_json(row.payload["decision_exact"])
    expires_at = row.expires_at
    exec_at = min(at + timedelta(seconds=delay_s), expires_at - timedelta(seconds=2))
    clock.at_least(exec_at)
    started = clock()
    fresh = quoting.gather(market, order, exec_at)
    try:
        checked = trading.guard_slippage(market, fresh, decision)
    except quoting.ServiceError:
        return "slippage refused"
    return _fill(market, fresh, checked, exec_at, int((clock() - started) * 1000) + 15, quote_id=row.id,
                 rfq_quotes=row.payload.get("rfq_quotes", []))


def _sim_client(clock: SimClock, rng: random.Random, outages: list[tuple[float, float]]) -> jupiter_api.JupiterClient:
    """A Jupiter client on the simulated clock: the in-process DEX behind the network model."""
    transport = NetworkModel(SimTransport(current_app.extensions["sim_config"], clock), clock, rng, outages)
    breaker = jupiter_api.CircuitBreaker(clock=clock)
    return jupiter_api.JupiterClient(transport, breaker=breaker, clock=clock, sleep=clock.advance)


def _rewind_pools(since: datetime) -> None:
    """Pools whose inventory clock is after `since` start replenishing from `since` (inventory unchanged)."""
    db.session.execute(update(OTCPool).where(OTCPool.inventory_at > since).values(inventory_at=since)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def simulate(trades: int, days: float = 30, seed: int | None = None,
             on_trade: Callable[[str], Any] | None = None) -> SimReport:
    """Run `trades` back-dated trades over the last `days` days; call on_trade(outcome) after each."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["JUPITER_MODE"] != "sim":
        raise RuntimeError("simulate needs JUPITER_MODE=sim: past prices come from the simulated DEX")
    if not db.session.scalars(select(OTCPool.id)).first():
        raise RuntimeError("no OTC pools: run `flask --app main init-db` first")
    rng = random.Random(seed)
    until = utcnow() - timedelta(minutes=1)
    since = until - timedelta(days=days)
    clock = SimClock(since.timestamp())
    times = _trade_times(rng, trades, since, until)
    # one Jupiter outage of 2-4 h, starting just before a trade in the middle third, so some orders meet it
    outage_at = times[len(times) // 3 + rng.randrange(max(1, len(times) // 3))].timestamp() - 60
    client = _sim_client(clock, rng, [(outage_at, outage_at + rng.uniform(2, 4) * 3_600)] if days >= 1 else [])
    interval_s = int(min(3_600, max(300, days * 86_400 / 500)))
    throttle = monitoring.SnapshotThrottle(interval_s, clock=clock)
    _rewind_pools(since)
    # back-dated history: the simulated pools do not remember it (persistent impact is for trades made now)
    base = app.extensions["market"]
    rfq = RfqClient(base.rfq.sim_transport, clock=clock) if base.rfq is not None else None  # makers on sim time
    market = dataclasses.replace(base, jupiter=client, rfq=rfq, pool_impact=None)
    outcomes: Counter[str] = Counter()
    snapshots, next_snapshot = 0, since + timedelta(seconds=interval_s)
    for at in times:
        while next_snapshot <= at:
            clock.at_least(next_snapshot)
            snapshots += throttle.record(client.stats(), next_snapshot, interval_s, force=True) is not None
            next_snapshot += timedelta(seconds=interval_s)
        clock.at_least(at)
        order = random_order(rng, at)
        if rng.random() < FIRM_QUOTE_SHARE:
            outcome = quote_then_execute(market, order, at, rng.uniform(1, 12), clock)
        else:
            outcome = execute_at(market, order, at, clock)
        outcomes[outcome] += 1
        if on_trade is not None:
            on_trade(outcome)
    clock.at_least(until)
    snapshots += throttle.record(client.stats(), until, interval_s, force=True) is not None
    while tca.markouts(app.extensions["market"], utcnow()):  # every markout already due (TCA), 500 trades a round
        pass
    return SimReport(outcomes, snapshots, since, until)
