"""Route decision latency per order size: quote gathering on the simulator plus the decision, p50 and p99.

`python -m bench.latency [--orders N] [--seed S]` (also run by `make bench`) writes bench/results/latency.md.
The orders and the per-order routing are bench/routing.py's (sizes log-uniform 1 to 200,000 SOL, both directions,
ExactIn and ExactOut, SOL/USDC and SOL/USDT, each at its own simulated instant, full default pools, nothing
executed); this module only times them by size: `gather` is services.gather (the Jupiter quote and its curve
samples on the in-process simulator, the OTC pools' quotes and curves), `decide` the router (plus the re-decision
on a split's firm Jupiter leg). Wall clock on a shared 2-core machine: a p99 includes waiting for a core.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time

from bench import routing, routing_report
from bench._common import pct, table, write

ORDERS, SEED = 300, 20261126


def main(argv: list[str]) -> int:
    """Route the seeded orders, bucket the timings by size, write latency.md."""
    args = argparse.ArgumentParser(prog="python -m bench.latency")
    args.add_argument("--orders", type=int, default=ORDERS)
    args.add_argument("--seed", type=int, default=SEED)
    opts = args.parse_args(argv)
    import jupiter_api
    from app import create_app
    from models import db
    from services.seed import init_database
    from sim.price import SimConfig
    from sim.transport import SimTransport

    clock = [float(routing.T0_S)]
    client = jupiter_api.JupiterClient(SimTransport(SimConfig(), clock=lambda: clock[0]))
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/latency.db", "SECRET_KEY": "bench",
                          "JUPITER_CLIENT": client, "RECOVER_ON_START": False})
        with app.app_context():
            init_database()
            for i, spec in enumerate(routing.make_orders(opts.seed, opts.orders)):
                clock[0] = float(routing.T0_S + 37 * i)
                row = routing.route_one(spec, routing.T0_S + 37 * i, client)
                if row is not None:
                    rows.append(row)
            db.engine.dispose()
    body, summary = [], []
    for lo, hi in ((0, routing.MAX_SOL + 1), *routing_report.BUCKETS):
        part = [r for r in rows if lo <= r.size_sol < hi]
        if not part:
            continue
        total = [r.gather_ms + r.decide_ms for r in part]
        decide = [r.decide_ms for r in part]
        label = "all sizes" if lo == 0 else f"{lo:,}–{min(hi - 1, routing.MAX_SOL):,} SOL"
        body.append((label, len(part), f"{pct(total, 50):.1f}", f"{pct(total, 99):.1f}", f"{pct(decide, 50):.2f}",
                     f"{pct(decide, 99):.2f}", f"{sum(r.jupiter_calls for r in part) / len(part):.1f}"))
        summary.append((f"route decision latency (gather + decide), {label}",
                        f"p50 {pct(total, 50):.1f} ms, p99 {pct(total, 99):.1f} ms"))
    text = "\n".join([
        "# Route decision latency per order size", "",
        f"Reproduce: `python -m bench.latency --orders {opts.orders} --seed {opts.seed}` (or `make bench`). "
        f"{len(rows)} orders routed; wall time {time.perf_counter() - started:.0f} s.", "",
        __doc__.split("\n\n", 1)[1].strip(), "",
        *table(("order size", "orders", "gather + decide p50 ms", "p99 ms", "decide p50 ms", "decide p99 ms",
                "Jupiter calls / order"), body), ""])
    write("latency", text, summary)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
