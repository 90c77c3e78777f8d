"""Jupiter quote client, the only module that does HTTP: transports, timeouts, retries, rate limit, breaker.

Amounts stay integer atoms (u64 strings parsed with int()); prices and fractions are Decimal. Times are seconds.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from core.units import SwapMode
from core.wire import RawResponse
from venues.jupiter_guards import BreakerState, BucketState, CircuitBreaker, MemoryStore, RateLimiter, StateStore
from venues.jupiter_wire import (
    BPS,
    OPTION_NAMES,
    CircuitOpenError,
    InvalidRequestError,
    JupiterError,
    JupiterQuote,
    MalformedResponseError,
    NoRouteError,
    PriceOutOfBandError,
    QuoteMismatchError,
    RateLimitedError,
    RouteStep,
    TokenNotTradableError,
    UpstreamUnavailableError,
    parse_error,
    parse_quote,
)

__all__ = [
    "CircuitBreaker", "CircuitOpenError", "InvalidRequestError", "JupiterError", "JupiterQuote",
    "MalformedResponseError", "MemoryStore", "NoRouteError", "PriceOutOfBandError", "QuoteMismatchError",
    "RateLimitedError", "RateLimiter", "RouteStep",
    "StateStore", "TokenNotTradableError", "UpstreamUnavailableError", "parse_error", "parse_quote",
]

log = logging.getLogger(__name__)
U64_MAX = 2**64 - 1


class HttpTransport:
    """GET {base_url}/quote over one reused requests.Session, with x-api-key and (connect, read) timeouts in seconds."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout_s: float = 5.0,
                 session: requests.Session | None = None, path: str = "/quote") -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"Jupiter base URL must start with https:// or http://, got {base_url!r}")
        if not timeout_s > 0:
            raise ValueError("timeout_s must be greater than zero")
        self.url = base_url.rstrip("/") + path
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
    if swap_mode not in tuple(SwapMode):
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


def matching(q: JupiterQuote, input_mint: str, output_mint: str, amount_atoms: int, swap_mode: str) -> JupiterQuote:
    """The quote when it answers the request (mints, mode, the fixed amount); QuoteMismatchError otherwise."""
    fixed = q.in_amount_atoms if swap_mode == "ExactIn" else q.out_amount_atoms
    if (q.input_mint, q.output_mint, q.swap_mode, fixed) != (input_mint, output_mint, swap_mode, amount_atoms):
        raise QuoteMismatchError(
            f"Jupiter answered {q.swap_mode} {q.in_amount_atoms} {q.input_mint} -> {q.out_amount_atoms} "
            f"{q.output_mint} for a request of {swap_mode} {amount_atoms} {input_mint} -> {output_mint}")
    return q


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
                    return matching(self._attempt(params), input_mint, output_mint, amount_atoms, swap_mode)
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
            if self.breaker is not None and failed:
                self.breaker.record_failure()
            elif self.breaker is not None:
                self.breaker.record_success()

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
                sim_transport: Callable[[dict[str, str]], RawResponse] | None = None,
                on_call: Callable[[CallEvent], None] | None = None,
                store_for: Callable[[str, Any], StateStore[Any]] | None = None) -> JupiterClient:
    """"sim": the simulator's in-process transport (no rate limit); "live": HTTP to api_url, limited to rps if > 0.

    store_for(name, initial) shares the breaker's and limiter's state between processes (shared_state: Redis),
    on the wall clock; without it each process has its own, on the monotonic clock.
    """
    clock = time.time if store_for else time.monotonic
    breaker = CircuitBreaker(clock=clock, store=store_for(f"{mode}:breaker", BreakerState()) if store_for else None)
    if mode == "sim":
        if sim_transport is None:
            raise ValueError("JUPITER_MODE=sim needs the simulator's transport")
        return JupiterClient(sim_transport, breaker=breaker, on_call=on_call)
    if mode == "live":
        bucket = store_for(f"{mode}:limiter", BucketState(max(1.0, rps))) if store_for and rps > 0 else None
        limiter = RateLimiter(rps, clock=clock, store=bucket) if rps > 0 else None
        transport = HttpTransport(api_url, api_key, timeout_s)
        return JupiterClient(transport, limiter=limiter, breaker=breaker, on_call=on_call)
    raise ValueError(f"JUPITER_MODE must be 'sim' or 'live', got {mode!r}")
