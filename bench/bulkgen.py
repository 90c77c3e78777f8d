"""Bulk trades for the scale benchmark: a million trades in PostgreSQL in minutes, shaped like `flask simulate`'s.

`python -m bench.bulkgen [--trades N] [--days D] [--seed S]` (the scale benchmark calls ensure()). Nothing goes
through HTTP: first `demo.simulate` routes TEMPLATES real orders through gather → decide → apply (the real router,
firm quotes, split legs, back-dated over the period); then COPY replicates them to N trades: each copy takes a
random template, a time drawn like simulate's (denser in 12:00–22:00 UTC desk hours), its amounts scaled by
0.90–1.10 (atoms, rounded down; copies of firm-quote fills keep the quoted amounts and get their own quote row,
so about a quarter of trades carry a quote), and a status: 2.5 % rejected (no legs), 0.5 % failed, else filled.
The hourly rollups are then rebuilt (rollups.backfill) and the tables vacuumed and analysed. A database
generated with the same parameters and migration head within REUSE_HOURS is reused.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import queue
import random
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench._common import bare_tables, database_url, db_name, recreate_database

DATABASE = db_name("scale")
TRADES, DAYS, SEED, TEMPLATES = 1_000_000, 180, 20261126, 300
REJECTED, FAILED = 0.025, 0.005
REUSE_HOURS = 6
CHUNK = 50_000
TRADE_COLS = ("id", "status", "quote_id", "pair", "input_mint", "output_mint", "input_symbol", "output_symbol",
              "swap_mode", "slippage_bps", "venue", "in_amount_atoms", "out_amount_atoms", "min_out_amount_atoms",
              "max_in_amount_atoms", "jupiter_only_out_amount_atoms", "jupiter_only_in_amount_atoms",
              "savings_atoms", "savings_bps", "notional_usd_atoms", "savings_usd_atoms", "price_impact_bps",
              "cost_bps", "explanation", "options", "error", "error_code", "latency_ms", "created_at", "quoted_at",
              "executed_at", "settled_at", "failed_at")
SCALED = ("in_amount_atoms", "out_amount_atoms", "min_out_amount_atoms", "max_in_amount_atoms",
          "jupiter_only_out_amount_atoms", "jupiter_only_in_amount_atoms", "savings_atoms", "notional_usd_atoms",
          "savings_usd_atoms")
LEG_COLS = ("id", "trade_id", "venue", "pool_id", "in_amount_atoms", "out_amount_atoms", "fee_atoms", "cost_bps")
QUOTE_COLS = ("id", "created_at", "expires_at", "input_mint", "output_mint", "swap_mode", "amount_atoms",
              "slippage_bps", "payload", "used_at", "trade_id")


def _code_head() -> str:
    """The migration head of the code (so a schema change regenerates the data)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS_DIR)
    return ScriptDirectory.from_config(cfg).get_current_head() or ""


def _marker(trades: int, days: int, seed: int) -> str:
    """What the trades table's comment says about the data it holds (a schema change regenerates it)."""
    from app import MIGRATIONS_DIR

    schema = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(Path(MIGRATIONS_DIR).glob("versions/*.py"))))
    return f"olr-bench-scale v1 trades={trades} days={days} seed={seed} head={_code_head()} {schema.hexdigest()[:12]}"


def reusable(url: str, marker: str) -> bool:
    """True when the database holds data generated with this marker less than REUSE_HOURS ago."""
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            comment = conn.execute(text("SELECT obj_description('trades'::regclass)")).scalar() or ""
        engine.dispose()
    except Exception:
        return False
    head, _, stamp = comment.rpartition(" at=")
    if head != marker or not stamp:
        return False
    return (time.time() - float(stamp)) < REUSE_HOURS * 3600


def _copy_text(value: Any) -> str:
    """A value in COPY text format."""
    if value is None:
        return r"\N"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(sep=" ")
    if isinstance(value, dict | list):
        import json

        value = json.dumps(value, separators=(",", ":"))
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _times(rng: random.Random, n: int, since_s: float, until_s: float) -> list[float]:
    """n epoch seconds in [since, until), denser in 12:00–22:00 UTC (simulate's shape), ascending."""
    out: list[float] = []
    span = until_s - since_s
    while len(out) < n:
        t = since_s + rng.random() * span
        if 12 <= int(t // 3600 % 24) < 22 or rng.random() < 0.35:
            out.append(t)
    out.sort()
    return out


def _stamp(t: float) -> str:
    """Epoch seconds as a COPY timestamptz."""
    return datetime.fromtimestamp(t, UTC).isoformat(sep=" ")


def _templates(conn: Any) -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]], dict[str, dict[str, Any]]]:
    """The simulated trades, their legs by trade id and their quotes by id, as raw column values."""
    cur = conn.cursor()
    cur.execute(f"SELECT {', '.join(TRADE_COLS)} FROM trades ORDER BY id")
    trades = [dict(zip(TRADE_COLS, row, strict=True)) for row in cur.fetchall()]
    cur.execute(f"SELECT {', '.join(LEG_COLS)} FROM trade_legs ORDER BY id")
    legs: dict[int, list[dict[str, Any]]] = {}
    for row in cur.fetchall():
        leg = dict(zip(LEG_COLS, row, strict=True))
        legs.setdefault(leg["trade_id"], []).append(leg)
    cur.execute(f"SELECT {', '.join(QUOTE_COLS)} FROM quotes")
    quotes = {row[0]: dict(zip(QUOTE_COLS, row, strict=True)) for row in cur.fetchall()}
    return [t for t in trades if t["status"] == "filled"], legs, quotes


