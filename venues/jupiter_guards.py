"""Client-side guards for the Jupiter client: a token-bucket rate limiter and a circuit breaker.

Their state sits behind StateStore (one method, transact) so it can live in process memory or in Redis.
Times are seconds from an injectable clock.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

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
