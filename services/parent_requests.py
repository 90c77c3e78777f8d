"""Parent-order request bodies (issue 16): POST /api/v1/orders and /orders/estimate parsed into typed values.

Every bad field is an InputError (400) naming the field, never a 500: `duration_s` and `slices` are whole numbers
(a JSON integer or an ASCII digit string) within their ranges; `limit_price` is a decimal *string* parsed exactly
(never through a float), positive, with at most LIMIT_PRICE_DECIMALS decimals so it is stored exactly.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core import schedule
from core.orders import Order
from core.schedule import Strategy
from core.tokens import parse_decimal
from services import quoting
from services.errors import InputError

LIMIT_PRICE_DECIMALS = 18  # the stored column's scale: a finer limit could not round-trip exactly
LIMIT_PRICE_MAX = Decimal(10) ** 18  # exclusive: output tokens per input token
_MAX_WHOLE_DIGITS = 12  # a digit string longer than this is out of every range (and never reaches int())


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    """How long and in how many slices: duration_s (seconds, whole) and slices (whole, at most the order's atoms)."""

    duration_s: int
    slices: int


@dataclass(frozen=True, slots=True)
class ParentRequest:
    """A validated POST /api/v1/orders: the whole order, how it is worked, its optional exact limit price."""

    order: Order
    strategy: Strategy
    schedule: ScheduleRequest
    limit_price: Decimal | None  # output per input token, human units, exactly as given


def parse_request(body: Any) -> ParentRequest:
    """Validate POST /api/v1/orders into a ParentRequest, or InputError (400) naming the field."""
    order = quoting.parse_order(body)
    try:
        strategy = Strategy(str(body.get("strategy", "twap")))
    except ValueError:
        raise InputError("strategy must be twap or adaptive", field="strategy") from None
    return ParentRequest(order, strategy, parse_schedule(body, order), parse_limit_price(body.get("limit_price")))


def parse_schedule(body: Any, order: Order) -> ScheduleRequest:
    """`duration_s` and `slices` of a body (both required), or InputError (400)."""
    duration_s = whole(body.get("duration_s"), "duration_s", schedule.MIN_DURATION_S, schedule.MAX_DURATION_S)
    slices = whole(body.get("slices"), "slices", 1, schedule.MAX_SLICES)
    if slices > order.amount_atoms:
        raise InputError(f"{slices} slices need at least {slices} atoms", field="slices")
    return ScheduleRequest(duration_s, slices)


def whole(value: Any, name: str, low: int, high: int) -> int:
    """A whole number from a JSON integer or an ASCII digit string, within [low, high]; else InputError (400)."""
    if value is None or value == "":
        raise InputError(f"{name} is required: a whole number from {low} to {high}", field=name)
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= _MAX_WHOLE_DIGITS:
            value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"{name} must be a whole number from {low} to {high}", field=name)
    return value


def parse_limit_price(value: Any) -> Decimal | None:
    """An optional limit price (output per input token, human units) from a decimal string, exactly.

    Absent, null or "" means no limit. The string is read by the one human-decimal parser (core.tokens.parse_decimal:
    "150.25", "1,500.5"; never a JSON number, which has been through a float); zero, more than LIMIT_PRICE_DECIMALS
    decimals (the stored scale) or LIMIT_PRICE_MAX and up are refused. Every refusal is an InputError (400).
    """
    if value is None or value == "":
        return None
    try:
        price = parse_decimal(value, "limit_price")
    except ValueError as exc:
        raise InputError(f"{exc} (limit_price is output per input token, e.g. \"150.25\")",
                         field="limit_price") from None
    whole, _, fraction = value.replace(",", "").partition(".")
    fraction = fraction.rstrip("0")  # trailing zeros add no precision: "150.250" is "150.25" (stored, hashed)
    if price <= 0 or price >= LIMIT_PRICE_MAX or len(fraction) > LIMIT_PRICE_DECIMALS:
        raise InputError(f"limit_price must be above 0 and below {LIMIT_PRICE_MAX:,} with at most "
                         f"{LIMIT_PRICE_DECIMALS} decimals", field="limit_price")
    return Decimal(f"{whole}.{fraction}" if fraction else whole)
