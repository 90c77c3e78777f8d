"""The simulated Jupiter as a client transport: the same wire format as the live API, answered in-process."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from core.wire import RawResponse
from sim import dex, rpc
from sim.price import SimConfig, price_response
from sim.rpc import ChainStore
from sim.swap_tx import swap_response


class SimTransport:
    """The in-process simulated DEX behind the same wire format; the clock gives Unix seconds."""

    def __init__(self, config: SimConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock

    def __call__(self, params: dict[str, str]) -> RawResponse:
        """Answer as Jupiter would, as JSON text."""
        status, body = dex.quote_response(params, self.clock(), self.config)
        return RawResponse(status, {"Content-Type": "application/json"}, json.dumps(body))


class SimPriceTransport:
    """The simulated Price API v3 behind the same wire format; `at` in the params prices another time."""

    def __init__(self, config: SimConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock

    def __call__(self, params: dict[str, str]) -> RawResponse:
        """Answer as the Price API would, as JSON text."""
        status, text = price_response(params, self.clock(), self.config)
        return RawResponse(status, {"Content-Type": "application/json"}, text)


class SimSwapTransport:
    """The simulated POST /swap/v1/swap behind the same wire format (a JSON body in)."""

    def __init__(self, config: SimConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock

    def __call__(self, body: dict[str, Any]) -> RawResponse:
        """Answer as Jupiter's swap endpoint would, as JSON text."""
        status, answer = swap_response(body, self.clock(), self.config)
        return RawResponse(status, {"Content-Type": "application/json"}, json.dumps(answer))


class SimRpcTransport:
    """The simulated Solana JSON-RPC node in-process, on a shared store (the database table in the app)."""

    def __init__(self, config: SimConfig, clock: Callable[[], float], store: ChainStore) -> None:
        self.config = config
        self.clock = clock
        self.store = store

    def __call__(self, body: dict[str, Any]) -> RawResponse:
        """Answer as a Solana node would, as JSON text."""
        answer = rpc.handle(json.loads(json.dumps(body)), self.clock(), self.config, self.store)
        return RawResponse(200, {"Content-Type": "application/json"}, json.dumps(answer))
