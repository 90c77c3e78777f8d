"""Chart series for the analytics page and /api/v1/analytics/*: grouped in SQL, a few hundred points at most.

Money stays integer atoms (USD with 6 decimals) carried as strings; bps are decimal strings. Time buckets are
computed in SQL from epoch seconds, so SQLite and PostgreSQL give the same buckets; empty buckets are filled
with zeros here so a category axis stays evenly spaced.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, Numeric, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from models import Quote, Trade, TradeLeg, db
from read.analytics import bps_text, leg_usd
from web.formatting import iso_z

RANGES = {"24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90)}
DEFAULT_RANGE = "30d"
MAX_BUCKETS = 400
# Trade-size buckets by USD notional (atoms, 6 decimals): lower edges, each bucket up to the next edge.
SIZE_EDGES_USD = (0, 10_000, 100_000, 1_000_000, 5_000_000)
SIZE_LABELS = ("< $10k", "$10k–100k", "$100k–1M", "$1M–5M", "≥ $5M")


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


def _epoch(col: Any) -> ColumnElement[int]:
    """Epoch seconds of a timestamp column, as an integer, on SQLite and PostgreSQL."""
    if db.session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", col), Integer)
    return cast(func.floor(func.extract("epoch", col)), BigInteger)


def bucket_of(col: Any, w: Window) -> ColumnElement[int]:
    """Index of the window bucket a timestamp falls in (integer division in SQL)."""
    return (_epoch(col) - int(w.since.timestamp())) // w.bucket_s


def _in_window(w: Window) -> list[ColumnElement[bool]]:
    """Filled trades created inside the window."""
    return [Trade.status == "filled", Trade.created_at >= w.since, Trade.created_at < w.until]


def _rollups() -> Any:
    """The analytics_rollups module when hourly rollups serve the reads (ANALYTICS_ROLLUPS, default on), else None."""
    from read import rollup_reader

    return rollup_reader if rollup_reader.enabled() else None


def savings_series(w: Window) -> list[dict[str, Any]]:
    """Per bucket: filled trades, USD volume and savings, savings bps, and savings cumulated over the window."""
    if (fast := _rollups()) is not None:
        rows = fast.savings_rows(w)
    else:
        b = bucket_of(Trade.created_at, w)
        rows = {int(i): (int(n), int(vol), int(saved)) for i, n, vol, saved in db.session.execute(
            select(b, func.count(), func.coalesce(func.sum(Trade.notional_usd_atoms), 0),
                   func.coalesce(func.sum(Trade.savings_usd_atoms), 0)).where(*_in_window(w)).group_by(b)).all()}
    out, running = [], 0
    for i, start in enumerate(w.starts()):
        n, vol, saved = rows.get(i, (0, 0, 0))
        running += saved
        out.append({"t": iso_z(start), "trades": n, "volume_usd_atoms": str(vol), "savings_usd_atoms": str(saved),
                    "savings_bps": bps_text(saved, vol), "cumulative_savings_usd_atoms": str(running)})
    return out


def size_buckets(w: Window) -> list[dict[str, Any]]:
    """Per USD-notional bucket: trades, volume, savings, savings bps, share routed off Jupiter, average cost."""
    edges = [e * 10**6 for e in SIZE_EDGES_USD]
    idx = case(*[(Trade.notional_usd_atoms < edge, i - 1) for i, edge in enumerate(edges) if i > 0],
               else_=len(edges) - 1)
    rows: dict[int, Any] = {int(i): r for i, *r in db.session.execute(
        select(idx, func.count(), func.coalesce(func.sum(Trade.notional_usd_atoms), 0),
               func.coalesce(func.sum(Trade.savings_usd_atoms), 0),
               func.sum(case((Trade.venue != "jupiter", 1), else_=0)), func.avg(Trade.cost_bps))
        .where(*_in_window(w)).group_by(idx)).all()} if (fast := _rollups()) is None else fast.size_rows(w)
    out = []
    for i, label in enumerate(SIZE_LABELS):
        n, vol, saved, otc, cost = rows.get(i, (0, 0, 0, 0, None))
        out.append({"bucket": label, "min_usd": str(SIZE_EDGES_USD[i]), "trades": int(n),
                    "volume_usd_atoms": str(int(vol)), "savings_usd_atoms": str(int(saved)),
                    "savings_bps": bps_text(int(saved), int(vol)),
                    "otc_share_pct": f"{Decimal(int(otc or 0) * 100) / n:.1f}" if n else "0.0",
                    "avg_cost_bps": _decimal_text(cost)})
    return out


def _decimal_text(value: Any, places: str = "0.1") -> str | None:
    """An SQL average (Decimal on PostgreSQL, float on SQLite) as a rounded decimal string, display only."""
    return None if value is None else str(Decimal(str(value)).quantize(Decimal(places)))


def _centi_bps_text(value: Any) -> str | None:
    """Hundredths of a bp (an SQL aggregate) as bps with two decimals, display only."""
    return None if value is None else str((Decimal(str(value)) / 100).quantize(Decimal("0.01")))


def route_mix_series(w: Window) -> dict[str, Any]:
    """Per bucket and venue, from the legs (a split counts on each of its venues): legs filled and USD volume.

    Venues are sorted jupiter first; `active` lists the buckets that have fills.
    """
    b = bucket_of(Trade.created_at, w)
    rows: Any = db.session.execute(
        select(b, TradeLeg.venue, func.count(), func.coalesce(func.sum(leg_usd()), 0))
        .select_from(Trade).join(TradeLeg, TradeLeg.trade_id == Trade.id).where(*_in_window(w))
        .group_by(b, TradeLeg.venue)).all() if (fast := _rollups()) is None else fast.route_mix_rows(w)
    venues = sorted({v for _, v, _, _ in rows}, key=lambda v: (v != "jupiter", v))
    cells = {(int(i), v): (int(n), int(Decimal(str(vol)))) for i, v, n, vol in rows}
    starts = w.starts()
    return {"t": [iso_z(s) for s in starts], "active": sorted({i for i, _ in cells}),
            "venues": [{"venue": v,
                        "legs": [cells.get((i, v), (0, 0))[0] for i in range(len(starts))],
                        "volume_usd_atoms": [str(cells.get((i, v), (0, 0))[1]) for i in range(len(starts))]}
                       for v in venues]}


def _quoted_atoms(key: str) -> ColumnElement[Any]:
    """An amount of a stored quote's decision (JSON string of atoms) as an SQL number."""
    return cast(Quote.payload[("decision", key)].as_string(), Numeric(38, 0))


