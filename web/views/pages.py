"""Helpers of the web pages: query-string parsing for history, CSV rows, and view models for legs and timelines."""
from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal, localcontext
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, url_for
from werkzeug.exceptions import HTTPException

from core.tokens import TOKENS, format_ui, token_by_mint
from core.units import invert_price, iso_z
from models import Quote, Trade, db, utcnow
from read.history import SORTS, HistoryQuery
from services import accounts, alerts
from web.auth import can

STATUSES = ("filled", "partial", "rejected", "pending", "failed", "unknown")
# New columns go at the end, so a reader that counts columns keeps working (trader, arrival_mid, leg_prices: issue 18).
CSV_COLUMNS = ("id", "created_at", "status", "pair", "input_symbol", "output_symbol", "swap_mode", "venue",
               "legs", "in_amount", "in_amount_atoms", "out_amount", "out_amount_atoms", "notional_usd",
               "savings_usd", "savings_bps", "cost_bps", "slippage_bps", "quote_id", "quoted_at", "executed_at",
               "settled_at", "error", "trader", "arrival_mid", "leg_prices")


def _date(args: Mapping[str, str], name: str) -> date | None:
    """A YYYY-MM-DD query parameter, or None (a bad one is flashed and ignored)."""
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        flash(f"Ignored the {name} date {value!r}: use YYYY-MM-DD.", "warning")
        return None
    if parsed >= date.max - timedelta(days=1):
        flash(f"Ignored the {name} date {value!r}: it is too far in the future.", "warning")
        return None
    return parsed


def history_query(args: Mapping[str, str], me: int | None = None) -> HistoryQuery:
    """The history page's filters, sort and keyset position from its query string (unknown values are ignored).

    `mine=1` shows the signed-in user's (`me`) trades; `trader=<username>` someone's (an unknown name: none);
    `q` finds a trade by its id or quote id.
    """
    start, end = _date(args, "from"), _date(args, "to")
    if start and end and end < start:
        flash("The end date was before the start date; swapped them.", "warning")
        start, end = end, start
    sort = args.get("sort") if args.get("sort") in SORTS else "time"
    status = args.get("status") if args.get("status") in STATUSES else None
    user_id = None
    if args.get("mine") == "1" and me is not None:
        user_id = me
    elif args.get("trader"):
        trader = accounts.user_by_name(args["trader"][:64])
        user_id = trader.id if trader is not None else -1
    return HistoryQuery(
        venue=(args.get("venue") or "")[:64] or None, status=status, pair=(args.get("pair") or "")[:24] or None,
        since=datetime.combine(start, datetime.min.time(), UTC) if start else None,
        until=datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC) if end else None,
        user_id=user_id, search=(args.get("q") or "").strip()[:64] or None,
        sort=sort, descending=args.get("dir") != "asc", cursor=args.get("cursor") or None,
        before=None if args.get("cursor") else args.get("before") or None)


def first_page(query: HistoryQuery) -> HistoryQuery:
    """The same query at its first page."""
    return dataclasses.replace(query, cursor=None, before=None)


def history_args(query: HistoryQuery, raw: Mapping[str, str]) -> dict[str, str]:
    """Query-string arguments that reproduce the filters and sort (no cursor), omitting defaults."""
    who = {"mine": "1"} if raw.get("mine") == "1" else {"trader": raw["trader"][:64]} if raw.get("trader") else {}
    args = {"q": query.search, "venue": query.venue, "status": query.status, "pair": query.pair,
            "from": query.since.date().isoformat() if query.since else None,
            "to": (query.until - timedelta(days=1)).date().isoformat() if query.until else None, **who,
            "sort": query.sort if query.sort != "time" else None, "dir": None if query.descending else "asc"}
    return {k: v for k, v in args.items() if v}


def sort_url(query: HistoryQuery, args: Mapping[str, str], key: str) -> str:
    """The history URL sorted by `key`: descending first, toggled when already sorted by it."""
    args = {k: v for k, v in args.items() if k not in ("sort", "dir")}
    descending = not query.descending if query.sort == key else True
    if key != "time":
        args["sort"] = key
    if not descending:
        args["dir"] = "asc"
    return url_for("web.history", **args)


