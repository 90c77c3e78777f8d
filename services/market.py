"""Market data wiring: the per-process Jupiter client (sim or live) and reference mid prices."""
from __future__ import annotations

import time
from decimal import Decimal

from flask import Flask, current_app

import jupiter_api
from core.tokens import USDC, Token
from sim import dex
from venues import shared_state

# Delay-risk charge settings for the Jupiter leg (on-chain inclusion time); OTC pools carry their own.
JUPITER_ANNUAL_VOL_PCT = Decimal(80)
JUPITER_VOL_Z = Decimal(1)


def init_market(app: Flask) -> None:
    """Create the simulator config and the Jupiter client for this process from the app config."""
    cfg = app.config
    depth = Decimal(str(cfg["JUPITER_SIM_DEPTH"]))
    sim_config = dex.SimConfig(seed=cfg["JUPITER_SIM_SEED"], depth_multiplier=depth)
    app.extensions["sim_config"] = sim_config
    client = cfg.get("JUPITER_CLIENT") or jupiter_api.make_client(
        cfg["JUPITER_MODE"], api_url=cfg["JUPITER_API_URL"], api_key=cfg["JUPITER_API_KEY"],
        timeout_s=cfg["JUPITER_TIMEOUT_S"], rps=cfg["JUPITER_RPS"], sim_config=sim_config,
        store_for=shared_state.store_factory(cfg.get("REDIS_URL")),  # limiter + breaker shared by all workers
    )
    app.extensions["jupiter_client"] = client


def jupiter_client() -> jupiter_api.JupiterClient:
    """The current app's Jupiter client."""
    return current_app.extensions["jupiter_client"]


def mid_price(input_token: Token, output_token: Token, now_s: float | None = None) -> Decimal:
    """Reference mid, output tokens per input token (human units).

    Sim mode reads the simulator's reference walk; live mode prices a small 1-unit Jupiter quote.
    """
    now_s = time.time() if now_s is None else now_s
    if current_app.config["JUPITER_MODE"] == "sim":
        return dex.reference_price(input_token.mint, output_token.mint, now_s, current_app.extensions["sim_config"])
    probe_atoms = 10 ** input_token.decimals
    quote = jupiter_client().quote(input_token.mint, output_token.mint, probe_atoms, 50)
    return Decimal(quote.out_amount_atoms).scaleb(-output_token.decimals)


def usd_value_atoms(amount_atoms: int, token: Token, now_s: float | None = None) -> int:
    """Value of an amount in USD with 6 decimals (USDC atoms), rounded down; stablecoins at par."""
    if token.symbol in ("USDC", "USDT"):
        return amount_atoms * 10**6 // 10**token.decimals
    price = mid_price(token, USDC, now_s)
    return int(Decimal(amount_atoms) * price * Decimal(1).scaleb(USDC.decimals - token.decimals))
