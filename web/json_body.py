"""The JSON body of an API request: depth-checked before parsing, and the two shapes the handlers accept."""
from __future__ import annotations

import re
from typing import Any

from flask import request

from services.errors import InputError

MAX_JSON_DEPTH = 32  # our bodies are flat objects; deeper nesting is refused before the parser recurses
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not count)."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:  # the common case, without a scan
        return 0
    depth = deepest = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if m.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def request_json() -> Any:
    """The request's JSON body, None when it is absent or not JSON; InputError when it nests deeper than
    MAX_JSON_DEPTH. Checked before parsing, so the answer never depends on the interpreter's recursion limit (the
    json module raises RecursionError, not ValueError, which get_json(silent=True) would let through as a 500)."""
    too_deep = InputError(f"the request body is JSON nested deeper than {MAX_JSON_DEPTH} levels",
                          code="MALFORMED_JSON")
    if request.is_json and _json_depth(request.get_data(as_text=True)) > MAX_JSON_DEPTH:
        raise too_deep
    try:
        return request.get_json(silent=True)
    except RecursionError:
        raise too_deep from None


def json_body() -> Any:
    """The request's JSON body (any JSON value), or InputError when it is not JSON."""
    body = request_json()
    if body is None:
        raise InputError("the request body must be valid JSON with Content-Type: application/json",
                         code="MALFORMED_JSON")
    return body


def json_object() -> dict[str, Any]:
    """The request's JSON object, or InputError when the body is not a JSON object."""
    body = request_json()
    if not isinstance(body, dict):
        raise InputError("the request body must be a JSON object with Content-Type: application/json",
                         code="MALFORMED_JSON")
    return body
