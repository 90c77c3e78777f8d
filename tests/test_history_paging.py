"""Big-data paths of the history: keyset (cursor) pages, never OFFSET, on every sort; the CSV export streams."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.tokens import SOL, USDC
from models import Trade, db
from read import history
from read.history import HistoryQuery
from tests.conftest import listening

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)


def _trades(app: Flask, n: int) -> None:
    """n filled SOL → USDC trades with repeating sizes, savings and costs (ties; every 9th unpriced), two a minute."""
    with app.app_context():
        for i in range(n):
            db.session.add(Trade(
                status="filled", pair="SOL/USDC", input_mint=SOL.mint, output_mint=USDC.mint, input_symbol="SOL",
                output_symbol="USDC", swap_mode="ExactIn", slippage_bps=50, venue="jupiter",
                in_amount_atoms=10**9, out_amount_atoms=150 * 10**6, notional_usd_atoms=(i % 7) * 10**9,
                savings_usd_atoms=(i % 5) * 10**6, cost_bps=None if i % 9 == 4 else Decimal(i % 4) / 4,
                explanation="", options=[],
                created_at=T0 + timedelta(minutes=i // 2)))  # two trades per minute: equal times too
        db.session.commit()


@contextmanager
def _statements(app: Flask) -> Iterator[list[tuple[str, tuple]]]:
    """The SQL statements (with their parameters) executed inside the block."""
    seen: list[tuple[str, tuple]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((statement, tuple(parameters)))

    with listening(app, record):
        yield seen


def _skips_rows(sql: list[tuple[str, tuple]]) -> bool:
    """True if a statement skipped rows with OFFSET (SQLite always renders `LIMIT ? OFFSET ?`: the offset is 0)."""
    return any("OFFSET" in text.upper() and (not text.rstrip().endswith("OFFSET ?") or params[-1] != 0)
               for text, params in sql)


def test_history_pages_follow_a_keyset_cursor_on_every_sort_and_never_offset(app: Flask) -> None:
    _trades(app, 53)
    with app.app_context():
        every = {t.id for t in db.session.query(Trade)}
        for sort in history.SORTS:
            for descending in (True, False):
                seen: list[int] = []
                query = HistoryQuery(sort=sort, descending=descending)
                with _statements(app) as sql:
                    while True:
                        page = history.history_page(query, 10)
                        rows, cursor = page.rows, page.next_cursor
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
        for sort in history.SORTS:
            first_page = history.history_page(HistoryQuery(sort=sort), 10)
            second = history.history_page(HistoryQuery(sort=sort, cursor=first_page.next_cursor), 10)
            assert len(first_page.rows) == len(second.rows) == 10 and second.next_cursor is None, sort
        rows, cursor = history.trade_page(limit=20)
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


def _walk(query: HistoryQuery, limit: int) -> list[list[int]]:
    """Every page's trade ids, following next_cursor from the query's first page."""
    pages = []
    while True:
        page = history.history_page(query, limit)
        pages.append([t.id for t in page.rows])
        if page.next_cursor is None:
            return pages
        query = HistoryQuery(sort=query.sort, descending=query.descending, cursor=page.next_cursor)


def test_previous_page_links_walk_back_through_the_same_pages_keyset_on_every_sort(app: Flask) -> None:
    _trades(app, 53)
    with app.app_context():
        for sort in history.SORTS:
            for descending in (True, False):
                forward = _walk(HistoryQuery(sort=sort, descending=descending), 10)
                assert len(forward) == 6 and sum(map(len, forward)) == 53, (sort, descending)
                last = HistoryQuery(sort=sort, descending=descending)
                for _ in forward[:-1]:
                    last = HistoryQuery(sort=sort, descending=descending,
                                        cursor=history.history_page(last, 10).next_cursor)
                page = history.history_page(last, 10)
                backward = [[t.id for t in page.rows]]
                with _statements(app) as sql:
                    while page.prev_cursor is not None:
                        page = history.history_page(
                            HistoryQuery(sort=sort, descending=descending, before=page.prev_cursor), 10)
                        backward.append([t.id for t in page.rows])
                assert backward[::-1] == forward, (sort, descending)
                assert sql and not _skips_rows(sql)
                first = history.history_page(HistoryQuery(sort=sort, descending=descending), 10)
                assert first.prev_cursor is None and page.prev_cursor is None


def test_cost_sort_puts_unpriced_trades_last_both_ways(app: Flask) -> None:
    _trades(app, 30)
    with app.app_context():
        for descending in (True, False):
            ids = [i for page in _walk(HistoryQuery(sort="cost", descending=descending), 4) for i in page]
            trades = {t.id: t for t in db.session.query(Trade)}
            costs = [trades[i].cost_bps for i in ids]
            priced = [c for c in costs if c is not None]
            assert len(ids) == len(set(ids)) == 30
            assert costs[len(priced):] == [None] * (30 - len(priced)) and len(priced) < 30
            assert priced == sorted(priced, reverse=descending)
            unpriced = ids[len(priced):]
            assert unpriced == sorted(unpriced, reverse=descending)  # ties and NULLs in id order


def test_a_stale_previous_link_near_the_start_shows_the_first_page(app: Flask) -> None:
    _trades(app, 12)
    with app.app_context():
        newest = history.history_page(HistoryQuery(), 5).rows
        stale = history.encode_cursor("time", newest[2])  # only two trades come before it
        page = history.history_page(HistoryQuery(before=stale), 5)
        assert [t.id for t in page.rows] == [t.id for t in newest] and page.prev_cursor is None


def test_history_count_is_bounded_and_follows_the_filters(app: Flask) -> None:
    _trades(app, 25)
    with app.app_context():
        assert history.history_count(HistoryQuery()) == 25
        assert history.history_count(HistoryQuery(), cap=10) == 11  # "10+": never counts past the cap
        assert history.history_count(HistoryQuery(venue="otc:none")) == 0
        assert history.history_count(HistoryQuery(search="3")) == 1


@pytest.mark.parametrize(("sort", "cursor"), [("size", "~5"), ("cost", "NaN~5"), ("cost", "1e9~5"),
                                              ("cost", "abc~5"), ("time", "~5")])
def test_forged_cursors_are_refused(app: Flask, sort: str, cursor: str) -> None:
    with app.app_context(), pytest.raises(ValueError):
        history.history_page(HistoryQuery(sort=sort, cursor=cursor), 10)
    with app.app_context(), pytest.raises(ValueError):
        history.history_page(HistoryQuery(sort=sort, before=cursor), 10)
