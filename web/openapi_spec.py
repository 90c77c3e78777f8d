"""The OpenAPI 3.1 description of the JSON API v1 (../shared/API.md), served at GET /api/v1/openapi.json.

tests/test_openapi.py keeps it true to the code: the spec is valid 3.1, every /api/ route is documented and every
documented path exists, every example validates against its schema; tests/test_fuzz_api.py fuzzes the API from it.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from services import pool_config
from web import openapi_examples as ex
from web import openapi_guardrails, openapi_makers, openapi_orders
from web.openapi_parts import (
    ACKNOWLEDGE,
    ATOMS,
    BPS,
    DECIMAL_IN,
    EMPTY,
    OPTIONAL_DATE,
    TIME,
    json_,
    nullable,
    obj,
    op,
    path_id,
    query,
    ref,
    responses,
)

# GET /api/v1/trades filters: the handler checks them against these, so the document and the answers agree.
TRADE_STATUSES = ("pending", "filled", "partial", "rejected", "failed", "unknown")
VENUE_FILTER_PATTERN = r"^(jupiter|split|none|(otc|rfq):[A-Za-z0-9_.-]{1,60})$"

def _schemas() -> dict[str, Any]:
    """Component schemas: requests, answers and the error shape."""
    leg = obj(["venue", "in_amount_atoms", "out_amount_atoms"], venue={"type": "string"},
               in_amount_atoms=ATOMS, out_amount_atoms=ATOMS, fee_atoms=ATOMS, cost_bps=nullable(BPS),
               tx_signature=nullable({"type": "string", "description": "the on-chain leg's transaction signature"}),
               slot=nullable({"type": "integer", "description": "the slot its transaction landed in"}))
    option = obj(["venue", "available"], venue={"type": "string"}, available={"type": "boolean"},
                  reason={"type": "string"}, in_amount_atoms=nullable(ATOMS), out_amount_atoms=nullable(ATOMS),
                  price_impact_bps=nullable(BPS), spread_bps=nullable(BPS), fee_atoms=nullable(ATOMS),
                  fee_bps=nullable(BPS), execution_cost_bps=nullable(BPS), delay_risk_bps=nullable(BPS),
                  cost_bps=nullable(BPS), delay_ms=nullable({"type": "integer"}), detail={"type": "object"})
    order_echo = obj(["input_mint", "input_symbol", "output_mint", "output_symbol", "swap_mode", "slippage_bps"],
                      input_mint={"type": "string"}, input_symbol={"type": "string"}, output_mint={"type": "string"},
                      output_symbol={"type": "string"}, swap_mode={"enum": ["ExactIn", "ExactOut"]},
                      slippage_bps={"type": "integer"}, in_amount_atoms=ATOMS, out_amount_atoms=ATOMS)
    decision = obj(["legs", "in_amount_atoms", "out_amount_atoms", "explanation"], venue={"type": "string"},
                    legs={"type": "array", "items": ref("Leg")}, in_amount_atoms=ATOMS, out_amount_atoms=ATOMS,
                    cost_bps=nullable(BPS), min_out_amount_atoms=nullable(ATOMS),
                    max_in_amount_atoms=nullable(ATOMS), jupiter_only_in_amount_atoms=nullable(ATOMS),
                    jupiter_only_out_amount_atoms=nullable(ATOMS), savings_atoms=nullable(ATOMS),
                    savings_bps=nullable(BPS), explanation={"type": "string"})
    order_request = {
        **obj(["input", "output"],
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
    trade = obj(["id", "status", "pair", "venue", "order", "legs", "in_amount_atoms", "out_amount_atoms",
                  "created_at"],
                 id={"type": "integer"}, status={"enum": list(TRADE_STATUSES), "description": (
                     "partial: a maker accepted its leg at last look and a later leg failed; legs and amounts are "
                     "what filled, error/error_code why the rest did not")},
                 quote_id=nullable({"type": "string"}), pair={"type": "string"}, venue={"type": "string"},
                 order=ref("OrderEcho"), legs={"type": "array", "items": ref("Leg")},
                 in_amount_atoms=ATOMS, out_amount_atoms=ATOMS, min_out_amount_atoms=nullable(ATOMS),
                 max_in_amount_atoms=nullable(ATOMS), jupiter_only_out_amount_atoms=nullable(ATOMS),
                 jupiter_only_in_amount_atoms=nullable(ATOMS), savings_atoms=nullable(ATOMS),
                 savings_bps=nullable(BPS), savings_usd_atoms=ATOMS, notional_usd_atoms=ATOMS,
                 cost_bps=nullable(BPS), explanation={"type": "string"}, error=nullable({"type": "string"}),
                 error_code=nullable({"type": "string"}), failed_at=nullable(TIME),
                 user_id=nullable({"type": "integer"}), latency_ms=nullable({"type": "integer"}),
                 created_at=TIME, quoted_at=nullable(TIME), executed_at=nullable(TIME), settled_at=nullable(TIME),
                 options={"type": "array", "items": ref("VenueOption")},
                 rfq_attempts={"type": "array", "description": "last look at each RFQ maker, in order",
                               "items": obj(["venue", "quote_id", "state"], venue={"type": "string"},
                                             quote_id={"type": "string"},
                                             state={"enum": ["sending", "accepted", "rejected"]},
                                             reason=nullable({"type": "string"}),
                                             rerouted_to=nullable({"type": "string"}))},
                 tca=nullable(ref("Tca")))
    nb = nullable(BPS)
    tca = obj(["arrival_mid", "shortfall_bps", "shortfall_atoms", "components_bps", "markouts_bps", "savings_bps"],
               arrival_mid=nullable({"type": "string"}), shortfall_bps=nb, shortfall_atoms=nullable(ATOMS),
               components_bps=obj(["impact", "fees", "spread", "timing"], impact=nb, fees=nb, spread=nb, timing=nb),
               markouts_bps=obj(["1s", "10s", "60s", "300s"], **{"1s": nb, "10s": nb, "60s": nb, "300s": nb}),
               savings_bps=obj(["jupiter_one_shot", "best_single_venue", "twap"], jupiter_one_shot=nb,
                                best_single_venue=nb, twap=nb))
    pool = obj(["id", "name", "venue", "active", "base_mint", "quote_mint", "base_atoms", "quote_atoms"],
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
        "Error": obj(["error"], error=obj(["code", "message"], code={"type": "string", "pattern": "^[A-Z0-9_]+$"},
                                             message={"type": "string"}, field={"type": "string"},
                                             trade_id={"type": "integer"},
                                             suggestion=nullable(ref("ParentSuggestion")))),
        **openapi_guardrails.schemas(ATOMS, BPS, TIME),
        "Leg": leg, "VenueOption": option, "OrderEcho": order_echo, "Decision": decision,
        "OrderRequest": order_request, "ExecutableOrder": executable,
        "QuoteRef": {"type": "object", "required": ["quote_id"], "additionalProperties": False,
                     "properties": {"quote_id": {"type": "string", "minLength": 1, "maxLength": 40},
                                    "acknowledge_cost": ACKNOWLEDGE}},
        "Quote": obj(["quote_id", "expires_at", "order", "options", "decision"], quote_id={"type": "string"},
                      expires_at=TIME, quoted_at=TIME, mid_price={"type": "string"}, order=ref("OrderEcho"),
                      options={"type": "array", "items": ref("VenueOption")}, decision=ref("Decision"),
                      guardrails=ref("Guardrails"), latency_ms={"type": "integer"}),
        "Trade": trade, "Tca": tca,
        **openapi_orders.schemas(),
        "TradePage": obj(["trades", "next_cursor"], trades={"type": "array", "items": ref("Trade")},
                          next_cursor=nullable({"type": "string"})),
        "Pool": pool, "PoolPatch": pool_patch,
        "PoolList": obj(["pools"], pools={"type": "array", "items": ref("Pool")}),
        "Summary": obj(["trades", "volume_usd_atoms", "savings_usd_atoms", "route_mix"],
                        since=nullable(TIME), trades={"type": "integer"},
                        trades_by_status={"type": "object", "additionalProperties": {"type": "integer"}},
                        volume_usd_atoms=ATOMS, savings_usd_atoms=ATOMS, savings_bps=BPS, otc_share_pct=BPS,
                        route_mix={"type": "array", "items": obj(["venue", "trades"], venue={"type": "string"},
                                                                  trades={"type": "integer"},
                                                                  volume_usd_atoms=ATOMS)}),
        "Event": obj(["id", "kind", "at", "message", "level", "url"],
                      id={"type": "string", "description": "stable: the same event is never sent twice in a row"},
                      kind={"enum": ["trade_filled", "trade_rejected", "trade_failed", "quote_expiring",
                                     "quote_expired"]},
                      at=TIME, message={"type": "string"}, level={"enum": ["success", "info", "warning", "danger"]},
                      url={"type": "string", "description": "the page of the trade or quote"},
                      trade_id={"type": "integer"}, quote_id={"type": "string"}, expires_at=TIME),
        "Events": obj(["now", "since", "events"], now=TIME, since=TIME,
                       events={"type": "array", "items": ref("Event")}),
        **openapi_makers.schemas(),
        "Health": obj(["status", "db", "jupiter"], status={"enum": ["ok", "degraded"]},
                       db={"enum": ["ok", "down"]}, jupiter={"enum": ["ok", "degraded", "down"]},
                       reference_price={"enum": ["ok", "down"]}),
    }


def _chart_params(default_range: str) -> list[dict[str, Any]]:
    """The analytics window parameters of the chart endpoints."""
    return [query("range", {"enum": ["24h", "7d", "30d", "90d", "all"], "default": default_range}, "time window"),
            query("from", OPTIONAL_DATE, "first UTC day (YYYY-MM-DD), with `to`; empty: none"),
            query("to", OPTIONAL_DATE, "last UTC day, inclusive; empty: none")]


def _paths() -> dict[str, Any]:
    """Every operation of the API."""
    trade_body = {"anyOf": [ref("ExecutableOrder"), ref("QuoteRef")]}
    idem = {"name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 128},
            "description": "the same key and order return the first result; a different order is a 409 (the order "
                           "is compared once parsed: spelling out a default is the same order); empty: 400"}
    chart = {"type": "object", "description": "series for our pages' charts (fields may grow)"}
    trades_query = [
        query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, "page size"),
        query("cursor", {"type": "string", "pattern": "^[0-9]{1,18}$"}, "next_cursor of the previous page"),
        query("venue", {"type": "string", "pattern": VENUE_FILTER_PATTERN},
               "jupiter, split, none (refused before routing), otc:<pool> or rfq:<maker>; empty is a 400"),
        query("status", {"enum": list(TRADE_STATUSES)}, "trade status; empty is a 400"),
        query("pair", {"type": "string"}, "e.g. SOL/USDC"),
        query("trader", {"type": "string"}, "username of who placed the trades"),
        query("mine", {"enum": ["true", "false", "1", "0"]}, "true: only the caller's own trades (wins over trader)"),
        query("q", {"type": "string", "maxLength": 64}, "a trade id ('123' or '#123') or a quote id"),
    ]
    replay = {"description": "replay of an earlier request with the same Idempotency-Key", **json_(ref("Trade"))}
    unknown = {"description": "the Jupiter leg's transaction was sent but not confirmed: the trade is `unknown` "
                              "until recovery asks the chain", **json_(ref("Trade"))}
    return {
        "/healthz": {"get": op("healthz", "public", "liveness: database and Jupiter state",
                                responses(200, json_(ref("Health"), ex.HEALTH), 503))},
        "/api/v1/openapi.json": {"get": op("openapi", "public", "this document", {"200": {
            "description": "the OpenAPI 3.1 document", **json_({"type": "object"})}})},
        "/api/v1/quotes": {"post": op(
            "create_quote", "trader", "quote an order on every venue and decide; nothing is executed",
            responses(200, json_(ref("Quote"), ex.QUOTE), 400, 401, 403, 413, 422, 429, 503),
            requestBody={"required": True, **json_(ref("OrderRequest"), ex.ORDER)})},
        "/api/v1/trades": {
            "post": op("create_trade", "trader", "execute a fresh order, or a stored quote by quote_id",
                        {**responses(201, json_(ref("Trade"), ex.TRADE), 400, 401, 403, 404, 409, 410, 413, 422,
                                      429, 503, description="executed (or recorded as rejected; status partial "
                                      "when only accepted maker legs filled)"), "200": replay,
                         "202": unknown},
                        parameters=[idem], requestBody={"required": True, **json_(trade_body, ex.ORDER)}),
            "get": op("list_trades", "viewer", "trades newest first, keyset-paginated",
                       responses(200, json_(ref("TradePage"), {"trades": [ex.TRADE], "next_cursor": None}),
                                  400, 401, 403), parameters=trades_query)},
        "/api/v1/trades/{trade_id}": {"get": op(
            "get_trade", "viewer", "one trade with its legs and the quotes it was decided on",
            responses(200, json_(ref("Trade"), ex.TRADE), 401, 403, 404), parameters=[path_id("trade_id")])},
        "/api/v1/pools": {"get": op("list_pools", "viewer", "OTC pools: configuration and stored inventory",
                                     responses(200, json_(ref("PoolList"), {"pools": [ex.POOL]}), 401, 403))},
        "/api/v1/pools/{pool_id}": {
            "get": op("get_pool", "viewer", "one OTC pool", responses(200, json_(ref("Pool"), ex.POOL), 401, 403,
                                                                        404), parameters=[path_id("pool_id")]),
            "patch": op("update_pool", "admin", "change a pool's configuration (validated, audited)",
                         responses(200, json_(ref("Pool"), ex.POOL), 400, 401, 403, 404, 413),
                         parameters=[path_id("pool_id")],
                         requestBody={"required": True, **json_(ref("PoolPatch"), ex.POOL_PATCH)})},
        "/api/v1/analytics/summary": {"get": op(
            "analytics_summary", "viewer", "totals: trades, volume, savings and route mix",
            responses(200, json_(ref("Summary"), ex.SUMMARY), 400, 401, 403),
            parameters=[query("since", {"anyOf": [{"type": "string", "format": "date-time"}, EMPTY]},
                               "ISO 8601 with a timezone; empty: all time")])},
        "/api/v1/me/events": {"get": op(
            "me_events", "viewer", "the caller's own trades finished and firm quotes expiring since a moment "
            "(our pages poll it for toasts)",
            responses(200, json_(ref("Events"), ex.EVENTS), 400, 401, 403),
            parameters=[query("since", {"anyOf": [{"type": "string", "format": "date-time"}, EMPTY]},
                               "the previous answer's `now` (at most an hour back); empty: now")])},
        "/api/v1/analytics/dashboard": {"get": op(
            "charts_dashboard", "viewer", "the dashboard's live data: totals, latest trades, pools, Jupiter state",
            responses(200, json_(chart), 401, 403))},
        "/api/v1/analytics/charts": {"get": op(
            "charts_series", "viewer", "every analytics chart's series over a window",
            responses(200, json_(chart), 400, 401, 403), parameters=[*_chart_params("30d"), query(
                "benchmark", {"enum": ["best_single_venue", "jupiter_one_shot", "twap"],
                              "default": "best_single_venue"}, "what the savings series are measured against")])},
        "/api/v1/analytics/cost-curve": {"get": op(
            "charts_cost_curve", "viewer", "all-in cost (bps) vs size per venue and the router's choice",
            responses(200, json_(chart), 400, 401, 403),
            parameters=[query("pair", {"type": "string", "default": "SOL/USDC"}, "pair, e.g. SOL/USDC"),
                        query("side", {"enum": ["sell", "buy"], "default": "sell"}, "sell or buy the base token")])},
        "/api/v1/analytics/monitoring": {"get": op(
            "charts_monitoring", "viewer", "Jupiter client counters, DB health and the metrics history",
            responses(200, json_(chart), 400, 401, 403), parameters=_chart_params("24h"))},
        **openapi_makers.paths(),
        **openapi_orders.paths(idem),
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
