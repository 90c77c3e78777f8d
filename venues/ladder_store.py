"""Where the ladders of Jupiter's cost curve live: process memory, or Redis shared by every worker and host.

A ladder is keyed by pair and direction; each rung (a size in atoms) keeps its cost (bps, as text: exact) and when
it was sampled (Unix seconds). `touch` records that an order needed a rung, so the background refresh keeps the rungs
that orders use fresh and lets the others age out. Redis failing falls back to memory (logged), never fails a quote.
"""
from __future__ import annotations

import logging
import threading
import time
from decimal import Decimal

import redis

log = logging.getLogger(__name__)
REDIS_RETRY_S = 5.0
KEEP_S = 3_600  # a ladder nobody reads for this long expires

Rung = tuple[Decimal, float]  # (cost bps, sampled at, Unix seconds)


class MemoryLadderStore:
    """Ladders in this process's memory."""

    def __init__(self) -> None:
        self._rungs: dict[str, dict[int, Rung]] = {}
        self._demand: dict[tuple[str, int], float] = {}
        self._lock = threading.Lock()

    def get(self, key: str, sizes: list[int]) -> dict[int, Rung]:
        """The stored rungs of these sizes."""
        with self._lock:
            found = self._rungs.get(key, {})
            return {s: found[s] for s in sizes if s in found}

    def put(self, key: str, rungs: dict[int, Rung]) -> None:
        """Store sampled rungs."""
        with self._lock:
            self._rungs.setdefault(key, {}).update(rungs)

    def touch(self, key: str, sizes: list[int], at_s: float) -> None:
        """An order needed these rungs at at_s."""
        with self._lock:
            for s in sizes:
                self._demand[(key, s)] = at_s

    def demanded(self, since_s: float) -> list[tuple[str, int]]:
        """(key, size) of rungs needed since since_s, most recently needed first."""
        with self._lock:
            live = [(at, k, s) for (k, s), at in self._demand.items() if at >= since_s]
        return [(k, s) for _, k, s in sorted(live, reverse=True)]


class RedisLadderStore:
    """Ladders in Redis: a hash per ladder (size -> "cost|at") and one sorted set of demanded rungs."""

    def __init__(self, client: redis.Redis, prefix: str = "olr:ladder") -> None:
        self.client, self.prefix = client, prefix
        self._fallback = MemoryLadderStore()
        self._down_until = 0.0

    def _up(self) -> bool:
        return time.monotonic() >= self._down_until

    def _down(self, exc: Exception) -> None:
        log.warning("Redis unavailable for Jupiter ladders (%s); using process memory for %.0f s", exc, REDIS_RETRY_S)
        self._down_until = time.monotonic() + REDIS_RETRY_S

    def get(self, key: str, sizes: list[int]) -> dict[int, Rung]:
        """The stored rungs of these sizes (one HMGET)."""
        if sizes and self._up():
            try:
                raw = self.client.hmget(f"{self.prefix}:{key}", [str(s) for s in sizes])
                found = {}
                for size, value in zip(sizes, raw, strict=True):
                    if value is not None:
                        cost, at = (value.decode() if isinstance(value, bytes) else value).split("|")
                        found[size] = (Decimal(cost), float(at))
                return found
            except (redis.RedisError, ValueError) as exc:
                self._down(exc)
        return self._fallback.get(key, sizes)

    def put(self, key: str, rungs: dict[int, Rung]) -> None:
        """Store sampled rungs (one pipeline); memory keeps a copy."""
        self._fallback.put(key, rungs)
        if rungs and self._up():
            try:
                with self.client.pipeline(transaction=False) as pipe:
                    pipe.hset(f"{self.prefix}:{key}", mapping={str(s): f"{c}|{at}" for s, (c, at) in rungs.items()})
                    pipe.expire(f"{self.prefix}:{key}", KEEP_S)
                    pipe.execute()
            except redis.RedisError as exc:
                self._down(exc)

    def touch(self, key: str, sizes: list[int], at_s: float) -> None:
        """Record demand (one ZADD)."""
        self._fallback.touch(key, sizes, at_s)
        if sizes and self._up():
            try:
                self.client.zadd(f"{self.prefix}:demand", {f"{key}|{s}": at_s for s in sizes})
            except redis.RedisError as exc:
                self._down(exc)

    def demanded(self, since_s: float) -> list[tuple[str, int]]:
        """Rungs needed since since_s, most recent first (older demand is trimmed)."""
        if self._up():
            try:
                self.client.zremrangebyscore(f"{self.prefix}:demand", "-inf", f"({since_s}")
                members = self.client.zrevrangebyscore(f"{self.prefix}:demand", "+inf", since_s)
                out = []
                for m in members:
                    key, size = (m.decode() if isinstance(m, bytes) else m).rsplit("|", 1)
                    out.append((key, int(size)))
                return out
            except (redis.RedisError, ValueError) as exc:
                self._down(exc)
        return self._fallback.demanded(since_s)


def ladder_store(redis_url: str | None) -> RedisLadderStore | MemoryLadderStore:
    """Shared ladders when redis_url is set, else process memory."""
    if not redis_url:
        return MemoryLadderStore()
    return RedisLadderStore(redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5))
