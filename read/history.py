"""The trade history (blotter) queries: filters, sorts, keyset pages both ways, a bounded count, CSV rows.

Every page is a keyset (row-comparison) range scan of a (sort column, id) index, forwards from `cursor` or
backwards from `before`: never OFFSET, so page 20,000 of a million trades costs what page 1 does.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, func, select, tuple_

from models import Trade, User, db

# History sort keys: column a trader sorts by → the Trade column behind it (ties broken by id).
SORTS: dict[str, Any] = {
    "time": Trade.created_at,
    "size": Trade.notional_usd_atoms,
    "savings": Trade.savings_usd_atoms,
    "cost": Trade.cost_bps,
}
# Sorts on a nullable column: trades without a value (rejected before pricing) come after every priced one,
# ascending or descending, so "cheapest first" and "dearest first" both start with real costs.
NULLS_LAST = frozenset({"cost"})
MAX_BIGINT = 2**63 - 1  # cursor values beyond a BIGINT column are not ours
MAX_BPS = Decimal("1e8")  # trades.cost_bps is NUMERIC(12, 4)
COUNT_CAP = 100_000  # the history counts matching trades up to this many (a bounded index scan), then says "+"


def search_clause(text: str) -> ColumnElement[bool]:
    """Trades found by a typed reference: '123' or '#123' is trade 123, anything else a quote id (both indexed)."""
    text = text.strip().removeprefix("#").strip()
    if text.isascii() and text.isdigit() and int(text) <= MAX_BIGINT:
        return Trade.id == int(text)
    return Trade.quote_id == text


def trade_filters(*, venue: str | None = None, status: str | None = None, pair: str | None = None,
                  since: datetime | None = None, until: datetime | None = None, user_id: int | None = None,
                  search: str | None = None) -> list[ColumnElement[bool]]:
    """WHERE clauses of the history filters; `until` is exclusive, `search` a trade id or quote id."""
    where: list[ColumnElement[bool]] = []
    if venue:
        where.append(Trade.venue == venue)
    if status:
        where.append(Trade.status == status)
    if pair:
        where.append(Trade.pair == pair)
    if since:
        where.append(Trade.created_at >= since)
    if until:
        where.append(Trade.created_at < until)
    if user_id is not None:
        where.append(Trade.user_id == user_id)
    if search:
        where.append(search_clause(search))
    return where


def trade_page(*, limit: int, before_id: int | None = None, **filters: Any) -> tuple[list[Trade], str | None]:
    """Trades newest first (by id), keyset-paginated (ids below `before_id`), and the next page's cursor or None.

    One query for limit + 1 rows: a page that ends exactly on the last trade has no next page (the one home of that
    rule; history_page reads one row more the same way).
    """
    q = select(Trade).order_by(Trade.id.desc()).limit(limit + 1)
    if before_id is not None:
        q = q.where(Trade.id < before_id)
    rows = list(db.session.scalars(q.where(*trade_filters(**filters))))
    return rows[:limit], (str(rows[limit - 1].id) if len(rows) > limit else None)


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """Filters, sort and keyset position of the history page; `until` is exclusive (UTC).

    `cursor` reads the page after a trade, `before` the page before one (the previous-page link); at most one.
    """

    venue: str | None = None
    status: str | None = None
    pair: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    user_id: int | None = None
    search: str | None = None
    sort: str = "time"
    descending: bool = True
    cursor: str | None = None
    before: str | None = None

    def __post_init__(self) -> None:
        """Refuse an unknown sort key."""
        if self.sort not in SORTS:
            raise ValueError(f"sort must be one of {', '.join(SORTS)}")

    def where(self) -> list[ColumnElement[bool]]:
        """The query's filters as WHERE clauses."""
        return trade_filters(venue=self.venue, status=self.status, pair=self.pair, since=self.since,
                             until=self.until, user_id=self.user_id, search=self.search)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of the history and the cursors of its neighbours (None: there is none that way)."""

    rows: list[Trade]
    next_cursor: str | None
    prev_cursor: str | None


@dataclass(frozen=True, slots=True)
class _Segment:
    """A run of the history order that one index range scan reads: its rows and the key they are ordered by."""

    where: tuple[ColumnElement[bool], ...]
    key: tuple[Any, ...]


def _segments(sort: str) -> list[_Segment]:
    """The history order of a sort as index scans: (value, id); for a nullable value, then the NULLs by id."""
    col = SORTS[sort]
    if sort not in NULLS_LAST:
        return [_Segment((), (col, Trade.id))]
    return [_Segment((col.is_not(None),), (col, Trade.id)), _Segment((col.is_(None),), (Trade.id,))]


def encode_cursor(sort: str, trade: Trade) -> str:
    """The keyset position of `trade` for a sort: '<value>~<id>' (times ISO 8601 with microseconds; NULL empty)."""
    value = getattr(trade, SORTS[sort].key)
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return f"{text}~{trade.id}"


def _decode_cursor(sort: str, cursor: str) -> tuple[int, tuple[Any, ...]]:
    """(segment, key values) of a cursor; ValueError when it was not made by encode_cursor."""
    text, sep, id_text = cursor.rpartition("~")
    if not sep or not (id_text.isascii() and id_text.isdigit()) or int(id_text) > MAX_BIGINT:
        raise ValueError("cursor must be the one the previous page linked to")
    last_id = int(id_text)
    value: Any
    if text == "" and sort in NULLS_LAST:
        return 1, (last_id,)
    if sort == "time":
        value = datetime.fromisoformat(text)
        if value.tzinfo is None or not 1970 <= value.year <= 9998:
            raise ValueError("cursor time must carry a timezone and lie between 1970 and 9998")
    elif sort in NULLS_LAST:
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError("cursor must be the one the previous page linked to") from None
        if not value.is_finite() or abs(value) >= MAX_BPS:
            raise ValueError("cursor must be the one the previous page linked to")
    else:
        value = int(text)
        if abs(value) > MAX_BIGINT:
            raise ValueError("cursor must be the one the previous page linked to")
    return 0, (value, last_id)


def _scan(query: HistoryQuery, position: tuple[int, tuple[Any, ...]] | None, limit: int,
          backwards: bool = False) -> list[Trade]:
    """Up to `limit` trades strictly after `position` (None: from the start) in the query's order, or, backwards,
    strictly before it nearest first: one LIMITed range scan per segment, the next only when the first runs out."""
    segments = _segments(query.sort)
    descending = query.descending != backwards  # reading backwards flips every comparison and order
    start = 0 if position is None else position[0]
    visit = range(start, -1, -1) if backwards else range(start, len(segments))
    rows: list[Trade] = []
    for i in visit:
        seg = segments[i]
        where = [*query.where(), *seg.where]
        if position is not None and i == position[0]:
            key = tuple_(*seg.key) if len(seg.key) > 1 else seg.key[0]  # a row comparison: one index range
            value = position[1] if len(seg.key) > 1 else position[1][0]
            where.append(key < value if descending else key > value)
        order = [c.desc() if descending else c.asc() for c in seg.key]
        rows += db.session.scalars(select(Trade).where(*where).order_by(*order).limit(limit - len(rows)))
        if len(rows) >= limit:
            break
    return rows


def history_page(query: HistoryQuery, limit: int) -> HistoryPage:
    """One page in the query's order, after `cursor` or before `before`, with its neighbours' cursors.

    A previous page that is no longer a full page (trades were deleted, or the link is stale) gives the first page.
    """
    if query.before:
        rows = _scan(query, _decode_cursor(query.sort, query.before), limit + 1, backwards=True)
        if len(rows) > limit:
            rows = rows[:limit][::-1]
            return HistoryPage(rows, encode_cursor(query.sort, rows[-1]), encode_cursor(query.sort, rows[0]))
        if len(rows) == limit:
            rows.reverse()
            return HistoryPage(rows, encode_cursor(query.sort, rows[-1]), None)
        return history_page(dataclasses.replace(query, before=None, cursor=None), limit)
    position = _decode_cursor(query.sort, query.cursor) if query.cursor else None
    rows = _scan(query, position, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return HistoryPage(rows, encode_cursor(query.sort, rows[-1]) if more and rows else None,
                       encode_cursor(query.sort, rows[0]) if position is not None and rows else None)


def history_count(query: HistoryQuery, cap: int = COUNT_CAP) -> int:
    """How many trades match the query's filters, counting at most `cap` + 1 (more than `cap` returns cap + 1)."""
    capped = select(Trade.id).where(*query.where()).limit(cap + 1).subquery()
    return int(db.session.scalar(select(func.count()).select_from(capped)) or 0)


def history_rows(query: HistoryQuery, cap: int) -> Iterator[Trade]:
    """Every trade matching the query's filters in its order, streamed in chunks (at most `cap`), for CSV."""
    left = cap
    for seg in _segments(query.sort):
        order = [c.desc() if query.descending else c.asc() for c in seg.key]
        stmt = (select(Trade).where(*query.where(), *seg.where).order_by(*order).limit(left)
                .execution_options(yield_per=500))
        for trade in db.session.scalars(stmt):
            yield trade
            left -= 1
        if left <= 0:
            return


def trader_names(user_ids: Iterable[int | None] | None = None) -> dict[int, str]:
    """Usernames by user id: of these ids, or of every user (a desk has a few dozen) when None."""
    q = select(User.id, User.username)
    if user_ids is not None:
        ids = {i for i in user_ids if i is not None}
        if not ids:
            return {}
        q = q.where(User.id.in_(ids))
    return {int(i): name for i, name in db.session.execute(q).all()}
