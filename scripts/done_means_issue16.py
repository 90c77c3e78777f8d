"""Issue 16's "done means" on a served app, end to end: `python scripts/done_means_issue16.py [--duration 100]`.

On a fresh SQLite database in a temporary folder: `flask --app main init-db`, `flask run` on a free port >= 5300
(127.0.0.1 only) and `flask --app main jobs consumer`; then, over HTTP with an API token:
1. a 100,000 SOL -> USDC TWAP in 10 slices completes; its children sum exactly to 10^14 atoms, each slice once;
   its shortfall vs arrival next to the estimate of the same order sent whole (split now and best single venue);
2. a second TWAP cancelled mid-way keeps its filled part recorded;
3. a third TWAP whose consumer is killed with SIGKILL mid-order completes once the consumer is started again, with
   no slice filled twice (the children's idempotency keys and slice numbers are unique).
Bounded: each wait has a deadline; every process it started is stopped at the end. Prints a JSON report.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _served import Api, flask, free_port, start, stop

ORDER = {"input": "SOL", "output": "USDC", "amount": "100000", "strategy": "twap", "slices": 10}


def child_keys(db_path: Path, parent_id: int) -> list[str]:
    """The idempotency keys of the trades made for a parent's slices, read from the database (read-only)."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as con:
        return [k for (k,) in con.execute("SELECT t.idempotency_key FROM parent_slices s JOIN trades t ON "
                                          "t.id = s.trade_id WHERE s.parent_id = ?", (parent_id,))]


def facts(o: dict[str, Any], db_path: Path) -> dict[str, Any]:
    """What the report keeps of an order: status, sums, slices, the children's keys."""
    kids = o["children"]
    filled = [t for t in o["timeline"] if t["status"] == "filled"]
    keys = child_keys(db_path, o["id"])
    return {"id": o["id"], "status": o["status"], "amount_atoms": o["amount_atoms"], "filled_atoms": o["filled_atoms"],
            "children": len(kids), "children_in_atoms_sum": str(sum(int(t["in_amount_atoms"]) for t in kids)),
            "filled_slice_numbers": sorted(t["index"] for t in filled),
            "slices_unique": len({t["index"] for t in filled}) == len(filled),
            "child_trade_ids_unique": len({t["id"] for t in kids}) == len(kids), "child_keys": keys,
            "child_keys_unique": len(set(keys)) == len(keys),
            "attempts": len(o["timeline"]), "shortfall_bps": o["shortfall_bps"], "avg_price": o["avg_price"],
            "arrival_mid": o["arrival_mid"], "note": o["note"]}


def main(argv: list[str]) -> int:
    """Run the three checks; print the report as JSON."""
    args = argparse.ArgumentParser(prog="python scripts/done_means_issue16.py")
    args.add_argument("--duration", type=int, default=100, help="each TWAP's duration_s (600 = 10 minutes)")
    opts = args.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="olr-done16-"))
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'router.db'}", "JOBS_SQLITE_PATH": str(tmp / "jobs.db"),
           "SECRET_KEY": "done-means-issue16", "MAKER_KEY": "done-means-issue16-maker-key-0123456789",
           "RATELIMIT_ENABLED": "0", "PARENT_LEASE_S": "5", "PARENT_RETRY_S": "2", "PENDING_TIMEOUT_S": "5"}
    report: dict[str, Any] = {"tmp": str(tmp), "port": port, "duration_s": opts.duration}
    flask(env, "init-db")
    flask(env, "users", "create", "desk", "--role", "trader")
    token = flask(env, "tokens", "create", "desk", "--name", "done-means").strip().splitlines()[-1]
    web = start(env, tmp / "web.log", "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload")
    consumer = start(env, tmp / "consumer.log", "jobs", "consumer", "--workers", "2")
    try:
        api = Api(f"http://127.0.0.1:{port}", token)
        for _ in range(120):
            try:
                api.call("GET", "/api/v1/orders")
                break
            except OSError:
                time.sleep(0.5)
        body = {**ORDER, "duration_s": opts.duration}
        report["estimate_whole"] = api.call("POST", "/api/v1/orders/estimate", body)
        first = api.call("POST", "/api/v1/orders", body)
        done = api.wait(first["id"], lambda o: o["status"] != "working", opts.duration + 120)
        report["twap"] = facts(done, tmp / "router.db")
        second = api.call("POST", "/api/v1/orders", body)
        api.wait(second["id"], lambda o: int(o["filled_atoms"]) >= 3 * 10**13, opts.duration)
        report["cancel_answer"] = api.call("POST", f"/api/v1/orders/{second['id']}/cancel").get("status")
        time.sleep(5)  # a slice executing when cancelled finishes and is recorded
        report["cancelled"] = facts(api.call("GET", f"/api/v1/orders/{second['id']}"), tmp / "router.db")
        third = api.call("POST", "/api/v1/orders", body)
        api.wait(third["id"], lambda o: int(o["filled_atoms"]) >= 3 * 10**13, opts.duration)
        stop(consumer, signal.SIGKILL)
        report["killed_at_filled_atoms"] = api.call("GET", f"/api/v1/orders/{third['id']}")["filled_atoms"]
        time.sleep(opts.duration / 10)  # a slice falls due while no consumer runs
        consumer = start(env, tmp / "consumer.log", "jobs", "consumer", "--workers", "2")
        done3 = api.wait(third["id"], lambda o: o["status"] != "working", opts.duration + 120)
        report["killed_and_restarted"] = facts(done3, tmp / "router.db")
    finally:
        stop(consumer)
        stop(web)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
