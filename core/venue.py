"""A liquidity source's name as a type: `jupiter`, `otc:<pool>` (a simulated dealer) or `rfq:<maker>` (an external one).

Pure: stdlib only. The string form is what tables, JSON and templates carry; parse it here, nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class VenueKind(StrEnum):
    """What kind of liquidity a venue is; a dealer's price is firm over its delay, Jupiter's is not."""

    JUPITER = "jupiter"
    OTC = "otc"
    RFQ = "rfq"
    SPLIT = "split"  # a decision over several venues, never a leg


@dataclass(frozen=True, slots=True)
class Venue:
    """A venue: its kind and (for dealers) the pool or maker name."""

    kind: VenueKind
    name: str = ""

    @classmethod
    def parse(cls, text: str) -> Venue:
        """The venue a string names; ValueError for anything else."""
        if text in (VenueKind.JUPITER, VenueKind.SPLIT):
            return cls(VenueKind(text))
        kind, sep, name = text.partition(":")
        if sep and name and kind in (VenueKind.OTC, VenueKind.RFQ):
            return cls(VenueKind(kind), name)
        raise ValueError(f"unknown venue {text!r}: expected jupiter, otc:<pool> or rfq:<maker>")

    @classmethod
    def otc(cls, pool_name: str) -> Venue:
        """The venue of a simulated dealer pool."""
        return cls(VenueKind.OTC, pool_name)

    @classmethod
    def rfq(cls, maker_name: str) -> Venue:
        """The venue of an external RFQ market maker."""
        return cls(VenueKind.RFQ, maker_name)

    @property
    def is_dealer(self) -> bool:
        """True for venues whose quote is firm (OTC pools and RFQ makers)."""
        return self.kind in (VenueKind.OTC, VenueKind.RFQ)

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else str(self.kind)


JUPITER = str(Venue(VenueKind.JUPITER))


def kind_of(venue: str) -> VenueKind:
    """The kind of a venue string (one parse for the whole code base)."""
    return Venue.parse(venue).kind


def is_otc(venue: str) -> bool:
    """True when a venue string names a simulated dealer pool."""
    return kind_of(venue) is VenueKind.OTC


def pool_name(venue: str) -> str | None:
    """The pool behind an `otc:<pool>` venue, or None for any other venue."""
    v = Venue.parse(venue)
    return v.name if v.kind is VenueKind.OTC else None


def is_rfq(venue: str) -> bool:
    """True when a venue string names an external RFQ maker."""
    return kind_of(venue) is VenueKind.RFQ


def is_dealer(venue: str) -> bool:
    """True when a venue string names a firm-quoting dealer (an OTC pool or an RFQ maker)."""
    return Venue.parse(venue).is_dealer


def maker_name(venue: str) -> str | None:
    """The maker behind an `rfq:<maker>` venue, or None for any other venue."""
    v = Venue.parse(venue)
    return v.name if v.kind is VenueKind.RFQ else None
