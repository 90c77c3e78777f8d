"""The simulated market with memory on a simulated clock, shared by bench.sequence and bench.schedule.

A fresh app per scenario (own SQLite database, full OTC pools, the seed's simulated market); the clock is a list the
caller advances, so the Jupiter sim, the pools' displacement by our swaps (decaying with their half-life) and the
dealers' replenishment all read simulated time: no wall sleeps. Trades execute through the real apply path
(trading.plan_fill → execution.run). Imports are inside the functions so `python -m bench.NAME` can say what is
missing (bench/_prereq.py) before any of the app is imported.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

T0_S = 1_767_700_800  # 2026-01-06 12:00 UTC


@dataclass
class SimMarket:
    """The app's market inside its app context, and the simulated clock (epoch seconds) every part of it reads."""

    market: Any
    clock: list[float]


@contextmanager
def sim_market(seed: int = 7, makers: bool = False) -> Iterator[SimMarket]:
    """A fresh app and market for one scenario, inside its app context (makers: the two simulated RFQ makers,
    answering at once: a latency would be a wall sleep)."""
    from types import SimpleNamespace
    from unittest import mock

    from sqlalchemy import select

    import jupiter_api
    from app import create_app
    from ledger.maker_tables import Maker
    from models import db
    from services import execution
    from services.seed import init_database, seed_makers
    from sim.price import SimConfig
    from sim.transport import SimTransport

    clock: list[float] = [float(T0_S)]
    apps: list[Any] = []
    # the simulated clock drives the quotes, and the pools' displacement by our swaps is read and written on it
    client = jupiter_api.JupiterClient(SimTransport(SimConfig(seed=seed), clock=lambda: clock[0],
                                                    displaced=lambda t: apps[0].extensions["sim_pools"].displaced(t)))
    sim_time = SimpleNamespace(time=lambda: clock[0])  # execution's hook moves the pools at the simulated time
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(execution, "time", sim_time):
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/sim.db", "SECRET_KEY": "bench",
                          "JUPITER_CLIENT": client, "RECOVER_ON_START": False, "JUPITER_SIM_SEED": seed})
        apps.append(app)
        book = app.extensions["sim_makers"]  # the simulated makers price and fill on the simulated clock too
        book.clock, book.sleep = (lambda: clock[0]), (lambda _s: None)
        app.extensions["market"].rfq.clock = lambda: clock[0]  # sent as x-request-start: the makers' instant
        with app.app_context():
            init_database()
            if makers:
                seed_makers()
                for m in db.session.scalars(select(Maker)):
                    m.sim_behaviour = {**(m.sim_behaviour or {}), "latency_ms": 0, "jitter_ms": 0}
                db.session.commit()
            try:
                yield SimMarket(app.extensions["market"], clock)
            finally:
                db.session.remove()
                db.engine.dispose()


def fill(sm: SimMarket, order: Any, now_s: float, venues: str = "router") -> Any:
    """Gather, decide and execute through the real path at now_s; the trade. venues: "router" (the router's choice,
    split included), "jupiter" (Jupiter alone) or "single" (the cheapest single venue, all-in, sent whole)."""
    from core import router
    from services import execution, quoting, trading

    sm.clock[0] = now_s
    market = sm.market
    g = quoting.gather(market, order, datetime.fromtimestamp(now_s, UTC))
    if venues == "router":
        d = quoting.decide(market, g)
    else:
        usable = [o for o in g.options if o.available and o.cost_bps is not None
                  and (venues == "single" or o.venue == "jupiter")]
        best = min(usable, key=lambda o: o.cost_bps)
        d = router.decide(order, [best])
    plan = trading.plan_fill(market, g, d, idempotency_key=None, body_hash=None, user_id=None, started=0.0)
    return execution.run(market, plan)
