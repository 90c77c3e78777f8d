"""Jupiter quote client, the only module that does HTTP: wire-format parsing, timeouts, retries, rate limit, breaker.

Amounts stay integer atoms (u64 strings parsed with int()); prices and fractions are Decimal. Times are seconds.
"""
from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, Protocol, TypeVar

import requests

import sim_dex
from sim_dex import SimConfig

log = logging.getLogger(__name__)
U64_MAX = 2**64 - 1
BPS = 10_000
SWAP_MODES = ("ExactIn", "ExactOut")
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


class TokenNotTradableError(JupiterError):
    """A mint Jupiter does not trade (HTTP 400 TOKEN_NOT_TRADABLE)."""

    code = "TOKEN_NOT_TRADABLE"


class InvalidRequestError(JupiterError):
    """The request itself was rejected (bad parameter, same mints, other 4xx); retrying cannot help."""

    code = "INVALID_REQUEST"


class RateLimitedError(JupiterError):
    """HTTP 429; `retry_after_s` is the server's Retry-After in seconds, if it sent one."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_s: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_s = retry_after_s


class UpstreamUnavailableError(JupiterError):
    """Jupiter is down or slow: HTTP 5xx, timeout or connection error."""

    code = "UPSTREAM_UNAVAILABLE"


class CircuitOpenError(UpstreamUnavailableError):
    """The circuit breaker is open, so Jupiter was not called."""

    code = "CIRCUIT_OPEN"


class MalformedResponseError(JupiterError):
    """Jupiter answered with something that is not a valid quote (bad JSON, missing or ill-typed field)."""

    code = "MALFORMED_RESPONSE"


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
        raise MalformedResponseError(f"{where}.{key} is missing or not {getattr(kind, '__name__', kind)}: {value!r}")
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


def _int(obj: Mapping[str, Any], key: str, where: str, low: int, high: int, optional: bool = False) -> int | None:
    """An integer field within [low, high]."""
    value = _field(obj, key, where, int, optional)
    if value is not None and not low <= value <= high:
        raise MalformedResponseError(f"{where}.{key} must be from {low} to {high}: {value!r}")
    return value


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
        bps=_int(raw, "bps", where, 0, BPS, optional=True),
    )


def parse_quote(body: Any) -> JupiterQuote:
    """Validate every field of a GET /quote 200 body; ignore unknown fields; raise MalformedResponseError."""
    if not isinstance(body, dict):
        raise MalformedResponseError("quote is not a JSON object")
    q = "quote"
    swap_mode = _field(body, "swapMode", q, str)
    if swap_mode not in SWAP_MODES:
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
        context_slot=_int(body, "contextSlot", q, 0, U64_MAX, optional=True),
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


@dataclass(frozen=True, slots=True)
class RawResponse:
    """What a transport got back: HTTP status, headers and body text."""

    status: int
    headers: Mapping[str, str]
    text: str


class HttpTransport:
    """GET {base_url}/quote over one reused requests.Session, with x-api-key and (connect, read) timeouts in seconds."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout_s: float = 5.0,
                 session: requests.Session | None = None) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"Jupiter base URL must start with https:// or http://, got {base_url!r}")
        if not timeout_s > 0:
            raise ValueError("timeout_s must be greater than zero")
        self.url = base_url.rstrip("/") + "/quote"
        self.timeout = (timeout_s, timeout_s)
        self.session = session or requests.Session()
        self.headers = {"Accept": "application/json"} | ({"x-api-key": api_key} if api_key else {})

    def __call__(self, params: dict[str, str]) -> RawResponse:
        """One HTTP attempt; timeouts and connection failures raise UpstreamUnavailableError."""
        try:
            resp = self.session.get(self.url, params=params, headers=self.headers, timeout=self.timeout)
        except requests.Timeout as exc:
            message = f"Jupiter timed out ({type(exc).__name__})"
            raise UpstreamUnavailableError(message, code="UPSTREAM_TIMEOUT") from exc
        except requests.RequestException as exc:
            raise UpstreamUnavailableError(f"Jupiter is unreachable ({type(exc).__name__})") from exc
        return RawResponse(resp.status_code, resp.headers, resp.content.decode("utf-8", errors="replace"))

    def close(self) -> None:
        """Release the session's pooled connections."""
        self.session.close()