def history_url(args: Mapping[str, str], drop: Iterable[str] = (), **extra: str) -> str:
    """The history URL of `args` without the `drop` keys, plus `extra`."""
    gone = set(drop)
    return url_for("web.history", **{k: v for k, v in args.items() if k not in gone}, **extra)


def count_text(count: int, cap: int) -> str:
    """'1,234', or '100,000+' past the count's cap."""
    return f"{cap:,}+" if count > cap else f"{count:,}"


def _ui(atoms: int | None, mint: str) -> str:
    """A human amount without separators for CSV (every decimal of the token)."""
    return "" if atoms is None else format_ui(atoms, token_by_mint(mint).decimals, None).replace(",", "")


def _number(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros (150.25, 0.0000071)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def leg_price(in_atoms: int, in_mint: str, out_atoms: int, out_mint: str) -> str:
    """What a fill paid: output tokens received per input token, 18 significant digits ('' for an empty leg)."""
    if in_atoms <= 0:
        return ""
    with localcontext(Context(prec=18)):
        price = (Decimal(out_atoms).scaleb(-token_by_mint(out_mint).decimals)
                 / Decimal(in_atoms).scaleb(-token_by_mint(in_mint).decimals))
    return _number(price)


def csv_lines(trades: Iterable[Trade], traders: Mapping[int, str]) -> Iterator[str]:
    """CSV text of trades, a header line first: human amounts next to exact atoms, times ISO 8601 UTC.

    `traders` names users by id. Prices (leg_prices, arrival_mid) are output tokens per input token.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")

    def flush() -> str:
        text = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for t in trades:
        prices = " + ".join(
            f"{leg.venue}:{leg_price(leg.in_amount_atoms, t.input_mint, leg.out_amount_atoms, t.output_mint)}"
            for leg in t.legs)
        writer.writerow([
            t.id, iso_z(t.created_at), t.status, t.pair, t.input_symbol, t.output_symbol, t.swap_mode, t.venue,
            " + ".join(f"{leg.venue}:{leg.in_amount_atoms}" for leg in t.legs), _ui(t.in_amount_atoms, t.input_mint),
            t.in_amount_atoms, _ui(t.out_amount_atoms, t.output_mint), t.out_amount_atoms,
            Decimal(t.notional_usd_atoms).scaleb(-6), Decimal(t.savings_usd_atoms).scaleb(-6),
            "" if t.savings_bps is None else t.savings_bps, "" if t.cost_bps is None else t.cost_bps, t.slippage_bps,
            t.quote_id or "", iso_z(t.quoted_at), iso_z(t.executed_at), iso_z(t.settled_at), t.error or "",
            traders.get(t.user_id, "") if t.user_id is not None else "",
            "" if t.arrival_mid is None else _number(t.arrival_mid), prices])
        yield flush()


def legs_view(legs: Iterable[Any], input_mint: str, output_mint: str) -> list[dict[str, Any]]:
    """Legs (quote JSON dicts or TradeLeg rows) with each one's share of the input, for the stacked bar."""
    def get(leg: Any, key: str) -> Any:
        return leg[key] if isinstance(leg, Mapping) else getattr(leg, key)

    rows = [{"venue": get(leg, "venue"), "in_amount_atoms": int(get(leg, "in_amount_atoms")),
             "out_amount_atoms": int(get(leg, "out_amount_atoms")), "cost_bps": get(leg, "cost_bps")} for leg in legs]
    total = sum(r["in_amount_atoms"] for r in rows)
    for r in rows:
        share = Decimal(r["in_amount_atoms"] * 100) / total if total else Decimal(0)
        r["pct"] = f"{share.quantize(Decimal('0.1'))}"
        r["narrow"] = share < 12  # too thin for its label inside the bar (the legend and title still say it)
        r["kind"] = "jupiter" if r["venue"] == "jupiter" else ("otc" if str(r["venue"]).startswith("otc:") else "other")
        r["tone"] = venue_tone(str(r["venue"]))
        r["input_mint"], r["output_mint"] = input_mint, output_mint
    return rows


def timeline(trade: Trade) -> list[dict[str, Any]]:
    """The trade's timestamps in order, each with milliseconds since it was quoted."""
    steps = [("Quoted", trade.quoted_at), ("Executed", trade.executed_at), ("Settled", trade.settled_at)]
    start = trade.quoted_at or trade.created_at
    out = []
    for label, at in steps:
        offset = None if at is None or start is None else int((at - start) / timedelta(milliseconds=1))
        out.append({"label": label, "at": at, "offset_ms": offset})
    return out


def mid_text(mid: Decimal, input_symbol: str, output_symbol: str) -> str:
    """The reference mid as a trader reads it: the larger-than-one way round, 4 decimals (display only)."""
    if mid <= 0:
        return "—"
    if mid < 1:
        return f"{invert_price(mid).quantize(Decimal('0.0001')):,} {input_symbol} per {output_symbol}"
    return f"{mid.quantize(Decimal('0.0001')):,} {output_symbol} per {input_symbol}"


def venue_tone(venue: str) -> int:
    """A stable colour slot 0..3 per venue name (app.js OLR.venueTone computes the same), so a pool keeps its colour.

    The +2 offset gives the default pools the first two slots (otc:sol-usdc purple, otc:sol-usdt pink).
    """
    return (sum(map(ord, venue)) + 2) % 4


def plain_field_error(message: str, column: str | None, label: str) -> str:
    """A service's field error in a trader's words: the field's label instead of its column name, no atoms or 2^63."""
    text = message.replace(column, label) if column else message
    text = text.replace("a positive number of atoms below 2^63", "a positive amount that is not too large")
    text = text.replace(" below 2^63 atoms", " not too large").replace("a finite number >= 0", "zero or more")
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def can_url(url: str) -> bool:
    """Template helper: may the current user open this same-site URL (auth.can on the endpoint it routes to)?"""
    try:
        endpoint, _ = current_app.url_map.bind("").match(urlsplit(url).path, method="GET")
    except HTTPException:
        return False
    return can(endpoint)


TICKET_FIELDS = ("input", "output", "amount", "swap_mode", "slippage_bps")


def ticket_alerts(form: Any, low_water_pct: Decimal) -> list[dict[str, Any]]:
    """The liquidity alerts of the ticket's pair (services/alerts.py); none until two different tokens are chosen."""
    symbols = {t.symbol: t.mint for t in TOKENS}
    a, b = symbols.get(form.input.data or ""), symbols.get(form.output.data or "")
    return alerts.desk_alerts(utcnow(), low_water_pct, (a, b)) if a and b and a != b else []


def order_args(quote: Quote) -> dict[str, str]:
    """A stored quote's order as the ticket's query string (amount in human units, every decimal)."""
    input_token, output_token = token_by_mint(quote.input_mint), token_by_mint(quote.output_mint)
    amount_token = input_token if quote.swap_mode == "ExactIn" else output_token
    return {"input": input_token.symbol, "output": output_token.symbol, "swap_mode": quote.swap_mode,
            "amount": format_ui(quote.amount_atoms, amount_token.decimals, None).replace(",", ""),
            "slippage_bps": str(quote.slippage_bps)}


def prefill_ticket(form: Any, args: Mapping[str, str]) -> None:
    """Fill a GET ticket from ?input=&output=&amount=&swap_mode=&slippage_bps= or from ?quote=<id> (an expired
    quote's order); anything unknown or malformed is ignored, and the form's own checks run on submit."""
    if args.get("quote"):
        quote = db.session.get(Quote, str(args["quote"])[:40])
        args = order_args(quote) if quote is not None else {}
    for name in TICKET_FIELDS:
        value = (args.get(name) or "").strip()[:40]
        if not value:
            continue
        field = form[name]
        if name in ("input", "output", "swap_mode") and value not in dict(field.choices):
            continue
        if name == "slippage_bps":
            if not value.isdigit():
                continue
            form.slippage_bps.data = int(value)
        else:
            field.data = value
