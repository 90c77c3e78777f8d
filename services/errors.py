"""The errors a service raises: invalid input (400) and a valid request that cannot be served (status, code)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models import Trade


class InputError(ValueError):
    """Invalid client input: API code, message and the field at fault."""

    def __init__(self, message: str, field: str | None = None, code: str = "INVALID_INPUT"):
        self.field, self.code = field, code
        super().__init__(message)


class ServiceError(Exception):
    """A request that was valid but cannot be served: HTTP status, API code, message and extra error fields."""

    def __init__(self, status: int, code: str, message: str, trade: Trade | None = None,
                 extra: dict[str, Any] | None = None):
        self.status, self.code, self.trade, self.extra = status, code, trade, extra or {}
        super().__init__(message)
