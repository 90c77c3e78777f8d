"""The JSON API's error shape (API.md) and the rule that tells an API request from a page request."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request


def is_api_request() -> bool:
    """True for JSON endpoints, which answer errors (and 401/403) as JSON instead of pages or redirects."""
    return request.path.startswith(("/api/", "/sim/", "/healthz"))


def api_error(status: int, code: str, message: str, field: str | None = None) -> tuple[Response, int]:
    """The API error shape of API.md with an HTTP status."""
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    return jsonify({"error": body}), status
