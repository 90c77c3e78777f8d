"""Profiles of the hot paths (pyinstrument): where a quote's and a trade's CPU time goes, by layer and function.

`python -m bench.profile [--requests N] [--only quotes|trades]` (also run by `make bench`) writes
bench/results/profile.md (--only: one path, printed and its call tree written, profile.md left as it is). In-process
(Flask test client, no HTTP server), on PostgreSQL when reachable (else SQLite), with the seeded desk orders of
bench/api.py: N POST /api/v1/quotes, then N POST /api/v1/trades, sampled every 0.5 ms. The quotes are profiled
after one unprofiled pass over the same orders (steady state: the pairs' Jupiter ladders exist, as on a desk that
quotes as it types; a cold ladder samples Jupiter once per rung) and five more timed without the profiler (the
target's figure is the quickest of those passes: the sampling costs CPU too, and a busy machine's other load only
ever adds to a pass), the trades after a short warm-up.
Self time is attributed by the file it was spent in: the simulated Jupiter (sim_dex, sim_price, the client and its
wire parsing), the decision (router, allocator, otc_engine, cost_curves, venue_curves), the database layer
(SQLAlchemy, psycopg2, sqlite3), Flask/Werkzeug and our service/view/serialisation code.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from typing import Any

from bench import _server
from bench._common import db_name, fresh_database, table, verdict, write
from bench._prereq import check

REQUESTS = 64
QUOTE_CPU_MS = 5  # issue 17: CPU per quote, in-process
TIMED_PASSES = 5  # unprofiled passes over the quotes; the quickest is the figure
LAYERS = (
    ("simulated Jupiter", ("sim_dex.py", "sim_price.py", "jupiter_api.py", "jupiter_wire.py", "jupiter_guards.py")),
    ("decision (router, allocator, OTC engine, curves)", ("router.py", "allocator.py", "otc_engine.py",
                                                           "cost_curves.py", "venue_curves.py")),
    ("database (SQLAlchemy, driver)", ("/sqlalchemy/", "/psycopg2/", "sqlite3", "/flask_sqlalchemy/")),
    ("Flask, Werkzeug, auth, limiter", ("/flask/", "/werkzeug/", "/flask_login/", "/flask_limiter/", "/limits/",
                                        "auth.py", "security.py", "accounts.py")),
)
# Fixes made from these profiles, measured before and after on this machine (see the report for commands).
FIXES = """\
The quote path (issue 17 items 1 and 3), measured on the seeded orders of bench/routing (the 8–10 slowest split
orders, CPU time per call, in-process) and by this profile (64 quotes, PostgreSQL):

- **The allocation runs once per quote** (core/router.py `Plans`): the decision, the firm Jupiter leg's re-decision
  and a maker leg snapped back to the same curves reuse the cut of equal curves (before: 2 to 3 allocations per split
  quote; tests/test_quote_path.py counts 1).
- **Allocator on whole numbers**: each curve's gains on integers scaled by the penalty's denominator (one Fraction
  per knot instead of a chain), the pieces merged by slope instead of sorted by Fraction comparisons: an allocation
  1.24 → 0.35 ms. The smoothed cut (exactness, below) then costs 0.1 ms more, on integers too (cross-multiplied
  signs; 0.6 ms with Fractions). Decide plus the firm re-decide on the slowest orders: 1.31 → 0.72 ms.
- **The pool engine's size spread** (`otc_engine.size_spread`, frac^1.5): the general Decimal power (exp and ln,
  212 µs) replaced for whole and half exponents by multiplication and one square root (8 µs), identical after the
  0.0001 bp rounding on 100,000 random fractions; an exact ExactOut OTC leg 0.67 → 0.11 ms, the pool's 16-knot
  curve in gather likewise.
- **Reads**: the usable makers are read in the same transaction as the pair's pools (one round trip and rollback
  less), the pools as plain rows (no ORM objects), and `allocator.other_at` bisects the knots in place (the TWAP
  benchmark of the TCA calls it about 20 times per quote).
- **Exactness**: a Jupiter leg sat on a ladder rung (the piecewise-linear optimum is at a knot), up to 0.117 bp
  from a brute-force optimum; legs of smooth venues now move to where the smoothed marginals meet (each segment's
  slope at its midpoint, a step at a kink): worst 0.042 bp over the 149 split orders of bench/routing.

