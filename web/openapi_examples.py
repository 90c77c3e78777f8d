"""Examples of the OpenAPI document (openapi_spec.py): real answers of the simulator, trimmed; tests validate them."""
from __future__ import annotations

from typing import Any

SOL = "So11111111111111111111111111111111111111112"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"

ERROR = {"error": {"code": "INVALID_AMOUNT", "message": "amount has more decimals than SOL allows (9)",
                   "field": "amount"}}
HEALTH = {"status": "ok", "db": "ok", "jupiter": "ok", "reference_price": "ok"}
ORDER = {"input": "SOL", "output": "USDC", "amount": "25000", "slippage_bps": 50, "swap_mode": "ExactIn"}
ORDER_ECHO = {"input_mint": SOL, "input_symbol": "SOL", "output_mint": USDC, "output_symbol": "USDC",
              "swap_mode": "ExactIn", "slippage_bps": 50}
LEG = {"venue": "otc:sol-usdc", "in_amount_atoms": "25000000000000", "out_amount_atoms": "3900644710512",
       "cost_bps": "14.4"}
OPTIONS: list[dict[str, Any]] = [
    {"venue": "jupiter", "available": True, "in_amount_atoms": "25000000000000", "out_amount_atoms": "3833374648608",
     "price_impact_bps": "162.1", "spread_bps": None, "fee_atoms": None, "fee_bps": None,
     "execution_cost_bps": "185.1", "delay_risk_bps": "1.3", "cost_bps": "186.4", "delay_ms": 800,
     "detail": {"context_slot": 461141590, "route_plan": [
         {"label": "Raydium", "amm_key": "HXW5gYENGwJYpLmm9Z57UGe2E1bLvpAobYBfeCg59VQu", "percent": 92,
          "in_amount_atoms": "22888684908538", "out_amount_atoms": "3504381802111"}]}},
    {"venue": "otc:sol-usdc", "available": True, "in_amount_atoms": "25000000000000",
     "out_amount_atoms": "3900644710512", "price_impact_bps": None, "spread_bps": "10.9", "fee_atoms": "780285000",
     "fee_bps": "2.0", "execution_cost_bps": "12.8", "delay_risk_bps": "1.5", "cost_bps": "14.4", "delay_ms": 1127,
     "detail": {"base_spread_bps": "5.0000", "size_spread_bps": "4.3394", "vol_spread_bps": "1.5124",
                "expires_at": "2026-11-26T01:30:51.163Z"}},
    {"venue": "otc:sol-usdt", "available": False, "reason": "above max trade size"},
]
QUOTE = {
    "quote_id": "q_HGy-7e5EhdTTzIAO2K4I0Ywa", "expires_at": "2026-11-26T01:30:51.163Z",
    "quoted_at": "2026-11-26T01:30:36.163Z", "mid_price": "156.226533730", "latency_ms": 3,
    "order": {**ORDER_ECHO, "in_amount_atoms": "25000000000000"}, "options": OPTIONS,
    "decision": {"venue": "otc:sol-usdc", "legs": [LEG], "in_amount_atoms": "25000000000000",
                 "out_amount_atoms": "3900644710512", "cost_bps": "14.4", "min_out_amount_atoms": "3881141486959",
                 "max_in_amount_atoms": None, "jupiter_only_in_amount_atoms": "25000000000000",
                 "jupiter_only_out_amount_atoms": "3833374648608", "savings_atoms": "67270061904",
                 "savings_bps": "175.5",
                 "explanation": "otc:sol-usdc fills all 25,000 SOL at 14.4 bps all-in vs 186.4 bps on jupiter"},
    "guardrails": {"level": "ok", "confirm_required": False, "confirm_reasons": [],
                   "notional_usd_atoms": "3905663343250",
                   "cost_usd_atoms": "5624156215",
                   "thresholds": {"warn_bps": "25.0", "danger_bps": "100.0", "confirm_bps": "150.0",
                                  "confirm_usd_atoms": "5000000000000"},
                   "option_levels": {"jupiter": "danger", "otc:sol-usdc": "ok"}, "alerts": []},
}
TRADE = {
    "id": 1042, "status": "filled", "quote_id": None, "pair": "SOL/USDC", "venue": "otc:sol-usdc",
    "order": ORDER_ECHO, "legs": [{**LEG, "fee_atoms": "780285000"}],
    "in_amount_atoms": "25000000000000", "out_amount_atoms": "3900644710512",
    "min_out_amount_atoms": "3881141486959", "max_in_amount_atoms": None,
    "jupiter_only_out_amount_atoms": "3833374648608", "jupiter_only_in_amount_atoms": "25000000000000",
    "savings_atoms": "67270061904", "savings_bps": "175.5", "savings_usd_atoms": "67270061904",
    "notional_usd_atoms": "3905663343259", "cost_bps": "14.4",
    "explanation": "otc:sol-usdc fills all 25,000 SOL at 14.4 bps all-in vs 186.4 bps on jupiter", "error": None,
    "user_id": 3, "latency_ms": 1, "created_at": "2026-11-26T01:30:36.173Z", "quoted_at": "2026-11-26T01:30:36.171Z",
    "executed_at": "2026-11-26T01:30:36.173Z", "settled_at": "2026-11-26T01:30:37.300Z", "options": OPTIONS[:2],
    "tca": {"arrival_mid": "156.226533730", "shortfall_bps": "12.9", "shortfall_atoms": "5020623488",
            "components_bps": {"impact": "0.0", "fees": "2.0", "spread": "10.9", "timing": "0.0"},
            "markouts_bps": {"1s": "12.7", "10s": "13.4", "60s": None, "300s": None},
            "savings_bps": {"jupiter_one_shot": "175.5", "best_single_venue": "0.0", "twap": "31.2"}},
}
POOL = {
    "id": 1, "name": "sol-usdc", "venue": "otc:sol-usdc", "active": True, "base_mint": SOL, "base_symbol": "SOL",
    "quote_mint": USDC, "quote_symbol": "USDC", "base_spread_bps": "5.0000", "size_spread_bps": "60.0000",
    "size_exponent": "1.5000", "annual_vol_pct": "80.0000", "vol_z": "1.0000", "fee_bps": "2.0000",
    "min_trade_base_atoms": "100000000000", "max_trade_base_atoms": "50000000000000",
    "target_base_atoms": "150000000000000", "target_quote_atoms": "22500000000000",
    "replenish_pct_per_hour": "10.0000", "execution_delay_ms": 1500, "delay_jitter_ms": 500, "quote_ttl_ms": 15000,
    "base_atoms": "175000000000000", "quote_atoms": "18599355289488", "inventory_at": "2026-11-26T01:30:36.173Z",
    "updated_at": "2026-11-26T01:30:36.190Z",
}
POOL_PATCH = {"base_spread_bps": "4.5", "max_trade_base_atoms": "60000000000000", "active": True}
SUMMARY = {
    "since": None, "trades": 1, "trades_by_status": {"filled": 1}, "volume_usd_atoms": "3905663343259",
    "savings_usd_atoms": "67270061904", "savings_bps": "172.2", "otc_share_pct": "100.0",
    "route_mix": [{"venue": "otc:sol-usdc", "trades": 1, "volume_usd_atoms": "3905663343259"}],
}

