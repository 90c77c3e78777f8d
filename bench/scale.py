"""Analytics and history at a million trades in PostgreSQL: rollups and keysets against the naive queries.

`python -m bench.scale [--trades N] [--runs R] [--naive-runs K]` (also run by `make bench`) writes
bench/results/scale.md. The data: bench/bulkgen.py (N trades over 180 days, shaped like `flask simulate`'s;
generated in minutes, reused for a few hours). Each query of the analytics page (its chart series and the
summary over the window) and of the dashboard (today's and all-time summaries, the whole dashboard_json) runs
R times from the hourly rollups (ANALYTICS_ROLLUPS on: p50 and p95), and K times the naive way (the same
functions with ANALYTICS_ROLLUPS off: per-trade SQL aggregation over the indexed trades table; the best run
is kept, so the ratio never flatters the rollups). History: keyset pages against OFFSET at the same depth.
Pages are rendered in-process through the Flask test client; memory and CSV streaming are measured on one
gunicorn worker over loopback.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bench import _server, bulkgen
from bench._common import mib, pct, rss_kb, table, timed_ms, verdict, write
from bench._prereq import check

RUNS, NAIVE_RUNS, TARGET_MS = 20, 2, 300
PAGE_TARGETS_MS = {"/analytics?range=all": 150, "/api/v1/analytics/charts?range=all": 100}  # issue 17, p95
WINDOWS = ("24h", "30d", "all")
DEPTH = 50_000  # history rows skipped before the measured page


def _viewer_token() -> str:
    """A viewer's API token on the current database."""
    from models import User, db
    from services import accounts

    user = accounts.user_by_name("bench-viewer")
    if user is None:
        user = User(username="bench-viewer", role="viewer", active=True)
        db.session.add(user)
        db.session.commit()
    return accounts.create_token(user, "bench")[1]


def queries(now: Any) -> list[tuple[str, Callable[[], Any]]]:
    """(label, call) of every analytics-page and dashboard query."""
    from read import analytics, window
    from read import series as charts
    from web import serializers

    out: list[tuple[str, Callable[[], Any]]] = []
    for key in WINDOWS:
        w = window.make_window(key, None, None, now, window.first_trade_at())
        out += [(f"analytics {key}: savings series", lambda w=w: charts.savings_series(w)),
                (f"analytics {key}: size buckets", lambda w=w: charts.size_buckets(w)),
                (f"analytics {key}: route mix", lambda w=w: charts.route_mix_series(w)),
                (f"analytics {key}: slippage", lambda w=w: charts.slippage_series(w)),
                (f"analytics {key}: volume by pair", lambda w=w: charts.volume_by_pair(w)),
                (f"analytics {key}: summary", lambda w=w: analytics.summary(w.since, w.until))]
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    out += [("dashboard: summary today", lambda: analytics.summary(today)),
            ("dashboard: summary all time", lambda: analytics.summary()),
            ("dashboard: dashboard_json (all of it)", lambda: serializers.dashboard_json(now, Decimal(10)))]
    return out


def measure_queries(app: Any, now: Any, runs: int, naive_runs: int) -> list[tuple[Any, ...]]:
    """(label, rollup p50, p95, naive best, ratio, verdict) per query."""
    rows = []
    for label, call in queries(now):
        app.config["ANALYTICS_ROLLUPS"] = True
        call()  # warm the plan and cache
        fast = timed_ms(call, runs)
        app.config["ANALYTICS_ROLLUPS"] = False
        naive = min(timed_ms(call, naive_runs))
        app.config["ANALYTICS_ROLLUPS"] = True
        p50, p95 = pct(fast, 50), pct(fast, 95)
        ratio = naive / p50
        rows.append((label, f"{p50:.1f}", f"{p95:.1f}", f"{naive:,.0f}", f"{ratio:,.0f}×" if ratio >= 10 else
                     f"{ratio:.1f}×",
                     "met" if p95 < TARGET_MS else "**NOT met**"))
        print(f"  {label}: rollups p95 {p95:.1f} ms, naive {naive:,.0f} ms", flush=True)
    return rows


def measure_pages(app: Any, client: Any, runs: int, deep_cursor: str) -> list[tuple[Any, ...]]:
    """(page, p50, p95, naive best) of the pages over the test client (naive only for the analytics ones)."""
    pages = ["/analytics?range=30d", "/analytics?range=all", "/", "/api/v1/analytics/dashboard",
             "/api/v1/analytics/charts?range=all", "/trades", "/trades?sort=size", "/trades?sort=savings",
             f"/trades?cursor={deep_cursor}", "/api/v1/trades?limit=50"]
    out = []
    for page in pages:
        assert client.get(page).status_code == 200, page
        times = timed_ms(lambda p=page: client.get(p), runs)
        naive = "–"
        if page.startswith(("/analytics", "/?", "/api/v1/analytics")) or page == "/":
            app.config["ANALYTICS_ROLLUPS"] = False
            naive = f"{min(timed_ms(lambda p=page: client.get(p), 1)):,.0f}"
            app.config["ANALYTICS_ROLLUPS"] = True
        out.append((f"`GET {page.split('?cursor=')[0] + ('?cursor=…' if 'cursor=' in page else '')}`",
                    f"{pct(times, 50):.1f}", f"{pct(times, 95):.1f}", naive))
        print(f"  page {page[:40]}: p95 {pct(times, 95):.1f} ms (naive {naive})", flush=True)
    return out


