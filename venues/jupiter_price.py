"""Jupiter's Price API v3: the independent USD reference price every venue answer is checked against.

`GET {JUPITER_PRICE_URL}?ids=<mint>,<mint>` → `{mint: {usdPrice, blockId, decimals, priceChange24h, ...}}`; a token
without a reliable price is left out. Prices are parsed as Decimal (never float), cached for PRICE_CACHE_MS and
shared by every worker through the `PriceStore` (Redis when REDIS_URL is set). When the API fails, a cached price
younger than PRICE_MAX_AGE_MS still serves; older than that there is no reference price and nothing may be quoted
against it (PriceUnavailableError, an outage).
The simulator answers the same format at /sim/jupiter/price/v3 and in-process; it also takes `at` (Unix seconds),
a simulator-only parameter for back-dated demo data that the live client never sends.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from core.wire import RawResponse
from venues.jupiter_wire import JupiterError


class PriceUnavailableError(JupiterError):
    """No usable reference price: the Price API failed and no cached price is young enough, or it has no price."""

    code = "PRICE_UNAVAILABLE"
    outage = True


@dataclass(frozen=True, slots=True)
class UsdPrice:
    """One token's reference price: USD per whole token (Decimal), the block it was seen at, when we fetched it."""

    mint: str
    usd_price: Decimal
    block_id: int | None
    price_change_24h: Decimal | None
    fetched_at_s: float


class PriceStore(Protocol):
    """Where fetched prices are kept for every worker: get and put by mint (JSON text values)."""

    def get_many(self, mints: list[str]) -> dict[str, str]: ...

    def put_many(self, values: Mapping[str, str], ttl_s: float) -> None: ...


class MemoryPriceStore:
    """Process-local prices (the default without Redis)."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def get_many(self, mints: list[str]) -> dict[str, str]:
        """The stored values of those mints that have one."""
        with self._lock:
            return {m: self._values[m] for m in mints if m in self._values}

    def put_many(self, values: Mapping[str, str], ttl_s: float) -> None:
        """Store values (the caller checks ages; ttl_s only bounds memory in Redis)."""
        with self._lock:
            self._values.update(values)


def _decimal(entry: Mapping[str, Any], key: str, mint: str, *, required: bool) -> Decimal | None:
    """A JSON number field as a Decimal (parsed from its text, never through float)."""
    value = entry.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise PriceUnavailableError(f"price of {mint}: {key} must be a number, got {value!r}")
    number = Decimal(value)
    if not number.is_finite():
        raise PriceUnavailableError(f"price of {mint}: {key} is not finite")
    return number


def parse_prices(text: str, mints: Iterable[str], fetched_at_s: float) -> dict[str, UsdPrice]:
    """The prices of the asked mints in a Price API v3 body (others ignored); PriceUnavailableError if malformed."""
    try:
        body = json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_refuse)
    except ValueError as exc:
        raise PriceUnavailableError(f"the Price API sent invalid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise PriceUnavailableError("the Price API answer is not a JSON object")
    found: dict[str, UsdPrice] = {}
    for mint in mints:
        entry = body.get(mint)
        if entry is None:
            continue  # no reliable price for this token
        if not isinstance(entry, dict):
            raise PriceUnavailableError(f"price of {mint} is not an object")
        usd = _decimal(entry, "usdPrice", mint, required=True)
        assert usd is not None
        if usd <= 0:
            raise PriceUnavailableError(f"price of {mint} must be positive, got {usd}")
        block = _decimal(entry, "blockId", mint, required=False)
        found[mint] = UsdPrice(mint, usd, int(block) if block is not None else None,
                               _decimal(entry, "priceChange24h", mint, required=False), fetched_at_s)
    return found


def _refuse(name: str) -> Any:
    """json hook: NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def _encode(p: UsdPrice) -> str:
    return json.dumps({"usd": str(p.usd_price), "block": p.block_id, "at": p.fetched_at_s,
                       "chg": None if p.price_change_24h is None else str(p.price_change_24h)})


