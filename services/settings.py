"""Configuration read from the environment, with development defaults."""
from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path


def database_url(instance_path: str) -> str:
    """DATABASE_URL with the postgres:// scheme fixed, or SQLite under instance/."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    return url or f"sqlite:///{Path(instance_path) / 'router.db'}"


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
        "JUPITER_RPS": float(env("JUPITER_RPS", "10")),
        "JUPITER_SIM_SEED": int(env("JUPITER_SIM_SEED", "7")),
        "JUPITER_SIM_DEPTH": env("JUPITER_SIM_DEPTH", "1"),
        "REDIS_URL": env("REDIS_URL") or None,
        "QUOTE_TTL_MS": int(env("QUOTE_TTL_MS", "15000")),
        "MAX_COST_BPS": Decimal(env("MAX_COST_BPS", "1000")),
        **({"METRICS_SNAPSHOT_S": int(snap)} if (snap := env("METRICS_SNAPSHOT_S")) else {}),
        "JUPITER_DELAY_MS": int(env("JUPITER_DELAY_MS", "800")),
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
    }
