"""What the Jupiter client's tests share: Jupiter's sample bodies, a fake clock and a live-transport client on it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.tokens import SOL, USDC
from jupiter_api import HttpTransport, JupiterClient

FIXTURES = Path(__file__).parent / "fixtures" / "jupiter"
BASE = "https://api.jup.ag/swap/v1"
URL = f"{BASE}/quote"


def sample(name: str) -> dict:
    """A copy of one of Jupiter's sample bodies."""
    return json.loads((FIXTURES / name).read_text())


QUOTE = sample("quote-sol-usdc-exactin.json")
TWO_HOP = sample("quote-usdt-sol-two-hop.json")
NO_ROUTE = sample("error-no-route.json")
NOT_TRADABLE = sample("error-not-tradable.json")


class FakeTime:
    """A clock that only moves when the code under test sleeps (or the test advances it)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client(fake: FakeTime, **kwargs: Any) -> JupiterClient:
    """A live-transport client on fake time."""
    transport = kwargs.pop("transport", None) or HttpTransport(BASE, api_key=kwargs.pop("api_key", None))
    return JupiterClient(transport, sleep=fake.sleep, clock=fake, **kwargs)


def sol_usdc(c: JupiterClient, **options: Any) -> Any:
    """Quote 1,000 SOL → USDC at 50 bps."""
    return c.quote(SOL.mint, USDC.mint, 1_000 * 10**9, 50, **options)
