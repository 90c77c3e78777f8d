"""SQLAlchemy 2.0 typed tables: trades and their legs, firm quotes, OTC pools, metrics snapshots."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from core.venue import Venue


class Base(DeclarativeBase):
    """Declarative base for every table."""


db = SQLAlchemy(model_class=Base)

BPS = Numeric(12, 4)  # basis points with 4 decimals, exact
MID = Numeric(38, 18)  # a reference mid price (tokens per token, human units)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store UTC; refuse naive datetimes so no local time sneaks in."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Attach UTC to values SQLite returns naive."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class OTCPool(db.Model):
    """A simulated dealer: pricing configuration and live inventory (atoms) of one pair."""

    __tablename__ = "otc_pools"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    base_mint: Mapped[str] = mapped_column(String(64))
    quote_mint: Mapped[str] = mapped_column(String(64))
    base_spread_bps: Mapped[Decimal] = mapped_column(BPS)
    size_spread_bps: Mapped[Decimal] = mapped_column(BPS)
    size_exponent: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    annual_vol_pct: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    vol_z: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    fee_bps: Mapped[Decimal] = mapped_column(BPS)
    min_trade_base_atoms: Mapped[int] = mapped_column(BigInteger)
    max_trade_base_atoms: Mapped[int] = mapped_column(BigInteger)
    target_base_atoms: Mapped[int] = mapped_column(BigInteger)
    target_quote_atoms: Mapped[int] = mapped_column(BigInteger)
    replenish_pct_per_hour: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    execution_delay_ms: Mapped[int] = mapped_column(Integer)
    delay_jitter_ms: Mapped[int] = mapped_column(Integer)
    quote_ttl_ms: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inventory_skew_bps: Mapped[Decimal] = mapped_column(BPS, default=Decimal(0))  # mid shift at full imbalance
    base_atoms: Mapped[int] = mapped_column(BigInteger)
    quote_atoms: Mapped[int] = mapped_column(BigInteger)
    inventory_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    initial_base_atoms: Mapped[int] = mapped_column(BigInteger)
    initial_quote_atoms: Mapped[int] = mapped_column(BigInteger)
    replenished_base_atoms: Mapped[int] = mapped_column(BigInteger, default=0)  # signed, cumulative
    replenished_quote_atoms: Mapped[int] = mapped_column(BigInteger, default=0)  # signed, cumulative
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def venue(self) -> str:
        """Venue name used in routes and trades, e.g. otc:sol-usdc."""
        return str(Venue.otc(self.name))


class Quote(db.Model):
    """A firm quote: the order, every venue's option and the decision, valid until expires_at."""

    __tablename__ = "quotes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    input_mint: Mapped[str] = mapped_column(String(64))
    output_mint: Mapped[str] = mapped_column(String(64))
    swap_mode: Mapped[str] = mapped_column(String(8))
    amount_atoms: Mapped[int] = mapped_column(BigInteger)
    slippage_bps: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    trade_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # who requested it, the only one to execute it


PARTIAL = "partial"  # a maker accepted its leg at last look, another leg then failed: only what filled is recorded
EXECUTED = ("filled", PARTIAL)  # statuses whose legs moved money: what analytics, TCA and scorecards count


