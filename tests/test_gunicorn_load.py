"""The same liquidity race against a live gunicorn with 4 workers over HTTP on PostgreSQL, with a worker killed mid-run.

Before the server starts, a trade left pending 5 minutes ago is planted: the workers recover it as they boot
(gunicorn.conf.py).

16 client threads × 10 trades of 250 SOL go through `gunicorn -w 4 main:app` on a free loopback port; the one
SOL/USDC pool holds a third of what they ask for (Jupiter, made very shallow, takes the rest). A third of the way in,
one worker is SIGKILLed: its in-flight requests die with the connection, gunicorn starts a new worker. Afterwards
lost pending trades are recovered, every request that got no answer is retried with its idempotency key, and:
each request has exactly one trade, the pool never paid out more than it held, and inventory reconciles.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests

import trade_logger
from core.tokens import SOL, USDC
from models import db, utcnow
from services import execution
from tests.conftest import build_app, make_token
from tests.integrity_support import Outcome, assert_load_invariants, get_trade, outcome, set_pool, split_plan

ROOT = Path(__file__).resolve().parent.parent
WORKERS, THREADS, TRADES_PER_THREAD, TRADE_SOL = 4, 16, 10, 250
SIM_DEPTH = "0.02"  # a shallow simulated Jupiter: the pool is the better venue while it has inventory


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn master's child processes."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def start_gunicorn(database_url: str, port: int, log_path: Path) -> subprocess.Popen:
    """gunicorn -w 4 main:app on 127.0.0.1:port, in its own process group; returns once /healthz answers."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "load-test", "RATELIMIT_ENABLED": "0",
           "JUPITER_MODE": "sim", "JUPITER_SIM_DEPTH": SIM_DEPTH, "APP_ENV": "development"}
    if os.environ.get("TEST_REDIS_URL"):
        env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]  # the workers share the Jupiter breaker
    log = log_path.open("w")
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
         "--timeout", "60", "--graceful-timeout", "5", "main:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        assert server.poll() is None, log_path.read_text()[-3000:]
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    stop(server)
    raise AssertionError("gunicorn did not answer within 45 s:\n" + log_path.read_text()[-3000:])


def stop(server: subprocess.Popen) -> None:
    """SIGTERM the whole process group, SIGKILL it if it lingers."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=15)
    except ProcessLookupError:
        pass


@pytest.mark.pg
@pytest.mark.slow
def test_four_gunicorn_workers_never_oversell_a_pool_even_when_one_is_killed(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    app = build_app(pg_url)
    headers = {"Authorization": f"Bearer {make_token(app, 'trader', 'load-trader')}"}
    with app.app_context():
        mid = app.extensions["market"].mid_price(SOL, USDC)
    demand_usdc_atoms = int(THREADS * TRADES_PER_THREAD * TRADE_SOL * mid * 10**USDC.decimals)
    set_pool(app, quote_atoms=demand_usdc_atoms // 3, replenish_pct_per_hour=Decimal(360))
    with app.app_context():  # a trade a dead server left pending 5 minutes ago: recovered as the workers boot
        lost = trade_logger.reserve(split_plan(app, "lost-before-start"), utcnow() - timedelta(minutes=5)).id
    url = f"http://127.0.0.1:{free_port()}"
    server = start_gunicorn(pg_url, int(url.rsplit(":", 1)[1]), tmp_path / "gunicorn.log")
    assert get_trade(app, lost).status == "failed"  # it had a Jupiter leg: failed, its reservation released
    body = {"input": "SOL", "output": "USDC", "amount": str(TRADE_SOL)}
    answered: dict[str, Outcome] = {}
    unanswered: list[str] = []
    lock, start, third = threading.Lock(), threading.Barrier(THREADS), threading.Event()

    def trader(n: int) -> None:
        with requests.Session() as http:
            start.wait()
            for i in range(TRADES_PER_THREAD):
                key = f"http-{n}-{i}"
                try:
                    res = http.post(f"{url}/api/v1/trades", json=body, headers={**headers, "Idempotency-Key": key},
                                    timeout=60)
                    with lock:
                        answered[key] = outcome(key, res.status_code, res.json())
                except (requests.ConnectionError, requests.Timeout, ValueError):
                    with lock:
                        unanswered.append(key)
                if n == 0 and i == TRADES_PER_THREAD // 3:
                    third.set()

    started = time.perf_counter()
    try:
        threads = [threading.Thread(target=trader, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        third.wait(timeout=60)
        victim = worker_pids(server.pid)[0]
        os.kill(victim, signal.SIGKILL)  # a worker dies mid-run, likely mid-trade
        for t in threads:
            t.join(timeout=180)
        assert not any(t.is_alive() for t in threads), "a client thread hung"
        elapsed = time.perf_counter() - started
        with app.app_context():
            recovered = execution.recover(utcnow(), 0)  # nothing is in flight any more
            recovered_states = sorted(t.status for t in recovered)
        with requests.Session() as http:  # the clients that lost their answer retry with the same key
            for key in unanswered:
                res = http.post(f"{url}/api/v1/trades", json=body, headers={**headers, "Idempotency-Key": key},
                                timeout=60)
                answered[key] = outcome(key, res.status_code, res.json())
    finally:
        stop(server)
    counts = assert_load_invariants(app, list(answered.values()))
    assert counts["requests"] == THREADS * TRADES_PER_THREAD and counts["filled"] > 0
    with capsys.disabled():
        print(f"\n[gunicorn -w {WORKERS} on PostgreSQL] {THREADS}x{TRADES_PER_THREAD} trades of {TRADE_SOL} SOL "
              f"in {elapsed:.1f} s ({THREADS * TRADES_PER_THREAD / elapsed:.0f}/s), worker {victim} killed: "
              f"{counts}; {len(unanswered)} lost answers retried, recovered {recovered_states}")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
