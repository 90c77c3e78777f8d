"""The job runner for real: a Huey consumer process (`flask --app main jobs consumer`) works parent orders on SQLite
storage and on Redis; SIGKILLed mid-order and started again, it completes the order with no slice filled twice.

Redis tests use TEST_REDIS_URL under a queue name of their own; they skip when it is absent and fail instead when
REQUIRE_REDIS=1 (CI).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from huey import MemoryHuey, RedisHuey, SqliteHuey

from cli import jobs
from ledger import parent_orders as store
from ledger.parent_orders import ParentOrder
from models import Trade, db
from tests.conftest import build_app

ROOT = Path(__file__).resolve().parents[1]


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


def test_the_backend_is_chosen_by_configuration(tmp_path: Path) -> None:
    assert isinstance(jobs.make_huey({}, str(tmp_path)), SqliteHuey)  # make run: no other service
    assert isinstance(jobs.make_huey({"REDIS_URL": "redis://127.0.0.1:6379/5"}, str(tmp_path)), RedisHuey)
    assert isinstance(jobs.make_huey({"REDIS_URL": "redis://x", "JOBS_BACKEND": "sqlite"}, str(tmp_path)), SqliteHuey)
    immediate = jobs.make_huey({"TESTING": True}, str(tmp_path))
    assert isinstance(immediate, MemoryHuey) and immediate.immediate
    with pytest.raises(ValueError):
        jobs.make_huey({"JOBS_BACKEND": "rabbit"}, str(tmp_path))
    with pytest.raises(ValueError):
        jobs.make_huey({"JOBS_BACKEND": "redis"}, str(tmp_path))


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The consumer process's environment: the test's database and job storage, quick retries and leases."""
    return {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}", "SECRET_KEY": "test",
            "JOBS_SQLITE_PATH": str(tmp_path / "jobs.db"), "PARENT_RETRY_S": "1", "PARENT_LEASE_S": "3",
            "PENDING_TIMEOUT_S": "1", "RATELIMIT_ENABLED": "0", **extra}


def _consumer(env: dict[str, str], log: Path) -> subprocess.Popen:
    """`python -m flask --app main jobs consumer` (this interpreter's, whatever is on PATH) in its own process group,
    once it says it runs."""
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "main", "jobs", "consumer", "--workers", "2"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while "job runner:" not in log.read_text() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    return proc


def _stop(proc: subprocess.Popen, sig: int = signal.SIGINT) -> None:
    """Signal the consumer's process group and wait for it."""
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _status(app: Flask, parent_id: int) -> tuple[str, list[tuple[int, str]]]:
    """The parent's status and its attempts (index, status)."""
    with app.app_context():
        db.session.expire_all()
        row = db.session.get(ParentOrder, parent_id)
        out = (row.status, [(s.index, s.status) for s in store.slices_of(parent_id)])
        db.session.rollback()
        return out


def _wait(app: Flask, parent_id: int, ready, timeout_s: float, log: Path,
          poll_s: float = 0.05) -> tuple[str, list[tuple[int, str]]]:
    """Poll every poll_s until ready(status, attempts) or fail with the consumer's log."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = _status(app, parent_id)
        if ready(*state):
            return state
        time.sleep(poll_s)
    raise AssertionError(f"not ready after {timeout_s} s: {_status(app, parent_id)}\n{log.read_text()[-3000:]}")


def _assert_exact(app: Flask, parent_id: int, amount_atoms: int, slices: int) -> None:
    """Each slice filled at most once (a late runner merges owed slices) and the fills add up to the parent."""
    with app.app_context():
        rows = store.slices_of(parent_id)
        filled = [(s.index, db.session.get(Trade, s.trade_id)) for s in rows if s.status == store.FILLED]
        assert sorted(i for i, _ in filled) == list(range(len(filled))) and 1 <= len(filled) <= slices
        assert sum(t.in_amount_atoms for _, t in filled) == amount_atoms
        keyed = db.session.scalars(db.select(Trade).where(Trade.idempotency_key.like(f"parent:{parent_id}:%"))).all()
        assert sum(1 for t in keyed if t.status == "filled") == len(filled)  # no fill outside the recorded slices


@pytest.fixture
def sqlite_runner_app(tmp_path: Path) -> Iterator[Flask]:
    """The test's app enqueueing into the SQLite job storage the consumer process reads."""
    app = build_app(f"sqlite:///{tmp_path / 'test.db'}", JOBS_BACKEND="sqlite",
                    JOBS_SQLITE_PATH=str(tmp_path / "jobs.db"))
    yield app
    with app.app_context():
        db.engine.dispose()


