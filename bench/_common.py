"""Shared helpers of the benchmarks: results files, percentiles, PostgreSQL databases, process memory."""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
PG_SERVER_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "olr_bench")  # several checkouts on one server: one prefix each


def db_name(purpose: str) -> str:
    """The benchmark database for `purpose` (api, scale, ...): BENCH_DB_PREFIX_purpose."""
    return f"{DB_PREFIX}_{purpose}"


def pct(values: list[float], p: int) -> float:
    """Nearest-rank percentile; nan when empty."""
    ordered = sorted(values)
    return ordered[max(0, -(-p * len(ordered) // 100) - 1)] if ordered else float("nan")


def timed_ms(fn: Callable[[], Any], runs: int) -> list[float]:
    """Wall-clock milliseconds of `runs` calls of fn()."""
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


Row = tuple[str, ...]  # (figure, value) or (figure, value, target, verdict)


def verdict(met: bool) -> str:
    """How a summary row says whether its target was met."""
    return "met" if met else "**NOT met**"


def write(name: str, markdown: str, summary: list[Row]) -> None:
    """bench/results/NAME.md, NAME.summary.json (the rows of summary.md), and summary.md rebuilt from every benchmark.

    A summary row is (figure, value), or (figure, value, target, verdict) for a figure the issues set a target for.
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.md").write_text(markdown)
    (RESULTS / f"{name}.summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    (RESULTS / "summary.md").write_text(summary_markdown())


def summary_markdown(footer: str = "") -> str:
    """The table of every benchmark's latest summary rows (bench/results/*.summary.json), targets next to figures."""
    lines = ["# Benchmark summary", "",
             "Each benchmark's latest run (`python -m bench` runs them all, `python -m bench.NAME` one and updates "
             "its rows here). Speed figures are ratios or percentiles measured in one run on a busy 2-core machine: "
             "the ratios hold better than the absolute figures.", "",
             "| benchmark | figure | value | target | met |", "|---|---|---|---|---|"]
    for path in sorted(RESULTS.glob("*.summary.json")):
        for row in json.loads(path.read_text()):
            figure, value, target, met = (*row, "", "")[:4]
            lines.append(f"| {path.name.split('.')[0]} | {figure} | {value} | {target} | {met} |")
    return "\n".join([*lines, "", *([footer, ""] if footer else [])])


def database_url(name: str) -> str:
    """URL of database `name` on the benchmark PostgreSQL server."""
    return make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)


def pg_available() -> bool:
    """True when the benchmark PostgreSQL server answers."""
    try:
        engine = create_engine(PG_SERVER_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def recreate_database(name: str) -> str:
    """Drop (forcing out connections) and create database `name`; its URL."""
    engine = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return database_url(name)


def fresh_database(name: str, tmp_dir: str) -> tuple[str, str]:
    """(backend, URL) of an empty database: PostgreSQL `name` when the server answers, else SQLite in tmp_dir."""
    if pg_available():
        return "PostgreSQL", recreate_database(name)
    return "SQLite", f"sqlite:///{tmp_dir}/{name}.db"


def rss_kb(pid: int) -> tuple[int, int]:
    """(resident, peak resident) KiB of a process, from /proc/PID/status."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields.get("VmRSS", 0), fields.get("VmHWM", 0)


def mib(kib: int) -> str:
    """KiB as MiB with one decimal."""
    return f"{kib / 1024:.1f}"


def table(header: tuple[str, ...], rows: list[tuple[Any, ...]], right_from: int = 1) -> list[str]:
    """A markdown table; columns from `right_from` on are right-aligned."""
    align = ["---" if i < right_from else "---:" for i in range(len(header))]
    return ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|",
            *["| " + " | ".join(str(c) for c in row) + " |" for row in rows]]


@contextmanager
def bare_tables(conn: Any, tables: tuple[str, ...]) -> Iterator[None]:
    """Drop the tables' secondary indexes, unique and foreign-key constraints for the load; rebuild them after.

    Building an index once over a loaded table is several times faster than maintaining it row by row.
    """
    cur = conn.cursor()
    names = list(tables)
    cur.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
                "WHERE contype IN ('u', 'f') AND conrelid::regclass::text = ANY(%s) ORDER BY contype", (names,))
    constraints = cur.fetchall()  # foreign keys first
    cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))", (names,))
    indexes = cur.fetchall()
    for table, name, _, _ in constraints:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    conn.commit()
    try:
        yield
    finally:
        cur.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cur.execute(definition)
        for table, name, definition, _ in reversed(constraints):
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        conn.commit()
