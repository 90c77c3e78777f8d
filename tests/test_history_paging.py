"""Big-data paths of the history: keyset (cursor) pages, never OFFSET, on every sort; the CSV export streams."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from core.tokens import SOL, USDC
from models import Trade, db
from read import analytics
from read.analytics import HistoryQuery

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)


def _trades(app: Flask, n: int) -> None:
    """n filled SOL → USDC trades with repeating sizes and savings (ties), one minute apart."""
    with app.app_context():
        for i in range(n):
            db.session.add(Trade(
                status="filled", pair="SOL/USDC", input_mint=SOL.mint, output_mint=USDC.mint, input_symbol="SOL",
                output_symbol="USDC", swap_mode="ExactIn", slippage_bps=50, venue="jupiter",
                in_amount_atoms=10**9, out_amount_atoms=150 * 10**6, notional_usd_atoms=(i % 7) * 10**9,
                savings_usd_atoms=(i % 5) * 10**6, cost_bps=Decimal("5"), explanation="", options=[],
                created_at=T0 + timedelta(minutes=i // 2)))  # two trades per minute: equal times too
        db.session.commit()


@contextmanager
def _statements(app: Flask) -> Iterator[list[tuple[str, tuple]]]:
    """The SQL statements (with their parameters) executed inside the block."""
    seen: list[tuple[str, tuple]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((statement, tuple(parameters)))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _skips_rows(sql: list[tuple[str, tuple]]) -> bool:
    """True if a statement skipped rows with OFFSET (SQLite always renders `LIMIT ? OFFSET ?`: the offset is 0)."""
    return any("OFFSET" in text.upper() and (not text.rstrip().endswith("OFFSET ?") or params[-1] != 0)
               for text, params in sql)


def test_history_pages_follow_a_keyset_cursor_on_every_sort_and_never_offset(app: Flask) -> None:
    _trades(app, 53)
    with app.app_context():
        every = {t.id for t in db.session.query(Trade)}
        for sort in analytics.SORTS:
            for descending in (True, False):
                seen: list[int] = []
                query = HistoryQuery(sort=sort, descending=descending)
                with _statements(app) as sql:
                    while True:
                        rows, cursor = analytics.history_page(query, 10)
                        seen += [t.id for t in rows]
                        if cursor is None:
                            break
                        query = HistoryQuery(sort=sort, descending=descending, cursor=cursor)
                assert sorted(seen) == sorted(every) and len(seen) == len(every), (sort, descending)
                assert sql and not _skips_rows(sql)


def test_api_trade_pages_are_keyset_by_id(app: Flask, client: FlaskClient) -> None:
    _trades(app, 25)
    ids: list[int] = []
    cursor = ""
    with _statements(app) as sql:
        while True:
            body = client.get(f"/api/v1/trades?limit=10{cursor}").get_json()
            ids += [t["id"] for t in body["trades"]]
            if not body["next_cursor"]:
                break
            cursor = f"&cursor={body['next_cursor']}"
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 25
    assert sql and not _skips_rows(sql)


def test_a_page_ending_exactly_on_the_last_trade_has_no_next_cursor(app: Flask, client: FlaskClient) -> None:
    _trades(app, 20)
    first = client.get("/api/v1/trades?limit=10").get_json()
    last = client.get(f"/api/v1/trades?limit=10&cursor={first['next_cursor']}").get_json()
    assert len(last["trades"]) == 10 and last["next_cursor"] is None  # not a cursor to an empty page
    assert client.get("/api/v1/trades?limit=20").get_json()["next_cursor"] is None
    assert client.get("/api/v1/trades?limit=19").get_json()["next_cursor"] is not None
    with app.app_context():
        for sort in analytics.SORTS:
            rows, cursor = analytics.history_page(HistoryQuery(sort=sort), 10)
            rows2, cursor2 = analytics.history_page(HistoryQuery(sort=sort, cursor=cursor), 10)
            assert len(rows) == len(rows2) == 10 and cursor2 is None, sort
        rows, cursor = analytics.trade_page(limit=20)
        assert len(rows) == 20 and cursor is None


def test_the_csv_export_streams_row_by_row(app: Flask, client: FlaskClient) -> None:
    _trades(app, 30)
    response = client.get("/trades.csv?sort=size", buffered=False)
    assert response.status_code == 200 and response.is_streamed  # a generator, not a body built in memory
    chunks = response.iter_encoded()
    assert next(chunks).startswith(b"id,created_at,status")  # the header arrives before any trade is read
    rest = b"".join(chunks)
    response.close()
    assert rest.count(b"\n") == 30
