"""Client-side guards for the Jupiter client: a token-bucket rate limiter and a circuit breaker.

Their state sits behind StateStore (one method, transact) so it can live in process memory or in Redis. Every
change of state is a named Transition (TakeToken, ReadLevel; ReadStatus, AllowCall, RecordSuccess, RecordFailure):
a frozen dataclass whose apply() is the rule, so the Redis store can run the same rule server-side in one step.
Times are seconds from an injectable clock, passed into each transition as `now`.
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


class Transition(Protocol[S, R]):
    """One named, pure change of a small state value: `apply(state) -> (new state, result)`.

    Each transition is a frozen dataclass of plain numbers, so a store can run it where the state lives: MemoryStore
    calls apply() under its lock; shared_state.RedisStore runs the same rule as a server-side Lua script (it knows
    every transition below by type, and tests hold the two to the same results).
    """

    def apply(self, state: S) -> tuple[S, R]:
        """The new state and the caller's answer; no I/O, no clock (the time is a field)."""
        ...


class StateStore(Protocol[S]):
    """Atomic read-modify-write of one small state value (in process memory, or in Redis to share across workers).

    A store shared between processes needs a shared clock too: give the limiter or breaker clock=time.time.
    """

    def transact(self, op: Transition[S, R]) -> R:
        """Apply the transition to the current state atomically, keep the new state, return its result."""
        ...


class MemoryStore(Generic[S]):
    """StateStore for one process, guarded by a lock."""

    def __init__(self, initial: S) -> None:
        self._state = initial
        self._lock = threading.Lock()

    def transact(self, op: Transition[S, R]) -> R:
        """Apply the transition under the lock."""
        with self._lock:
            self._state, result = op.apply(self._state)
            return result


@dataclass(frozen=True, slots=True)
class BucketState:
    """Token bucket: tokens available at updated_s (seconds on the limiter's clock; None = never used, full)."""

    tokens: float
    updated_s: float | None = None


def bucket_level(state: BucketState, now: float, rps: float, burst: float) -> float:
    """Tokens in the bucket at `now` (refilled at rps since the last update, capped at burst; never used = full)."""
    if state.updated_s is None:
        return burst
    return min(burst, state.tokens + max(0.0, now - state.updated_s) * rps)


@dataclass(frozen=True, slots=True)
class TakeToken:
    """Refill to `now`, then take one token if one is free: answers 0.0, or the seconds until one will be."""

    now: float
    rps: float
    burst: float

    def apply(self, state: BucketState) -> tuple[BucketState, float]:
        """The bucket after the attempt, and the wait."""
        level = bucket_level(state, self.now, self.rps, self.burst)
        if level >= 1:
            return BucketState(level - 1, self.now), 0.0
        return BucketState(level, self.now), (1 - level) / self.rps


@dataclass(frozen=True, slots=True)
class ReadLevel:
    """The tokens available at `now`; changes nothing."""

    now: float
    rps: float
    burst: float

    def apply(self, state: BucketState) -> tuple[BucketState, float]:
        """The same bucket, and its level."""
        return state, bucket_level(state, self.now, self.rps, self.burst)


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

    def try_acquire(self) -> float:
        """Take a token if one is free and return 0.0, else return the seconds to wait for one."""
        return self.store.transact(TakeToken(self.clock(), self.rps, self.burst))

    def acquire(self) -> float:
        """Block (via the injected sleep) until a token is taken; return the seconds waited."""
        waited = 0.0
        while (wait := self.try_acquire()) > 0:
            self.sleep(wait)
            waited += wait
        return waited

    def headroom(self) -> float:
        """Tokens available now (1.0 = one call may go without waiting)."""
        return self.store.transact(ReadLevel(self.clock(), self.rps, self.burst))


@dataclass(frozen=True, slots=True)
class BreakerState:
    """Consecutive failures, when the breaker opened and when the half-open probe started (breaker clock seconds)."""

    failures: int = 0
    opened_s: float | None = None
    probe_s: float | None = None


def breaker_status(state: BreakerState, now: float, cooldown_s: float) -> str:
    """closed, open (within cooldown_s of opening) or half_open."""
    if state.opened_s is None:
        return "closed"
    return "open" if now - state.opened_s < cooldown_s else "half_open"


@dataclass(frozen=True, slots=True)
class ReadStatus:
    """The breaker's status at `now`; changes nothing."""

    now: float
    cooldown_s: float

    def apply(self, state: BreakerState) -> tuple[BreakerState, str]:
        """The same state, and closed, open or half_open."""
        return state, breaker_status(state, self.now, self.cooldown_s)


@dataclass(frozen=True, slots=True)
class AllowCall:
    """May a call go upstream at `now`? Closed: yes. Half-open: one probe (another if it hangs past cooldown_s)."""

    now: float
    cooldown_s: float

    def apply(self, state: BreakerState) -> tuple[BreakerState, bool]:
        """The state (a probe admitted is stamped probe_s = now), and the answer."""
        kind = breaker_status(state, self.now, self.cooldown_s)
        if kind == "closed":
            return state, True
        if kind == "half_open" and (state.probe_s is None or self.now - state.probe_s >= self.cooldown_s):
            return BreakerState(state.failures, state.opened_s, self.now), True
        return state, False


@dataclass(frozen=True, slots=True)
class RecordSuccess:
    """Upstream answered: close and forget failures."""

    def apply(self, state: BreakerState) -> tuple[BreakerState, None]:
        """A closed breaker."""
        return BreakerState(), None


@dataclass(frozen=True, slots=True)
class RecordFailure:
    """Upstream failed at `now`: count it; open at `threshold` consecutive failures, re-open if not closed."""

    now: float
    threshold: int

    def apply(self, state: BreakerState) -> tuple[BreakerState, None]:
        """Failures + 1, opened_s = now when it opens or was not closed (the probe is forgotten)."""
        failures = state.failures + 1
        opens = state.opened_s is not None or failures >= self.threshold
        return BreakerState(failures, self.now if opens else None), None


class CircuitBreaker:
    """Opens after `failure_threshold` consecutive upstream failures, stays open `cooldown_s`, then lets one probe."""

    def __init__(self, failure_threshold: int = 5, cooldown_s: float = 30.0, *,
                 clock: Callable[[], float] = time.monotonic, store: StateStore[BreakerState] | None = None) -> None:
        if failure_threshold < 1 or not cooldown_s > 0:
            raise ValueError("failure_threshold must be >= 1 and cooldown_s > 0")
        self.failure_threshold, self.cooldown_s, self.clock = failure_threshold, cooldown_s, clock
        self.store: StateStore[BreakerState] = store or MemoryStore(BreakerState())

    @property
    def state(self) -> str:
        """"closed", "open" or "half_open" now."""
        return self.store.transact(ReadStatus(self.clock(), self.cooldown_s))

    def allow(self) -> bool:
        """May a call go upstream now? Half-open admits one probe (another only if it hangs past cooldown_s)."""
        return self.store.transact(AllowCall(self.clock(), self.cooldown_s))

    def record_success(self) -> None:
        """Upstream answered (any 2xx/4xx): close and forget failures."""
        self.store.transact(RecordSuccess())

    def record_failure(self) -> None:
        """Upstream failed (5xx, timeout, malformed): count it; open at the threshold, re-open if not closed."""
        self.store.transact(RecordFailure(self.clock(), self.failure_threshold))
