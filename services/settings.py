"""Configuration read from the environment, with development defaults, and the frozen settings the services take."""
from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from services.guardrails import Guardrails


def database_url(instance_path: str) -> str:
    """DATABASE_URL with the postgres:// scheme fixed, or SQLite under instance/."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    return url or f"sqlite:///{Path(instance_path) / 'router.db'}"


def maker_key(secret: str | None, instance_path: str) -> bytes:
    """The 32-byte key sealing makers' API keys at rest: SHA-256 of MAKER_KEY when set (at least 32 characters),
    else instance/maker-key (64 hex characters, mode 0600) generated on first use. Never logged or shown."""
    if secret is not None:
        if len(secret) < 32:
            raise RuntimeError("MAKER_KEY must have at least 32 characters")
        return hashlib.sha256(secret.encode()).digest()
    path = Path(instance_path) / "maker-key"
    if not path.exists():  # written whole under a temporary name, then linked: a reader never sees half a key
        tmp = path.with_name(f".maker-key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another worker wrote it first: use theirs
        finally:
            tmp.unlink()
    text = path.read_text().strip()
    if len(text) != 64:
        raise RuntimeError(f"{path} must hold 64 hex characters (the makers' sealing key)")
    return bytes.fromhex(text)


def load_config(instance_path: str) -> dict:
    """Every setting the app reads, from the environment (see README's configuration table)."""
    env = os.environ.get
    return {
        "SECRET_KEY": env("SECRET_KEY", ""),
        "ENV_NAME": env("APP_ENV", "development"),
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        "JUPITER_MODE": env("JUPITER_MODE", "sim"),
        "JUPITER_API_URL": env("JUPITER_API_URL", "https://lite-api.jup.ag/swap/v1"),
        "JUPITER_API_KEY": env("JUPITER_API_KEY") or None,
        "JUPITER_TIMEOUT_S": float(env("JUPITER_TIMEOUT_S", "5")),
        "JUPITER_TIER": env("JUPITER_TIER", "keyless"),
        "JUPITER_RPS": float(rps) if (rps := env("JUPITER_RPS")) else None,  # None: the tier's rate
        "JUPITER_PRICE_URL": env("JUPITER_PRICE_URL", "https://lite-api.jup.ag/price/v3"),
        "PRICE_CACHE_MS": int(env("PRICE_CACHE_MS", "2000")),
        "PRICE_MAX_AGE_MS": int(env("PRICE_MAX_AGE_MS", "10000")),
        "PRICE_BAND_BPS": Decimal(env("PRICE_BAND_BPS", "150")),
        "PRICE_BAND_BETTER_BPS": Decimal(env("PRICE_BAND_BETTER_BPS", "50")),
        "LADDER_MAX_AGE_S": float(env("LADDER_MAX_AGE_S", "1800")),
        "LADDER_REFRESH_S": float(env("LADDER_REFRESH_S", "60")),
        "LADDER_CALLS_PER_MIN": float(n) if (n := env("LADDER_CALLS_PER_MIN")) else None,
        # on-chain execution of the Jupiter leg (issue 13): RPC node, desk wallet, confirmation policy
        "SOLANA_RPC_URL": env("SOLANA_RPC_URL", "https://api.mainnet-beta.solana.com"),
        "SOLANA_KEYPAIR_PATH": env("SOLANA_KEYPAIR_PATH") or None,
        "SOLANA_TIMEOUT_S": float(env("SOLANA_TIMEOUT_S", "10")),
        "SOLANA_CONFIRM_POLL_MS": int(env("SOLANA_CONFIRM_POLL_MS", "400")),
        "SOLANA_CONFIRM_TIMEOUT_S": float(env("SOLANA_CONFIRM_TIMEOUT_S", "90")),
        "SOLANA_SKIP_PREFLIGHT": env("SOLANA_SKIP_PREFLIGHT", "0") in ("1", "true", "yes"),
        "JUPITER_SIM_SEED": int(env("JUPITER_SIM_SEED", "7")),
        "JUPITER_SIM_DEPTH": env("JUPITER_SIM_DEPTH", "1"),
        "SIM_ARB_HALF_LIFE_S": int(env("SIM_ARB_HALF_LIFE_S", "60")),  # persistent impact's decay (sim.impact)
        "REDIS_URL": env("REDIS_URL") or None,
        "QUOTE_TTL_MS": int(env("QUOTE_TTL_MS", "15000")),
        "MAX_COST_BPS": Decimal(env("MAX_COST_BPS", "1000")),
        **({"METRICS_SNAPSHOT_S": int(snap)} if (snap := env("METRICS_SNAPSHOT_S")) else {}),
        "JUPITER_DELAY_MS": int(env("JUPITER_DELAY_MS", "800")),
        "TIMING_RISK_Z": Decimal(env("TIMING_RISK_Z", "1")),
        # transaction-cost analysis (issue 14): the TWAP benchmark's horizon, slices and assumed impact half-life
        "TCA_TWAP_HORIZON_S": float(env("TCA_TWAP_HORIZON_S", "600")),
        "TCA_TWAP_SLICES": int(env("TCA_TWAP_SLICES", "10")),
        "TCA_TWAP_HALF_LIFE_S": float(env("TCA_TWAP_HALF_LIFE_S", "60")),
        # RFQ makers (issue 15): quote window, last look, suspension
        "RFQ_WINDOW_MS": int(env("RFQ_WINDOW_MS", "500")),
        "RFQ_MAKER_TTL_MS": int(env("RFQ_MAKER_TTL_MS", "35000")),
        "RFQ_SWAP_TIMEOUT_MS": int(env("RFQ_SWAP_TIMEOUT_MS", "2000")),
        "RFQ_REROUTE": env("RFQ_REROUTE", "1") not in ("0", "false", "no"),
        "RFQ_SUSPEND_AFTER": int(env("RFQ_SUSPEND_AFTER", "5")),
        "RFQ_COOLDOWN_S": float(env("RFQ_COOLDOWN_S", "300")),
        "MAKER_KEY": env("MAKER_KEY") or None,  # seals makers' API keys at rest; else instance/maker-key
        # execution integrity (issue 6): a trade pending this long was lost by its process; recover it at start-up
        "PENDING_TIMEOUT_S": float(env("PENDING_TIMEOUT_S", "60")),
        "RECOVER_ON_START": env("RECOVER_ON_START", "1") not in ("0", "false", "no"),
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        # security (issue 7): request size, cookies, proxies and rate limits
        "MAX_FORM_MEMORY_SIZE": 64 * 1024,
        "MAX_FORM_PARTS": 100,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env("APP_ENV", "development") == "production",
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,
        "TRUSTED_PROXIES": int(env("TRUSTED_PROXIES", "0")),
        "RATELIMIT_ENABLED": env("RATELIMIT_ENABLED", "1") not in ("0", "false", "no"),
        "RATELIMIT_LOGIN": env("RATELIMIT_LOGIN", "10/minute"),
        "RATELIMIT_TRADING": env("RATELIMIT_TRADING", "60/minute"),
        "RATELIMIT_QUOTING": env("RATELIMIT_QUOTING", "600/minute"),
        # performance (issue 8): analytics from hourly rollups (0: per-trade queries); benchmark-only endpoints
        "ANALYTICS_ROLLUPS": env("ANALYTICS_ROLLUPS", "1") not in ("0", "false", "no"),
        "BENCH_ENDPOINTS": env("BENCH_ENDPOINTS", "0") in ("1", "true", "yes"),
        # parent orders and the job runner (issue 16): cli/jobs.py, services/parent_orders.py, parent_estimates.py
        "JOBS_BACKEND": env("JOBS_BACKEND", ""),  # "": redis with REDIS_URL, else sqlite (immediate under TESTING)
        "JOBS_SQLITE_PATH": env("JOBS_SQLITE_PATH", ""),  # "": instance/jobs.db
        "JOBS_NAME": env("JOBS_NAME", "olr"),
        "JOBS_WORKERS": int(env("JOBS_WORKERS", "2")),
        "PARENT_LEASE_S": float(env("PARENT_LEASE_S", "60")),
        "PARENT_RETRY_S": float(env("PARENT_RETRY_S", "10")),
        "PARENT_MAX_ATTEMPTS": int(env("PARENT_MAX_ATTEMPTS", "3")),
        "ADAPTIVE_MIN_GAIN_BPS": env("ADAPTIVE_MIN_GAIN_BPS", "2"),
        "COST_WARN_BPS": env("COST_WARN_BPS", "25"),
        "COST_DANGER_BPS": env("COST_DANGER_BPS", "100"),
        "HARD_CONFIRM_BPS": env("HARD_CONFIRM_BPS", "150"),
        "HARD_CONFIRM_USD": env("HARD_CONFIRM_USD", "5000000"),
        "PARENT_SUGGEST_BPS": env("PARENT_SUGGEST_BPS", "50"),
        "POOL_LOW_WATER_PCT": env("POOL_LOW_WATER_PCT", "10"),
        "HARD_CONFIRM_API": env("HARD_CONFIRM_API", "0") in ("1", "true", "yes"),
    }


# Jupiter's published limits per account (60 s window), requests per second.
TIER_RPS = {"keyless": 0.5, "free": 1.0, "developer": 10.0, "launch": 50.0, "pro": 150.0}


def jupiter_rps(config: Mapping[str, Any]) -> float:
    """JUPITER_RPS when set, else the rate of JUPITER_TIER; ValueError for an unknown tier."""
    if config.get("JUPITER_RPS") is not None:
        return float(config["JUPITER_RPS"])
    tier = str(config.get("JUPITER_TIER") or "keyless").lower()
    if tier not in TIER_RPS:
        raise ValueError(f"JUPITER_TIER must be one of {', '.join(TIER_RPS)}, got {tier!r}")
    return TIER_RPS[tier]


class JupiterMode(StrEnum):
    """Where Jupiter answers: the in-process simulator or the live API."""

    SIM = "sim"
    LIVE = "live"


@dataclass(frozen=True, slots=True)
class Settings:
    """The settings the services read, built once from the app config in create_app (README's table)."""

    jupiter_mode: JupiterMode = JupiterMode.SIM
    jupiter_delay_ms: int = 800  # on-chain inclusion time of a Jupiter swap: its timing-risk horizon
    quote_ttl_ms: int = 15_000  # a firm quote's life when its route includes Jupiter
    max_cost_bps: Decimal = Decimal(1000)  # the desk's ceiling on a route's all-in cost
    pending_timeout_s: float = 60.0  # a trade pending this long was lost by its process
    jupiter_annual_vol_pct: Decimal = Decimal(80)  # σ of the timing-risk charge of a Jupiter leg
    jupiter_vol_z: Decimal = Decimal(1)  # z of that charge (TIMING_RISK_Z, a desk setting)
    price_band_bps: Decimal = Decimal(150)  # how much worse than the reference a venue may pay beyond its impact
    price_band_better_bps: Decimal = Decimal(50)  # ... and at most this much better than the reference
    ladder_max_age_s: float = 1_800.0  # a rung older than this is sampled again before use (the jobs refresh sooner)
    ladder_refresh_s: float = 60.0  # the workers' jobs re-sample rungs in use once they are this old
    ladder_calls_per_min: float = 7.5  # the jobs' Jupiter call budget for that (a quarter of the tier's rate)
    tca_twap_horizon_s: float = 600.0  # the TWAP benchmark works the order over this long ...
    tca_twap_slices: int = 10  # ... in this many equal slices ...
    tca_twap_half_life_s: float = 60.0  # ... each slice's impact decaying with this half-life
    rfq_window_ms: int = 500  # makers are asked in parallel; answers after this are refused as late
    rfq_maker_ttl_ms: int = 35_000  # a maker quote's life (Jupiter Z: 35 s of user time); ours is the shorter
    rfq_swap_timeout_ms: int = 2_000  # last look: no swap answer within this is a rejection
    rfq_reroute: bool = True  # a leg rejected at last look is re-routed once (another maker's quote, or Jupiter)
    rfq_suspend_after: int = 5  # consecutive failed rounds before a maker is suspended
    rfq_cooldown_s: float = 300.0  # the first suspension's cool-down (then 2x, 4x, 6x)
    guardrails: Guardrails = field(default_factory=Guardrails)  # cost colours, hard confirm, low water (issue 16)
    maker_key: bytes = field(default=b"", repr=False)  # seals makers' API keys at rest (never logged)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """The settings of a Flask config mapping (defaults where a key is absent)."""
        return cls(jupiter_mode=JupiterMode(config.get("JUPITER_MODE", "sim")),
                   jupiter_delay_ms=int(config.get("JUPITER_DELAY_MS", 800)),
                   quote_ttl_ms=int(config.get("QUOTE_TTL_MS", 15_000)),
                   max_cost_bps=Decimal(config.get("MAX_COST_BPS", 1000)),
                   pending_timeout_s=float(config.get("PENDING_TIMEOUT_S", 60)),
                   jupiter_vol_z=Decimal(config.get("TIMING_RISK_Z", 1)),
                   price_band_bps=Decimal(config.get("PRICE_BAND_BPS", 150)),
                   price_band_better_bps=Decimal(config.get("PRICE_BAND_BETTER_BPS", 50)),
                   ladder_max_age_s=float(config.get("LADDER_MAX_AGE_S", 1800)),
                   ladder_refresh_s=float(config.get("LADDER_REFRESH_S", 60)),
                   ladder_calls_per_min=float(config.get("LADDER_CALLS_PER_MIN") or jupiter_rps(config) * 60 / 4),
                   tca_twap_horizon_s=float(config.get("TCA_TWAP_HORIZON_S", 600)),
                   tca_twap_slices=max(1, int(config.get("TCA_TWAP_SLICES", 10))),
                   tca_twap_half_life_s=float(config.get("TCA_TWAP_HALF_LIFE_S", 60)),
                   rfq_window_ms=int(config.get("RFQ_WINDOW_MS", 500)),
                   rfq_maker_ttl_ms=int(config.get("RFQ_MAKER_TTL_MS", 35_000)),
                   rfq_swap_timeout_ms=int(config.get("RFQ_SWAP_TIMEOUT_MS", 2_000)),
                   rfq_reroute=bool(config.get("RFQ_REROUTE", True)),
                   rfq_suspend_after=int(config.get("RFQ_SUSPEND_AFTER", 5)),
                   rfq_cooldown_s=float(config.get("RFQ_COOLDOWN_S", 300)),
                   guardrails=Guardrails.from_config(config),
                   maker_key=bytes(config.get("MAKER_KEY_BYTES") or b""))
