"""Routing benchmark: Jupiter-only vs best single venue vs split routing on seeded orders, on the simulator.

`python -m bench.routing [--orders N] [--seed S]` (also run by `make bench`) writes bench/results/routing.md.
Orders: sizes log-uniform from 1 to 200,000 SOL, SOL/USDC and SOL/USDT, selling and buying SOL, ExactIn and ExactOut,
each at its own simulated instant (the reference price moves) against full default OTC pools; nothing is executed.
Decision latency is the pure router step only (router.decide, plus the re-decision on a split's firm Jupiter leg, which
reuses the allocation as services/quoting.py does), timed DECIDE_REPEATS times per order from scratch after running
the garbage collector, the least reported (timeit's rule on a shared machine);
gathering (Jupiter quotes on the in-process simulator, pool curves) is reported apart as upstream time.
"""
from __future__ import annotations

import argparse
import gc
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from bench import sequence
from bench._common import write
from bench.brute import best_split, gap_bps
from bench.routing_report import (
    BRUTE_EVERY,
    DECIDE_REPEATS,
    LADDER_CALLS_PER_MIN,
    MAX_SOL,
    ORDERS,
    SEED,
    T0_S,
    Row,
    report,
    summary_rows,
)
from core import orders
from core.units import SwapMode


def make_orders(seed: int, count: int) -> list[tuple[Decimal, str, bool, bool]]:
    """(size in SOL, stablecoin, sells SOL, ExactIn) per order, from a seeded generator."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        size = (Decimal(MAX_SOL) ** Decimal(repr(rng.random()))).quantize(Decimal("0.001"))
        out.append((max(size, Decimal(1)), rng.choice(("USDC", "USDT")), rng.random() < 0.5, rng.random() < 0.5))
    return out


def _usd(atoms: int, token: object, mid_usd: Decimal) -> Decimal:
    """USD value of atoms of SOL (at mid_usd) or of a stablecoin (at par)."""
    price = mid_usd if token.symbol == "SOL" else Decimal(1)  # type: ignore[attr-defined]
    return Decimal(atoms) * price / Decimal(10) ** token.decimals  # type: ignore[attr-defined]


def route_one(spec: tuple[Decimal, str, bool, bool], now_s: int, client: object, brute: bool = False) -> Row | None:
    """Gather once, then decide three ways; None when no venue can fill the order."""
    from flask import current_app

    from core import router
    from core import tca as core_tca
    from core.tokens import SOL, resolve_token
    from services import cost_curves, quoting, tca

    size, stable_symbol, sells_sol, exact_in = spec
    stable = resolve_token(stable_symbol)
    now = datetime.fromtimestamp(now_s, UTC)
    market = current_app.extensions["market"]
    sol_usd = market.mid_price(SOL, stable, now_s)
    sol_atoms, stable_atoms = int(size * 10**SOL.decimals), int(size * sol_usd * 10**stable.decimals)
    inp, out = (SOL, stable) if sells_sol else (stable, SOL)
    amount = (sol_atoms if sells_sol else stable_atoms) if exact_in else (stable_atoms if sells_sol else sol_atoms)
    order = orders.Order(inp, out, amount, SwapMode.EXACT_IN if exact_in else SwapMode.EXACT_OUT, 50)
    cost_curves.forget_samples(client)  # type: ignore[arg-type]  # the cache lives in real time, the clock jumped
    calls0 = client.stats()["calls"]  # type: ignore[attr-defined]
    started = time.perf_counter()
    g = quoting.gather(market, order, now)
    gather_ms = (time.perf_counter() - started) * 1000
    try:
        started = time.perf_counter()
        single = router.decide(order, g.options)
        single_ms = (time.perf_counter() - started) * 1000
        d = router.decide(order, g.options, g.curves, g.mid_price)  # untimed: which Jupiter leg to firm
    except orders.NoRouteAvailable:
        return None
    jleg = next((x for x in d.legs if x.venue == "jupiter"), None)
    firm = None
    if jleg is not None and len(d.legs) > 1:  # firm the Jupiter leg (upstream, untimed), then decide again (timed)
        leg_size = jleg.in_amount_atoms if exact_in else jleg.out_amount_atoms
        q = cost_curves.leg_quote(client, order, leg_size)  # type: ignore[arg-type]
        firm = {("jupiter", leg_size): (q.in_amount_atoms, q.out_amount_atoms)}
    d, decide_ms, decide_cpu_ms = timed_decision(order, g, firm)
    calls = client.stats()["calls"] - calls0  # type: ignore[attr-defined]
    rate = router.fair_rate(order, g.mid_price)
    risk = {o.venue: o.delay_risk_bps for o in g.options if o.available} | {c.venue: c.risk_bps for c in g.curves}

    def gain(decision: orders.Decision) -> Fraction:
        return sum((router.all_in_gain(order, rate, leg.in_amount_atoms, leg.out_amount_atoms, risk[leg.venue])
                    for leg in decision.legs), Fraction(0))

    optimum = best_split(order, g, client, rate, risk) if brute else None
    gap = gap_bps(order, rate, optimum, gain(d))
    twap = tca.twap_benchmark(market, order, g.curves)
    best = (single.in_amount_atoms, single.out_amount_atoms)
    vs = {name: core_tca.savings_vs(order, dec.in_amount_atoms, dec.out_amount_atoms, bench)
          for name, dec, bench in (("split_single", d, best), ("split_twap", d, twap), ("single_twap", single, twap))}

    jupiter = next((o for o in g.options if o.venue == "jupiter" and o.available), None)
    saved_token = out if exact_in else inp
    base_atoms = None if jupiter is None else (jupiter.out_amount_atoms if exact_in else jupiter.in_amount_atoms)
    raw = (d.out_amount_atoms - single.out_amount_atoms) if exact_in else (single.in_amount_atoms - d.in_amount_atoms)
    return Row(
        size_sol=size, label=f"{'sell' if sells_sol else 'buy'} SOL/{stable_symbol} {order.swap_mode}",
        jupiter_cost_bps=jupiter.cost_bps if jupiter else None, single_cost_bps=single.cost_bps,
        split_cost_bps=d.cost_bps, single_saved_bps=single.savings_bps, split_saved_bps=d.savings_bps,
        jupiter_value_usd=None if base_atoms is None else _usd(base_atoms, saved_token, sol_usd),
        single_saved_usd=_usd(single.savings_atoms or 0, saved_token, sol_usd),
        split_saved_usd=_usd(d.savings_atoms or 0, saved_token, sol_usd),
        split_gain=gain(d) - gain(single), split_raw_gain_atoms=raw, legs=len(d.legs), decide_ms=decide_ms,
        decide_cpu_ms=decide_cpu_ms, single_ms=single_ms, gather_ms=gather_ms, jupiter_calls=calls,
        brute_gap_bps=gap, brute_jupiter_atoms=None if optimum is None else optimum.jupiter_atoms,
        routed_legs=tuple((leg.venue, leg.in_amount_atoms if exact_in else leg.out_amount_atoms) for leg in d.legs),
        amount_atoms=order.amount_atoms,
        **{f"{k.replace('_', '_vs_')}_bps": None if v is None else v[1] for k, v in vs.items()},
    )


def timed_decision(order: orders.Order, g: object, firm: dict[tuple[str, int], tuple[int, int]] | None
                   ) -> tuple[orders.Decision, float, float]:
    """The decision as services/quoting.py makes it (decide, then with the firm Jupiter leg on the same allocation),
    timed DECIDE_REPEATS times from scratch (fresh Plans, OTC leg prices forgotten; the collector run before): the final
    decision, and the least wall and CPU milliseconds of a run (the figure least disturbed by other processes)."""
    from core import router
    from core.curves import _otc_leg

    best_ms, best_cpu_ms, d = float("inf"), float("inf"), None
    gc.collect()  # the collector's backlog from gathering is not the decision's time
    for _ in range(DECIDE_REPEATS):
        _otc_leg.cache_clear()
        plans = router.Plans()
        started, cpu = time.perf_counter(), time.thread_time()
        d = router.decide(order, g.options, g.curves, g.mid_price, plans=plans)  # type: ignore[attr-defined]
        if firm is not None:
            d = router.decide(order, g.options, g.curves, g.mid_price, firm=firm,  # type: ignore[attr-defined]
                              plans=plans)
        best_ms = min(best_ms, (time.perf_counter() - started) * 1000)
        best_cpu_ms = min(best_cpu_ms, (time.thread_time() - cpu) * 1000)
    assert d is not None
    return d, best_ms, best_cpu_ms


def main(argv: list[str]) -> int:
    """Route the seeded orders, write the results file, print the summary; 1 if split ever lost to best single."""
    args = argparse.ArgumentParser(prog="python -m bench.routing")
    args.add_argument("--orders", type=int, default=ORDERS)
    args.add_argument("--seed", type=int, default=SEED)
    args.add_argument("--brute", type=int, default=BRUTE_EVERY,
                      help="brute-force every Nth order's split on exact quotes (0: none)")
    opts = args.parse_args(argv)
    import jupiter_api
    from app import create_app
    from services import ladder
    from services.seed import init_database
    from sim.price import SimConfig
    from sim.transport import SimTransport

    clock = [float(T0_S)]
    client = jupiter_api.JupiterClient(SimTransport(SimConfig(), clock=lambda: clock[0]))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench",
                          "JUPITER_CLIENT": client, "RECOVER_ON_START": False,
                          "LADDER_CALLS_PER_MIN": LADDER_CALLS_PER_MIN})
        rows, skipped = [], 0
        with app.app_context():
            init_database()
            market, last_refresh_s, background = app.extensions["market"], float(T0_S), 0
            for i, spec in enumerate(make_orders(opts.seed, opts.orders)):
                clock[0] = float(T0_S + 37 * i)
                if clock[0] - last_refresh_s >= market.settings.ladder_refresh_s:  # the workers' jobs, in sim time
                    minutes = (clock[0] - last_refresh_s) / 60
                    background += ladder.refresh(market, clock[0], int(market.settings.ladder_calls_per_min * minutes))
                    last_refresh_s = clock[0]
                row = route_one(spec, T0_S + 37 * i, client, brute=bool(opts.brute) and i % opts.brute == 0)
                rows.append(row) if row else None
                skipped += row is None
            from models import db

            db.engine.dispose()
    text = report(rows, skipped, opts.seed, time.perf_counter() - started, background)
    text += "\n" + sequence.run()  # issue 14: what persistent impact costs the next order
    write("routing", text, summary_rows(rows))
    print(text)
    return 1 if any(r.split_gain < 0 for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
