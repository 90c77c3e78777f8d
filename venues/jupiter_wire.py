"""Jupiter's quote wire format: typed errors, the parsed quote, and strict parsing of every field at the boundary.

Amounts stay integer atoms (u64 strings parsed with int()); prices and fractions are Decimal. No I/O here.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from core.units import BPS, SwapMode

U64_MAX = 2**64 - 1

NO_ROUTE_CODES = frozenset(
    {"COULD_NOT_FIND_ANY_ROUTE", "NO_ROUTES_FOUND", "ROUTE_PLAN_DOES_NOT_CONSUME_ALL_THE_AMOUNT", "MARKET_NOT_FOUND"}
)
OPTION_NAMES = {  # quote() keyword → query parameter
    "only_direct_routes": "onlyDirectRoutes",
    "restrict_intermediate_tokens": "restrictIntermediateTokens",
    "max_accounts": "maxAccounts",
    "dexes": "dexes",
    "exclude_dexes": "excludeDexes",
}


class JupiterError(Exception):
    """A quote that could not be had; `code` is UPPER_SNAKE, `upstream_code` is Jupiter's errorCode if any."""

    code = "JUPITER_ERROR"
    outage = False  # True when Jupiter itself is failing (not this order): other venues must carry the desk
    order_error = False  # True when the order itself is at fault (no route for 1e9 SOL), not the venue

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 upstream_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or type(self).code
        self.status = status
        self.upstream_code = upstream_code


class NoRouteError(JupiterError):
    """Jupiter found no route for the pair or amount (HTTP 400 COULD_NOT_FIND_ANY_ROUTE and kin)."""

    code = "NO_ROUTE"
    order_error = True


class TokenNotTradableError(JupiterError):
    """A mint Jupiter does not trade (HTTP 400 TOKEN_NOT_TRADABLE)."""

    code = "TOKEN_NOT_TRADABLE"
    order_error = True


class InvalidRequestError(JupiterError):
    """The request itself was rejected (bad parameter, same mints, other 4xx); retrying cannot help."""

    code = "INVALID_REQUEST"
    order_error = True


class RateLimitedError(JupiterError):
    """HTTP 429; `retry_after_s` is the server's Retry-After in seconds, if it sent one."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_s: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_s = retry_after_s


class UpstreamUnavailableError(JupiterError):
    """Jupiter is down or slow: HTTP 5xx, timeout or connection error."""

    code = "UPSTREAM_UNAVAILABLE"
    outage = True


class CircuitOpenError(UpstreamUnavailableError):
    """The circuit breaker is open, so Jupiter was not called."""

    code = "CIRCUIT_OPEN"


class QuoteMismatchError(JupiterError):
    """Jupiter answered for other mints, another mode or another amount than asked: never used."""

    code = "QUOTE_MISMATCH"


class PriceOutOfBandError(JupiterError):
    """A quote whose price strays from the independent reference beyond the desk's band: never used."""

    code = "PRICE_OUT_OF_BAND"


class MalformedResponseError(JupiterError):
    """Jupiter answered with something that is not a valid quote (bad JSON, missing or ill-typed field)."""

    code = "MALFORMED_RESPONSE"


def _error_classes(cls: type[JupiterError]) -> list[type[JupiterError]]:
    """cls and every subclass of it, depth first."""
    return [cls] + [found for sub in cls.__subclasses__() for found in _error_classes(sub)]


# The codes of the error classes flagged order_error: monitoring counts them as order errors, apart from venue errors.
ORDER_ERROR_CODES = frozenset(cls.code for cls in _error_classes(JupiterError) if cls.order_error)


def is_order_error(code: str) -> bool:
    """True for an error code caused by the order itself (NO_ROUTE, TOKEN_NOT_TRADABLE, INVALID_REQUEST)."""
    return code in ORDER_ERROR_CODES


@dataclass(frozen=True, slots=True)
class RouteStep:
    """One leg of a route: an AMM swap of in_amount_atoms for out_amount_atoms; percent/bps of its hop's input."""

    amm_key: str
    label: str
    input_mint: str
    output_mint: str
    in_amount_atoms: int
    out_amount_atoms: int
    percent: int
    bps: int | None


@dataclass(frozen=True, slots=True)
class JupiterQuote:
    """A validated Jupiter quote; price_impact_pct is a fraction (0.0123 = 1.23 %), time_taken_s in seconds."""

    input_mint: str
    output_mint: str
    in_amount_atoms: int
    out_amount_atoms: int
    other_amount_threshold_atoms: int
    swap_mode: str
    slippage_bps: int
    price_impact_pct: Decimal
    route_plan: tuple[RouteStep, ...]
    context_slot: int | None
    time_taken_s: Decimal | None
    raw: dict


def _field(obj: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...], optional: bool = False) -> Any:
    """obj[key] checked against `kind` (bool never passes as int); None/missing allowed only when optional."""
    value = obj.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise MalformedResponseError(f"{where}.{key} is missing or not {expected}: {value!r}")
    return value


def _text(obj: Mapping[str, Any], key: str, where: str) -> str:
    """A non-empty string field."""
    value = _field(obj, key, where, str)
    if not value:
        raise MalformedResponseError(f"{where}.{key} is empty")
    return value


def _u64(obj: Mapping[str, Any], key: str, where: str, minimum: int = 0) -> int:
    """A u64 sent as a decimal string of atoms, at least `minimum`."""
    value = _field(obj, key, where, str)
    if not (value.isascii() and value.isdigit() and minimum <= int(value) <= U64_MAX):
        raise MalformedResponseError(f"{where}.{key} must be a string of digits from {minimum} to 2^64-1: {value!r}")
    return int(value)


