"""The OpenAPI document's building blocks: shared value schemas and the builders of schemas, responses and
operations, used by openapi_spec.py and its parts (openapi_orders.py)."""
from __future__ import annotations

from typing import Any

from web import openapi_examples as ex
from web.openapi_guardrails import ACKNOWLEDGE, LEVEL

__all__ = ["ACKNOWLEDGE", "LEVEL"]  # re-exported: the parts take every shared schema from here

ATOMS = {"type": "string", "pattern": "^-?[0-9]{1,20}$", "description": "integer atoms as a decimal string"}
BPS = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "description": "basis points as a decimal string"}
DECIMAL_IN = {"type": "string", "pattern": r"^[0-9]{1,8}(\.[0-9]{1,4})?$"}
EMPTY = {"type": "string", "maxLength": 0}
OPTIONAL_DATE = {"anyOf": [{"type": "string", "format": "date"}, EMPTY]}
TIME = {"type": "string", "description": "ISO 8601 UTC with Z, e.g. 2026-11-26T10:00:05.123Z"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema or null (JSON Schema 2020-12 style)."""
    return {"anyOf": [schema, {"type": "null"}]}


def ref(name: str) -> dict[str, str]:
    """A $ref to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: list[str], **props: Any) -> dict[str, Any]:
    """An object schema with properties; extra properties are allowed (API.md: fields may be added)."""
    return {"type": "object", "required": required, "properties": props}


def json_(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    """An application/json content block with an optional example."""
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"content": {"application/json": media}}


ERRORS = {
    400: "malformed or invalid input", 401: "no or bad credentials", 403: "role not allowed",
    404: "unknown id", 409: "idempotency conflict, quote already used or name taken", 410: "quote expired",
    413: "request body too large",
    422: "cannot be filled as asked (no liquidity, slippage guard, COST_LIMIT with a suggestion, CONFIRM_REQUIRED)",
    429: "rate limited (see Retry-After)", 503: "an upstream venue is unavailable and no other route could serve",
}


def responses(ok_status: int, ok: dict[str, Any], *errors: int, description: str = "success") -> dict[str, Any]:
    """A responses object: the success answer plus API.md errors (401/403 on every protected operation)."""
    out: dict[str, Any] = {str(ok_status): {"description": description, **ok}}
    for status in sorted(set(errors)):
        out[str(status)] = {"description": ERRORS[status], **json_(ref("Error"), ex.ERROR if status == 400 else None)}
    return out


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An optional query parameter."""
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def path_id(name: str) -> dict[str, Any]:
    """An integer path id."""
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}}


def op(operation_id: str, role: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One operation; `x-required-role` is auth.POLICY's least role (public ones say `security: []`)."""
    op: dict[str, Any] = {"operationId": operation_id, "x-required-role": role, "summary": summary, **extra,
                          "responses": responses}
    if role == "public":
        op["security"] = []
    return op