def _place(app: Flask, amount: str, slices: int, duration_s: int) -> int:
    """POST a TWAP parent order (SOL → USDC) and return its id."""
    r = app.test_client().post("/api/v1/orders", json={"input": "SOL", "output": "USDC", "amount": amount,
                                                        "strategy": "twap", "duration_s": duration_s,
                                                        "slices": slices})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


@pytest.mark.slow
def test_a_consumer_process_on_sqlite_completes_a_twap_with_exact_children(sqlite_runner_app: Flask,
                                                                           tmp_path: Path) -> None:
    log = tmp_path / "consumer.log"
    proc = _consumer(_env(tmp_path, JOBS_BACKEND="sqlite"), log)
    parent_id = _place(sqlite_runner_app, "1000", 5, 4)
    try:
        _wait(sqlite_runner_app, parent_id, lambda s, _: s != "working", 60, log)
    finally:
        _stop(proc)
    assert _status(sqlite_runner_app, parent_id)[0] == "completed"
    _assert_exact(sqlite_runner_app, parent_id, 1000 * 10**9, 5)
    assert proc.returncode == 0, log.read_text()[-2000:]  # Ctrl-C (SIGINT) stops it cleanly


@pytest.mark.slow
def test_a_consumer_killed_mid_order_and_started_again_fills_no_slice_twice(sqlite_runner_app: Flask,
                                                                            tmp_path: Path) -> None:
    log = tmp_path / "consumer.log"
    env = _env(tmp_path, JOBS_BACKEND="sqlite")
    proc = _consumer(env, log)
    parent_id = _place(sqlite_runner_app, "1200", 8, 8)
    try:  # kill -9 as soon as a slice is in flight (sent, not yet closed) after at least one fill; a slice is in
        # flight for a few tens of ms only (the simulated chain lands at once), so the poll is quick, and should it
        # miss every window the kill comes after the third fill, still in the middle of the order
        def ready(status: str, attempts: list[tuple[int, str]]) -> bool:
            filled = sum(1 for _, x in attempts if x == "filled")
            return status != "working" or filled >= 3 or (filled >= 1 and any(x == "sent" for _, x in attempts))

        _wait(sqlite_runner_app, parent_id, ready, 60, log, poll_s=0.005)
    finally:
        _stop(proc, signal.SIGKILL)
    status, attempts = _status(sqlite_runner_app, parent_id)
    assert status == "working", f"finished before the kill: {attempts}"
    again = _consumer(env, log)
    try:
        _wait(sqlite_runner_app, parent_id, lambda s, _: s != "working", 90, log)
    finally:
        _stop(again)
    assert _status(sqlite_runner_app, parent_id)[0] == "completed"
    _assert_exact(sqlite_runner_app, parent_id, 1200 * 10**9, 8)


@pytest.mark.slow
def test_a_consumer_process_on_redis_completes_a_twap_with_exact_children(tmp_path: Path) -> None:
    url, name = redis_url(), f"olr-test-{uuid.uuid4().hex[:8]}"
    app = build_app(f"sqlite:///{tmp_path / 'test.db'}", JOBS_BACKEND="redis", REDIS_URL=url, JOBS_NAME=name)
    log = tmp_path / "consumer.log"
    try:
        proc = _consumer(_env(tmp_path, JOBS_BACKEND="redis", REDIS_URL=url, JOBS_NAME=name), log)
        parent_id = _place(app, "1000", 4, 3)
        try:
            _wait(app, parent_id, lambda s, _: s != "working", 60, log)
        finally:
            _stop(proc)
        assert _status(app, parent_id)[0] == "completed"
        _assert_exact(app, parent_id, 1000 * 10**9, 4)
    finally:
        app.extensions["jobs"].huey.storage.flush_all()
        with app.app_context():
            db.engine.dispose()
