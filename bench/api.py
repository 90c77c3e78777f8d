"""API throughput under gunicorn: POST /api/v1/quotes and /api/v1/trades against a constant-JSON endpoint.

`python -m bench.api [--seconds S]` (also run by `make bench`) writes bench/results/api.md. For SQLite and
PostgreSQL, with 2 and 4 sync workers: gunicorn main:app on loopback, driven by wrk (one thread, 2 connections
per worker, S seconds per endpoint) with seeded desk orders (1–5,000 SOL, both directions, SOL/USDC and SOL/USDT)
and a trader's bearer token, after one quote of every order per worker (steady state: each worker's Jupiter
ladders for those sizes exist, as on a desk quoting as it types; a cold ladder samples Jupiter once per rung).
The ceiling is /bench/constant, a constant JSON answer served by the same app and server (registered only with
BENCH_ENDPOINTS=1), so requests/s of an endpoint ÷ the ceiling's is the share of the framework's best that the
endpoint reaches. Rate limits are raised out of the way (limiter still on).
The load generator shares the 2 cores with the server and the database: absolute figures are this machine's.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time

from bench import _server
from bench._common import db_name, pg_available, recreate_database, table, verdict, write
from bench._prereq import check

SECONDS = 6
WORKERS = (2, 4)
TARGETS = {("quotes", 2): 0.25, ("trades", 2, "PostgreSQL"): 0.15}  # issue 17: share of the ceiling
ENDPOINTS = (("constant JSON", "/bench/constant"), ("POST /api/v1/quotes", "/api/v1/quotes"),
             ("POST /api/v1/trades", "/api/v1/trades"))


def run_backend(backend: str, url: str, seconds: float) -> list[tuple[str, int, str, _server.WrkResult]]:
    """Every (workers, endpoint) run on one database: (backend, workers, endpoint, result)."""
    token = _server.prepare_database(url)
    bodies = _server.order_bodies(8)
    out = []
    for workers in WORKERS:
        server = _server.start(url, workers)
        try:
            for body in bodies * workers:  # every order about once per worker: imports, pools, Jupiter ladders warm
                _server.request(server, "POST", "/api/v1/quotes", token, body)
            for label, path in ENDPOINTS:
                result = _server.wrk(server, path, token=token, bodies=bodies, seconds=seconds,
                                     connections=2 * workers)
                out.append((backend, workers, label, result))
                print(f"  {backend} {workers}w {label}: {result.rps:.0f} req/s, p99 {result.p99_ms:.1f} ms, "
                      f"non-2xx {result.non_2xx}", flush=True)
        finally:
            server.stop()
    return out


def report(rows: list[tuple[str, int, str, _server.WrkResult]], seconds: float, elapsed_s: float) -> tuple[str, list]:
    """The markdown and the summary rows."""
    ceiling = {(b, w): r.rps for b, w, label, r in rows if label == "constant JSON"}
    body = []
    summary = []
    for backend, workers, label, r in rows:
        ratio = r.rps / ceiling[(backend, workers)] if ceiling.get((backend, workers)) else float("nan")
        body.append((backend, workers, label, f"{r.rps:,.0f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}",
                     "1" if label == "constant JSON" else f"{ratio:.3f}", f"{r.requests:,}", r.non_2xx + r.errors))
        if label != "constant JSON":
            what = label.split()[-1].rsplit("/", 1)[-1]
            target = TARGETS.get((what, workers)) or TARGETS.get((what, workers, backend))
            summary.append((f"{what} req/s, {backend}, {workers} workers",
                            f"{r.rps:,.0f} (p99 {r.p99_ms:.0f} ms; {ratio:.3f} of constant JSON "
                            f"{ceiling[(backend, workers)]:,.0f})",
                            *((f"≥ {target} of constant JSON", verdict(ratio >= target)) if target else ())))
    lines = [
        "# API throughput under gunicorn (wrk on loopback)", "",
        f"Reproduce: `python -m bench.api --seconds {seconds:g}` (or `make bench`). Wall time {elapsed_s:.0f} s.", "",
        __doc__.split("\n\n", 1)[1].strip(), "",
        *table(("database", "workers", "endpoint", "req/s", "p50 ms", "p99 ms", "÷ constant JSON", "requests",
                "non-2xx / errors"), body, right_from=3), "",
        "Non-2xx answers are refusals the API is meant to give under this load (e.g. 422 when an order cannot be "
        "filled within its slippage); they are counted, not hidden. A trade is a quote plus two short transactions "
        "(reserve, settle: pool inventory locked conditional UPDATEs, the trade, its legs and the hourly rollups).",
    ]
    return "\n".join(lines) + "\n", summary


def main(argv: list[str]) -> int:
    """Run every configuration, write api.md, print the table."""
    args = argparse.ArgumentParser(prog="python -m bench.api")
    args.add_argument("--seconds", type=float, default=SECONDS)
    opts = args.parse_args(argv)
    if not check("api", "wrk", "gunicorn"):
        return 2
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="olr-bench-api-") as tmp:
        rows += run_backend("SQLite", f"sqlite:///{tmp}/api.db", opts.seconds)
    if pg_available():
        rows += run_backend("PostgreSQL", recreate_database(db_name("api")), opts.seconds)
    else:
        check("api", "postgresql")  # says how to get it; SQLite alone still measures
        print("  PostgreSQL not reachable: skipped", flush=True)
    text, summary = report(rows, opts.seconds, time.perf_counter() - started)
    write("api", text, summary)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
