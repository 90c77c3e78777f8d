"""The trade path's round trips (issue 17 item 2): a trade reserves and settles in few statements, on both backends.

Counted with SQLAlchemy's before_cursor_execute event over POST /api/v1/trades, by the table a statement works on:
the ledger's tables (trades, legs, TCA, rollups, pools, quotes) are ours to keep short; the simulated chain's and
the simulated Jupiter's tables are the venues' (network calls in live mode) and are not budgeted here.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

from tests.conftest import listening

LEDGER_TABLES = ("trades", "trade_legs", "trade_tca", "trade_rollups_hourly", "trade_rollups_daily",
                 "trade_leg_rollups_hourly", "trade_leg_rollups_daily", "otc_pools", "quotes")
# Statements on the ledger's tables per trade, measured on both backends: a Jupiter-only trade 14, a split with an
# OTC leg 16 (before issue 17 item 2: 20.3 and 24); +1 for a trade whose executed amounts differ from the decided
# ones (the totals' UPDATE).
LEDGER_BUDGET = {"jupiter": 15, "split": 17}
ORDERS = {"jupiter": {"input": "SOL", "output": "USDC", "amount": "10", "slippage_bps": 50},
          "split": {"input": "SOL", "output": "USDC", "amount": "25000", "slippage_bps": 50}}
TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", re.I)  # a nested SELECT's FROM ( is skipped: its table counts


@contextmanager
def statements(app: Flask) -> Iterator[Counter[str]]:
    """Count the statements sent to the database while inside, by the first table each names."""
    seen: Counter[str] = Counter()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        found = TABLE.search(statement)
        seen[found.group(1) if found else statement.split(None, 1)[0].upper()] += 1

    with listening(app, record):
        yield seen


def ledger_statements_per_trade(app: Flask, body: dict[str, Any], trades: int = 3) -> tuple[float, Counter[str]]:
    """Mean statements on the ledger's tables per POST /api/v1/trades of `body` (after one warm-up trade)."""
    client = app.test_client()
    assert client.post("/api/v1/trades", json=body).status_code == 201
    with statements(app) as seen:
        for _ in range(trades):
            res = client.post("/api/v1/trades", json=body)
            assert res.status_code == 201, res.get_json()
    ledger = sum(n for table, n in seen.items() if table in LEDGER_TABLES)
    return ledger / trades, seen


def test_a_trade_reserves_and_settles_within_its_statement_budget_on_both_backends(any_app: Flask) -> None:
    for kind, body in ORDERS.items():
        per_trade, seen = ledger_statements_per_trade(any_app, body)
        assert per_trade <= LEDGER_BUDGET[kind], (kind, per_trade, seen)


def test_a_split_trade_moves_its_pool_and_the_budget_counts_it(app: Flask) -> None:
    _, seen = ledger_statements_per_trade(app, ORDERS["split"], trades=1)
    assert seen["otc_pools"] >= 2  # the reservation's and the settlement's inventory moves are counted