class Trade(db.Model):
    """One executed (or rejected) order: amounts in atoms, the decision, savings and timeline."""

    __tablename__ = "trades"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    quote_id: Mapped[str | None] = mapped_column(String(40), nullable=True, unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    pair: Mapped[str] = mapped_column(String(24), index=True)
    input_mint: Mapped[str] = mapped_column(String(64))
    output_mint: Mapped[str] = mapped_column(String(64))
    input_symbol: Mapped[str] = mapped_column(String(16))
    output_symbol: Mapped[str] = mapped_column(String(16))
    swap_mode: Mapped[str] = mapped_column(String(8))
    slippage_bps: Mapped[int] = mapped_column(Integer)
    venue: Mapped[str] = mapped_column(String(64), index=True)
    in_amount_atoms: Mapped[int] = mapped_column(BigInteger)
    out_amount_atoms: Mapped[int] = mapped_column(BigInteger)
    min_out_amount_atoms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_in_amount_atoms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    jupiter_only_out_amount_atoms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    jupiter_only_in_amount_atoms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    savings_atoms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    savings_bps: Mapped[Decimal | None] = mapped_column(BPS, nullable=True)
    notional_usd_atoms: Mapped[int] = mapped_column(BigInteger, default=0)
    savings_usd_atoms: Mapped[int] = mapped_column(BigInteger, default=0)
    price_impact_bps: Mapped[Decimal | None] = mapped_column(BPS, nullable=True)
    cost_bps: Mapped[Decimal | None] = mapped_column(BPS, nullable=True)
    arrival_mid: Mapped[Decimal | None] = mapped_column(MID, nullable=True)  # output per input token at decision
    explanation: Mapped[str] = mapped_column(Text, default="")
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(32), nullable=True)  # API code of a rejection/failure
    latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    quoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # pending -> failed

    legs: Mapped[list[TradeLeg]] = relationship(
        back_populates="trade", order_by="TradeLeg.id", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        Index("ix_trades_venue_created", "venue", "created_at"),
        Index("ix_trades_pair_created", "pair", "created_at"),
        Index("ix_trades_status_created", "status", "created_at"),
        Index("ix_trades_notional_id", "notional_usd_atoms", "id"),  # history sorted by size: keyset (issue 8)
        Index("ix_trades_savings_id", "savings_usd_atoms", "id"),  # history sorted by savings
        Index("ix_trades_cost_id", "cost_bps", "id"),  # history sorted by cost (issue 18)
        Index("ix_trades_user_created", "user_id", "created_at"),  # my trades / one trader's, newest first
    )


class TradeLeg(db.Model):
    """The part of a trade filled on one venue, in atoms."""

    __tablename__ = "trade_legs"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="CASCADE"), index=True)
    venue: Mapped[str] = mapped_column(String(64))
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("otc_pools.id"), nullable=True, index=True)
    in_amount_atoms: Mapped[int] = mapped_column(BigInteger)
    out_amount_atoms: Mapped[int] = mapped_column(BigInteger)
    fee_atoms: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_bps: Mapped[Decimal | None] = mapped_column(BPS, nullable=True)
    tx_signature: Mapped[str | None] = mapped_column(String(88), nullable=True, index=True)  # on-chain legs (jupiter)
    slot: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # the slot its transaction landed in
    last_valid_block_height: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # its blockhash's last

    trade: Mapped[Trade] = relationship(back_populates="legs")


class SystemMetrics(db.Model):
    """A periodic snapshot of one process's venue latency, errors, volume and success rate.

    worker_id is the writer ("hostname:pid"; None on rows older than the column). jupiter_errors counts venue
    errors only; jupiter_order_errors the calls refused because of the order itself (NO_ROUTE and kin).
    """

    __tablename__ = "system_metrics"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    worker_id: Mapped[str | None] = mapped_column(String(96), nullable=True)
    jupiter_calls: Mapped[int] = mapped_column(Integer, default=0)
    jupiter_errors: Mapped[int] = mapped_column(Integer, default=0)
    jupiter_order_errors: Mapped[int | None] = mapped_column(Integer, nullable=True, default=0)
    jupiter_retries: Mapped[int] = mapped_column(Integer, default=0)
    jupiter_p50_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    jupiter_p95_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    jupiter_p99_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    otc_quote_p50_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    errors_by_kind: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    breaker_state: Mapped[str] = mapped_column(String(12), default="closed")
    trades_filled: Mapped[int] = mapped_column(Integer, default=0)
    trades_rejected: Mapped[int] = mapped_column(Integer, default=0)
    volume_usd_atoms: Mapped[int] = mapped_column(BigInteger, default=0)
    success_rate_pct: Mapped[Decimal | None] = mapped_column(Numeric(7, 3), nullable=True)


ROLES = ("viewer", "trader", "admin")  # each role can do everything the ones before it can


class User(UserMixin, db.Model):
    """A desk member: unique username, werkzeug password hash, role and active flag.

    Flask-Login's UserMixin supplies is_authenticated (= is_active), is_anonymous and get_id (the id as text);
    is_active is the stored flag, so login_user refuses a deactivated user.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    role: Mapped[str] = mapped_column(String(12), default="viewer")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Stored in the session at sign-in; bumped by logout, password change and deactivation, which ends every session.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def is_active(self) -> bool:
        """Flask-Login: deactivated users cannot log in or use their tokens."""
        return self.active


class ApiToken(db.Model):
    """A bearer token for the API: only its SHA-256 is stored; `prefix` identifies it in listings."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship(lazy="joined")


class AuditLog(db.Model):
    """One admin change: who (user id, or None for the CLI), what action on which target, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48), index=True)
    target: Mapped[str] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
