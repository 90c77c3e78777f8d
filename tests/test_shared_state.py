"""The Jupiter rate limit and circuit breaker are shared by all workers via Redis (REDIS_URL), per process otherwise.

Redis tests use TEST_REDIS_URL (CI: redis://127.0.0.1:6379/15) under a key prefix of their own; they skip when it
is absent and fail instead when REQUIRE_REDIS=1.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

import jupiter_api
from app import create_app
from venues import shared_state
from venues.jupiter_guards import BreakerState, BucketState, CircuitBreaker, MemoryStore, RateLimiter

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def redis_url() -> str:
    """TEST_REDIS_URL when Redis answers there; skip otherwise, or fail when REQUIRE_REDIS=1 (CI)."""
    url = os.environ.get("TEST_REDIS_URL")
    required = os.environ.get("REQUIRE_REDIS") == "1"
    if not url:
        if required:
            pytest.fail("REQUIRE_REDIS=1 but TEST_REDIS_URL is not set")
        pytest.skip("Redis tests need TEST_REDIS_URL")
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
            client.ping()
    except redis.RedisError as exc:
        if required:
            pytest.fail(f"REQUIRE_REDIS=1 but Redis is unreachable at {url}: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    return url


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own, deleted afterwards (the database may be shared)."""
    name = f"test:{uuid.uuid4().hex}"
    yield name
    with redis.Redis.from_url(redis_url) as client:
        for key in client.scan_iter(f"{name}:*"):
            client.delete(key)


def worker_store(url: str, key: str, initial: object) -> shared_state.RedisStore:
    """A store with its own connection, as another gunicorn worker would have."""
    return shared_state.RedisStore(redis.Redis.from_url(url), key, initial)


def test_workers_take_from_one_token_bucket(redis_url: str, prefix: str) -> None:
    key = f"{prefix}:bucket"
    a, b = (RateLimiter(0.001, burst=5, clock=time.time, store=worker_store(redis_url, key, BucketState(5)))
            for _ in range(2))
    waits = [limiter.try_acquire() for _ in range(4) for limiter in (a, b)]
    assert waits[:5] == [0.0] * 5 and all(w > 0 for w in waits[5:])  # 5 tokens between both workers, not 5 each


def test_concurrent_workers_never_overspend_the_shared_bucket(redis_url: str, prefix: str) -> None:
    key = f"{prefix}:bucket"
    granted, lock = [0], threading.Lock()

    def worker() -> None:
        limiter = RateLimiter(0.001, burst=100, clock=time.time, store=worker_store(redis_url, key, BucketState(100)))
        for _ in range(50):
            if limiter.try_acquire() == 0.0:
                with lock:
                    granted[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(8)]  # 400 attempts on 100 tokens
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert granted[0] == 100


PROCESS_SCRIPT = """
import sys, time
sys.path.insert(0, {root!r})
import redis
from venues import shared_state
from venues.jupiter_guards import BucketState, RateLimiter
store = shared_state.RedisStore(redis.Redis.from_url({url!r}), {key!r}, BucketState(60))
limiter = RateLimiter(0.001, burst=60, clock=time.time, store=store)
print(sum(limiter.try_acquire() == 0.0 for _ in range(40)))
"""


def test_four_processes_share_one_bucket(redis_url: str, prefix: str) -> None:
    script = PROCESS_SCRIPT.format(root=str(ROOT), url=redis_url, key=f"{prefix}:bucket")
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(4)]
    granted = [int(p.communicate(timeout=60)[0]) for p in procs]
    assert sum(granted) == 60  # 160 attempts, 60 tokens in all


def test_a_breaker_opened_by_one_worker_is_open_for_every_worker(redis_url: str, prefix: str) -> None:
    key = f"{prefix}:breaker"
    a, b = (CircuitBreaker(3, 30.0, clock=time.time, store=worker_store(redis_url, key, BreakerState()))
            for _ in range(2))
    for _ in range(3):
        a.record_failure()
    assert b.state == "open" and not b.allow()
    b.record_success()
    assert a.state == "closed"


def test_clients_built_with_a_redis_store_share_their_breaker(redis_url: str, prefix: str) -> None:
    def client() -> jupiter_api.JupiterClient:
        return jupiter_api.make_client("live", api_url="http://127.0.0.1:9", api_key=None, timeout_s=1, rps=5,
                                       store_for=shared_state.store_factory(redis_url, prefix))

    a, b = client(), client()
    for _ in range(5):
        a.breaker.record_failure()
    assert b.stats()["breaker_state"] == "open"
    assert isinstance(b.limiter.store, shared_state.RedisStore)


def test_an_unreachable_redis_falls_back_to_process_memory() -> None:
    store = shared_state.RedisStore(redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2),
                                    "olr:unreachable", BucketState(2))
    limiter = RateLimiter(0.001, burst=2, clock=time.time, store=store)
    assert [limiter.try_acquire() == 0.0 for _ in range(3)] == [True, True, False]


def test_the_app_shares_jupiter_state_only_when_REDIS_URL_is_set(tmp_path: Path) -> None:
    base = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'r.db'}"}
    shared = create_app({**base, "REDIS_URL": "redis://127.0.0.1:6379/15"}).extensions["market"].jupiter
    local = create_app({**base, "REDIS_URL": None}).extensions["market"].jupiter
    assert isinstance(shared.breaker.store, shared_state.RedisStore)
    assert isinstance(local.breaker.store, MemoryStore)
