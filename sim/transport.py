"""The simulated Jupiter and RFQ makers as client transports: the live wire formats, answered in-process."""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from core.wire import RawResponse
from sim import dex, rpc
from sim.price import SimConfig, price_response
from sim.rfq_makers import Behaviour, SimMakerBook
from sim.rpc import ChainStore
from sim.swap_tx import swap_response


class SimTransport:
    """The in-process simulated DEX behind the same wire format; the clock gives Unix seconds and `displaced` (when
    given) the pools' displacements by our own swaps at a time (sim.impact.PoolBook.displaced: one read)."""

    def __init__(self, config: SimConfig, clock: Callable[[], float],
                 displaced: Callable[[float], Mapping[str, int]] | None = None) -> None:
        self.config = config
        self.clock = clock
        self.displaced = displaced

    def __call__(self, params: dict[str, str]) -> RawResponse:
        """Answer as Jupiter would, as JSON text."""
        now_s = self.clock()
        moved = self.displaced(now_s) if self.displaced is not None else dex.NO_DISPLACEMENT
        status, body = dex.quote_response(params, now_s, self.config, moved)
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


class SimMakerTransport:
    """The simulated RFQ makers behind Jupiter Z's webhook format, for `sim://<name>` endpoints (RfqClient)."""

    def __init__(self, book: SimMakerBook) -> None:
        self.book = book

    def __call__(self, endpoint: Any, method: str, path: str, body: Any, headers: dict[str, str],
                 timeout_s: float) -> RawResponse:
        """Answer as the maker named by the endpoint's sim:// URL would, with the endpoint's behaviour."""
        name = str(endpoint.base_url).removeprefix("sim://").strip("/")
        start = headers.get("x-request-start", "")  # the maker prices at the instant the request was sent
        now_s = int(start) / 1000 if start.isdigit() else None
        status, text = self.book.answer(name, Behaviour.of(endpoint.sim_behaviour), method, path, body, now_s)
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
