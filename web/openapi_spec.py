"""The OpenAPI 3.1 description of the JSON API v1 (../shared/API.md), served at GET /api/v1/openapi.json.

tests/test_openapi.py keeps it true to the code: the spec is valid 3.1, every /api/ route is documented and every
documented path exists, every example validates against its schema; tests/test_fuzz_api.py fuzzes the API from it.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from services import pool_config
from web import openapi_examples as ex
from web import openapi_guardrails, openapi_makers

# GET /api/v1/trades filters: the handler checks them against these, so the document and the answers agree.
TRADE_STATUSES = ("pending", "filled", "partial", "rejected", "failed", "unknown")
VENUE_FILTER_PATTERN = r"^(jupiter|split|none|(otc|rfq):[A-Za-z0-9_.-]{1,60})$"

ATOMS = {"type": "string", "pattern": "^-?[0-9]{1,20}$", "description": "integer atoms as a decimal string"}
BPS = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "description": "basis points as a decimal string"}
DECIMAL_IN = {"type": "string", "pattern": r"^[0-9]{1,8}(\.[0-9]{1,4})?$"}
EMPTY = {"type": "string", "maxLength": 0}
OPTIONAL_DATE = {"anyOf": [{"type": "string", "format": "date"}, EMPTY]}
TIME = {"type": "string", "description": "ISO 8601 UTC with Z, e.g. 2026-11-26T10:00:05.123Z"}
LEVEL, ACKNOWLEDGE = openapi_guardrails.LEVEL, openapi_guardrails.ACKNOWLEDGE


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema or null (JSON Schema 2020-12 style)."""
    return {"anyOf": [schema, {"type": "null"}]}