def _int(obj: Mapping[str, Any], key: str, where: str, low: int, high: int) -> int:
    """An integer field within [low, high]."""
    value = _field(obj, key, where, int)
    if not low <= value <= high:
        raise MalformedResponseError(f"{where}.{key} must be from {low} to {high}: {value!r}")
    return value


def _opt_int(obj: Mapping[str, Any], key: str, where: str, low: int, high: int) -> int | None:
    """An integer field within [low, high], or None when missing or null."""
    return None if obj.get(key) is None else _int(obj, key, where, low, high)


def _step(raw: Any, where: str) -> RouteStep:
    """One routePlan entry."""
    if not isinstance(raw, dict):
        raise MalformedResponseError(f"{where} is not an object")
    info = _field(raw, "swapInfo", where, dict)
    sw = f"{where}.swapInfo"
    return RouteStep(
        amm_key=_text(info, "ammKey", sw),
        label=_field(info, "label", sw, str),
        input_mint=_text(info, "inputMint", sw),
        output_mint=_text(info, "outputMint", sw),
        in_amount_atoms=_u64(info, "inAmount", sw),
        out_amount_atoms=_u64(info, "outAmount", sw),
        percent=_int(raw, "percent", where, 0, 100),
        bps=_opt_int(raw, "bps", where, 0, BPS),
    )


def parse_quote(body: Any) -> JupiterQuote:
    """Validate every field of a GET /quote 200 body; ignore unknown fields; raise MalformedResponseError."""
    if not isinstance(body, dict):
        raise MalformedResponseError("quote is not a JSON object")
    q = "quote"
    swap_mode = _field(body, "swapMode", q, str)
    if swap_mode not in tuple(SwapMode):
        raise MalformedResponseError(f"quote.swapMode must be ExactIn or ExactOut: {swap_mode!r}")
    impact_text = _field(body, "priceImpactPct", q, str)
    try:
        impact = Decimal(impact_text)
    except InvalidOperation:
        raise MalformedResponseError(f"quote.priceImpactPct is not a number: {impact_text!r}") from None
    if not impact.is_finite():
        raise MalformedResponseError(f"quote.priceImpactPct is not finite: {impact_text!r}")
    if body.get("platformFee") is not None and not isinstance(body["platformFee"], dict):
        raise MalformedResponseError("quote.platformFee must be an object or null")
    plan = _field(body, "routePlan", q, list)
    if not plan:
        raise MalformedResponseError("quote.routePlan is empty")
    steps = tuple(_step(raw, f"quote.routePlan[{i}]") for i, raw in enumerate(plan))
    time_taken = _field(body, "timeTaken", q, (int, float), optional=True)
    if time_taken is not None and not (math.isfinite(time_taken) and time_taken >= 0):
        raise MalformedResponseError(f"quote.timeTaken must be a finite number of seconds: {time_taken!r}")
    quote = JupiterQuote(
        input_mint=_text(body, "inputMint", q),
        output_mint=_text(body, "outputMint", q),
        in_amount_atoms=_u64(body, "inAmount", q, minimum=1),
        out_amount_atoms=_u64(body, "outAmount", q, minimum=1),
        other_amount_threshold_atoms=_u64(body, "otherAmountThreshold", q),
        swap_mode=swap_mode,
        slippage_bps=_int(body, "slippageBps", q, 0, BPS),
        price_impact_pct=impact,
        route_plan=steps,
        context_slot=_opt_int(body, "contextSlot", q, 0, U64_MAX),
        time_taken_s=None if time_taken is None else Decimal(str(time_taken)),
        raw=body,
    )
    if quote.input_mint not in {s.input_mint for s in steps} or quote.output_mint not in {s.output_mint for s in steps}:
        raise MalformedResponseError("quote.routePlan does not lead from inputMint to outputMint")
    return quote


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After in seconds (delta-seconds form only), or None if absent or unreadable."""
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            try:
                seconds = float(value)
            except (TypeError, ValueError):
                return None
            return seconds if math.isfinite(seconds) and seconds >= 0 else None
    return None


def parse_error(status: int, body_text: str, headers: Mapping[str, str] | None = None) -> JupiterError:
    """The typed error for a non-200 response: 400 codes, 429 (with Retry-After), 5xx, other statuses."""
    if status == 429:
        return RateLimitedError("Jupiter rate limit hit (HTTP 429)", retry_after_s=_retry_after(headers), status=status)
    if status >= 500:
        return UpstreamUnavailableError(f"Jupiter is unavailable (HTTP {status})", status=status)
    if not 400 <= status < 500:
        return MalformedResponseError(f"Unexpected HTTP status {status} from Jupiter", status=status)
    try:
        body = json.loads(body_text)
    except ValueError:
        body = None
    message = body.get("error") if isinstance(body, dict) else None
    upstream = body.get("errorCode") if isinstance(body, dict) else None
    message = message if isinstance(message, str) and message else f"HTTP {status}: {body_text[:200]}"
    upstream = upstream if isinstance(upstream, str) else None
    kwargs: dict[str, Any] = {"status": status, "upstream_code": upstream}
    if status in (401, 403):
        return JupiterError(f"Jupiter refused the API key (HTTP {status}): {message}", code="UNAUTHORIZED", **kwargs)
    if upstream in NO_ROUTE_CODES:
        return NoRouteError(message, **kwargs)
    if upstream == "TOKEN_NOT_TRADABLE":
        return TokenNotTradableError(message, **kwargs)
    return InvalidRequestError(message, **kwargs)