class SimTransport:
    """The in-process simulated DEX behind the same wire format; the clock gives Unix seconds."""

    def __init__(self, config: SimConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock

    def __call__(self, params: dict[str, str]) -> RawResponse:
        """Answer as Jupiter would, as JSON text."""
        status, body = sim_dex.quote_response(params, self.clock(), self.config)
        return RawResponse(status, {"Content-Type": "application/json"}, json.dumps(body))


S = TypeVar("S")
R = TypeVar("R")


class StateStore(Protocol[S]):
    """Atomic read-modify-write of one small state value (in memory now; Redis later to share across workers).

    A store shared between processes needs a shared clock too: give the limiter or breaker clock=time.time.
    """

    def transact(self, fn: Callable[[S], tuple[S, R]]) -> R:
        """Apply fn to the current state atomically, keep the new state, return fn's result."""
        ...


class MemoryStore(Generic[S]):
    """StateStore for one process, guarded by a lock."""

    def __init__(self, initial: S) -> None:
        self._state = initial
        self._lock = threading.Lock()

    def transact(self, fn: Callable[[S], tuple[S, R]]) -> R:
        """Apply fn under the lock."""
        with self._lock:
            self._state, result = fn(self._state)
            return result


@dataclass(frozen=True, slots=True)
class BucketState:
    """Token bucket: tokens available at updated_s (seconds on the limiter's clock; None = never used, full)."""

    tokens: float
    updated_s: float | None = None


class RateLimiter:
    """Token bucket: `rps` tokens per second up to `burst`; acquire() sleeps until a token is free."""

    def __init__(self, rps: float, *, burst: float | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, store: StateStore[BucketState] | None = None) -> None:
        if not (math.isfinite(rps) and rps > 0):
            raise ValueError("rps must be a positive number of requests per second")
        self.rps = rps
        self.burst = max(1.0, rps) if burst is None else burst
        if not self.burst >= 1:
            raise ValueError("burst must be at least 1 request")
        self.clock, self.sleep = clock, sleep
        self.store: StateStore[BucketState] = store or MemoryStore(BucketState(self.burst))

    def _level(self, state: BucketState, now: float) -> float:
        """Tokens in the bucket at `now` (refilled since the last update, capped at burst)."""
        if state.updated_s is None:
            return self.burst
        return min(self.burst, state.tokens + max(0.0, now - state.updated_s) * self.rps)

    def try_acquire(self) -> float:
        """Take a token if one is free and return 0.0, else return the seconds to wait for one."""
        now = self.clock()

        def take(state: BucketState) -> tuple[BucketState, float]:
            level = self._level(state, now)
            if level >= 1:
                return BucketState(level - 1, now), 0.0
            return BucketState(level, now), (1 - level) / self.rps

        return self.store.transact(take)

    def acquire(self) -> float:
        """Block (via the injected sleep) until a token is taken; return the seconds waited."""
        waited = 0.0
        while (wait := self.try_acquire()) > 0:
            self.sleep(wait)
            waited += wait
        return waited

    def headroom(self) -> float:
        """Tokens available now (1.0 = one call may go without waiting)."""
        now = self.clock()
        return self.store.transact(lambda state: (state, self._level(state, now)))


@dataclass(frozen=True, slots=True)
class BreakerState:
    """Consecutive failures, when the breaker opened and when the half-open probe started (breaker clock seconds)."""

    failures: int = 0
    opened_s: float | None = None
    probe_s: float | None = None


class CircuitBreaker:
    """Opens after `failure_threshold` consecutive upstream failures, stays open `cooldown_s`, then lets one probe."""

    def __init__(self, failure_threshold: int = 5, cooldown_s: float = 30.0, *,
                 clock: Callable[[], float] = time.monotonic, store: StateStore[BreakerState] | None = None) -> None:
        if failure_threshold < 1 or not cooldown_s > 0:
            raise ValueError("failure_threshold must be >= 1 and cooldown_s > 0")
        self.failure_threshold, self.cooldown_s, self.clock = failure_threshold, cooldown_s, clock
        self.store: StateStore[BreakerState] = store or MemoryStore(BreakerState())

    def _state_of(self, state: BreakerState, now: float) -> str:
        """closed, open or half_open."""
        if state.opened_s is None:
            return "closed"
        return "open" if now - state.opened_s < self.cooldown_s else "half_open"

    @property
    def state(self) -> str:
        """"closed", "open" or "half_open" now."""
        now = self.clock()
        return self.store.transact(lambda s: (s, self._state_of(s, now)))

    def allow(self) -> bool:
        """May a call go upstream now? Half-open admits one probe (another only if it hangs past cooldown_s)."""
        now = self.clock()

        def check(s: BreakerState) -> tuple[BreakerState, bool]:
            kind = self._state_of(s, now)
            if kind == "closed":
                return s, True
            if kind == "half_open" and (s.probe_s is None or now - s.probe_s >= self.cooldown_s):
                return BreakerState(s.failures, s.opened_s, now), True
            return s, False

        return self.store.transact(check)

    def record_success(self) -> None:
        """Upstream answered (any 2xx/4xx): close and forget failures."""
        self.store.transact(lambda s: (BreakerState(), None))

    def record_failure(self) -> None:
        """Upstream failed (5xx, timeout, malformed): count it; open at the threshold, re-open if not closed."""
        now = self.clock()

        def fail(s: BreakerState) -> tuple[BreakerState, None]:
            failures = s.failures + 1
            opens = s.opened_s is not None or failures >= self.failure_threshold
            return BreakerState(failures, now if opens else None), None

        self.store.transact(fail)


@dataclass(frozen=True)
class CallEvent:
    """One quote() call: start (client clock, s), total latency (ms, retries and waits included), outcome, retries."""

    at_s: float
    latency_ms: int
    outcome: str  # "ok" or the error code
    retries: int


def _option_value(name: str, value: Any) -> str:
    """Wire text of one optional quote parameter: booleans as true/false, lists comma-joined."""
    if name in ("onlyDirectRoutes", "restrictIntermediateTokens") and isinstance(value, bool):
        return "true" if value else "false"
    if name == "maxAccounts" and isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if name in ("dexes", "excludeDexes"):
        labels = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else None
        if labels and all(isinstance(label, str) and label and "," not in label for label in labels):
            return ",".join(labels)
    raise InvalidRequestError(f"invalid value for quote option {name}: {value!r}")


def build_params(input_mint: str, output_mint: str, amount_atoms: int, slippage_bps: int, swap_mode: str = "ExactIn",
                 **options: Any) -> dict[str, str]:
    """Query parameters of GET /quote (amount in atoms as a string); InvalidRequestError for bad input."""
    for name, mint in (("input_mint", input_mint), ("output_mint", output_mint)):
        if not isinstance(mint, str) or not mint:
            raise InvalidRequestError(f"{name} must be a mint address")
    if isinstance(amount_atoms, bool) or not isinstance(amount_atoms, int) or not 0 < amount_atoms <= U64_MAX:
        raise InvalidRequestError("amount_atoms must be an integer from 1 to 2^64-1")
    if isinstance(slippage_bps, bool) or not isinstance(slippage_bps, int) or not 0 <= slippage_bps <= BPS:
        raise InvalidRequestError("slippage_bps must be an integer from 0 to 10000")
    if swap_mode not in SWAP_MODES:
        raise InvalidRequestError(f"swap_mode must be ExactIn or ExactOut, got {swap_mode!r}")
    params = {"inputMint": input_mint, "outputMint": output_mint, "amount": str(amount_atoms),
              "slippageBps": str(slippage_bps), "swapMode": swap_mode}
    wire_names = OPTION_NAMES | {camel: camel for camel in OPTION_NAMES.values()}
    for key, value in options.items():
        if key not in wire_names:
            raise InvalidRequestError(f"unknown quote option {key!r}; known: {', '.join(OPTION_NAMES)}")
        if value is not None:
            params[wire_names[key]] = _option_value(wire_names[key], value)
    return params


class JupiterClient:
    """Quotes through a transport with rate limiting, a circuit breaker and bounded retries; keeps call stats."""

    def __init__(self, transport: Callable[[dict[str, str]], RawResponse], *, limiter: RateLimiter | None = None,
                 breaker: CircuitBreaker | None = None, max_retries: int = 2, backoff_s: float = 0.2,
                 max_retry_after_s: float = 5.0, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, on_call: Callable[[CallEvent], None] | None = None,
                 latency_window: int = 1000) -> None:
        if max_retries < 0 or backoff_s < 0 or max_retry_after_s < 0:
            raise ValueError("max_retries, backoff_s and max_retry_after_s must not be negative")
        self.transport, self.limiter, self.breaker = transport, limiter, breaker
        self.max_retries, self.backoff_s, self.max_retry_after_s = max_retries, backoff_s, max_retry_after_s
        self.sleep, self.clock, self.on_call = sleep, clock, on_call
        self._lock = threading.Lock()
        self._calls = self._ok = self._retries = 0
        self._errors: Counter[str] = Counter()
        self._latencies: deque[int] = deque(maxlen=latency_window)

    def quote(self, input_mint: str, output_mint: str, amount_atoms: int, slippage_bps: int,
              swap_mode: str = "ExactIn", **options: Any) -> JupiterQuote:
        """A validated quote; retries 429/5xx/timeouts with exponential backoff (or Retry-After), never 4xx."""
        started, retries, outcome = self.clock(), 0, "ok"
        try:
            params = build_params(input_mint, output_mint, amount_atoms, slippage_bps, swap_mode, **options)
            while True:
                try:
                    return self._attempt(params)
                except (RateLimitedError, UpstreamUnavailableError) as err:
                    delay = self._retry_delay(err, retries)
                    if delay is None:
                        raise
                    self.sleep(delay)
                    retries += 1
        except JupiterError as err:
            outcome = err.code
            raise
        except Exception:
            outcome = "INTERNAL_ERROR"
            raise
        finally:
            self._record(CallEvent(started, round((self.clock() - started) * 1000), outcome, retries))

    def _retry_delay(self, err: JupiterError, retries: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up (out of retries, breaker open, long 429)."""
        if retries >= self.max_retries or isinstance(err, CircuitOpenError):
            return None
        if self.breaker is not None and self.breaker.state == "open":
            return None  # this failure opened it: report the failure itself, not CIRCUIT_OPEN
        if isinstance(err, RateLimitedError) and err.retry_after_s is not None:
            return err.retry_after_s if err.retry_after_s <= self.max_retry_after_s else None
        return self.backoff_s * 2**retries

    def _attempt(self, params: dict[str, str]) -> JupiterQuote:
        """One upstream call, guarded by the breaker and the limiter; tells the breaker how it went."""
        if self.breaker is not None and not self.breaker.allow():
            raise CircuitOpenError("Jupiter circuit breaker is open; not calling upstream")
        if self.limiter is not None:
            self.limiter.acquire()
        failed = True
        try:
            raw = self.transport(params)
            if raw.status == 200:
                try:
                    body = json.loads(raw.text, parse_constant=_reject_constant)
                except ValueError as exc:
                    raise MalformedResponseError(f"Jupiter sent invalid JSON: {exc}", status=200) from None
                quote = parse_quote(body)
                failed = False
                return quote
            err = parse_error(raw.status, raw.text, raw.headers)
            failed = isinstance(err, (UpstreamUnavailableError, MalformedResponseError))
            raise err
        finally:
            if self.breaker is not None:
                self.breaker.record_failure() if failed else self.breaker.record_success()

    def _record(self, event: CallEvent) -> None:
        """Count the call and hand the event to on_call (whose failures are logged, never raised)."""
        with self._lock:
            self._calls += 1
            self._retries += event.retries
            self._latencies.append(event.latency_ms)
            if event.outcome == "ok":
                self._ok += 1
            else:
                self._errors[event.outcome] += 1
        if self.on_call is not None:
            try:
                self.on_call(event)
            except Exception:
                log.exception("on_call hook failed for %s", event)

    def stats(self) -> dict[str, Any]:
        """Per-process counters: calls, ok, errors by code, retries, recent latencies (ms), breaker and limiter."""
        with self._lock:
            latencies = list(self._latencies)
            stats: dict[str, Any] = {"calls": self._calls, "ok": self._ok, "errors": dict(self._errors),
                                     "retries": self._retries, "latency_ms_recent": latencies}
        ordered = sorted(latencies)
        for name, q in (("latency_ms_p50", 50), ("latency_ms_p95", 95)):
            stats[name] = ordered[min(len(ordered) - 1, len(ordered) * q // 100)] if ordered else None
        stats["breaker_state"] = self.breaker.state if self.breaker is not None else None
        stats["limiter_headroom"] = self.limiter.headroom() if self.limiter is not None else None
        return stats


def _reject_constant(name: str) -> Any:
    """json.loads hook: NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def make_client(mode: str, *, api_url: str, api_key: str | None, timeout_s: float, rps: float,
                sim_config: SimConfig, on_call: Callable[[CallEvent], None] | None = None) -> JupiterClient:
    """"sim": the in-process simulator (no rate limit); "live": HTTP to api_url, rate-limited to rps when rps > 0."""
    if mode == "sim":
        return JupiterClient(SimTransport(sim_config), breaker=CircuitBreaker(), on_call=on_call)
    if mode == "live":
        limiter = RateLimiter(rps) if rps > 0 else None
        transport = HttpTransport(api_url, api_key, timeout_s)
        return JupiterClient(transport, limiter=limiter, breaker=CircuitBreaker(), on_call=on_call)
    raise ValueError(f"JUPITER_MODE must be 'sim' or 'live', got {mode!r}")