def measure_history(runs: int) -> tuple[list[tuple[Any, ...]], str]:
    """Keyset page DEPTH rows deep against OFFSET DEPTH, per sort; and a deep time-sorted cursor for the pages."""
    from sqlalchemy import select

    from models import Trade, db
    from read import history
    from read.history import SORTS, HistoryQuery

    out, deep = [], ""
    for sort, col in SORTS.items():
        order = (col.desc(), Trade.id.desc())
        at = db.session.scalars(select(Trade).order_by(*order).offset(DEPTH).limit(1)).one()
        cursor = history.encode_cursor(sort, at)
        deep = deep or cursor
        keyset = timed_ms(lambda s=sort, c=cursor: history.history_page(HistoryQuery(sort=s, cursor=c), 50), runs)
        offset = timed_ms(lambda o=order: db.session.scalars(select(Trade).order_by(*o).offset(DEPTH).limit(51))
                          .all(), 2)
        first = timed_ms(lambda s=sort: history.history_page(HistoryQuery(sort=s), 50), runs)
        out.append((sort, f"{pct(first, 95):.1f}", f"{pct(keyset, 50):.1f}", f"{pct(keyset, 95):.1f}",
                    f"{min(offset):.0f}", f"{min(offset) / pct(keyset, 50):.1f}×"))
    return out, deep


def chart_points(client: Any) -> list[tuple[Any, ...]]:
    """Points each range's chart JSON carries (every series, every venue), and its size."""
    out = []
    for key in ("24h", "7d", "30d", "90d", "all"):
        response = client.get(f"/api/v1/analytics/charts?range={key}")
        data = response.get_json()
        mix = data["route_mix"]
        points = (len(data["savings"]) + len(data["slippage"]) + len(data["size_buckets"])
                  + len(data["volume_by_pair"]) + sum(len(v["legs"]) for v in mix["venues"]))
        out.append((key, data["window"]["bucket_s"], points, f"{len(response.data) / 1024:.0f}"))
    return out


def worker_memory(url: str, token: str, deep_cursor: str) -> dict[str, Any]:
    """One gunicorn worker on the big database: RSS after start, after rendering every page 3×, and a CSV export."""
    server = _server.start(url, 1)
    try:
        pid = server.worker_pids()[0]
        _server.request(server, "GET", "/analytics?range=24h", token)
        start = rss_kb(pid)
        for _ in range(3):
            for page in ("/", "/analytics?range=24h", "/analytics?range=30d", "/analytics?range=all", "/trades",
                         "/trades?sort=size", f"/trades?cursor={deep_cursor}", "/api/v1/analytics/charts?range=all",
                         "/api/v1/trades?limit=500"):
                status, _ = _server.request(server, "GET", page, token)
                assert status == 200, (page, status)
        pages = rss_kb(pid)
        req = urllib.request.Request(f"{server.base}/trades.csv", headers={"Authorization": f"Bearer {token}"})
        started = time.perf_counter()
        first_byte_s, size, lines = None, 0, 0
        with urllib.request.urlopen(req, timeout=600) as r:
            while chunk := r.read(65536):
                first_byte_s = first_byte_s or time.perf_counter() - started
                size += len(chunk)
                lines += chunk.count(b"\n")
        csv_s = time.perf_counter() - started
        after_csv = rss_kb(pid)
        return {"start": start, "pages": pages, "csv": after_csv, "csv_rows": lines - 1, "csv_mib": size / 2**20,
                "csv_s": csv_s, "first_byte_ms": (first_byte_s or 0) * 1000}
    finally:
        server.stop()


