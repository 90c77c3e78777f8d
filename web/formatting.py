"""Jinja filters that turn atoms, bps and times into text a trader reads."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import Flask
from markupsafe import Markup, escape

from core.tokens import Token, format_ui, token_by_mint
from core.units import iso_z

# Decimals shown on the pages per token (display only: the title attribute, a copy and the CSV carry every decimal).
DISPLAY_PLACES = {"SOL": 4, "mSOL": 4, "USDC": 2, "USDT": 2, "JUP": 2}


def display_places(token: Token) -> int:
    """How many decimals the pages show of `token` (its setting, else at most 4)."""
    return min(token.decimals, DISPLAY_PLACES.get(token.symbol, 4))


def atoms(value: int | None, mint: str, places: int | None = None) -> str:
    """Atoms of a mint as a human amount with separators, rounded down to `places` decimals (default: the token's
    display precision)."""
    if value is None:
        return "—"
    token = token_by_mint(mint)
    return format_ui(int(value), token.decimals, places if places is not None else display_places(token))


def amount(value: int | None, mint: str, places: int | None = None) -> Markup:
    """`atoms` as a <span class="olr-amt"> that never wraps and carries every decimal in its title and data-full
    (app.js puts the full amount on the clipboard when the span is copied)."""
    if value is None:
        return Markup("—")
    token = token_by_mint(mint)
    full = format_ui(int(value), token.decimals, None)
    return Markup('<span class="olr-amt" title="{0} {1}" data-full="{0}">{2}</span>').format(
        full, token.symbol, escape(atoms(value, mint, places)))


def usd(value_atoms: int | None, places: int = 0) -> str:
    """USD amount from 6-decimal atoms, e.g. $1,234."""
    if value_atoms is None:
        return "—"
    sign = "-" if value_atoms < 0 else ""
    return f"{sign}${format_ui(abs(int(value_atoms)), 6, places)}" if value_atoms else "$0"


def bps(value: Decimal | str | None, places: int = 1) -> str:
    """Basis points with a fixed number of decimals."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.{places}f} bps"


def when(value: datetime | None) -> Markup | str:
    """A <time datetime="ISO Z"> reading YYYY-MM-DD HH:MM:SS UTC (app.js shows it in local time when asked)."""
    if not value:
        return "—"
    return Markup('<time datetime="{0}">{1}</time>').format(iso_z(value), value.strftime("%Y-%m-%d %H:%M:%S UTC"))


def symbol(mint: str) -> str:
    """A mint's token symbol."""
    return token_by_mint(mint).symbol


def register(app: Flask) -> None:
    """Install the filters on the app."""
    app.add_template_filter(atoms, "atoms")
    app.add_template_filter(amount, "amount")
    app.add_template_filter(usd, "usd")
    app.add_template_filter(bps, "bps")
    app.add_template_filter(when, "when")
    app.add_template_filter(iso_z, "iso")
    app.add_template_filter(symbol, "symbol")
