"""Quote latency with 0, 2 and 5 RFQ makers: POST /api/v1/quotes (25,000 SOL -> USDC and back), p50 and p95.

`python -m bench.rfq_latency [--quotes N]` writes bench/results/rfq_latency.md. The makers are the app's simulated
ones (in-process, Jupiter Z's format) with simulated network latency: alpha 40 ± 30 ms, beta 80 ± 60 ms and, for
five, three more at 60-150 ms; each maker is asked at 4 sizes in parallel within the 500 ms window. Wall clock on a
shared 2-core machine (the in-process test client, SQLite).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from typing import Any

from bench._common import pct, table, write

QUOTES = 60
EXTRA = (("gamma", 60, 40), ("delta", 100, 50), ("epsilon", 150, 60))  # name, latency_ms, jitter_ms


def main(argv: list[str]) -> int:
    """Time quotes with 0, 2 and 5 makers; write rfq_latency.md."""
    args = argparse.ArgumentParser(prog="python -m bench.rfq_latency")
    args.add_argument("--quotes", type=int, default=QUOTES)
    opts = args.parse_args(argv)
    from app import create_app
    from ledger.maker_tables import Maker
    from models import db
    from services.seed import init_database, seed_makers

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
                          "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, "LOGIN_DISABLED": True})
        with app.app_context():
            init_database()
        for count in (0, 2, 5):
            with app.app_context():
                if count >= 2:
                    seed_makers()
                if count == 5:
                    db.session.add_all(Maker(name=n, base_url=f"sim://{n}", tokens=[], enabled=True, timeout_ms=500,
                                             sim_behaviour={"latency_ms": lat, "jitter_ms": jit})
                                       for n, lat, jit in EXTRA)
                    db.session.commit()
            rows.append((count, *_time_quotes(app, opts.quotes)))
    md = ["# Quote latency with RFQ makers", "", __doc__.split("\n\n", 1)[1].strip(), "",
          *table(("makers", "quotes", "p50 ms", "p95 ms", "max ms"), rows), ""]
    write("rfq_latency", "\n".join(md), [(f"quote p50/p95 with {c} makers", f"{p50} / {p95} ms")
                                         for c, _, p50, p95, _ in rows])
    print("\n".join(md))
    return 0


def _time_quotes(app: Any, n: int) -> tuple[int, int, int, int]:
    """n quotes (alternating directions) after two warm-ups: (n, p50, p95, max) in ms."""
    from tests.conftest import make_token

    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {make_token(app, 'trader')}"
    orders = [{"input": "SOL", "output": "USDC", "amount": "25000"},
              {"input": "USDC", "output": "SOL", "amount": "3000000"}]
    for order in orders:
        client.post("/api/v1/quotes", json=order)
    times = []
    for i in range(n):
        started = time.perf_counter()
        res = client.post("/api/v1/quotes", json=orders[i % 2])
        times.append((time.perf_counter() - started) * 1000)
        assert res.status_code == 200, res.get_json()
    return n, round(pct(times, 50)), round(pct(times, 95)), round(max(times))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
