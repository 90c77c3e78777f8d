"""The time window of charts and analytics: a UTC range cut into buckets, and its SQL bucket expressions."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from models import EXECUTED, Trade, db

RANGES = {"24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90)}
DEFAULT_RANGE = "30d"
MAX_BUCKETS = 400


@dataclass(frozen=True, slots=True)
class Window:
    """A UTC time range [since, until) cut into buckets of bucket_s seconds starting at `since`."""

    since: datetime
    until: datetime
    bucket_s: int
    label: str

    def __post_init__(self) -> None:
        """Refuse an empty or inverted range, naive times, and too many buckets."""
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("since and until must be timezone-aware UTC")
        if self.until <= self.since:
            raise ValueError("the end of the range must be after its start")
        if self.bucket_s <= 0 or self.buckets() > MAX_BUCKETS:
            raise ValueError("the range has too many time buckets")

    def buckets(self) -> int:
        """Number of buckets that cover the range."""
        span_s = int((self.until - self.since).total_seconds())
        return max(1, -(-span_s // self.bucket_s))

    def starts(self) -> list[datetime]:
        """Start time of every bucket, in order."""
        return [self.since + timedelta(seconds=i * self.bucket_s) for i in range(self.buckets())]


def bucket_seconds(span: timedelta) -> int:
    """Bucket width for a range: hourly up to 2 days, 6-hourly up to 10, daily up to 120, weekly beyond."""
    days = span.total_seconds() / 86_400
    if days <= 2:
        return 3_600
    if days <= 10:
        return 6 * 3_600
    if days <= 120:
        return 86_400
    return 7 * 86_400


def _align(at: datetime, bucket_s: int) -> datetime:
    """`at` rounded down to a bucket boundary (UTC midnight for daily, Monday for weekly)."""
    epoch = int(at.timestamp())
    if bucket_s == 7 * 86_400:
        day = datetime.fromtimestamp(epoch - epoch % 86_400, UTC)
        return day - timedelta(days=day.weekday())
    return datetime.fromtimestamp(epoch - epoch % bucket_s, UTC)


EARLIEST_DATE = date(1970, 1, 1)  # nothing older exists; earlier dates would underflow the 30-day default window


def make_window(range_key: str | None, start: date | None, end: date | None, now: datetime,
                first_trade_at: datetime | None) -> Window:
    """The window of a range key (24h, 7d, 30d, 90d, all) or of inclusive UTC dates start..end."""
    if start or end:
        given = [d for d in (start, end) if d]
        if max(given) >= date.max - timedelta(days=2) or min(given) < EARLIEST_DATE:
            raise ValueError(f"the dates must be between {EARLIEST_DATE} and 9999-12-29")
        since = datetime.combine(start or (end or now.date()) - timedelta(days=29), datetime.min.time(), UTC)
        until = datetime.combine((end or now.date()) + timedelta(days=1), datetime.min.time(), UTC)
        label = f"{since.date()} to {(until - timedelta(days=1)).date()}"
    elif range_key == "all":
        since, until, label = (first_trade_at or now - timedelta(days=1)), now, "all time"
    else:
        key = range_key if range_key in RANGES else DEFAULT_RANGE
        since, until, label = now - RANGES[key], now, f"last {key}"
    if until <= since:
        raise ValueError("the end date must not be before the start date")
    width = bucket_seconds(until - since)
    return Window(_align(since, width), until, width, label)


def first_trade_at() -> datetime | None:
    """When the oldest trade was created, or None on an empty database."""
    return db.session.scalar(select(func.min(Trade.created_at)))


def epoch_of(col: Any) -> ColumnElement[int]:
    """Epoch seconds of a timestamp column, as an integer, on SQLite and PostgreSQL."""
    if db.session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", col), Integer)
    return cast(func.floor(func.extract("epoch", col)), BigInteger)


def bucket_of(col: Any, w: Window) -> ColumnElement[int]:
    """Index of the window bucket a timestamp falls in (integer division in SQL)."""
    return (epoch_of(col) - int(w.since.timestamp())) // w.bucket_s


def in_window(w: Window) -> list[ColumnElement[bool]]:
    """Filled trades created inside the window."""
    return [Trade.status.in_(EXECUTED), Trade.created_at >= w.since, Trade.created_at < w.until]
