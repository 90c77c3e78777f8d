"""Reference prices shared by every worker and host in Redis (when REDIS_URL is set), one key per mint.

If Redis stops answering, the store answers from process memory (logged) and tries Redis again after REDIS_RETRY_S,
so a Redis outage never stops quoting while the Price API itself answers.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import redis

from venues.jupiter_price import MemoryPriceStore

log = logging.getLogger(__name__)
REDIS_RETRY_S = 5.0


class RedisPriceStore:
    """Prices as JSON text under `prefix:<mint>`, expiring after their useful life."""

    def __init__(self, client: redis.Redis, prefix: str = "olr:price") -> None:
        self.client, self.prefix = client, prefix
        self._fallback = MemoryPriceStore()
        self._down_until = 0.0

    def get_many(self, mints: list[str]) -> dict[str, str]:
        """The stored value of each mint that has one (one MGET)."""
        if not mints:
            return {}
        if time.monotonic() >= self._down_until:
            try:
                raw = self.client.mget([f"{self.prefix}:{m}" for m in mints])
                return {m: (v.decode() if isinstance(v, bytes) else v) for m, v in zip(mints, raw, strict=True)
                        if v is not None}
            except redis.RedisError as exc:
                self._down(exc)
        return self._fallback.get_many(mints)

    def put_many(self, values: Mapping[str, str], ttl_s: float) -> None:
        """Store every value with its expiry (one pipeline); the memory copy is kept too."""
        self._fallback.put_many(values, ttl_s)
        if time.monotonic() < self._down_until or not values:
            return
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for mint, text in values.items():
                    pipe.set(f"{self.prefix}:{mint}", text, px=int(ttl_s * 1000))
                pipe.execute()
        except redis.RedisError as exc:
            self._down(exc)

    def _down(self, exc: Exception) -> None:
        log.warning("Redis unavailable for reference prices (%s); using process memory for %.0f s", exc,
                    REDIS_RETRY_S)
        self._down_until = time.monotonic() + REDIS_RETRY_S


def price_store(redis_url: str | None) -> RedisPriceStore | MemoryPriceStore:
    """The shared store when redis_url is set, else process memory."""
    if not redis_url:
        return MemoryPriceStore()
    return RedisPriceStore(redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5))