def _ref(name: str) -> dict[str, str]:
    """A $ref to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    """An object schema with properties; extra properties are allowed (API.md: fields may be added)."""
    return {"type": "object", "required": required, "properties": props}


def _json(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
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


def _responses(ok_status: int, ok: dict[str, Any], *errors: int, description: str = "success") -> dict[str, Any]:
    """A responses object: the success answer plus API.md errors (401/403 on every protected operation)."""
    out: dict[str, Any] = {str(ok_status): {"description": description, **ok}}
    for status in sorted(set(errors)):
        out[str(status)] = {"description": ERRORS[status], **_json(_ref("Error"), ex.ERROR if status == 400 else None)}
    return out


def _schemas() -> dict[str, Any]:
    """Component schemas: requests, answers and the error shape."""
    leg = _obj(["venue", "in_amount_atoms", "out_amount_atoms"], venue={"type": "string"},
               in_amount_atoms=ATOMS, out_amount_atoms=ATOMS, fee_atoms=ATOMS, cost_bps=_nullable(BPS),
               tx_signature=_nullable({"type": "string", "description": "the on-chain leg's transaction signature"}),
               slot=_nullable({"type": "integer", "description": "the slot its transaction landed in"}))
    option = _obj(["venue", "available"], venue={"type": "string"}, available={"type": "boolean"},
                  reason={"type": "string"}, in_amount_atoms=_nullable(ATOMS), out_amount_atoms=_nullable(ATOMS),
                  price_impact_bps=_nullable(BPS), spread_bps=_nullable(BPS), fee_atoms=_nullable(ATOMS),
                  fee_bps=_nullable(BPS), execution_cost_bps=_nullable(BPS), delay_risk_bps=_nullable(BPS),
                  cost_bps=_nullable(BPS), delay_ms=_nullable({"type": "integer"}), detail={"type": "object"})
    order_echo = _obj(["input_mint", "input_symbol", "output_mint", "output_symbol", "swap_mode", "slippage_bps"],
                      input_mint={"type": "string"}, input_symbol={"type": "string"}, output_mint={"type": "string"},
                      output_symbol={"type": "string"}, swap_mode={"enum": ["ExactIn", "ExactOut"]},
                      slippage_bps={"type": "integer"}, in_amount_atoms=ATOMS, out_amount_atoms=ATOMS)
    decision = _obj(["legs", "in_amount_atoms", "out_amount_atoms", "explanation"], venue={"type": "string"},
                    legs={"type": "array", "items": _ref("Leg")}, in_amount_atoms=ATOMS, out_amount_atoms=ATOMS,
                    cost_bps=_nullable(BPS), min_out_amount_atoms=_nullable(ATOMS),
                    max_in_amount_atoms=_nullable(ATOMS), jupiter_only_in_amount_atoms=_nullable(ATOMS),
                    jupiter_only_out_amount_atoms=_nullable(ATOMS), savings_atoms=_nullable(ATOMS),
                    savings_bps=_nullable(BPS), explanation={"type": "string"})
    order_request = {
        **_obj(["input", "output"],
               input={"type": "string", "minLength": 1, "maxLength": 64, "description": "symbol (SOL) or mint"},
               output={"type": "string", "minLength": 1, "maxLength": 64},
               amount={"anyOf": [{"type": "string",
                                  "pattern": r"^([0-9]{1,20}|[1-9][0-9]{0,2}(,[0-9]{3}){1,6})(\.[0-9]{1,18})?$"},
                                 EMPTY, {"type": "null"}],
                       "description": "human units of the input (ExactIn) or output (ExactOut) token: a decimal "
                                      "string, thousands commas allowed (25,000); a JSON number is a 400"},
               amount_atoms={"anyOf": [{"type": "string", "pattern": "^[0-9]{1,20}$"}, EMPTY, {"type": "null"}],
                             "description": "instead of amount (empty or null: not given)"},
               slippage_bps={"type": "integer", "minimum": 1, "maximum": 5000, "default": 50},
               swap_mode={"enum": ["ExactIn", "ExactOut"], "default": "ExactIn"}),
        "description": "give exactly one of amount and amount_atoms",
    }
    executable = {**order_request, "properties": {**order_request["properties"], "acknowledge_cost": ACKNOWLEDGE},
                  "description": "an order to execute now: give exactly one of amount and amount_atoms"}
    trade = _obj(["id", "status", "pair", "venue", "order", "legs", "in_amount_atoms", "out_amount_atoms",
                  "created_at"],
                 id={"type": "integer"}, status={"enum": list(TRADE_STATUSES), "description": (
                     "partial: a maker accepted its leg at last look and a later leg failed; legs and amounts are "
                     "what filled, error/error_code why the rest did not")},
                 quote_id=_nullable({"type": "string"}), pair={"type": "string"}, venue={"type": "string"},
                 order=_ref("OrderEcho"), legs={"type": "array", "items": _ref("Leg")},
                 in_amount_atoms=ATOMS, out_amount_atoms=ATOMS, min_out_amount_atoms=_nullable(ATOMS),
                 max_in_amount_atoms=_nullable(ATOMS), jupiter_only_out_amount_atoms=_nullable(ATOMS),
                 jupiter_only_in_amount_atoms=_nullable(ATOMS), savings_atoms=_nullable(ATOMS),
                 savings_bps=_nullable(BPS), savings_usd_atoms=ATOMS, notional_usd_atoms=ATOMS,
                 cost_bps=_nullable(BPS), explanation={"type": "string"}, error=_nullable({"type": "string"}),
                 error_code=_nullable({"type": "string"}), failed_at=_nullable(TIME),
                 user_id=_nullable({"type": "integer"}), latency_ms=_nullable({"type": "integer"}),
                 created_at=TIME, quoted_at=_nullable(TIME), executed_at=_nullable(TIME), settled_at=_nullable(TIME),
                 options={"type": "array", "items": _ref("VenueOption")},
                 rfq_attempts={"type": "array", "description": "last look at each RFQ maker, in order",
                               "items": _obj(["venue", "quote_id", "state"], venue={"type": "string"},
                                             quote_id={"type": "string"},
                                             state={"enum": ["sending", "accepted", "rejected"]},
                                             reason=_nullable({"type": "string"}),
                                             rerouted_to=_nullable({"type": "string"}))},
                 tca=_nullable(_ref("Tca")))
    nb = _nullable(BPS)
    tca = _obj(["arrival_mid", "shortfall_bps", "shortfall_atoms", "components_bps", "markouts_bps", "savings_bps"],
               arrival_mid=_nullable({"type": "string"}), shortfall_bps=nb, shortfall_atoms=_nullable(ATOMS),
               components_bps=_obj(["impact", "fees", "spread", "timing"], impact=nb, fees=nb, spread=nb, timing=nb),
               markouts_bps=_obj(["1s", "10s", "60s", "300s"], **{"1s": nb, "10s": nb, "60s": nb, "300s": nb}),
               savings_bps=_obj(["jupiter_one_shot", "best_single_venue", "twap"], jupiter_one_shot=nb,
                                best_single_venue=nb, twap=nb))
    pool = _obj(["id", "name", "venue", "active", "base_mint", "quote_mint", "base_atoms", "quote_atoms"],
                id={"type": "integer"}, name={"type": "string"}, venue={"type": "string"},
                active={"type": "boolean"}, base_mint={"type": "string"}, base_symbol={"type": "string"},
                quote_mint={"type": "string"}, quote_symbol={"type": "string"},
                **{name: BPS for name in pool_config.DECIMAL_FIELDS},
                **{name: ATOMS for name in pool_config.ATOM_FIELDS},
                **{name: {"type": "integer"} for name in pool_config.MS_FIELDS},
                base_atoms=ATOMS, quote_atoms=ATOMS, inventory_at=TIME, updated_at=TIME)
    pool_patch = {
        "type": "object", "minProperties": 1, "additionalProperties": False,
        "description": "any subset of the editable fields; the whole new configuration must pass the engine's checks",
        "properties": {
            **{name: DECIMAL_IN for name in pool_config.DECIMAL_FIELDS},
            **{name: {"type": "string", "pattern": "^[0-9]{1,19}$"} for name in pool_config.ATOM_FIELDS},
            **{name: {"type": "integer", "minimum": 0, "maximum": pool_config.MAX_MS}
               for name in pool_config.MS_FIELDS},
            "active": {"type": "boolean"},
        },
    }
    return {
        "Error": _obj(["error"], error=_obj(["code", "message"], code={"type": "string", "pattern": "^[A-Z0-9_]+$"},
                                             message={"type": "string"}, field={"type": "string"},
                                             trade_id={"type": "integer"},
                                             suggestion=_nullable(_ref("ParentSuggestion")))),
        **openapi_guardrails.schemas(ATOMS, BPS, TIME),
        "Leg": leg, "VenueOption": option, "OrderEcho": order_echo, "Decision": decision,
        "OrderRequest": order_request, "ExecutableOrder": executable,
        "QuoteRef": {"type": "object", "required": ["quote_id"], "additionalProperties": False,
                     "properties": {"quote_id": {"type": "string", "minLength": 1, "maxLength": 40},
                                    "acknowledge_cost": ACKNOWLEDGE}},
        "Quote": _obj(["quote_id", "expires_at", "order", "options", "decision"], quote_id={"type": "string"},
                      expires_at=TIME, quoted_at=TIME, mid_price={"type": "string"}, order=_ref("OrderEcho"),
                      options={"type": "array", "items": _ref("VenueOption")}, decision=_ref("Decision"),
                      guardrails=_ref("Guardrails"), latency_ms={"type": "integer"}),
        "Trade": trade, "Tca": tca,
        **_parent_schemas(),
        "TradePage": _obj(["trades", "next_cursor"], trades={"type": "array", "items": _ref("Trade")},
                          next_cursor=_nullable({"type": "string"})),
        "Pool": pool, "PoolPatch": pool_patch,
        "PoolList": _obj(["pools"], pools={"type": "array", "items": _ref("Pool")}),
        "Summary": _obj(["trades", "volume_usd_atoms", "savings_usd_atoms", "route_mix"],
                        since=_nullable(TIME), trades={"type": "integer"},
                        trades_by_status={"type": "object", "additionalProperties": {"type": "integer"}},
                        volume_usd_atoms=ATOMS, savings_usd_atoms=ATOMS, savings_bps=BPS, otc_share_pct=BPS,
                        route_mix={"type": "array", "items": _obj(["venue", "trades"], venue={"type": "string"},
                                                                  trades={"type": "integer"},
                                                                  volume_usd_atoms=ATOMS)}),
        "Event": _obj(["id", "kind", "at", "message", "level", "url"],
                      id={"type": "string", "description": "stable: the same event is never sent twice in a row"},
                      kind={"enum": ["trade_filled", "trade_rejected", "trade_failed", "quote_expiring",
                                     "quote_expired"]},
                      at=TIME, message={"type": "string"}, level={"enum": ["success", "info", "warning", "danger"]},
                      url={"type": "string", "description": "the page of the trade or quote"},
                      trade_id={"type": "integer"}, quote_id={"type": "string"}, expires_at=TIME),
        "Events": _obj(["now", "since", "events"], now=TIME, since=TIME,
                       events={"type": "array", "items": _ref("Event")}),
        **openapi_makers.schemas(),
        "Health": _obj(["status", "db", "jupiter"], status={"enum": ["ok", "degraded"]},
                       db={"enum": ["ok", "down"]}, jupiter={"enum": ["ok", "degraded", "down"]},
                       reference_price={"enum": ["ok", "down"]}),
    }


def _parent_schemas() -> dict[str, Any]:
    """Parent orders (issue 16): the request, the order with its progress and children, the ticket's estimate."""
    price = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "description": "output per input token, human units"}
    price_in = {"type": "string", "pattern": r"^(?:[0-9]+|[1-9][0-9]{0,2}(?:,[0-9]{3})+)(?:\.[0-9]+)?$",
                "maxLength": 64, "description": "optional: output per input token, human units (thousands commas "
                "allowed), above 0, below 10^18, at most 18 decimals; \"\" or null: no limit"}
    column = _obj(["cost_bps", "level"], cost_bps=_nullable(BPS), cost_usd_atoms=_nullable(ATOMS), level=LEVEL)
    return {
        "ParentOrderRequest": {"allOf": [_ref("OrderRequest"), {
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
        "ParentOrder": _obj(
            ["id", "status", "amount_atoms", "filled_atoms", "remaining_atoms", "avg_price", "children"],
            id={"type": "integer"}, status={"enum": ["working", "completed", "cancelled", "failed"]},
            strategy={"enum": ["twap", "adaptive"]}, amount_atoms=ATOMS, filled_atoms=ATOMS,
            remaining_atoms=ATOMS, scheduled_atoms=ATOMS, duration_s={"type": "integer"},
            slices={"type": "integer"}, limit_price=_nullable(price), arrival_mid=_nullable(price),
            avg_price=_nullable(price), shortfall_bps=_nullable({"type": "string"}),
            shortfall_usd_atoms=_nullable({**ATOMS, "description": "shortfall_bps of the filled notional, USD atoms "
                                           "(6 decimals), rounded up"}), note={"type": "string"},
            timeline={"type": "array", "items": {"type": "object"}},
            children={"type": "array", "items": _ref("Trade")}),
        "ParentOrderList": _obj(["orders"], orders={"type": "array", "items": _ref("ParentOrder")}),
        "Estimate": _obj(["now", "split", "over_time", "suggest_parent"], now=column, split=column,
                         over_time=column, suggest_parent={"type": "boolean"},
                         confirm_required={"type": "boolean"}, notional_usd_atoms=ATOMS),
    }


def _parent_paths(idem: dict[str, Any]) -> dict[str, Any]:
    """The parent-order operations (issue 16)."""
    one = _json(_ref("ParentOrder"), ex.PARENT)
    return {
        "/api/v1/orders": {
            "post": _op("create_order", "trader", "place a parent order worked over time by the job runner",
                        {**_responses(201, one, 400, 401, 403, 409, 413, 422, 503, description="placed"),
                         "200": {"description": "replay of an earlier request with the same Idempotency-Key",
                                 **_json(_ref("ParentOrder"))}},
                        parameters=[idem], requestBody={"required": True, **_json(
                            {"allOf": [_ref("ParentOrderRequest"),
                                       {"type": "object", "properties": {"acknowledge_cost": ACKNOWLEDGE}}]},
                            ex.PARENT_REQUEST)}),
            "get": _op("list_orders", "viewer", "parent orders newest first",
                       _responses(200, _json(_ref("ParentOrderList"), {"orders": [ex.PARENT]}), 400, 401, 403),
                       parameters=[_query("mine", {"enum": ["true", "false", "1", "0"]}, "only the caller's")])},
        "/api/v1/orders/{order_id}": {"get": _op(
            "get_order", "viewer", "one parent order: progress, slices, children",
            _responses(200, one, 401, 403, 404), parameters=[_id("order_id")])},
        "/api/v1/orders/{order_id}/cancel": {"post": _op(
            "cancel_order", "trader", "stop a working parent order (its placer or an admin); the filled part stays",
            _responses(200, one, 401, 403, 404, 409), parameters=[_id("order_id")])},
        "/api/v1/orders/estimate": {"post": _op(
            "estimate_order", "trader", "the order now on one venue, split now, and over N minutes (estimates)",
            _responses(200, _json(_ref("Estimate"), ex.ESTIMATE), 400, 401, 403, 413, 422, 503),
            requestBody={"required": True, **_json(_ref("ParentOrderRequest"), ex.PARENT_REQUEST)})},
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An optional query parameter."""
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _id(name: str) -> dict[str, Any]:
    """An integer path id."""
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}}


def _op(operation_id: str, role: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One operation; `x-required-role` is auth.POLICY's least role (public ones say `security: []`)."""
    op: dict[str, Any] = {"operationId": operation_id, "x-required-role": role, "summary": summary, **extra,
                          "responses": responses}
    if role == "public":
        op["security"] = []
    return op


def _chart_params(default_range: str) -> list[dict[str, Any]]:
    """The analytics window parameters of the chart endpoints."""
    return [_query("range", {"enum": ["24h", "7d", "30d", "90d", "all"], "default": default_range}, "time window"),
            _query("from", OPTIONAL_DATE, "first UTC day (YYYY-MM-DD), with `to`; empty: none"),
            _query("to", OPTIONAL_DATE, "last UTC day, inclusive; empty: none")]


def _paths() -> dict[str, Any]:
    """Every operation of the API."""
    trade_body = {"anyOf": [_ref("ExecutableOrder"), _ref("QuoteRef")]}
    idem = {"name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 128},
            "description": "the same key and order return the first result; a different order is a 409 (the order "
                           "is compared once parsed: spelling out a default is the same order); empty: 400"}
    chart = {"type": "object", "description": "series for our pages' charts (fields may grow)"}
    trades_query = [
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, "page size"),
        _query("cursor", {"type": "string", "pattern": "^[0-9]{1,18}$"}, "next_cursor of the previous page"),
        _query("venue", {"type": "string", "pattern": VENUE_FILTER_PATTERN},
               "jupiter, split, none (refused before routing), otc:<pool> or rfq:<maker>; empty is a 400"),
        _query("status", {"enum": list(TRADE_STATUSES)}, "trade status; empty is a 400"),
        _query("pair", {"type": "string"}, "e.g. SOL/USDC"),
        _query("trader", {"type": "string"}, "username of who placed the trades"),
        _query("mine", {"enum": ["true", "false", "1", "0"]}, "true: only the caller's own trades (wins over trader)"),
        _query("q", {"type": "string", "maxLength": 64}, "a trade id ('123' or '#123') or a quote id"),
    ]
    replay = {"description": "replay of an earlier request with the same Idempotency-Key", **_json(_ref("Trade"))}
    unknown = {"description": "the Jupiter leg's transaction was sent but not confirmed: the trade is `unknown` "
                              "until recovery asks the chain", **_json(_ref("Trade"))}
    return {
        "/healthz": {"get": _op("healthz", "public", "liveness: database and Jupiter state",
                                _responses(200, _json(_ref("Health"), ex.HEALTH), 503))},
        "/api/v1/openapi.json": {"get": _op("openapi", "public", "this document", {"200": {
            "description": "the OpenAPI 3.1 document", **_json({"type": "object"})}})},
        "/api/v1/quotes": {"post": _op(
            "create_quote", "trader", "quote an order on every venue and decide; nothing is executed",
            _responses(200, _json(_ref("Quote"), ex.QUOTE), 400, 401, 403, 413, 422, 429, 503),
            requestBody={"required": True, **_json(_ref("OrderRequest"), ex.ORDER)})},
        "/api/v1/trades": {
            "post": _op("create_trade", "trader", "execute a fresh order, or a stored quote by quote_id",
                        {**_responses(201, _json(_ref("Trade"), ex.TRADE), 400, 401, 403, 404, 409, 410, 413, 422,
                                      429, 503, description="executed (or recorded as rejected; status partial "
                                      "when only accepted maker legs filled)"), "200": replay,
                         "202": unknown},
                        parameters=[idem], requestBody={"required": True, **_json(trade_body, ex.ORDER)}),
            "get": _op("list_trades", "viewer", "trades newest first, keyset-paginated",
                       _responses(200, _json(_ref("TradePage"), {"trades": [ex.TRADE], "next_cursor": None}),
                                  400, 401, 403), parameters=trades_query)},
        "/api/v1/trades/{trade_id}": {"get": _op(
            "get_trade", "viewer", "one trade with its legs and the quotes it was decided on",
            _responses(200, _json(_ref("Trade"), ex.TRADE), 401, 403, 404), parameters=[_id("trade_id")])},
        "/api/v1/pools": {"get": _op("list_pools", "viewer", "OTC pools: configuration and stored inventory",
                                     _responses(200, _json(_ref("PoolList"), {"pools": [ex.POOL]}), 401, 403))},
        "/api/v1/pools/{pool_id}": {
            "get": _op("get_pool", "viewer", "one OTC pool", _responses(200, _json(_ref("Pool"), ex.POOL), 401, 403,
                                                                        404), parameters=[_id("pool_id")]),
            "patch": _op("update_pool", "admin", "change a pool's configuration (validated, audited)",
                         _responses(200, _json(_ref("Pool"), ex.POOL), 400, 401, 403, 404, 413),
                         parameters=[_id("pool_id")],
                         requestBody={"required": True, **_json(_ref("PoolPatch"), ex.POOL_PATCH)})},
        "/api/v1/analytics/summary": {"get": _op(
            "analytics_summary", "viewer", "totals: trades, volume, savings and route mix",
            _responses(200, _json(_ref("Summary"), ex.SUMMARY), 400, 401, 403),
            parameters=[_query("since", {"anyOf": [{"type": "string", "format": "date-time"}, EMPTY]},
                               "ISO 8601 with a timezone; empty: all time")])},
        "/api/v1/me/events": {"get": _op(
            "me_events", "viewer", "the caller's own trades finished and firm quotes expiring since a moment "
            "(our pages poll it for toasts)",
            _responses(200, _json(_ref("Events"), ex.EVENTS), 400, 401, 403),
            parameters=[_query("since", {"anyOf": [{"type": "string", "format": "date-time"}, EMPTY]},
                               "the previous answer's `now` (at most an hour back); empty: now")])},
        "/api/v1/analytics/dashboard": {"get": _op(
            "charts_dashboard", "viewer", "the dashboard's live data: totals, latest trades, pools, Jupiter state",
            _responses(200, _json(chart), 401, 403))},
        "/api/v1/analytics/charts": {"get": _op(
            "charts_series", "viewer", "every analytics chart's series over a window",
            _responses(200, _json(chart), 400, 401, 403), parameters=[*_chart_params("30d"), _query(
                "benchmark", {"enum": ["best_single_venue", "jupiter_one_shot", "twap"],
                              "default": "best_single_venue"}, "what the savings series are measured against")])},
        "/api/v1/analytics/cost-curve": {"get": _op(
            "charts_cost_curve", "viewer", "all-in cost (bps) vs size per venue and the router's choice",
            _responses(200, _json(chart), 400, 401, 403),
            parameters=[_query("pair", {"type": "string", "default": "SOL/USDC"}, "pair, e.g. SOL/USDC"),
                        _query("side", {"enum": ["sell", "buy"], "default": "sell"}, "sell or buy the base token")])},
        "/api/v1/analytics/monitoring": {"get": _op(
            "charts_monitoring", "viewer", "Jupiter client counters, DB health and the metrics history",
            _responses(200, _json(chart), 400, 401, 403), parameters=_chart_params("24h"))},
        **openapi_makers.paths(_op, _responses, _json, _id, _query),
        **_parent_paths(idem),
    }


def type_label(schema: dict[str, Any]) -> str:
    """A short human name of a schema's type for the API page, e.g. "Trade[]", "string | null"."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "anyOf" in schema:
        return " | ".join(type_label(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(f'"{v}"' for v in schema["enum"])
    if schema.get("type") == "array":
        return type_label(schema.get("items", {})) + "[]"
    return str(schema.get("type", "any"))


def init_app(app: Any) -> None:
    """Expose the document and type_label to templates (the rendered API page, templates/api_docs.html)."""
    app.jinja_env.globals["openapi_spec"] = spec
    app.jinja_env.filters["schema_type"] = type_label


@cache
def spec() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document (built once per process)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "OTC Liquidity Router API", "version": "1.0.0",
                 "description": "Quotes and trades routed between Jupiter and OTC dealer pools. Amounts are integer "
                                "atoms as decimal strings. Errors: {\"error\": {\"code\", \"message\", \"field\"}}. "
                                "Authenticate with `Authorization: Bearer <token>` (`flask --app main tokens create "
                                "NAME`). Roles: viewer reads, trader quotes and trades, admin edits pools."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "an API token from `flask --app main tokens create NAME`"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session",
                                  "description": "the browser session; writes also need the X-CSRFToken header"},
            },
        },
    }
