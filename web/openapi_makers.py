"""The RFQ makers' part of the OpenAPI document (issue 15): schemas and the admin operations of /api/v1/makers.

openapi_spec.py merges it in; both build from openapi_parts.py.
"""
from __future__ import annotations

from typing import Any

from web.openapi_parts import TIME, json_, op, path_id, query, ref, responses

NULL_TIME = {"anyOf": [TIME, {"type": "null"}]}
NULL_TEXT = {"anyOf": [{"type": "string"}, {"type": "null"}]}
NULL_INT = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
MARKOUTS = {"type": "object", "required": ["trades"], "description": (
    "the average markout (bps, 2 decimals) at +1/10/60/300 s over the trades this maker filled a leg of in the "
    "period, and how many trades each is over (null: none measured yet); negative = adverse selection"),
    "properties": {"trades": {"type": "integer"}, **{f"{h}s_bps": {"anyOf": [{"type": "string"}, {"type": "null"}]}
                                                     for h in (1, 10, 60, 300)},
                   **{f"{h}s_trades": {"type": "integer"} for h in (1, 10, 60, 300)}}}

MAKER_EXAMPLE = {"id": 1, "name": "alpha", "venue": "rfq:alpha", "base_url": "sim://alpha", "has_api_key": False,
                 "enabled": True, "state": "enabled", "timeout_ms": 500, "suspended_until": None, "fail_streak": 0,
                 "suspensions": 0, "last_error": None,
                 "tokens": ["EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
                            "So11111111111111111111111111111111111111112"],
                 "tokens_at": "2026-12-02T01:40:00.000Z", "sim_behaviour": {"latency_ms": 40, "reject_pct": 5},
                 "created_at": "2026-12-02T01:40:00.000Z", "updated_at": "2026-12-02T01:40:00.000Z"}
STATS_EXAMPLE = {"period": "24h", "quote_requests": 40, "answers": 38, "answer_rate_pct": "95.0",
                 "answer_latency_p50_ms": 55, "answer_latency_p95_ms": 92, "refusals": {"late": 2}, "wins": 9,
                 "swaps": 9, "accepted": 8, "fill_rate_pct": "88.9", "reject_reasons": {"insufficientBalance": 1},
                 "rerouted": 1, "avg_improvement_bps": "6.20",
                 "markouts": {"trades": 8, "1s_bps": "0.12", "1s_trades": 8, "10s_bps": "-0.40", "10s_trades": 8,
                              "60s_bps": "-1.05", "60s_trades": 7, "300s_bps": None, "300s_trades": 0}}
CREATE_EXAMPLE = {"name": "wintermute", "base_url": "https://mm.example.com/jupiter/rfq", "api_key": "secret",
                  "enabled": True, "timeout_ms": 250}


def schemas() -> dict[str, Any]:
    """Maker, MakerList, MakerStats, MakerCreate and MakerPatch."""
    fields = {"name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,47}$"},
              "base_url": {"type": "string", "maxLength": 255,
                           "description": "https://... (http:// or sim://<name> for tests and the simulator)"},
              "api_key": {"anyOf": [{"type": "string", "maxLength": 255}, {"type": "null"}],
                          "description": "sent as X-API-KEY; write-only, never returned"},
              "enabled": {"type": "boolean"}, "timeout_ms": {"type": "integer", "minimum": 10, "maximum": 500},
              "sim_behaviour": {"anyOf": [{"type": "object"}, {"type": "null"}],
                                "description": "sim:// makers only: latency_ms, jitter_ms, reject_pct, stale_pct, "
                                               "stale_age_s, garbage_pct, price_offset_bps, down"}}
    maker = {"type": "object", "required": ["id", "name", "venue", "base_url", "has_api_key", "enabled", "state"],
             "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "venue": {"type": "string"},
                            "base_url": {"type": "string"}, "has_api_key": {"type": "boolean"},
                            "enabled": {"type": "boolean"}, "state": {"enum": ["enabled", "disabled", "suspended"]},
                            "timeout_ms": {"type": "integer"}, "suspended_until": NULL_TIME,
                            "fail_streak": {"type": "integer"}, "suspensions": {"type": "integer"},
                            "last_error": NULL_TEXT, "tokens": {"type": "array", "items": {"type": "string"}},
                            "tokens_at": NULL_TIME, "sim_behaviour": {"anyOf": [{"type": "object"}, {"type": "null"}]},
                            "created_at": TIME, "updated_at": TIME, "stats": ref("MakerStats")}}
    pct = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    stats = {"type": "object", "required": ["period", "quote_requests", "answers", "wins", "swaps", "accepted"],
             "properties": {"period": {"enum": ["1h", "24h", "7d", "30d", "all"]},
                            "quote_requests": {"type": "integer"}, "answers": {"type": "integer"},
                            "answer_rate_pct": pct, "answer_latency_p50_ms": NULL_INT,
                            "answer_latency_p95_ms": NULL_INT, "refusals": COUNTS, "wins": {"type": "integer"},
                            "swaps": {"type": "integer"}, "accepted": {"type": "integer"}, "fill_rate_pct": pct,
                            "reject_reasons": COUNTS, "rerouted": {"type": "integer"},
                            "avg_improvement_bps": {**pct, "description": (
                                "mean over won quotes of the best other venue's all-in cost for the same leg size "
                                "at decision time minus the maker leg's (bps)")},
                            "markouts": MARKOUTS}}
    return {"Maker": maker, "MakerStats": stats,
            "MakerList": {"type": "object", "required": ["makers"],
                          "properties": {"makers": {"type": "array", "items": ref("Maker")}}},
            "MakerCreate": {"type": "object", "required": ["name", "base_url"], "properties": fields,
                            "additionalProperties": False},
            "MakerPatch": {"type": "object", "properties": fields, "additionalProperties": False}}


def paths() -> dict[str, Any]:
    """The /api/v1/makers operations."""
    one = json_(ref("Maker"), MAKER_EXAMPLE)
    period = query("period", {"enum": ["1h", "24h", "7d", "30d", "all"], "default": "24h"}, "scorecard window")
    return {
        "/api/v1/makers": {
            "get": op("list_makers", "admin", "external RFQ makers (API keys never returned)",
                      responses(200, json_(ref("MakerList"), {"makers": [MAKER_EXAMPLE]}), 401, 403)),
            "post": op("create_maker", "admin", "add a maker in Jupiter Z's webhook format (audited)",
                       responses(201, one, 400, 401, 403, 409, 413),
                       requestBody={"required": True, **json_(ref("MakerCreate"), CREATE_EXAMPLE)})},
        "/api/v1/makers/{maker_id}": {
            "get": op("get_maker", "admin", "one maker with its scorecard (stats)",
                      responses(200, json_(ref("Maker"), {**MAKER_EXAMPLE, "stats": STATS_EXAMPLE}), 400, 401,
                                403, 404), parameters=[path_id("maker_id"), period]),
            "patch": op("update_maker", "admin", "change a maker (enable, disable, key, timeout; audited)",
                        responses(200, one, 400, 401, 403, 404, 409, 413), parameters=[path_id("maker_id")],
                        requestBody={"required": True, **json_(ref("MakerPatch"), {"enabled": False})}),
            "delete": op("delete_maker", "admin", "remove a maker (its history stays; audited)",
                         {"204": {"description": "removed"}, **{k: v for k, v in responses(
                             204, {}, 401, 403, 404).items() if k != "204"}}, parameters=[path_id("maker_id")])},
    }
