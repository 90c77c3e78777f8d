"""The Jupiter rate limit and circuit breaker are shared by all workers via Redis (REDIS_URL), per process otherwise.

Redis tests use TEST_REDIS_URL (CI: redis://127.0.0.1:6379/15) under a key prefix of their own; they skip when it
is absent and fail instead when REQUIRE_REDIS=1.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jupiter_api
from app import create_app
from venues import shared_state
from venues.jupiter_guards import (
    AllowCall,
    BreakerState,
    BucketState,
    CircuitBreaker,
    MemoryStore,
    RateLimiter,
    ReadLevel,
    ReadStatus,
    RecordFailure,
    RecordSuccess,
    TakeToken,
)

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


# ---- one Lua script per state kind: the same transitions as jupiter_guards, one round trip, no over-grant ----------

class CountingRedis(redis.Redis):
    """A client that records the name of every command it sends (each is one round trip)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: list[str] = []

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands.append(str(args[0]).upper())
        return super().execute_command(*args, **options)


def stored(url: str, key: str, kind: type) -> Any:
    """The state under `key` as the scripts wrote it (None when absent)."""
    with redis.Redis.from_url(url) as client:
        raw = client.get(key)
    return None if raw is None else kind(**json.loads(raw))


def test_every_transition_is_one_round_trip(redis_url: str, prefix: str) -> None:
    client = CountingRedis.from_url(redis_url)
    bucket = RateLimiter(0.5, burst=2, clock=time.time, store=shared_state.RedisStore(client, f"{prefix}:b",
                                                                                   BucketState(2)))
    breaker = CircuitBreaker(2, 30.0, clock=time.time, store=shared_state.RedisStore(client, f"{prefix}:c",
                                                                                     BreakerState()))
    bucket.try_acquire()  # the first call after a Redis restart may load the script (NOSCRIPT, SCRIPT LOAD)
    steps: list[Callable[[], object]] = [bucket.try_acquire, bucket.try_acquire, bucket.try_acquire, bucket.headroom,
                                         lambda: breaker.state, breaker.allow, breaker.record_failure,
                                         breaker.record_failure, breaker.allow, breaker.record_success]
    for step in steps:
        client.commands.clear()
        step()
        assert client.commands == ["EVALSHA"], step  # read, decide and write in one server-side script
    assert bucket.store._redis_down_until == 0.0 and breaker.store._redis_down_until == 0.0  # no fallback ran


def test_threads_racing_for_one_bucket_get_exactly_its_tokens(redis_url: str, prefix: str) -> None:
    key, threads, attempts, tokens = f"{prefix}:bucket", 16, 40, 150
    start, granted, lock = threading.Barrier(threads), [0], threading.Lock()
    stores = [worker_store(redis_url, key, BucketState(tokens)) for _ in range(threads)]

    def worker(store: shared_state.RedisStore) -> None:
        limiter = RateLimiter(1e-9, burst=tokens, clock=lambda: 1_000.0, store=store)  # one instant: no refill
        start.wait()
        mine = sum(limiter.try_acquire() == 0.0 for _ in range(attempts))
        with lock:
            granted[0] += mine

    running = [threading.Thread(target=worker, args=(s,)) for s in stores]  # 640 attempts on 150 tokens
    for t in running:
        t.start()
    for t in running:
        t.join(timeout=60)
    assert granted[0] == tokens
    assert all(s._redis_down_until == 0.0 for s in stores)  # every grant came from Redis, none from a fallback
    assert stored(redis_url, key, BucketState) == BucketState(0.0, 1_000.0)


def run_both(url: str, key: str, initial: Any, ops: list[Any]) -> None:
    """Each op through a MemoryStore and a RedisStore from the same initial state: equal results and states."""
    memory, shared = MemoryStore(initial), worker_store(url, key, initial)
    for i, op in enumerate(ops):
        mine, theirs = memory.transact(op), shared.transact(op)
        assert (theirs, stored(url, key, type(initial)) or initial) == (mine, memory._state), (i, op)
    assert shared._redis_down_until == 0.0  # every answer came from the script, not the fallback


def test_a_breaker_lifecycle_runs_the_same_in_memory_and_in_redis(redis_url: str, prefix: str) -> None:
    t, cool = 1.7e9, 30.0
    run_both(redis_url, f"{prefix}:breaker", BreakerState(), [
        AllowCall(t, cool), RecordFailure(t, 2), ReadStatus(t, cool), RecordFailure(t + 1, 2),  # opens at 2
        AllowCall(t + 2, cool), ReadStatus(t + 31, cool), AllowCall(t + 31, cool),  # half-open: one probe
        AllowCall(t + 32, cool), AllowCall(t + 61, cool),  # the probe hangs: another exactly cooldown_s later
        RecordFailure(t + 62, 2), ReadStatus(t + 62, cool), AllowCall(t + 92, cool),  # re-opened, probe forgotten
        RecordSuccess(), ReadStatus(t + 93, cool), RecordSuccess()])  # closed (and unchanged the second time)


