"""Parent orders and their slices: the tables and every write, one short transaction each.

A parent order is worked by the job runner in slices; each slice attempt is one row with a unique idempotency key
(`parent:<id>:slice:<n>:try:<k>`), written *before* its trade is executed under that key, so a process killed
mid-slice leaves a row that names the trade (or the absence of one) a restarted worker resolves.
A lease (a conditional UPDATE of `lease_until`) lets one worker at a time step a parent.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from models import MID, Trade, UTCDateTime, db, utcnow

WORKING, COMPLETED, CANCELLED, FAILED = "working", "completed", "cancelled", "failed"
STATUSES = (WORKING, COMPLETED, CANCELLED, FAILED)
SENT, FILLED, SLICE_FAILED, WAITED = "sent", "filled", "failed", "waited"


class DecimalText(TypeDecorator[Decimal]):
    """A Decimal stored as its plain digits (TEXT), so it reads back exactly on every database (SQLite's NUMERIC
    goes through a float); for values only read back, never compared in SQL."""

    impl = String(48)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Plain digits, never an exponent."""
        return None if value is None else format(Decimal(value), "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """The stored digits as a Decimal, exactly."""
        return None if value is None else Decimal(value)


class ParentOrder(db.Model):
    """An order worked over time: the whole order, its schedule, where it stands, who placed it."""

    __tablename__ = "parent_orders"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), index=True, default=WORKING)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    input_mint: Mapped[str] = mapped_column(String(64))
    output_mint: Mapped[str] = mapped_column(String(64))
    swap_mode: Mapped[str] = mapped_column(String(8))
    slippage_bps: Mapped[int] = mapped_column(Integer)
    amount_atoms: Mapped[int] = mapped_column(BigInteger)
    strategy: Mapped[str] = mapped_column(String(12))
    duration_s: Mapped[int] = mapped_column(Integer)
    slices: Mapped[int] = mapped_column(Integer)
    limit_price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)  # exact (compared to atoms)
    arrival_mid: Mapped[Decimal | None] = mapped_column(MID, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_parent_orders_status_due", "status", "next_due_at"),)


class ParentSlice(db.Model):
    """One attempt at one slice of a parent order: its planned size, its key, and the trade executed under it."""

    __tablename__ = "parent_slices"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("parent_orders.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    planned_atoms: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default=SENT)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    trade_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("parent_id", "index", "attempt", name="uq_parent_slices_attempt"),)


def slice_key(parent_id: int, index: int, attempt: int) -> str:
    """The idempotency key of a slice attempt; user keys are always `u<id>:…`, so none can collide with it."""
    return f"parent:{parent_id}:slice:{index}:try:{attempt}"


def create(row: ParentOrder) -> ParentOrder:
    """Insert a new parent order; DuplicateParent when its idempotency key is taken."""
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DuplicateParent(row.idempotency_key) from None
    return row


class DuplicateParent(Exception):
    """A parent order with this idempotency key exists already."""


def by_key(key: str) -> ParentOrder | None:
    """The parent order placed under this (scoped) idempotency key."""
    return db.session.scalar(select(ParentOrder).where(ParentOrder.idempotency_key == key))


def take_lease(parent_id: int, now: datetime, lease_s: float) -> bool:
    """Claim the parent for lease_s unless another worker holds an unexpired lease (conditional UPDATE)."""
    free = (ParentOrder.lease_until.is_(None)) | (ParentOrder.lease_until < now)
    done = db.session.execute(update(ParentOrder).where(ParentOrder.id == parent_id, free)
                              .values(lease_until=now + timedelta(seconds=lease_s)))
    db.session.commit()
    return bool(done.rowcount)


def release(parent_id: int, next_due_at: datetime | None, note: str | None = None) -> None:
    """Give the lease back and record when the parent is next due (and why)."""
    values: dict[str, object] = {"lease_until": None, "next_due_at": next_due_at}
    if note is not None:
        values["note"] = note[:2000]
    db.session.execute(update(ParentOrder).where(ParentOrder.id == parent_id).values(**values))
    db.session.commit()


def finish(parent_id: int, status: str, now: datetime, note: str) -> bool:
    """A working parent becomes completed | failed | cancelled (conditional: only from working)."""
    done = db.session.execute(update(ParentOrder).where(ParentOrder.id == parent_id, ParentOrder.status == WORKING)
                              .values(status=status, finished_at=now, next_due_at=None, note=note[:2000]))
    db.session.commit()
    return bool(done.rowcount)


def add_slice(parent_id: int, index: int, attempt: int, planned_atoms: int, now: datetime,
              status: str = SENT, note: str = "") -> ParentSlice:
    """Record a slice attempt before its trade is executed (or as failed, when it could not even be quoted)."""
    row = ParentSlice(parent_id=parent_id, index=index, attempt=attempt, planned_atoms=planned_atoms, status=status,
                      idempotency_key=slice_key(parent_id, index, attempt), sent_at=now,
                      done_at=None if status == SENT else now, note=note[:2000])
    db.session.add(row)
    db.session.commit()
    return row


def close_slice(slice_id: int, status: str, now: datetime, trade_id: int | None, note: str = "") -> None:
    """A sent slice attempt ends: filled or failed (with its trade), or waited (no trade was made)."""
    db.session.execute(update(ParentSlice).where(ParentSlice.id == slice_id, ParentSlice.status == SENT)
                       .values(status=status, done_at=now, trade_id=trade_id, note=note[:2000]))
    db.session.commit()


def slices_of(parent_id: int) -> list[ParentSlice]:
    """Every slice attempt of a parent, in order."""
    return list(db.session.scalars(select(ParentSlice).where(ParentSlice.parent_id == parent_id)
                                   .order_by(ParentSlice.index, ParentSlice.attempt)))


def trade_by_key(key: str) -> Trade | None:
    """The trade executed under a slice attempt's key, if any."""
    return db.session.scalar(select(Trade).where(Trade.idempotency_key == key))


def due_ids(now: datetime, limit: int = 200) -> list[int]:
    """Working parents whose next step is due (or was never scheduled) and that no live lease holds."""
    free = (ParentOrder.lease_until.is_(None)) | (ParentOrder.lease_until < now)
    due = (ParentOrder.next_due_at.is_(None)) | (ParentOrder.next_due_at <= now)
    ids = list(db.session.scalars(select(ParentOrder.id).where(ParentOrder.status == WORKING, free, due)
                                  .order_by(ParentOrder.id).limit(limit)))
    db.session.rollback()
    return ids


def page(user_id: int | None = None, limit: int = 50) -> list[ParentOrder]:
    """Parent orders newest first (one user's when given)."""
    q = select(ParentOrder).order_by(ParentOrder.id.desc()).limit(limit)
    if user_id is not None:
        q = q.where(ParentOrder.user_id == user_id)
    return list(db.session.scalars(q))


def is_due(parent_id: int, now: datetime) -> bool:
    """A working parent whose next step is due now (or never scheduled)."""
    row = db.session.execute(select(ParentOrder.status, ParentOrder.next_due_at)
                             .where(ParentOrder.id == parent_id)).first()
    db.session.rollback()
    return row is not None and row[0] == WORKING and (row[1] is None or row[1] <= now)
