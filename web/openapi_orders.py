"""The parent orders' part of the OpenAPI document (issue 16): their schemas and operations; openapi_spec.py merges
it in."""
from __future__ import annotations

from typing import Any

from web import openapi_examples as ex
from web.openapi_parts import (
    ACKNOWLEDGE,
    ATOMS,
    BPS,
    EMPTY,
    LEVEL,
    json_,
    nullable,
    obj,
    op,
    path_id,
    query,
    ref,
    responses,
)


def schemas() -> dict[str, Any]:
    """Parent orders (issue 16): the request, the order with its progress and children, the ticket's estimate."""
    price = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "description": "output per input token, human units"}
    price_in = {"type": "string", "pattern": r"^(?:[0-9]+|[1-9][0-9]{0,2}(?:,[0-9]{3})+)(?:\.[0-9]+)?$",
                "maxLength": 64, "description": "optional: output per input token, human units (thousands commas "
                "allowed), above 0, below 10^18, at most 18 decimals; \"\" or null: no limit"}
    column = obj(["cost_bps", "level"], cost_bps=nullable(BPS), cost_usd_atoms=nullable(ATOMS), level=LEVEL)
    return {
        "ParentOrderRequest": {"allOf": [ref("OrderRequest"), {
            "type": "object", "required": ["duration_s", "slices"],
            "description": "an order plus how to work it (each bad field a 400 naming it)",
            "properties": {
                "strategy": {"enum": ["twap", "adaptive"], "default": "twap"},
                "duration_s": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 604800},
                                         {"type": "string", "pattern": "^[0-9]{1,7}$"}],
                               "description": "seconds, whole, 1..604800"},
                "slices": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 1000},
                                     {"type": "string", "pattern": "^[0-9]{1,4}$"}],
                           "description": "whole, 1..1000 and at most the order's atoms"},
                "limit_price": {"anyOf": [price_in, EMPTY, {"type": "null"}]}}}]},
        "ParentOrder": obj(
            ["id", "status", "amount_atoms", "filled_atoms", "remaining_atoms", "avg_price", "children"],
            id={"type": "integer"}, status={"enum": ["working", "completed", "cancelled", "failed"]},
            strategy={"enum": ["twap", "adaptive"]}, amount_atoms=ATOMS, filled_atoms=ATOMS,
            remaining_atoms=ATOMS, scheduled_atoms=ATOMS, duration_s={"type": "integer"},
            slices={"type": "integer"}, limit_price=nullable(price), arrival_mid=nullable(price),
            avg_price=nullable(price), shortfall_bps=nullable({"type": "string"}),
            shortfall_usd_atoms=nullable({**ATOMS, "description": "shortfall_bps of the filled notional, USD atoms "
                                           "(6 decimals), rounded up"}), note={"type": "string"},
            timeline={"type": "array", "items": {"type": "object"}},
            children={"type": "array", "items": ref("Trade")}),
        "ParentOrderList": obj(["orders"], orders={"type": "array", "items": ref("ParentOrder")}),
        "Estimate": obj(["now", "split", "over_time", "suggest_parent"], now=column, split=column,
                         over_time=column, suggest_parent={"type": "boolean"},
                         confirm_required={"type": "boolean"}, notional_usd_atoms=ATOMS),
    }


def paths(idem: dict[str, Any]) -> dict[str, Any]:
    """The parent-order operations (issue 16)."""
    one = json_(ref("ParentOrder"), ex.PARENT)
    return {
        "/api/v1/orders": {
            "post": op("create_order", "trader", "place a parent order worked over time by the job runner",
                        {**responses(201, one, 400, 401, 403, 409, 413, 422, 503, description="placed"),
                         "200": {"description": "replay of an earlier request with the same Idempotency-Key",
                                 **json_(ref("ParentOrder"))}},
                        parameters=[idem], requestBody={"required": True, **json_(
                            {"allOf": [ref("ParentOrderRequest"),
                                       {"type": "object", "properties": {"acknowledge_cost": ACKNOWLEDGE}}]},
                            ex.PARENT_REQUEST)}),
            "get": op("list_orders", "viewer", "parent orders newest first",
                       responses(200, json_(ref("ParentOrderList"), {"orders": [ex.PARENT]}), 400, 401, 403),
                       parameters=[query("mine", {"enum": ["true", "false", "1", "0"]}, "only the caller's")])},
        "/api/v1/orders/{order_id}": {"get": op(
            "get_order", "viewer", "one parent order: progress, slices, children",
            responses(200, one, 401, 403, 404), parameters=[path_id("order_id")])},
        "/api/v1/orders/{order_id}/cancel": {"post": op(
            "cancel_order", "trader", "stop a working parent order (its placer or an admin); the filled part stays",
            responses(200, one, 401, 403, 404, 409), parameters=[path_id("order_id")])},
        "/api/v1/orders/estimate": {"post": op(
            "estimate_order", "trader", "the order now on one venue, split now, and over N minutes (estimates)",
            responses(200, json_(ref("Estimate"), ex.ESTIMATE), 400, 401, 403, 413, 422, 503),
            requestBody={"required": True, **json_(ref("ParentOrderRequest"), ex.PARENT_REQUEST)})},
    }
