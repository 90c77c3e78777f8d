"""Worker memory under a stream of trades: RSS of each gunicorn worker from start to 10,000 trades (PostgreSQL).

`python -m bench.memory [--trades N] [--workers W]` (also run by `make bench`) writes bench/results/memory.md.
gunicorn main:app with W sync workers on a fresh PostgreSQL database (SQLite when PostgreSQL is absent), driven
over loopback by wrk (one thread, 2 connections per worker) with seeded small ExactIn desk orders until N trades
have been answered; every second the workers' resident set sizes are read from /proc and the trades counted.
Growth between the middle and the end of the run is what would show a leak (caches that never stop growing).
The memory of a worker after rendering analytics at a million trades is in bench/results/scale.md.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from typing import Any

from sqlalchemy import create_engine, text

from bench import _server
from bench._common import db_name, fresh_database, mib, rss_kb, table, write
from bench._prereq import check

TRADES, WORKERS = 10_000, 2


def small_orders(seed: int, count: int = 64) -> list[dict[str, Any]]:
    """Seeded small ExactIn orders: sell 1–150 SOL or buy SOL with 100–20,000 USDC/USDT."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        stable = "USDC" if rng.random() < 0.65 else "USDT"
        if rng.random() < 0.5:
            out.append({"input": "SOL", "output": stable, "amount": f"{rng.uniform(1, 150):.2f}"})
        else:
            out.append({"input": stable, "output": "SOL", "amount": f"{rng.uniform(100, 20_000):.2f}"})
    return out


def main(argv: list[str]) -> int:
    """Run the stream, sample memory, write memory.md."""
    args = argparse.ArgumentParser(prog="python -m bench.memory")
    args.add_argument("--trades", type=int, default=TRADES)
    args.add_argument("--workers", type=int, default=WORKERS)
    opts = args.parse_args(argv)
    if not check("memory", "wrk", "gunicorn"):
        return 2
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="olr-bench-memory-") as tmp:
        backend, url = fresh_database(db_name("memory"), tmp)
        token = _server.prepare_database(url)
        server = _server.start(url, opts.workers)
        engine = create_engine(url)
        samples: list[tuple[float, int, list[int]]] = []
        stop = threading.Event()
        try:
            pids = server.worker_pids()
            bodies = small_orders(11)
            for body in bodies[:10]:  # warm each worker's imports and caches before the baseline
                _server.request(server, "POST", "/api/v1/trades", token, body)

            def sample() -> None:
                with engine.connect() as conn:
                    while not stop.is_set():
                        n = conn.execute(text("SELECT count(*) FROM trades")).scalar() or 0
                        conn.rollback()
                        if server.worker_pids() != pids:
                            raise RuntimeError(f"a worker was replaced during the run: see {server.log}")
                        samples.append((time.perf_counter(), int(n), [rss_kb(p)[0] for p in pids]))
                        stop.wait(1.0)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            time.sleep(1.2)
            goal = samples[0][1] + opts.trades
            result = _server.wrk(server, "/api/v1/trades", token=token, bodies=bodies, seconds=1200,
                                 connections=2 * opts.workers,
                                 stop_when=lambda: samples[-1][1] >= goal or not sampler.is_alive())
            time.sleep(1.2)
            stop.set()
            sampler.join()
            peaks = [rss_kb(p)[1] for p in pids]
            final = [rss_kb(p)[0] for p in pids]
        finally:
            stop.set()
            server.stop()
            engine.dispose()
    base = samples[0]
    marks = []
    for frac in (0, 0.25, 0.5, 0.75, 1.0):
        goal = base[1] + frac * (samples[-1][1] - base[1])
        marks.append(next(s for s in samples if s[1] >= goal))
    rows = [(f"{m[1] - base[1]:,}", *[mib(k) for k in m[2]]) for m in marks]
    rows.append(("peak (VmHWM)", *[mib(k) for k in peaks]))
    mid, end = marks[2], marks[-1]
    growth = [end_k - mid_k for mid_k, end_k in zip(mid[2], end[2], strict=True)]
    done = samples[-1][1] - base[1]
    lines = [
        "# Worker memory under a stream of trades", "",
        f"Reproduce: `python -m bench.memory --trades {opts.trades} --workers {opts.workers}` (or `make bench`); "
        f"database: {backend}. Wall time {time.perf_counter() - started:.0f} s.", "",
        __doc__.split("\n\n", 1)[1].strip(), "",
        *table(("trades recorded", *[f"worker {i + 1} RSS MiB" for i in range(len(pids))]), rows), "",
        f"{done:,} trades in {result.seconds:.0f} s ({result.rps:.0f} req/s, p99 {result.p99_ms:.0f} ms, "
        f"{result.non_2xx} refused). Growth over the second half of the run: "
        + ", ".join(f"worker {i + 1} {g / 1024:+.1f} MiB" for i, g in enumerate(growth)) + ".",
    ]
    summary = [(f"worker RSS after {done:,} trades ({opts.workers} workers, {backend})",
                " / ".join(mib(k) for k in final) + " MiB (second half growth "
                + " / ".join(f"{g / 1024:+.1f}" for g in growth) + " MiB)")]
    write("memory", "\n".join(lines) + "\n", summary)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
