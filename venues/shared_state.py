"""State shared by every worker: the Jupiter rate limiter's bucket and circuit breaker in Redis, when REDIS_URL is set.

With REDIS_URL, each gunicorn worker's limiter and breaker read and update the same Redis keys, each update an
optimistic WATCH/MULTI/EXEC transaction (a concurrent update makes it re-read and retry, so no update is lost),
on the wall clock (time.time) that all workers share. Without REDIS_URL each process keeps its own state in memory
(jupiter_guards.MemoryStore). If Redis stops answering, a store carries on in process memory (logged) and tries
Redis again after REDIS_RETRY_S, so quoting never fails because of Redis.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import redis

from venues.jupiter_guards import MemoryStore, StateStore

log = logging.getLogger(__name__)
S = TypeVar("S")
R = TypeVar("R")
REDIS_RETRY_S = 5.0
MAX_WATCH_RETRIES = 200
KEY_TTL_S = 3600  # idle state expires back to its initial value (a full bucket, a closed breaker)


class RedisStore(Generic[S]):
    """StateStore kept as JSON under one Redis key; `initial` (a dataclass) is the state while the key is absent."""

    def __init__(self, client: redis.Redis, key: str, initial: S) -> None:
        self.client, self.key, self.initial = client, key, initial
        self._fallback: MemoryStore[S] = MemoryStore(initial)
        self._redis_down_until = 0.0

    def _decode(self, raw: bytes | str | None) -> S:
        """The stored state, or the initial one when absent or unreadable."""
        if raw is None:
            return self.initial
        try:
            return type(self.initial)(**json.loads(raw))
        except (ValueError, TypeError):
            log.warning("unreadable shared state under %s; starting afresh", self.key)
            return self.initial

    def transact(self, fn: Callable[[S], tuple[S, R]]) -> R:
        """Apply fn atomically across processes (fn is pure and may run again on a conflict); return its result."""
        if time.monotonic() < self._redis_down_until:
            return self._fallback.transact(fn)
        try:
            return self._transact_redis(fn)
        except redis.RedisError as exc:
            log.warning("Redis unavailable for %s (%s); using process memory for %.0f s", self.key, exc, REDIS_RETRY_S)
            self._redis_down_until = time.monotonic() + REDIS_RETRY_S
            return self._fallback.transact(fn)

    def _transact_redis(self, fn: Callable[[S], tuple[S, R]]) -> R:
        """WATCH the key, read, apply fn, write in MULTI/EXEC; retry when another writer changed the key first."""
        with self.client.pipeline() as pipe:
            for _ in range(MAX_WATCH_RETRIES):
                try:
                    pipe.watch(self.key)
                    state = self._decode(pipe.get(self.key))
                    new_state, result = fn(state)
                    if new_state == state:
                        pipe.unwatch()
                        return result
                    pipe.multi()
                    pipe.set(self.key, json.dumps(dataclasses.asdict(new_state)), ex=KEY_TTL_S)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue
        raise redis.RedisError(f"too much contention on {self.key}")


def store_factory(redis_url: str | None, prefix: str = "olr:jupiter") -> Callable[[str, Any], StateStore[Any]] | None:
    """make_client's `store_for(name, initial)`: RedisStores under `prefix:name` when redis_url is set, else None."""
    if not redis_url:
        return None
    client = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return lambda name, initial: RedisStore(client, f"{prefix}:{name}", initial)