The quote path's reads and writes (issue 17 item 1), CPU per quote in-process on PostgreSQL without the profiler,
the 64 seeded orders, min of 7 passes, base commit and this one run alternately on the same busy machine (load 4–7):
16.0–20.4 → 12.6–13.4 ms (the profiled figure, this page's before, swings with the load: 23–30 ms today):

- **Alerts from the quote's own read**: the ticket's liquidity alerts (a pool side below its low-water mark, a
  suspended maker) were read again after the decision (every pool, every maker: two ORM queries); gather now gives
  them from its one read of the pair's pools and the enabled makers (7 → 5 statements per quote).
- **The TWAP benchmark in integers** (`core/tca.twap_fill`): the same exact rationals as integer pairs reduced once
  per slice instead of a Fraction per step, equal to the Fraction definition on every hypothesis example (tests/
  test_tca.py): 0.32 → 0.05 ms per call over 3,000 random curves; it stays on the quote (the stored quote's TCA).
- **The firm quote stored by one INSERT** (no unit of work: the ORM add, flush and expire of the row), and a pool's
  engine params memoised on its exact column values (`ledger/pools.params_of`: building and validating them cost
  more than the read; an admin's edit is a new key, so no worker prices stale params).
- **One read of the simulated pools per quote** (`PoolBook.one_read` around gather and decide): the full-size,
  ladder and firm-leg Jupiter quotes of one quote share it (tests/test_quote_path.py: a split quote with a Jupiter
  leg reads once, the next quote reads again); nothing is kept past the quote, the state being the database's.
  The seeded orders' splits rarely re-quote a Jupiter leg, so this shows little here.

Issue 17's last round on the quote path, CPU per quote in-process on PostgreSQL without the profiler, the 64 seeded
orders, the quickest of 10 passes, the previous commit and this one run alternately three times on a quiet machine:
4.79–5.48 → 3.73–4.02 ms:

- **The bearer token and its user in one query** (the token as plain columns joined to its user: the user is the
  only ORM object built; was the token and its joined-loaded user as ORM objects), and the pair-pools and
  simulated-pools statements built once.
- **A pool's ExactIn pricer built once per cost curve** (`otc_engine.exact_in_pricer`: the book, delay, vol spread
  and skew once, then a dozen sizes; equal to `quote_pool` at every size on 300 hypothesis examples,
  tests/test_otc_pricer.py): the curve and its exact size range called the full `quote_pool` about 13 times per
  quote. The execution delay (a blake2b digest) and the vol spread (a Decimal square root) are memoised, both pure.
- **Pieces ranked on whole numbers** (`allocator._ranked` compares cross-multiplied numerators and denominators,
  not Fractions), the ladder's size grid and its logarithms memoised (four Decimal `ln` per quote).

Measured before and after on this machine (PostgreSQL at 1M trades unless said otherwise):

- **The trade path** (issue 17 item 2), counted by tests/test_trade_statements.py (before_cursor_execute, the
  ledger's tables) and profiled with `python -m bench.profile --only trades` (64 trades, PostgreSQL): statements on
  the ledger's tables per trade 20.3 → 14 (Jupiter-only) and 24 → 16 (split with an OTC leg), the same on SQLite and
  PostgreSQL; a whole POST /api/v1/trades 41 → 35 and 28 → 20 statements. The trade, its legs and TCA row stay
  loaded after the reserve and settle commits (no re-SELECT of the trade and its legs after each: 17 ms of a trade);
  a pool is locked once per move and its base mint read from the locked row (no extra read per move); a trade's
  four rollups (hourly and daily, trades and legs) are one `INSERT … SELECT … ON CONFLICT DO UPDATE` each (was two
  grouped SELECTs read into Python and four upserts). CPU per trade 122.5 → 117.9 ms, wall 164.5 → 146.4 ms
  (profiler on). What remains of a trade (wall, per trade): the simulated chain 55 ms (sign, send, confirm,
  getTransaction and the simulated pools' impact, each on the database: network in live mode), the settle
  transaction 38 ms (claim and reload 18, rollups 16), the reserve 15 ms, the gather and quote inside the trade 19 ms.
- **Rollup upkeep in the settle transaction** (rollups.add_trades, new in this issue). Profiled: the first version
  upserted with SQLAlchemy's dialect `insert().on_conflict_do_update()`, which SQLAlchemy never caches, so every
  trade recompiled two large INSERT … SELECT statements: 62 ms of a 122 ms trade (SQLite, in-process). Now the
  grouped SELECT is built once per dialect (cached, `trade_ids` bound) and the upsert is a plain
  `INSERT … ON CONFLICT DO UPDATE` text statement: about 6 ms per trade, 4 statements (2.5 ms of SQL on PostgreSQL).
- **Analytics and dashboard** read the hourly rollups (see scale.md: 9× to 250× faster than the per-trade queries
  at 30 days and all time; every query under 110 ms p95 instead of up to 14 s).
- **History sorted by size or savings**: no index served `ORDER BY notional_usd_atoms DESC, id DESC`, so the first
  page sorted a million rows: 711–955 ms. Indexes (notional_usd_atoms, id) and (savings_usd_atoms, id): 9 ms.
- **Keyset page deep in the history**: the cursor condition `col < v OR (col = v AND id < last)` is not an index
  range for PostgreSQL; a page 50,000 rows deep took 50 ms (time), 206 ms (size), 203 ms (savings). Written as the
  row comparison `(col, id) < (v, last)`: 7.6, 7.9 and 7.8 ms, the same rows.
- **History filter lists** (`venues_seen`, `pairs_seen`, on every history page): `SELECT DISTINCT` read every
  trade, 56 ms each; a loose index scan (recursive CTE, one index probe per value): 2.2 and 1.2 ms.

Seen in the profiles above and left alone: half of a quote's remaining CPU is the database layer's statements (the
bearer token with its user, the enabled makers, the pair's pools, the simulated pools' state on its own connection,
the firm quote's INSERT and COMMIT: 0.3 to 0.6 ms of CPU each through SQLAlchemy, whose statement cache and result
processing a leaner driver path would skip at the cost of the typed models), then serialisation and Flask; a
trade's row and legs are read back once (the claim in settle).
"""


def _layer(path: str) -> str:
    """The layer a file belongs to."""
    for name, needles in LAYERS:
        if any(n in path for n in needles):
            return name
    if "site-packages" in path or "/lib/python" in path:
        return "other libraries"
    return "services, views, serialisers"


def breakdown(session: Any) -> tuple[Counter[str], Counter[str]]:
    """Self seconds per layer and per function (file:function) of a pyinstrument session."""
    layers: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    stack = [session.root_frame()]
    while stack:
        frame = stack.pop()
        if frame is None:
            continue
        real = [c for c in frame.children if not c.is_synthetic]  # "[self]" children hold a frame's own time
        stack.extend(real)
        own = frame.time - sum(c.time for c in real)
        if own <= 0:
            continue
        path = frame.file_path or ""
        layers[_layer(path)] += own
        functions[f"{os.path.basename(path)}:{frame.function}"] += own
    return layers, functions


def profile(client: Any, path: str, token: str, bodies: list[dict[str, Any]], warm: int = 6,
            timed: int = 0) -> dict[str, Any]:
    """Warm up on the first `warm` bodies, then profile len(bodies) POSTs to path; CPU/wall per request, layers and
    top functions; `timed` > 0 first times that many passes without the profiler (its sampling costs CPU too) and
    keeps the quickest pass (ms per request: the others carry the machine's other load)."""
    from pyinstrument import Profiler

    headers = {"Authorization": f"Bearer {token}"}
    for body in bodies[:warm]:
        client.post(path, json=body, headers=headers)
    bare_ms = None
    for _ in range(timed):
        started = time.process_time()
        for body in bodies:
            client.post(path, json=body, headers=headers)
        pass_ms = (time.process_time() - started) * 1000 / len(bodies)
        bare_ms = pass_ms if bare_ms is None else min(bare_ms, pass_ms)
    profiler = Profiler(interval=0.0005)
    statuses: Counter[int] = Counter()
    profiler.start()
    wall, cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        statuses[client.post(path, json=body, headers=headers).status_code] += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    session = profiler.stop()
    layers, functions = breakdown(session)
    return {"path": path, "n": len(bodies), "wall_ms": wall * 1000 / len(bodies), "cpu_ms": cpu * 1000 / len(bodies),
            "bare_cpu_ms": bare_ms,
            "layers": layers, "functions": functions, "statuses": dict(statuses),
            "tree": profiler.output_text(unicode=False, color=False)}


def report(results: list[dict[str, Any]], backend: str, elapsed_s: float) -> tuple[str, list[tuple[str, str]]]:
    """The markdown and summary rows."""
    lines = ["# Hot-path profiles (pyinstrument)", "",
             f"Reproduce: `python -m bench.profile` (or `make bench`); database: {backend}. "
             f"Wall time {elapsed_s:.0f} s.", "", __doc__.split("\n\n", 1)[1].strip(), ""]
    summary = []
    for r in results:
        total = sum(r["layers"].values()) or 1
        bare = "" if r["bare_cpu_ms"] is None else f" ({r['bare_cpu_ms']:.1f} ms CPU without the profiler)"
        lines += [f"## {r['path']}: {r['cpu_ms']:.1f} ms CPU{bare}, {r['wall_ms']:.1f} ms wall per request "
                  f"profiled ({r['n']} requests, statuses {r['statuses']})", "",
                  *table(("layer", "share of sampled time", "ms per request"),
                         [(name, f"{secs * 100 / total:.1f} %", f"{secs * 1000 / r['n']:.1f}")
                          for name, secs in r["layers"].most_common()]), "",
                  *table(("function (self time)", "ms per request"),
                         [(f"`{fn}`", f"{secs * 1000 / r['n']:.2f}") for fn, secs in r["functions"].most_common(12)]),
                  ""]
        sim = r["layers"].get("simulated Jupiter", 0) * 100 / total
        target = QUOTE_CPU_MS if r["path"].endswith("quotes") else None
        bare_ms = r["bare_cpu_ms"]
        cpu_ms = r["cpu_ms"] if bare_ms is None else bare_ms
        profiled = "" if bare_ms is None else f"{r['cpu_ms']:.1f} profiled, "
        summary.append((f"{r['path']} CPU per request (in-process, {backend}"
                        f"{'' if bare_ms is None else ', profiler off'})",
                        f"{cpu_ms:.1f} ms ({profiled}{sim:.0f} % in the simulated Jupiter)",
                        *((f"≤ {target} ms", verdict(cpu_ms <= target)) if target else ())))
    lines += ["## Fixes made from these profiles", "", FIXES]
    return "\n".join(lines) + "\n", summary


def main(argv: list[str]) -> int:
    """Profile quotes and trades, write profile.md (and the call trees to profile-*.txt)."""
    args = argparse.ArgumentParser(prog="python -m bench.profile")
    args.add_argument("--requests", type=int, default=REQUESTS)
    args.add_argument("--only", choices=("quotes", "trades"), help="profile one endpoint (the other's files are kept)")
    opts = args.parse_args(argv)
    if not check("profile", "pyinstrument"):
        return 2
    from app import create_app
    from models import db

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="olr-bench-profile-") as tmp:
        backend, url = fresh_database(db_name("profile"), tmp)
        token = _server.prepare_database(url)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RECOVER_ON_START": False,
                          "RATELIMIT_ENABLED": False})
        client = app.test_client()
        bodies = (_server.order_bodies(8) * (opts.requests // 64 + 1))[:opts.requests]
        results = []
        if opts.only in (None, "quotes"):
            results.append(profile(client, "/api/v1/quotes", token, bodies, warm=len(bodies), timed=TIMED_PASSES))
        if opts.only in (None, "trades"):
            results.append(profile(client, "/api/v1/trades", token, bodies))
        with app.app_context():
            db.engine.dispose()
    text, summary = report(results, backend, time.perf_counter() - started)
    if opts.only is None:  # a one-endpoint run prints its profile and keeps profile.md whole
        write("profile", text, summary)
    from bench._common import RESULTS

    for r in results if opts.only is None else ():
        (RESULTS / f"profile-{r['path'].rsplit('/', 1)[-1]}.txt").write_text(r["tree"])
    print(text)
    if opts.only is not None:
        print(results[0]["tree"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
