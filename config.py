"""Configuration read from the environment, with development defaults."""
from __future__ import annotations

import os
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
        "JUPITER_DELAY_MS": int(env("JUPITER_DELAY_MS", "800")),
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
    }
