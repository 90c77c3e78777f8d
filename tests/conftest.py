"""Shared fixtures: an app on a fresh SQLite file (migrated and seeded), its client and CLI runner, and PostgreSQL."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, make_url, text

from app import create_app
from models import db
from seed import init_database


def build_app(database_url: str, **overrides: object) -> Flask:
    """A test app on `database_url`, migrated and seeded with the default pools."""
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test",
              "WTF_CSRF_ENABLED": False, **overrides}
    app = create_app(config)
    with app.app_context():
        init_database()
    return app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app on a fresh SQLite database under tmp_path."""
    app = build_app(f"sqlite:///{tmp_path / 'test.db'}")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the SQLite app."""
    return app.test_client()


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