def slippage_series(w: Window) -> list[dict[str, Any]]:
    """Per bucket: Jupiter's quoted price impact (avg bps, all fills) and realised slippage vs the firm quote.

    Realised slippage covers trades executed from a stored quote: ExactIn (quoted out − filled out)/quoted out,
    ExactOut (paid in − quoted in)/quoted in, in bps; positive means worse than quoted.
    """
    if (fast := _rollups()) is not None:
        impact, realised = fast.slippage_rows(w)
    else:
        b = bucket_of(Trade.created_at, w)
        impact = dict(db.session.execute(
            select(b, func.avg(Trade.price_impact_bps)).where(*_in_window(w), Trade.price_impact_bps.is_not(None))
            .group_by(b)).all())
        q_out, q_in = _quoted_atoms("out_amount_atoms"), _quoted_atoms("in_amount_atoms")
        # In hundredths of a bp, so SQLite's integer division keeps two decimals.
        slip = case((Trade.swap_mode == "ExactIn", (q_out - Trade.out_amount_atoms) * 1_000_000 / q_out),
                    else_=(Trade.in_amount_atoms - q_in) * 1_000_000 / q_in)
        realised = {int(i): (n, avg, worst) for i, n, avg, worst in db.session.execute(
            select(b, func.count(), func.avg(slip), func.max(slip)).join(Quote, Quote.id == Trade.quote_id)
            .where(*_in_window(w)).group_by(b)).all()}
    out = []
    for i, start in enumerate(w.starts()):
        n, avg, worst = realised.get(i, (0, None, None))
        out.append({"t": iso_z(start), "quoted_price_impact_bps": _decimal_text(impact.get(i)),
                    "quote_fills": int(n), "realised_slippage_bps": _centi_bps_text(avg),
                    "worst_slippage_bps": _centi_bps_text(worst)})
    return out


def volume_by_pair(w: Window) -> list[dict[str, Any]]:
    """Per pair and direction (input → output): filled trades, USD volume and savings, largest first."""
    rows: Any = db.session.execute(
        select(Trade.pair, Trade.input_symbol, Trade.output_symbol, func.count(),
               func.coalesce(func.sum(Trade.notional_usd_atoms), 0),
               func.coalesce(func.sum(Trade.savings_usd_atoms), 0))
        .where(*_in_window(w)).group_by(Trade.pair, Trade.input_symbol, Trade.output_symbol)).all() \
        if (fast := _rollups()) is None else fast.pair_rows(w)
    out = [{"pair": pair, "direction": f"{i_sym}→{o_sym}", "trades": int(n), "volume_usd_atoms": str(int(vol)),
            "savings_usd_atoms": str(int(saved)), "savings_bps": bps_text(int(saved), int(vol))}
           for pair, i_sym, o_sym, n, vol, saved in rows]
    return sorted(out, key=lambda r: (-int(r["volume_usd_atoms"]), r["pair"], r["direction"]))


def all_series(w: Window) -> dict[str, Any]:
    """Every analytics chart's data for one window (the cost-vs-size curve is fetched separately)."""
    return {"window": {"since": iso_z(w.since), "until": iso_z(w.until), "bucket_s": w.bucket_s, "label": w.label},
            "savings": savings_series(w), "size_buckets": size_buckets(w), "route_mix": route_mix_series(w),
            "slippage": slippage_series(w), "volume_by_pair": volume_by_pair(w)}
