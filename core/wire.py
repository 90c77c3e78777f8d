"""The transport contract between a venue client and whatever answers it (HTTP, or the simulator in-process)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawResponse:
    """What a transport got back: HTTP status, headers and body text."""

    status: int
    headers: Mapping[str, str]
    text: str
