"""The guardrails' part of the OpenAPI document (issue 16): cost levels, `acknowledge_cost`, a quote's `guardrails`,
liquidity alerts and a COST_LIMIT refusal's parent-order suggestion. openapi_spec.py merges it in.
"""
from __future__ import annotations

from typing import Any

LEVEL = {"enum": ["ok", "warn", "danger"], "description": "a cost's colour: above COST_WARN_BPS, COST_DANGER_BPS"}
ACKNOWLEDGE = {"type": "boolean", "default": False,
               "description": "the trader accepts a cost above the hard-confirm threshold (HARD_CONFIRM_BPS or "
                              "HARD_CONFIRM_USD notional); without it such an execution is a 422 CONFIRM_REQUIRED "
                              "when HARD_CONFIRM_API is on (our quote page always asks)"}


def _ref(name: str) -> dict[str, str]:
    """A $ref to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    """An object schema with properties (extra properties allowed)."""
    return {"type": "object", "required": required, "properties": props}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema or null."""
    return {"anyOf": [schema, {"type": "null"}]}


def schemas(atoms: dict[str, Any], bps: dict[str, Any], time: dict[str, Any]) -> dict[str, Any]:
    """ParentSuggestion, Guardrails and Alert, with the main document's atoms, bps and time schemas."""
    return {
        "ParentSuggestion": {**_obj(
            ["strategy", "slices", "duration_s"], strategy={"enum": ["twap"]}, slices={"type": "integer"},
            duration_s={"type": "integer"}, slice_cost_bps=bps, max_cost_bps=bps,
            order={**_ref("OrderEcho"), "description": "the refused order, plus `amount` in human units"}),
            "description": "COST_LIMIT only: the parent order that fits under MAX_COST_BPS (null: none fits)"},
        "Guardrails": _obj(
            ["level", "confirm_required", "notional_usd_atoms", "thresholds"],
            level=LEVEL, confirm_required={"type": "boolean", "description": "executing needs acknowledge_cost"},
            confirm_reasons={"type": "array", "items": {"enum": ["cost", "notional"]},
                             "description": "the thresholds crossed: HARD_CONFIRM_BPS, HARD_CONFIRM_USD"},
            notional_usd_atoms=atoms, cost_usd_atoms=_nullable(atoms),
            thresholds=_obj(["warn_bps", "danger_bps", "confirm_bps", "confirm_usd_atoms"], warn_bps=bps,
                            danger_bps=bps, confirm_bps=bps, confirm_usd_atoms=atoms),
            option_levels={"type": "object", "additionalProperties": LEVEL,
                           "description": "each available venue's colour"},
            alerts={"type": "array", "items": _ref("Alert"), "description": "liquidity alerts of the order's pair"}),
        "Alert": _obj(["kind", "severity", "venue", "message"], kind={"enum": ["pool_low", "maker_suspended"]},
                      severity={"enum": ["warning", "danger"]}, venue={"type": "string"}, message={"type": "string"},
                      symbol={"type": "string"}, mint={"type": "string"}, held_atoms=atoms, target_atoms=atoms,
                      pct=bps, low_water_pct=bps, until=time, suspensions={"type": "integer"},
                      last_error={"anyOf": [{"type": "string"}, {"type": "null"}]}),
    }
