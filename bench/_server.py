"""The app under gunicorn on loopback, a trader's API token, seeded order bodies and wrk runs, for the benchmarks."""
from __future__ import annotations

import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._common import ROOT
from bench._prereq import WRK

VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_database(url: str) -> str:
    """Migrate and seed the database at `url`, add a trader; that trader's API token."""
    from app import create_app
    from models import User, db
    from services.seed import init_database

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RECOVER_ON_START": False})
    with app.app_context():
        init_database()
        from services import accounts

        user = accounts.user_by_name("bench-trader") or User(username="bench-trader", role="trader", active=True)
        db.session.add(user)
        db.session.commit()
        secret = accounts.create_token(user, "bench")[1]
        db.session.remove()
        db.engine.dispose()
    return secret


def order_bodies(seed: int, count: int = 64, max_sol: int = 5_000) -> list[dict[str, Any]]:
    """Seeded desk orders: SOL/USDC or SOL/USDT, selling or buying SOL, sizes log-uniform 1..max_sol SOL."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        sol = math.exp(rng.uniform(0, math.log(max_sol)))
        stable = "USDC" if rng.random() < 0.65 else "USDT"
        if rng.random() < 0.5:
            out.append({"input": "SOL", "output": stable, "amount": f"{sol:.2f}", "slippage_bps": 50})
        else:
            out.append({"input": stable, "output": "SOL", "amount": f"{sol:.2f}", "slippage_bps": 50,
                        "swap_mode": "ExactOut"})
    return out


@dataclass
class Server:
    """A running gunicorn master (started by us) and its address."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        """http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        """The master's worker processes."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return sorted(int(p) for p in out.stdout.split())

    def stop(self) -> None:
        """SIGTERM the master (it stops its workers), then wait; SIGKILL it after 20 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start(database_url: str, workers: int, **env: str) -> Server:
    """gunicorn main:app with `workers` sync workers on a free loopback port, once /healthz answers 200."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="olr-bench-gunicorn-", suffix=".log")[1])
    environ = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    environ.update({"DATABASE_URL": database_url, "SECRET_KEY": "bench", "BENCH_ENDPOINTS": "1",
                    "JUPITER_MODE": "sim", "RATELIMIT_TRADING": "10000000/minute",
                    "RATELIMIT_QUOTING": "10000000/minute", "PYTHONUNBUFFERED": "1", **env})
    proc = subprocess.Popen([str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                             "--timeout", "120", "--graceful-timeout", "5", "main:app"],
                            cwd=ROOT, env=environ, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    server = Server(proc, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{server.base}/healthz", timeout=2) as r:
                if r.status == 200 and len(server.worker_pids()) == workers:
                    return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"gunicorn did not become healthy: {log.read_text()[-2000:]}")


def request(server: Server, method: str, path: str, token: str | None = None, body: Any = None) -> tuple[int, bytes]:
    """One HTTP request; (status, body)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(server.base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


LUA = """
local bodies = {%(bodies)s}
local i = 0
wrk.method = "%(method)s"
wrk.headers["Content-Type"] = "application/json"
%(auth)s
request = function()
  i = i + 1
  return wrk.format(nil, "%(path)s", nil, bodies[(i %% #bodies) + 1])
end
"""


def _lua_string(text: str) -> str:
    """A Lua string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class WrkResult:
    """What wrk measured: requests/s, latency percentiles (ms), requests, non-2xx/3xx answers, socket errors."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int
    seconds: float


def _ms(text: str) -> float:
    """wrk's '1.23ms' / '456.78us' / '1.02s' as milliseconds."""
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def wrk(server: Server, path: str, *, method: str = "POST", token: str | None = None,
        bodies: list[dict[str, Any]] | None = None, seconds: float = 6, connections: int = 4,
        stop_when: Callable[[], bool] | None = None) -> WrkResult:
    """Drive `path` from one wrk thread for `seconds`, or until stop_when() (polled twice a second); its figures."""
    script = LUA % {"bodies": ", ".join(_lua_string(json.dumps(b)) for b in (bodies or [{}])), "method": method,
                    "path": path, "auth": f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    started = time.perf_counter()
    proc = subprocess.Popen([WRK, "-t1", f"-c{connections}", f"-d{math.ceil(seconds)}s", "--latency",
                             "--timeout", "30s", "-s", f.name, server.base], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + seconds + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if stop_when is not None and stop_when():
            proc.send_signal(signal.SIGINT)  # wrk stops and prints what it measured so far
            break
        time.sleep(0.5)
    try:
        text, _ = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        text, _ = proc.communicate()
    elapsed = time.perf_counter() - started
    Path(f.name).unlink()

    def grab(pattern: str, default: str = "0") -> str:
        found = re.search(pattern, text, re.MULTILINE)
        return found.group(1) if found else default

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", grab(r"Socket errors: (.*)", "")))
    return WrkResult(rps=float(grab(r"Requests/sec:\s+([\d.]+)")), p50_ms=_ms(grab(r"^\s+50%\s+(\S+)", "0ms")),
                     p99_ms=_ms(grab(r"^\s+99%\s+(\S+)", "0ms")), requests=int(grab(r"(\d+) requests in")),
                     non_2xx=int(grab(r"Non-2xx or 3xx responses: (\d+)")), errors=errors, seconds=elapsed)
