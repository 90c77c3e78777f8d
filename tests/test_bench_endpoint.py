"""The benchmarks' constant-JSON endpoint exists only when BENCH_ENDPOINTS is set, and never in production."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests.conftest import build_app, client_with_token


def test_the_constant_json_endpoint_is_absent_by_default(app: Flask) -> None:
    assert client_with_token(app, None).post("/bench/constant").status_code == 404


def test_the_constant_json_endpoint_answers_anyone_when_bench_endpoints_is_on(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'bench.db'}", BENCH_ENDPOINTS=True)
    response = client_with_token(app, None).post("/bench/constant", json={"input": "SOL"})
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_production_never_exposes_the_constant_json_endpoint(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'bench.db'}", BENCH_ENDPOINTS=True, ENV_NAME="production")
    assert client_with_token(app, None).get("/bench/constant").status_code == 404
