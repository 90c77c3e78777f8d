"""Fixtures of the execution-integrity tests (a pytest plugin: `pytest_plugins = ["tests.integrity_fixtures"]`)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from models import db
from tests.conftest import build_app
from tests.integrity_support import ScriptedJupiter


@pytest.fixture
def jupiter() -> ScriptedJupiter:
    """The simulated Jupiter, scriptable by the test."""
    return ScriptedJupiter()


@pytest.fixture(params=["sqlite", "postgresql"])
def japp(request: pytest.FixtureRequest, tmp_path: Path, jupiter: ScriptedJupiter) -> Iterator[Flask]:
    """The app with the scriptable Jupiter, on SQLite and on PostgreSQL."""
    url = f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    app = build_app(url, JUPITER_CLIENT=jupiter, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 12})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def sapp(tmp_path: Path, jupiter: ScriptedJupiter) -> Iterator[Flask]:
    """The app with the scriptable Jupiter on SQLite only (rules that do not depend on the backend)."""
    app = build_app(f"sqlite:///{tmp_path / 'test.db'}", JUPITER_CLIENT=jupiter)
    yield app
    with app.app_context():
        db.engine.dispose()
