"""Rules of the Jupiter client's resilience: the circuit breaker, the rate limiter and the call events and stats."""
from __future__ import annotations

import json
import logging

import pytest
import requests
import responses

from core.wire import RawResponse
from jupiter_api import (
    CallEvent,
    CircuitBreaker,
    CircuitOpenError,
    JupiterClient,
    NoRouteError,
    RateLimiter,
    UpstreamUnavailableError,
)
from tests.jupiter_support import NO_ROUTE, QUOTE, URL, FakeTime, client, sol_usdc


@responses.activate
def test_breaker_opens_after_n_failures_and_short_circuits_without_http() -> None:
    responses.get(URL, status=503)
    fake = FakeTime()
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=30, clock=fake)
    c = client(fake, breaker=breaker, max_retries=0)
    for _ in range(3):
        with pytest.raises(UpstreamUnavailableError):
            sol_usdc(c)
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        sol_usdc(c)
    assert len(responses.calls) == 3


@responses.activate
def test_breaker_half_opens_after_cooldown_lets_one_probe_and_closes_on_success() -> None:
    fake = FakeTime()
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=30, clock=fake)
    for _ in range(2):
        breaker.record_failure()
    fake.now += 29.9
    assert breaker.state == "open" and not breaker.allow()
    fake.now += 0.1
    assert breaker.state == "half_open"
    assert breaker.allow() and not breaker.allow()  # one probe at a time
    responses.get(URL, json=QUOTE)
    breaker.record_success()
    assert breaker.state == "closed"
    sol_usdc(client(fake, breaker=breaker))
    assert len(responses.calls) == 1


@responses.activate
def test_a_failed_half_open_probe_reopens_the_breaker() -> None:
    responses.get(URL, body=requests.exceptions.ReadTimeout())
    fake = FakeTime()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=10, clock=fake)
    c = client(fake, breaker=breaker, max_retries=2)
    with pytest.raises(UpstreamUnavailableError) as opened:
        sol_usdc(c)
    assert opened.value.code == "UPSTREAM_TIMEOUT" and breaker.state == "open"  # not retried into the open breaker
    fake.now += 10
    with pytest.raises(UpstreamUnavailableError) as probe:
        sol_usdc(c)
    assert probe.value.code == "UPSTREAM_TIMEOUT" and breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        sol_usdc(c)
    assert len(responses.calls) == 2 and fake.sleeps == []


@responses.activate
def test_no_route_answers_do_not_count_as_breaker_failures() -> None:
    responses.get(URL, json=NO_ROUTE, status=400)
    fake = FakeTime()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=10, clock=fake)
    for _ in range(3):
        with pytest.raises(NoRouteError):
            sol_usdc(client(fake, breaker=breaker))
    assert breaker.state == "closed"


def test_rate_limiter_spaces_calls_at_rps() -> None:
    fake = FakeTime(0.0)
    limiter = RateLimiter(2, burst=1, clock=fake, sleep=fake.sleep)
    starts = []
    for _ in range(4):
        limiter.acquire()
        starts.append(fake.now)
    assert starts == [0.0, 0.5, 1.0, 1.5]


def test_rate_limiter_allows_a_burst_then_refills_over_time() -> None:
    fake = FakeTime(0.0)
    limiter = RateLimiter(5, burst=3, clock=fake, sleep=fake.sleep)
    assert limiter.headroom() == 3
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.0, 0.0] and limiter.headroom() == 0
    assert limiter.try_acquire() == pytest.approx(0.2)
    fake.now += 10
    assert limiter.headroom() == 3


@responses.activate
def test_client_takes_a_rate_limit_token_for_every_attempt() -> None:
    responses.get(URL, status=500)
    responses.get(URL, json=QUOTE)
    fake = FakeTime(0.0)
    limiter = RateLimiter(1, burst=1, clock=fake, sleep=fake.sleep)
    sol_usdc(client(fake, limiter=limiter, backoff_s=0.25))
    assert fake.sleeps == [0.25, 0.75]  # backoff, then the limiter waits out the rest of its second


@responses.activate
def test_every_quote_emits_one_event_and_stats_count_it() -> None:
    responses.get(URL, json=QUOTE)
    responses.get(URL, status=503)
    responses.get(URL, json=NO_ROUTE, status=400)
    fake, events = FakeTime(), []
    c = client(fake, on_call=events.append, breaker=CircuitBreaker(clock=fake), limiter=RateLimiter(10, clock=fake))
    sol_usdc(c)
    with pytest.raises(NoRouteError):
        sol_usdc(c)
    assert [(e.outcome, e.retries) for e in events] == [("ok", 0), ("NO_ROUTE", 1)]
    stats = c.stats()
    assert {k: stats[k] for k in ("calls", "ok", "errors", "retries", "breaker_state")} == {
        "calls": 2, "ok": 1, "errors": {"NO_ROUTE": 1}, "retries": 1, "breaker_state": "closed"}
    assert stats["latency_ms_recent"] == [0, 200] and stats["latency_ms_p95"] == 200
    assert 0 <= stats["limiter_headroom"] <= 10


@responses.activate
def test_a_failing_on_call_hook_is_logged_not_raised(caplog: pytest.LogCaptureFixture,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    responses.get(URL, json=QUOTE)
    monkeypatch.setattr(logging.getLogger("jupiter_api"), "disabled", False)  # alembic's fileConfig may disable it

    def broken(event: CallEvent) -> None:
        raise RuntimeError("metrics store down")

    with caplog.at_level(logging.ERROR, logger="jupiter_api"):
        assert sol_usdc(client(FakeTime(), on_call=broken)).out_amount_atoms > 0
    assert "on_call hook failed" in caplog.text


def test_latency_window_is_bounded() -> None:
    c = JupiterClient(lambda params: RawResponse(200, {}, json.dumps(QUOTE)), latency_window=5)
    for _ in range(8):
        sol_usdc(c)
    assert len(c.stats()["latency_ms_recent"]) == 5 and c.stats()["calls"] == 8
