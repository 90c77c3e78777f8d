"""The JSON API's error shape (API.md) and the rule that tells an API request from a page request."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from services.errors import InputError, ServiceError


def is_api_request() -> bool:
    """True for JSON endpoints, which answer errors (and 401/403) as JSON instead of pages or redirects."""
    return request.path.startswith(("/api/", "/sim/", "/healthz"))


def api_error(status: int, code: str, message: str, field: str | None = None) -> tuple[Response, int]:
    """The API error shape of API.md with an HTTP status."""
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    return jsonify({"error": body}), status


INPUT_CONFLICT_CODES = frozenset({"DUPLICATE_NAME"})  # input refused because it collides with a stored row: 409


def _input_error(exc: InputError) -> tuple[Response, int]:
    """400 with the field at fault (409 for a collision with a stored row)."""
    return api_error(409 if exc.code in INPUT_CONFLICT_CODES else 400, exc.code, str(exc), exc.field)


def _service_error(exc: ServiceError) -> tuple[Response, int]:
    """The service's status and code, the error's extra fields, and a recorded rejected trade's `trade_id`."""
    response, status = api_error(exc.status, exc.code, str(exc))
    if (exc.trade is not None and exc.trade.id) or exc.extra:
        body = response.get_json()
        body["error"].update(exc.extra)
        if exc.trade is not None and exc.trade.id:
            body["error"]["trade_id"] = exc.trade.id
        response = jsonify(body)
    return response, status


def register_api_errors(bp: Blueprint) -> None:
    """Answer a blueprint's InputError and ServiceError in the API error shape."""
    bp.register_error_handler(InputError, _input_error)
    bp.register_error_handler(ServiceError, _service_error)