def test_a_bucket_runs_the_same_in_memory_and_in_redis(redis_url: str, prefix: str) -> None:
    t = 1.7e9
    run_both(redis_url, f"{prefix}:bucket", BucketState(2.0), [
        ReadLevel(t, 0.5, 2.0), TakeToken(t, 0.5, 2.0), TakeToken(t, 0.5, 2.0), TakeToken(t, 0.5, 2.0),  # empty
        TakeToken(t + 1, 0.5, 2.0), TakeToken(t + 2, 0.5, 2.0), TakeToken(t + 1, 0.5, 2.0),  # a clock stepping back
        ReadLevel(t + 100, 0.5, 2.0), TakeToken(t + 100, 0.5, 2.0)])  # refilled, capped at burst


# Clock steps: whole seconds (exact sums, so cooldown boundaries are hit exactly), steps back, and any float.
steps = st.lists(st.sampled_from([0.0, 1.0, 10.0, 15.0, 30.0, -1.0]) | st.floats(-2, 100, allow_nan=False),
                 min_size=1, max_size=40)
SAME_SEMANTICS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SAME_SEMANTICS
@given(steps=steps, takes=st.lists(st.booleans(), min_size=40, max_size=40),
       rps=st.sampled_from([0.5, 1.0, 0.1]) | st.floats(0.001, 500),
       burst=st.sampled_from([1.0, 2.0, 2.5]) | st.floats(1, 100), start=st.sampled_from([1e9, 1.7e9]) |
       st.floats(1e9, 2e9))
def test_the_bucket_script_and_the_python_rule_agree(redis_url: str, prefix: str, steps: list[float],
                                                     takes: list[bool], rps: float, burst: float,
                                                     start: float) -> None:
    now, ops = start, []
    for step, take in zip(steps, takes, strict=False):
        now += step  # wall clocks of different workers may step back a little
        ops.append(TakeToken(now, rps, burst) if take else ReadLevel(now, rps, burst))
    run_both(redis_url, f"{prefix}:{uuid.uuid4().hex}", BucketState(burst), ops)  # the same doubles, exactly


@SAME_SEMANTICS
@given(steps=steps, kinds=st.lists(st.sampled_from(["status", "allow", "ok", "fail"]), min_size=40, max_size=40),
       threshold=st.integers(1, 3), cooldown=st.sampled_from([30.0, 10.0]) | st.floats(0.01, 60),
       start=st.sampled_from([1e9, 1.7e9]) | st.floats(1e9, 2e9))
def test_the_breaker_script_and_the_python_rule_agree(redis_url: str, prefix: str, steps: list[float],
                                                      kinds: list[str], threshold: int, cooldown: float,
                                                      start: float) -> None:
    now, ops = start, []
    for step, kind in zip(steps, kinds, strict=False):
        now += step
        ops.append({"status": ReadStatus(now, cooldown), "allow": AllowCall(now, cooldown), "ok": RecordSuccess(),
                    "fail": RecordFailure(now, threshold)}[kind])
    run_both(redis_url, f"{prefix}:{uuid.uuid4().hex}", BreakerState(), ops)


@pytest.mark.parametrize("garbage", [b"not json", b'{"tokens": "x"}', b'{"tokens": 1, "other": 2}', b"[1, 2]"])
def test_an_unreadable_stored_bucket_starts_afresh_and_says_so(redis_url: str, prefix: str, garbage: bytes,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    key = f"{prefix}:bucket"
    with redis.Redis.from_url(redis_url) as client:
        client.set(key, garbage)
    limiter = RateLimiter(0.001, burst=3, clock=lambda: 50.0, store=worker_store(redis_url, key, BucketState(3)))
    with caplog.at_level(logging.WARNING, logger="venues.shared_state"):
        assert limiter.try_acquire() == 0.0
    assert "unreadable shared state" in caplog.text
    assert stored(redis_url, key, BucketState) == BucketState(2.0, 50.0)


def test_a_store_runs_only_the_transitions_of_its_state_kind(redis_url: str, prefix: str) -> None:
    store = worker_store(redis_url, f"{prefix}:bucket", BucketState(1))
    with pytest.raises(TypeError, match="BreakerState"):
        store.transact(RecordSuccess())
    with pytest.raises(TypeError, match="no server-side script"):
        store.transact(MemoryStore(0))  # type: ignore[arg-type]
