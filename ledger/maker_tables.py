"""Tables of the external RFQ makers: their configuration, every quote request asked, and every last-look swap."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.venue import Venue
from models import BPS, UTCDateTime, db, utcnow


class Maker(db.Model):
    """An external market maker reached in Jupiter Z's webhook format; its API key is stored sealed (ledger.sealed,
    under the instance's MAKER_KEY) and never returned or logged."""

    __tablename__ = "makers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(48), unique=True)
    base_url: Mapped[str] = mapped_column(String(255))
    api_key_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)  # ledger.sealed token, never the key
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    timeout_ms: Mapped[int] = mapped_column(Integer, default=500)
    tokens: Mapped[list[str]] = mapped_column(JSON, default=list)  # its GET /tokens, refreshed
    tokens_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sim_behaviour: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # sim:// makers only
    fail_streak: Mapped[int] = mapped_column(Integer, default=0)  # consecutive failed rounds
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    suspensions: Mapped[int] = mapped_column(Integer, default=0)  # how often it was suspended (longer each time)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def has_api_key(self) -> bool:
        """True when an API key is set (it is never read back out of here but to send it)."""
        return bool(self.api_key_sealed)

    @property
    def venue(self) -> str:
        """The maker's venue name, e.g. rfq:wintermute."""
        return str(Venue.rfq(self.name))


class MakerRequest(db.Model):
    """One quote request sent to a maker (one size of one order) and what came of it."""

    __tablename__ = "rfq_requests"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    maker_id: Mapped[int] = mapped_column(Integer)  # no foreign key: a removed maker's history stays
    venue: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    request_id: Mapped[str] = mapped_column(String(40))
    quote_id: Mapped[str] = mapped_column(String(40))
    size_atoms: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(16))  # "quoted" or a core.rfq.Refusal
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    in_amount_atoms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    out_amount_atoms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    won: Mapped[bool] = mapped_column(Boolean, default=False)  # the decision used this quote
    improvement_bps: Mapped[Decimal | None] = mapped_column(BPS, nullable=True)  # vs best other venue, when won

    __table_args__ = (Index("ix_rfq_requests_maker_at", "maker_id", "at"),)


class MakerSwap(db.Model):
    """One last-look swap sent to a maker: claimed (unique quote id: never sent twice) before the call."""

    __tablename__ = "rfq_swaps"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    quote_id: Mapped[str] = mapped_column(String(40), unique=True)
    request_id: Mapped[str] = mapped_column(String(40))
    maker_id: Mapped[int] = mapped_column(Integer, index=True)
    venue: Mapped[str] = mapped_column(String(64))
    trade_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(12))  # sending | accepted | rejected
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    in_amount_atoms: Mapped[int] = mapped_column(BigInteger)
    out_amount_atoms: Mapped[int] = mapped_column(BigInteger)
    rerouted_to: Mapped[str | None] = mapped_column(String(64), nullable=True)  # where a rejected leg went instead