EVENTS = {"now": "2026-11-26T10:00:10.000Z", "since": "2026-11-26T10:00:05.000Z", "events": [
    {"id": "trade:81:filled", "kind": "trade_filled", "at": "2026-11-26T10:00:06.512Z", "level": "success",
     "message": "Trade #81 filled: 25,000.0000 SOL → 3,900,644.71 USDC on otc:sol-usdc.", "url": "/trades/81",
     "trade_id": 81}]}

PARENT_REQUEST = {**ORDER, "amount": "100000", "strategy": "twap", "duration_s": 600, "slices": 10}
PARENT = {
    "id": 1, "status": "working", "strategy": "twap", "user_id": 1, "order": ORDER_ECHO,
    "amount_atoms": "100000000000000", "filled_atoms": "10000000000000", "remaining_atoms": "90000000000000",
    "scheduled_atoms": "10000000000000", "other_side_atoms": "1387201234567", "duration_s": 600, "slices": 10,
    "limit_price": None, "arrival_mid": "138.78266049267671", "avg_price": "138.720123457", "shortfall_bps": "4.51",
    "shortfall_usd_atoms": "626109876",
    "note": "waiting for the next slice", "created_at": "2026-12-02T02:10:00.000Z",
    "start_at": "2026-12-02T02:10:00.000Z", "deadline_at": "2026-12-02T02:20:00.000Z",
    "next_due_at": "2026-12-02T02:11:00.000Z", "finished_at": None,
    "timeline": [{"index": 0, "attempt": 1, "status": "filled", "planned_atoms": "10000000000000", "trade_id": 42,
                  "sent_at": "2026-12-02T02:10:00.100Z", "done_at": "2026-12-02T02:10:01.300Z", "note": ""}],
    "children": [],
}
ESTIMATE = {"notional_usd_atoms": "13874999720003", "duration_s": 600, "slices": 10,
            "now": {"cost_bps": "642.5", "cost_usd_atoms": "891495094510", "level": "danger"},
            "split": {"cost_bps": "175.5", "cost_usd_atoms": "243549535086", "level": "danger"},
            "over_time": {"cost_bps": "36.1", "cost_usd_atoms": "50063635240", "level": "warn"},
            "suggest_parent": True, "suggest_threshold_bps": "50", "confirm_required": True}