def _copy(conn: Any, table: str, cols: tuple[str, ...], lines: list[str]) -> None:
    """COPY text lines into table."""
    if lines:
        conn.cursor().copy_expert(f"COPY {table} ({', '.join(cols)}) FROM STDIN", io.StringIO("".join(lines)),
                                  size=1 << 20)


def _leg_texts(legs: dict[int, list[dict[str, Any]]]) -> dict[int, list[tuple[str, str, int, int, int, str]]]:
    """Per template trade id: each leg's venue, pool and cost as COPY text, and its atoms (in, out, fee)."""
    return {tid: [(_copy_text(x["venue"]), _copy_text(x["pool_id"]), x["in_amount_atoms"], x["out_amount_atoms"],
                   x["fee_atoms"], _copy_text(x["cost_bps"])) for x in rows] for tid, rows in legs.items()}


def _chunks(rng: random.Random, conn: Any, times: list[float]) -> Iterator[tuple[list[str], list[str], list[str]]]:
    """COPY lines of trades, legs and quotes, CHUNK trades at a time, ids after the rows already there."""
    templates, legs, quotes = _templates(conn)
    cur = conn.cursor()
    cur.execute("SELECT coalesce(max(id), 0) FROM trades")
    next_id = cur.fetchone()[0]
    cur.execute("SELECT coalesce(max(id), 0) FROM trade_legs")
    next_leg = cur.fetchone()[0]
    fixed = [{c: _copy_text(v) for c, v in t.items()} for t in templates]
    quote_text = {qid: {c: _copy_text(v) for c, v in q.items()} for qid, q in quotes.items()}
    leg_text = _leg_texts(legs)
    for start in range(0, len(times), CHUNK):
        t_lines, l_lines, q_lines = [], [], []
        for t in times[start:start + CHUNK]:
            next_id += 1
            i = rng.randrange(len(templates))
            src, row = templates[i], dict(fixed[i])
            roll = rng.random()
            status = "rejected" if roll < REJECTED else "failed" if roll < REJECTED + FAILED else "filled"
            quoted = src["quote_id"] is not None and status == "filled"
            factor = 1000 if quoted else rng.randrange(900, 1101)
            if factor != 1000:
                for c in SCALED:
                    if src[c] is not None:
                        row[c] = str(src[c] * factor // 1000)
            stamp = _stamp(t)
            row.update(id=str(next_id), status=status, created_at=stamp, quoted_at=stamp, executed_at=stamp,
                       settled_at=_stamp(t + 1.5) if status == "filled" else r"\N", quote_id=r"\N",
                       failed_at=stamp if status == "failed" else r"\N", error=r"\N", error_code=r"\N")
            if status == "rejected":
                row.update(executed_at=r"\N", error="no OTC liquidity left for this order; nothing moved",
                           error_code="NO_LIQUIDITY")
            elif status == "failed":
                row.update(executed_at=r"\N", error="Jupiter failed while executing the trade; every reservation "
                           "was released and nothing was executed", error_code="EXECUTION_FAILED")
            if quoted:
                q = dict(quote_text[src["quote_id"]])
                row["quote_id"] = q["id"] = f"q_bulk{next_id:012d}"
                q.update(created_at=_stamp(t - 5), expires_at=_stamp(t + 10), used_at=stamp, trade_id=str(next_id))
                q_lines.append("\t".join(q[c] for c in QUOTE_COLS) + "\n")
            t_lines.append("\t".join(row[c] for c in TRADE_COLS) + "\n")
            if status != "rejected":
                for venue, pool, a_in, a_out, fee, cost in leg_text.get(src["id"], ()):
                    next_leg += 1
                    l_lines.append(f"{next_leg}\t{next_id}\t{venue}\t{pool}\t{a_in * factor // 1000}\t"
                                   f"{a_out * factor // 1000}\t{fee * factor // 1000}\t{cost}\n")
        yield t_lines, l_lines, q_lines


def replicate(conn: Any, trades: int, seed: int, since_s: float, until_s: float) -> dict[str, int]:
    """COPY trades (with legs and quote rows) until the table holds `trades`; counts written.

    A producer thread builds the next chunk's lines while the server ingests the current one (2 cores).
    """
    rng = random.Random(seed)
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM trades")
    times = _times(rng, trades - cur.fetchone()[0], since_s, until_s)
    chunks: queue.Queue[Any] = queue.Queue(maxsize=2)

    def produce() -> None:
        try:
            for chunk in _chunks(rng, conn, times):
                chunks.put(chunk)
        finally:
            chunks.put(None)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    counts = {"trades": 0, "legs": 0, "quotes": 0}
    while (chunk := chunks.get()) is not None:
        t_lines, l_lines, q_lines = chunk
        _copy(conn, "quotes", QUOTE_COLS, q_lines)
        _copy(conn, "trades", TRADE_COLS, t_lines)
        _copy(conn, "trade_legs", LEG_COLS, l_lines)
        conn.commit()
        counts["trades"] += len(t_lines)
        counts["legs"] += len(l_lines)
        counts["quotes"] += len(q_lines)
    producer.join()
    for table in ("trades", "trade_legs"):
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    conn.commit()
    return counts


def ensure(trades: int = TRADES, days: int = DAYS, seed: int = SEED, log: Any = print) -> dict[str, Any]:
    """The URL of a database holding `trades` bulk trades (generated now, or reused) and how it was made."""
    from sqlalchemy.engine import make_url

    from app import create_app
    from cli.demo import simulate
    from models import db
    from services.seed import init_database

    url, marker = database_url(DATABASE), _marker(trades, days, seed)
    if reusable(url, marker):
        log(f"reusing {DATABASE}: {marker}")
        return {"url": url, "reused": True, "seconds": {}}
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    recreate_database(DATABASE)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RECOVER_ON_START": False,
                      "JUPITER_MODE": "sim"})
    with app.app_context():
        init_database()
        report = simulate(TEMPLATES, days=days, seed=seed)
        db.session.remove()
        seconds["templates (simulate)"] = time.perf_counter() - started
        log(f"{TEMPLATES} template trades routed in {seconds['templates (simulate)']:.0f} s: {dict(report.outcomes)}")
        import psycopg2

        raw = psycopg2.connect(make_url(url).render_as_string(hide_password=False).replace("+psycopg2", ""))
        step = time.perf_counter()
        raw.cursor().execute("SET synchronous_commit = off")
        with bare_tables(raw, ("trades", "trade_legs", "quotes")):
            counts = replicate(raw, trades, seed, report.since.timestamp(), report.until.timestamp())
            seconds["COPY trades, legs, quotes"] = time.perf_counter() - step
            log(f"copied {counts} in {seconds['COPY trades, legs, quotes']:.0f} s")
            step = time.perf_counter()
        seconds["indexes and constraints"] = time.perf_counter() - step
        log(f"indexes and constraints rebuilt in {seconds['indexes and constraints']:.0f} s")
        raw.cursor().execute("ANALYZE")
        raw.commit()
        step = time.perf_counter()
        from ledger import rollups

        rows = rollups.rebuild()
        seconds["rollups rebuild"] = time.perf_counter() - step
        log(f"rollups rebuilt ({rows[0]} trade rows, {rows[1]} leg rows) in {seconds['rollups rebuild']:.0f} s")
        db.session.remove()
        db.engine.dispose()
        step = time.perf_counter()
        raw.autocommit = True
        raw.cursor().execute("VACUUM ANALYZE")
        raw.cursor().execute(f"COMMENT ON TABLE trades IS '{marker} at={time.time():.0f}'")
        raw.close()
        seconds["VACUUM ANALYZE"] = time.perf_counter() - step
    seconds["total"] = time.perf_counter() - started
    log(f"{DATABASE} ready in {seconds['total']:.0f} s")
    return {"url": url, "reused": False, "seconds": seconds, "counts": counts, "rollup_rows": rows}


def run(argv: list[str]) -> int:
    """`python -m bench.bulkgen`: make (or reuse) the scale database and say how long it took."""
    args = argparse.ArgumentParser(prog="python -m bench.bulkgen")
    args.add_argument("--trades", type=int, default=TRADES)
    args.add_argument("--days", type=int, default=DAYS)
    args.add_argument("--seed", type=int, default=SEED)
    opts = args.parse_args(argv)
    info = ensure(opts.trades, opts.days, opts.seed)
    print(info["url"])
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
