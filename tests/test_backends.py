"""Rules that must hold on both SQLite and PostgreSQL: the same migration, the same trade, the same inventory math."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect

from models import OTCPool, Trade, db
from services.seed import init_database


def test_migration_creates_every_table_and_seeding_is_idempotent(any_app: Flask) -> None:
    with any_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {"trades", "trade_legs", "quotes", "otc_pools", "system_metrics", "alembic_version"} <= tables
        assert init_database() == 0  # second run adds nothing
        assert db.session.scalar(db.select(db.func.count()).select_from(OTCPool)) == 2


def test_block_trade_fills_and_stores_atoms_beyond_32_bits(any_app: Flask) -> None:
    client = any_app.test_client()
    res = client.post("/api/v1/trades", json={"input": "SOL", "output": "USDC", "amount": "25000"})
    assert res.status_code == 201, res.get_json()
    with any_app.app_context():
        trade = db.session.get(Trade, res.get_json()["id"])
        assert trade is not None and trade.in_amount_atoms == 25_000 * 10**9  # > 2^32: BigInteger round-trips
        assert trade.created_at.tzinfo is not None
        pool = db.session.scalar(db.select(OTCPool).where(OTCPool.name == "sol-usdc"))
        otc_leg = next(leg for leg in trade.legs if leg.venue == "otc:sol-usdc")  # the order splits (issue 5)
        assert pool.base_atoms == pool.initial_base_atoms + otc_leg.in_amount_atoms > 2**32


def test_the_migrations_build_exactly_the_models_tables(any_app: Flask) -> None:
    with any_app.app_context(), db.engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert drift == []  # a model changed without its migration (or a table lost its module's import)
