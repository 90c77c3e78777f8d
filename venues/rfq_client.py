"""The RFQ client: asks external market makers in parallel in Jupiter Z's webhook format, within a window.

Every request runs on a shared thread pool; the caller waits at most the window (and no longer than the slowest
maker's own timeout), so one slow maker never delays the decision: what has not answered by then is refused as
late and its thread finishes on its own (bounded by the HTTP timeout). Makers whose base URL is `sim://<name>` are
the app's simulated makers, answered in-process through the same wire format (as the simulated Jupiter is).
"""
from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import requests

from core.rfq import MakerQuote, MakerRefusal, Refusal
from core.wire import RawResponse
from venues.rfq_wire import QuoteAsk, SwapVerdict, parse_quote, parse_swap, parse_tokens, swap_body

SIM_SCHEME = "sim://"
_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="rfq")
_local = threading.local()


class MakerUnreachable(Exception):
    """The maker could not be reached (connection refused, DNS, timeout)."""

    def __init__(self, message: str, *, timed_out: bool = False):
        self.timed_out = timed_out
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class MakerEndpoint:
    """Where and how to reach one maker: venue `rfq:<name>`, base URL, API key (never logged), timeout."""

    maker_id: int
    venue: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    timeout_ms: int = 500
    sim_behaviour: Mapping[str, Any] = field(default_factory=dict)  # sim:// makers only

    @property
    def simulated(self) -> bool:
        """True for the app's own simulated makers (answered in-process)."""
        return self.base_url.startswith(SIM_SCHEME)


# (endpoint, method, path, JSON body or None, headers, timeout seconds) -> the raw answer
Transport = Callable[[MakerEndpoint, str, str, Any, dict[str, str], float], RawResponse]


def http_transport(ep: MakerEndpoint, method: str, path: str, body: Any, headers: dict[str, str],
                   timeout_s: float) -> RawResponse:
    """One HTTP call to the maker over this thread's requests.Session; MakerUnreachable on failure."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    url = ep.base_url.rstrip("/") + path
    try:
        resp = session.request(method, url, json=body, headers=headers, timeout=(timeout_s, timeout_s))
    except requests.Timeout as exc:
        raise MakerUnreachable(f"no answer within {int(timeout_s * 1000)} ms", timed_out=True) from exc
    except requests.RequestException as exc:
        raise MakerUnreachable(f"unreachable ({type(exc).__name__})") from exc
    return RawResponse(resp.status_code, resp.headers, resp.content.decode("utf-8", errors="replace"))


class RfqClient:
    """Quote, swap and token calls to makers; `sim_transport` answers sim:// makers in-process."""

    def __init__(self, sim_transport: Transport | None = None, http: Transport = http_transport,
                 clock: Callable[[], float] = time.time) -> None:
        self.sim_transport = sim_transport
        self.http = http
        self.clock = clock  # Unix seconds, sent as x-request-start (the demo's back-dated clock)

    def _call(self, ep: MakerEndpoint, method: str, path: str, body: Any, timeout_ms: int) -> RawResponse:
        """One call through the endpoint's transport, with Jupiter Z's headers."""
        headers = {"Accept": "application/json", "x-request-start": str(int(self.clock() * 1000)),
                   "x-request-timeout": str(timeout_ms)}
        if ep.api_key:
            headers["X-API-KEY"] = ep.api_key
        transport = self.sim_transport if ep.simulated else self.http
        if transport is None:
            raise MakerUnreachable("simulated makers are not served by this process")
        return transport(ep, method, path, body, headers, timeout_ms / 1000)

    def _quote_one(self, ep: MakerEndpoint, ask: QuoteAsk) -> MakerQuote | MakerRefusal:
        """One quote request, timed; failures become refusals."""
        started = time.perf_counter()
        try:
            resp = self._call(ep, "POST", "/quote", ask.body(), ep.timeout_ms)
        except MakerUnreachable as exc:
            code = Refusal.LATE if exc.timed_out else Refusal.UNREACHABLE
            return MakerRefusal(ep.venue, ask.amount_atoms, code, str(exc), _ms_since(started))
        except Exception as exc:  # a broken transport must not break the quote
            return MakerRefusal(ep.venue, ask.amount_atoms, Refusal.UNREACHABLE, type(exc).__name__,
                                _ms_since(started))
        return parse_quote(ask, resp, _ms_since(started))

    def quote_all(self, asks: Sequence[tuple[MakerEndpoint, QuoteAsk]],
                  window_ms: int) -> list[MakerQuote | MakerRefusal]:
        """Every ask in parallel; waits at most min(window, the slowest maker's timeout); late answers refused."""
        if not asks:
            return []
        futures: list[tuple[Future[MakerQuote | MakerRefusal], MakerEndpoint, QuoteAsk]] = [
            (_POOL.submit(self._quote_one, ep, ask), ep, ask) for ep, ask in asks]
        limit_ms = min(window_ms, max(ep.timeout_ms for ep, _ in asks))
        wait([f for f, _, _ in futures], timeout=limit_ms / 1000)
        results: list[MakerQuote | MakerRefusal] = []
        for fut, ep, ask in futures:
            allowed = min(window_ms, ep.timeout_ms)
            if not fut.done():
                fut.cancel()
                results.append(MakerRefusal(ep.venue, ask.amount_atoms, Refusal.LATE,
                                            f"no answer within the {allowed} ms window"))
                continue
            got = fut.result()
            if got.latency_ms is not None and got.latency_ms > allowed and \
                    not (isinstance(got, MakerRefusal) and got.code == Refusal.LATE):  # keep a timeout's own words
                got = MakerRefusal(ep.venue, ask.amount_atoms, Refusal.LATE,
                                   f"answered after {got.latency_ms} ms, beyond the {allowed} ms window",
                                   got.latency_ms)
            results.append(got)
        return results

    def swap(self, ep: MakerEndpoint, request_id: str, quote_id: str, transaction: str,
             timeout_ms: int) -> SwapVerdict:
        """Last look: POST /swap; no answer within timeout_ms is a rejection."""
        try:
            resp = self._call(ep, "POST", "/swap", swap_body(request_id, quote_id, transaction), timeout_ms)
        except MakerUnreachable as exc:
            return SwapVerdict(quote_id, False, f"no swap answer: {exc}")
        return parse_swap(quote_id, resp)

    def tokens(self, ep: MakerEndpoint, timeout_ms: int = 2_000) -> list[str] | None:
        """The maker's advertised mints, or None when it cannot say."""
        try:
            return parse_tokens(self._call(ep, "GET", "/tokens", None, timeout_ms))
        except MakerUnreachable:
            return None


def _ms_since(started: float) -> int:
    """Whole milliseconds since a perf_counter reading."""
    return int((time.perf_counter() - started) * 1000)


def transaction_placeholder(quote_id: str, taker: str) -> str:
    """The `transaction` field until the desk wallet signs real fills: base64 of a JSON note naming the quote."""
    return base64.b64encode(json.dumps({"placeholder": "unsigned", "quoteId": quote_id,
                                        "taker": taker}).encode()).decode()
