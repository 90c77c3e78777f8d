"""Shared fixtures: an app on a fresh SQLite file (migrated and seeded), its client and CLI runner, and PostgreSQL."""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, event, make_url, select, text

from app import create_app
from ledger.maker_tables import Maker
from models import db
from services.seed import init_database, seed_makers


class AdminClient(FlaskClient):
    """A test client that sends the test admin's bearer token: `app.test_client()` of a build_app app (auth, issue 7).

    So API tests written before authentication keep meaning what they meant; anonymous and per-role
    behaviour is tested with `anon_client` and `make_token`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        token = self.application.config.get("TEST_ADMIN_TOKEN")
        if token:
            self.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"


def make_token(app: Flask, role: str, username: str | None = None) -> str:
    """A bearer token of a new user with `role` (no password: API only); returns the secret."""
    from models import User
    from services import accounts

    with app.app_context():
        user = User(username=username or f"test-{role}-{secrets.token_hex(3)}", role=role, active=True)
        db.session.add(user)
        db.session.commit()
        return accounts.create_token(user, "tests")[1]


def client_with_token(app: Flask, token: str | None) -> FlaskClient:
    """A plain test client sending `Authorization: Bearer <token>` (None: anonymous)."""
    client = FlaskClient(app, app.response_class, use_cookies=True)
    if token:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def build_app(database_url: str, **overrides: object) -> Flask:
    """A test app on `database_url`, migrated and seeded with the default pools, and a test admin's API token.

    Rate limits are off unless a test turns them on (RATELIMIT_ENABLED=True); `app.test_client()` is an AdminClient.
    """
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test",
              "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, **overrides}
    app = create_app(config)
    with app.app_context():
        init_database()
    app.config["TEST_ADMIN_TOKEN"] = make_token(app, "admin", "test-admin")
    app.test_client_class = AdminClient
    return app


def seed_instant_makers(app: Flask, offsets_bps: dict[str, int] | None = None) -> None:
    """Seed the two simulated makers answering with no latency; offsets_bps[name] prices one that many bps better."""
    with app.app_context():
        seed_makers()
        for m in db.session.scalars(select(Maker)):
            m.sim_behaviour = {"latency_ms": 0, "jitter_ms": 0, "price_offset_bps": (offsets_bps or {}).get(m.name, 0)}
        db.session.commit()


def behave(app: Flask, name: str, fresh: bool = False, **behaviour: Any) -> None:
    """Add to a simulated maker's behaviour (fresh: replace it, keeping no latency)."""
    with app.app_context():
        m = db.session.scalar(select(Maker).where(Maker.name == name))
        assert m is not None
        base = {"latency_ms": 0, "jitter_ms": 0} if fresh else dict(m.sim_behaviour or {})
        m.sim_behaviour = {**base, **behaviour}
        db.session.commit()


@contextmanager
def listening(app: Flask, record: Callable[..., None]) -> Iterator[None]:
    """Call record(conn, cursor, statement, parameters, context, executemany) before each statement the app's engine
    sends while inside (SQLAlchemy's before_cursor_execute)."""
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app on a fresh SQLite database under tmp_path."""
    app = build_app(f"sqlite:///{tmp_path / 'test.db'}")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the SQLite app, authenticated as the test admin (bearer token)."""
    return app.test_client()


@pytest.fixture
def anon_client(app: Flask) -> FlaskClient:
    """A test client of the SQLite app with no credentials (a browser before sign-in)."""
    return client_with_token(app, None)


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner of the SQLite app."""
    return app.test_cli_runner()


def reset_postgres(url: str) -> None:
    """Drop and recreate the public schema so each PostgreSQL test starts empty."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A private database for this test process on TEST_DATABASE_URL's server (dropped at the end).

    Skips when TEST_DATABASE_URL is absent or unreachable; fails instead when REQUIRE_PG=1 (CI).
    """
    url = os.environ.get("TEST_DATABASE_URL")
    required = os.environ.get("REQUIRE_PG") == "1"
    if not url:
        if required:
            pytest.fail("REQUIRE_PG=1 but TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    name = f"olr_test_{os.getpid()}"
    try:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if required:
            pytest.fail(f"REQUIRE_PG=1 but PostgreSQL is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    yield make_url(url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """URL of the private PostgreSQL database, emptied for this test."""
    reset_postgres(pg_database)
    return pg_database


@pytest.fixture
def pg_app(pg_url: str) -> Iterator[Flask]:
    """The app on a freshly reset PostgreSQL database."""
    app = build_app(pg_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """The app on SQLite, then on PostgreSQL: for rules that must hold on both."""
    url = f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    app = build_app(url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