def report(info: dict[str, Any], q: list, pages: list, hist: list, points: list, mem: dict, elapsed: float,
           runs: int, naive_runs: int) -> tuple[str, list[tuple[str, str]]]:
    """The markdown and the summary rows."""
    made = info["seconds"]
    gen = ("reused (generated earlier with the same parameters and schema)" if info["reused"] else
           f"generated in {made['total']:.0f} s: " + ", ".join(f"{k} {v:.0f} s" for k, v in made.items()
                                                                if k != "total"))
    worst = max(float(r[2]) for r in q)
    lines = [
        "# Analytics and history at a million trades (PostgreSQL)", "",
        f"Reproduce: `python -m bench.scale --runs {runs} --naive-runs {naive_runs}` (or `make bench`). "
        f"Wall time {elapsed:.0f} s. Data {gen}" + (f"; {info['counts']}." if info.get("counts") else "."), "",
        __doc__.split("\n\n", 1)[1].strip(), "",
        f"## Queries: rollups p95 under {TARGET_MS} ms (worst: {worst:.1f} ms)", "",
        *table(("query", "rollups p50 ms", "rollups p95 ms", "naive best ms", "naive ÷ rollups", "< 300 ms p95"),
               q), "",
        "## Pages (in-process, rollups on; naive = one render with ANALYTICS_ROLLUPS off)", "",
        *table(("page", "p50 ms", "p95 ms", "naive ms"), pages), "",
        f"## History: keyset (cursor) page {DEPTH:,} rows deep vs OFFSET {DEPTH:,}", "",
        *table(("sort", "first page p95 ms", "keyset p50 ms", "keyset p95 ms", "OFFSET best ms", "OFFSET ÷ keyset"),
               hist), "",
        "## Charts receive pre-aggregated series", "",
        *table(("range", "bucket (s)", "points in all series", "JSON KiB"), points), "",
        "## One gunicorn worker's memory at 1M trades", "",
        *table(("after", "RSS MiB", "peak RSS MiB"),
               [("start + one analytics page", mib(mem["start"][0]), mib(mem["start"][1])),
                ("every page 3× (dashboard, analytics 24h/30d/all, history, charts JSON, API page of 500)",
                 mib(mem["pages"][0]), mib(mem["pages"][1])),
                (f"CSV export of {mem['csv_rows']:,} trades ({mem['csv_mib']:.0f} MiB streamed)",
                 mib(mem["csv"][0]), mib(mem["csv"][1]))]), "",
        f"The CSV export streams: first bytes after {mem['first_byte_ms']:.0f} ms, all {mem['csv_rows']:,} rows "
        f"(the export cap) in {mem['csv_s']:.1f} s, with the worker's peak RSS "
        f"{mib(mem['csv'][1] - mem['pages'][1])} MiB above what rendering the pages needed.",
    ]
    summary = [(f"analytics/dashboard queries at 1M trades, worst rollups p95 (target < {TARGET_MS} ms)",
                f"{worst:.1f} ms ({sum(r[5] == 'met' for r in q)}/{len(q)} met)")]
    for r in q:
        if r[0] in ("analytics 30d: slippage", "analytics all: savings series", "dashboard: summary all time",
                    "dashboard: dashboard_json (all of it)", "analytics 30d: summary"):
            summary.append((f"{r[0]} at 1M: rollups p95 vs naive", f"{r[2]} ms vs {r[3]} ms ({r[4]})"))
    for page, p50, p95, naive in pages:
        for path, target in PAGE_TARGETS_MS.items():
            if page == f"`GET {path}`":
                summary.append((f"{page} at 1M: p95 (p50; naive)", f"{p95} ms ({p50} ms; naive {naive} ms)",
                                f"≤ {target} ms p95", verdict(float(p95) <= target)))
    summary += [(f"history page {DEPTH:,} deep, sort {h[0]}: keyset p95 vs OFFSET", f"{h[3]} ms vs {h[4]} ms")
                for h in hist]
    summary += [("worker RSS at 1M: start → after pages → after CSV (MiB)",
                 f"{mib(mem['start'][0])} → {mib(mem['pages'][0])} → {mib(mem['csv'][0])}"),
                ("CSV export: first byte, rows, seconds",
                 f"{mem['first_byte_ms']:.0f} ms, {mem['csv_rows']:,}, {mem['csv_s']:.1f} s")]
    return "\n".join(lines) + "\n", summary


def main(argv: list[str]) -> int:
    """Make or reuse the big database, measure, write scale.md."""
    args = argparse.ArgumentParser(prog="python -m bench.scale")
    args.add_argument("--trades", type=int, default=bulkgen.TRADES)
    args.add_argument("--runs", type=int, default=RUNS)
    args.add_argument("--naive-runs", type=int, default=NAIVE_RUNS)
    opts = args.parse_args(argv)
    if not check("scale", "postgresql", "gunicorn"):
        return 2
    from app import create_app
    from models import db, utcnow

    started = time.perf_counter()
    info = bulkgen.ensure(opts.trades, log=lambda m: print(f"  {m}", flush=True))
    app = create_app({"SQLALCHEMY_DATABASE_URI": info["url"], "SECRET_KEY": "bench", "RECOVER_ON_START": False,
                      "RATELIMIT_ENABLED": False, "ANALYTICS_ROLLUPS": True})
    with app.app_context():
        token = _viewer_token()
        now = utcnow() - timedelta(seconds=1)
        q = measure_queries(app, now, opts.runs, opts.naive_runs)
        hist, deep = measure_history(opts.runs)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    pages = measure_pages(app, client, max(5, opts.runs // 2), deep)
    points = chart_points(client)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    mem = worker_memory(info["url"], token, deep)
    text, summary = report(info, q, pages, hist, points, mem, time.perf_counter() - started, opts.runs,
                           opts.naive_runs)
    write("scale", text, summary)
    print(text)
    print(json.dumps(summary, indent=1))
    return 0 if all(r[5] == "met" for r in q) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
