"""Helpers shared by the done-means scripts: a free port, the flask CLI, started processes, JSON over HTTP."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port(start: int = 5300) -> int:
    """The first port from `start` nothing listens on at 127.0.0.1."""
    for port in range(start, start + 200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port from {start}")


def flask(env: dict[str, str], *args: str, timeout_s: float = 120) -> str:
    """Run `python -m flask --app main ARGS` to completion; its stdout."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "main", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, timeout=timeout_s)
    return done.stdout


def start_process(env: dict[str, str], log: Path, *argv: str) -> subprocess.Popen:
    """Start `argv` from the repository root in its own process group, output to log."""
    with log.open("ab") as out:
        return subprocess.Popen(list(argv), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """Start `python -m flask --app main ARGS` in its own process group, output to log."""
    return start_process(env, log, sys.executable, "-m", "flask", "--app", "main", *args)


def stop(proc: subprocess.Popen, sig: int = signal.SIGINT) -> None:
    """Signal a started process group and wait for it (SIGKILL after 20 s)."""
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


class Api:
    """JSON over HTTP to the served app with a bearer token; every answer's status is kept in `statuses`."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.statuses: list[tuple[str, str, int]] = []

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> dict[str, Any]:
        """One request; the JSON answer with its `http_status` (HTTP errors answer their JSON too)."""
        req = urllib.request.Request(self.base + path, method=method, data=None if body is None else
                                     json.dumps(body).encode(), headers={"Authorization": f"Bearer {self.token}",
                                                                         "Content-Type": "application/json",
                                                                         **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        self.statuses.append((method, path, status))
        answer = json.loads(raw) if raw else {}
        return {"http_status": status, **answer} if isinstance(answer, dict) else {"http_status": status,
                                                                                     "items": answer}

    def wait_up(self, path: str, deadline_s: float = 60) -> None:
        """Poll `path` until the server answers at all; RuntimeError past the deadline."""
        end = time.monotonic() + deadline_s
        while True:
            try:
                urllib.request.urlopen(self.base + path, timeout=5).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                if time.monotonic() > end:
                    raise RuntimeError(f"{self.base} did not answer within {deadline_s} s") from None
                time.sleep(0.5)

    def wait(self, order_id: int, until: Any, deadline_s: float) -> dict[str, Any]:
        """Poll GET /api/v1/orders/<id> until until(order) or the deadline; the last answer."""
        end = time.monotonic() + deadline_s
        while True:
            o = self.call("GET", f"/api/v1/orders/{order_id}")
            if until(o) or time.monotonic() > end:
                return o
            time.sleep(1)