def _decode(mint: str, text: str) -> UsdPrice | None:
    try:
        raw = json.loads(text)
        return UsdPrice(mint, Decimal(raw["usd"]), raw["block"], None if raw["chg"] is None else Decimal(raw["chg"]),
                        float(raw["at"]))
    except (ValueError, KeyError, TypeError, InvalidOperation):
        return None


class PriceClient:
    """Reference USD prices through a transport, cached cache_ms, served stale up to max_age_ms when the API fails."""

    def __init__(self, transport: Callable[[dict[str, str]], RawResponse], *, cache_ms: int = 2_000,
                 max_age_ms: int = 10_000, store: PriceStore | None = None, clock: Callable[[], float] = time.time,
                 sends_time: bool = False) -> None:
        if not 0 <= cache_ms <= max_age_ms:
            raise ValueError("need 0 <= PRICE_CACHE_MS <= PRICE_MAX_AGE_MS")
        self.transport, self.cache_s, self.max_age_s = transport, cache_ms / 1000, max_age_ms / 1000
        self.store, self.clock, self.sends_time = store or MemoryPriceStore(), clock, sends_time
        self._lock = threading.Lock()
        self.calls = self.errors = 0
        self.last_error: str | None = None
        self.last_ok_at_s: float | None = None

    def usd_prices(self, mints: list[str], at_s: float | None = None) -> dict[str, UsdPrice]:
        """Every asked mint's price, or PriceUnavailableError naming what is missing and why.

        `at_s` is honoured by the simulator only (back-dated demo data): then nothing is cached.
        """
        if self.sends_time and at_s is not None:
            return self._fetch(mints, {"at": repr(float(at_s))}, store=False)
        now_s = self.clock()
        cached = {m: p for m, t in self.store.get_many(mints).items() if (p := _decode(m, t)) is not None}
        if all(m in cached and now_s - cached[m].fetched_at_s < self.cache_s for m in mints):
            return {m: cached[m] for m in mints}
        try:
            return self._fetch(mints, {}, store=True)
        except JupiterError as exc:
            usable = {m: p for m, p in cached.items() if now_s - p.fetched_at_s < self.max_age_s}
            if all(m in usable for m in mints):
                return {m: usable[m] for m in mints}
            raise PriceUnavailableError(f"no reference price ({exc.code}: {exc}; nothing cached younger than "
                                        f"{self.max_age_s:g} s)") from None

    def _fetch(self, mints: list[str], extra: dict[str, str], *, store: bool) -> dict[str, UsdPrice]:
        """One call to the Price API for the mints; every one must come back."""
        with self._lock:
            self.calls += 1
        try:
            raw = self.transport({"ids": ",".join(sorted(set(mints))), **extra})
            if raw.status != 200:
                raise PriceUnavailableError(f"the Price API answered HTTP {raw.status}", status=raw.status)
            prices = parse_prices(raw.text, mints, self.clock())
            missing = [m for m in mints if m not in prices]
            if missing:
                raise PriceUnavailableError(f"the Price API has no reliable price for {', '.join(missing)}")
        except JupiterError as exc:
            with self._lock:
                self.errors += 1
                self.last_error = f"{exc.code}: {exc}"
            raise
        with self._lock:
            self.last_ok_at_s, self.last_error = self.clock(), None
        if store:
            self.store.put_many({m: _encode(p) for m, p in prices.items()}, ttl_s=max(1.0, self.max_age_s * 2))
        return prices

    def status(self) -> dict[str, Any]:
        """Calls, errors, the last error and the age of the last good answer (monitoring, /healthz)."""
        with self._lock:
            age = None if self.last_ok_at_s is None else round(self.clock() - self.last_ok_at_s, 1)
            return {"calls": self.calls, "errors": self.errors, "last_error": self.last_error,
                    "last_ok_age_s": age, "max_age_s": self.max_age_s}
