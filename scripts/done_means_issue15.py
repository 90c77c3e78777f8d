"""Issue 15's "done means" on a served app, end to end: `python scripts/done_means_issue15.py [--trades 300]`.

On a fresh SQLite database in a temporary folder: `flask --app main init-db` (pools and the simulated makers alpha
and beta), an admin and its API token, `flask run` on a free port >= 5300 (127.0.0.1 only) and `flask --app main
jobs consumer` (what `make run` starts beside the web server); then, over HTTP, every status code recorded:
1. GET /api/v1/makers lists the two simulated makers;
2. a 25,000 SOL -> USDC quote lists rfq:alpha and rfq:beta next to jupiter and the otc: pools; the decision uses a
   maker when one is the cheapest option;
3. scripts/loopback_maker.py (Jupiter Z's format, on loopback) is added through POST /api/v1/makers and, quoting
   30 bps better than mid, wins a trade (an rfq:loop leg) after checking the fill transaction at last look;
4. answering after the 500 ms window (delay 700 ms), its answer is dropped: no rfq:loop quote, the refusal `late`;
5. rejecting at last look, the trade it wins is re-routed (or refused) with its reason recorded, never a 5xx;
6. `flask --app main simulate --trades N` (the demo), then the scorecards of alpha and beta.
Bounded: each wait has a deadline; every process it started is stopped at the end. Writes
bench/results/done-means-issue15.md and .json; exits 1 when a check fails.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from _served import ROOT, Api, flask, free_port, start, start_process, stop

ORDER = {"input": "SOL", "output": "USDC", "amount": "25000"}
RESULTS = ROOT / "bench" / "results"
SCORE_KEYS = ("quote_requests", "answers", "answer_latency_p50_ms", "answer_latency_p95_ms", "refusals", "wins",
              "swaps", "accepted", "fill_rate_pct", "reject_reasons", "rerouted", "avg_improvement_bps", "markouts")


def options_by_venue(quote: dict[str, Any]) -> list[dict[str, Any]]:
    """Each option of a quote: venue, available, cost (bps) and amounts, or why it is unavailable."""
    return [{"venue": o["venue"], "available": o["available"], "cost_bps": o.get("cost_bps"),
             "out_amount_atoms": o.get("out_amount_atoms"), "reason": o.get("reason"),
             "refused": (o.get("detail") or {}).get("refused")} for o in quote.get("options", [])]


def decision_facts(quote: dict[str, Any]) -> dict[str, Any]:
    """The quote's decision (venue, legs, cost) and whether it uses the cheapest option when that is a maker."""
    d = quote.get("decision") or {}
    legs = [{"venue": leg["venue"], "in_amount_atoms": leg["in_amount_atoms"],
             "out_amount_atoms": leg["out_amount_atoms"], "cost_bps": leg.get("cost_bps")} for leg in d.get("legs", [])]
    priced = [o for o in quote.get("options", []) if o["available"] and o.get("cost_bps") is not None]
    cheapest = min(priced, key=lambda o: Decimal(o["cost_bps"]))["venue"] if priced else None
    used = {leg["venue"] for leg in legs}
    return {"venue": d.get("venue"), "cost_bps": d.get("cost_bps"), "legs": legs,
            "explanation": d.get("explanation"), "cheapest_option": cheapest,
            "cheapest_is_maker": bool(cheapest and cheapest.startswith("rfq:")),
            "uses_cheapest_maker": bool(cheapest and cheapest.startswith("rfq:") and cheapest in used),
            "makers_used": sorted(v for v in used if v.startswith("rfq:"))}


def timed_quote(api: Api) -> tuple[dict[str, Any], int]:
    """POST /api/v1/quotes for the 25,000 SOL order; (answer, wall ms)."""
    began = time.perf_counter()
    q = api.call("POST", "/api/v1/quotes", ORDER)
    return q, round((time.perf_counter() - began) * 1000)


def trade_facts(t: dict[str, Any]) -> dict[str, Any]:
    """What the report keeps of a trade answer."""
    return {"http_status": t["http_status"], "id": t.get("id"), "status": t.get("status"), "venue": t.get("venue"),
            "legs": [(leg["venue"], leg["in_amount_atoms"], leg["out_amount_atoms"]) for leg in t.get("legs", [])],
            "rfq_attempts": t.get("rfq_attempts"), "explanation": t.get("explanation"), "error": t.get("error"),
            "error_code": t.get("error_code") or t.get("code"), "message": t.get("message")}


def trade(api: Api, key: str) -> dict[str, Any]:
    """POST /api/v1/trades for the 25,000 SOL order under an Idempotency-Key; the trade's facts."""
    return trade_facts(api.call("POST", "/api/v1/trades", ORDER, headers={"Idempotency-Key": key}))


def control(base: str, change: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET (or POST a change to) the loopback maker's /control."""
    req = urllib.request.Request(f"{base}/control", method="GET" if change is None else "POST",
                                 data=None if change is None else json.dumps(change).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def scorecard(api: Api, maker_id: int) -> dict[str, Any]:
    """GET /api/v1/makers/<id>?period=all: the maker's state and its scorecard figures."""
    m = api.call("GET", f"/api/v1/makers/{maker_id}?period=all")
    return {"name": m.get("name"), "state": m.get("state"), "http_status": m["http_status"],
            **{k: (m.get("stats") or {}).get(k) for k in SCORE_KEYS}}


def run(api: Api, env: dict[str, str], tmp: Path, port: int, trades: int, report: dict[str, Any]) -> None:
    """The six checks, filling `report` as they go (so a failure keeps what was measured)."""
    checks: dict[str, bool] = report["checks"]
    makers = api.call("GET", "/api/v1/makers")
    report["makers"] = [{k: m[k] for k in ("id", "name", "venue", "base_url", "enabled", "state")}
                        for m in makers.get("makers", [])]
    checks["1 two simulated makers listed"] = sorted(
        (m["name"], m["enabled"], m["state"]) for m in report["makers"]) == [("alpha", True, "enabled"),
                                                                           ("beta", True, "enabled")]
    quote, ms = timed_quote(api)
    venues = [o["venue"] for o in quote.get("options", [])]
    report["quote_2_makers"] = {"http_status": quote["http_status"], "wall_ms": ms, "mid_price": quote.get("mid_price"),
                                "options": options_by_venue(quote), "decision": decision_facts(quote)}
    dec = report["quote_2_makers"]["decision"]
    checks["2 rfq:alpha, rfq:beta next to jupiter and otc: pools"] = (
        {"rfq:alpha", "rfq:beta", "jupiter"} <= set(venues) and any(v.startswith("otc:") for v in venues))
    checks["2 decision uses the maker when it is the cheapest option"] = (
        dec["uses_cheapest_maker"] if dec["cheapest_is_maker"] else bool(dec["legs"]))

    loop_port = free_port(port + 1)
    loop_base = f"http://127.0.0.1:{loop_port}"
    report["loop_port"] = loop_port
    loop = start_process(env, tmp / "loop.log", sys.executable, str(ROOT / "scripts" / "loopback_maker.py"),
                         "--port", str(loop_port), "--app", f"http://127.0.0.1:{port}", "--better-bps", "30")
    report["_procs"].append(loop)
    Api(loop_base, "").wait_up("/control", 30)
    added = api.call("POST", "/api/v1/makers", {"name": "loop", "base_url": f"{loop_base}/jupiter/rfq",
                                                "timeout_ms": 500})
    report["loop_added"] = {k: added.get(k) for k in ("http_status", "id", "venue", "state", "tokens")}
    loop_id = added["id"]
    quote, ms = timed_quote(api)
    report["quote_3_makers"] = {"http_status": quote["http_status"], "wall_ms": ms, "options": options_by_venue(quote),
                                "decision": decision_facts(quote)}
    won = trade(api, "done15-loop-wins")
    seen = control(loop_base)
    report["loop_wins"] = {"trade": won, "maker_saw": seen}
    checks["3 loop (30 bps better) wins: a trade with an rfq:loop leg"] = (
        won["status"] == "filled" and any(leg[0] == "rfq:loop" for leg in won["legs"]))
    checks["3 the loopback maker saw and checked the swap (accepted)"] = (
        seen["seen"]["swaps"] >= 1 and seen["seen"]["accepted"] >= 1 and
        any(a["venue"] == "rfq:loop" and a["state"] == "accepted" for a in won["rfq_attempts"] or []))

    control(loop_base, {"delay_ms": 700})
    quote, ms = timed_quote(api)
    loop_opt = next((o for o in options_by_venue(quote) if o["venue"] == "rfq:loop"), None)
    late_stats = scorecard(api, loop_id)
    report["late"] = {"http_status": quote["http_status"], "wall_ms": ms, "loop_option": loop_opt,
                      "decision": decision_facts(quote), "loop_refusals": late_stats["refusals"]}
    checks["4 an answer after the window is dropped (no rfq:loop quote, refusal late)"] = (
        (loop_opt is None or not loop_opt["available"]) and
        "rfq:loop" not in report["late"]["decision"]["makers_used"] and
        (late_stats["refusals"] or {}).get("late", 0) >= 1)

    control(loop_base, {"delay_ms": 20, "accept": False})
    quote, ms = timed_quote(api)  # loop quotes best again (the round after a late one)
    report["reject_quote"] = {"wall_ms": ms, "decision": decision_facts(quote)}
    rejected = trade(api, "done15-loop-rejects")
    report["last_look_reject"] = {"trade": rejected, "maker_saw": control(loop_base)}
    loop_tries = [a for a in rejected["rfq_attempts"] or [] if a["venue"] == "rfq:loop"]
    checks["5 last-look rejection: re-routed or refused with the reason, never a 5xx"] = (
        rejected["http_status"] < 500 and bool(loop_tries) and loop_tries[0]["state"] == "rejected" and
        bool(loop_tries[0]["reason"]) and (rejected["status"] in ("filled", "failed", "rejected", "partial")))

    api.call("PATCH", f"/api/v1/makers/{loop_id}", {"enabled": False})  # the demo's makers: alpha and beta
    began = time.monotonic()
    out = flask(env, "simulate", "--trades", str(trades), "--seed", "15", timeout_s=1500)  # `make demo`'s 30 days
    report["demo"] = {"trades": trades, "seed": 15, "seconds": round(time.monotonic() - began),
                      "summary": out.strip().splitlines()[-1] if out.strip() else ""}
    ids = {**{m["name"]: m["id"] for m in report["makers"]}, "loop": loop_id}
    report["scorecards"] = {name: scorecard(api, ids[name]) for name in ("alpha", "beta", "loop")}
    checks["6 scorecards of alpha and beta after the demo"] = all(
        report["scorecards"][n]["http_status"] == 200 and (report["scorecards"][n]["answers"] or 0) > 0
        for n in ("alpha", "beta"))


def main(argv: list[str]) -> int:
    """Serve the app, run the checks, stop everything, write the report."""
    args = argparse.ArgumentParser(prog="python scripts/done_means_issue15.py")
    args.add_argument("--trades", type=int, default=300, help="trades of the demo run (flask simulate)")
    args.add_argument("--no-write", action="store_true", help="print the report only")
    opts = args.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="olr-done15-"))
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'router.db'}", "JOBS_SQLITE_PATH": str(tmp / "jobs.db"),
           "SECRET_KEY": "done-means-issue15", "MAKER_KEY": "done-means-issue15-maker-key-0123456789",
           "RATELIMIT_ENABLED": "0"}
    report: dict[str, Any] = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "tmp": str(tmp),
                              "port": port, "checks": {}, "_procs": []}
    init = flask(env, "init-db").strip().splitlines()
    report["init_db"] = next((line for line in init if line.startswith("database ready")), init[-1] if init else "")
    flask(env, "users", "create", "desk", "--role", "admin")
    token = flask(env, "tokens", "create", "desk", "--name", "done-means-15").strip().splitlines()[-1]
    api = Api(f"http://127.0.0.1:{port}", token)
    try:
        report["_procs"].append(start(env, tmp / "web.log", "run", "--host", "127.0.0.1", "--port", str(port),
                                      "--no-reload"))
        report["_procs"].append(start(env, tmp / "consumer.log", "jobs", "consumer", "--workers", "1"))
        api.wait_up("/healthz", 60)
        run(api, env, tmp, port, opts.trades, report)
    except Exception as exc:  # the report keeps what was measured and why it stopped
        report["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        for proc in reversed(report.pop("_procs")):
            stop(proc)
    codes: dict[str, int] = {}
    for _, _, status in api.statuses:
        codes[str(status)] = codes.get(str(status), 0) + 1
    report["http_statuses"] = codes
    report["http_5xx"] = [f"{m} {p} {s}" for m, p, s in api.statuses if s >= 500]
    report["checks"]["no 5xx answer"] = not report["http_5xx"]
    report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    ok = "error" not in report and all(report["checks"].values())
    print(json.dumps(report, indent=1))
    if not opts.no_write:
        (RESULTS / "done-means-issue15.json").write_text(json.dumps(report, indent=1) + "\n")
        (RESULTS / "done-means-issue15.md").write_text(markdown(report))
    return 0 if ok else 1


def markdown(r: dict[str, Any]) -> str:
    """The report as bench/results/done-means-issue15.md."""
    lines = ["## Issue 15, \"done means\", measured on a served app", "",
             f"Run {r['started']} – {r['finished']} UTC by `python scripts/done_means_issue15.py` (raw answer in "
             "`done-means-issue15.json`): fresh SQLite database in a temporary folder, `flask --app main init-db` "
             f"({r.get('init_db', '')}), an admin and its API token from the CLI, `flask run` on 127.0.0.1:{r['port']} "
             "and `flask --app main jobs consumer`; everything over HTTP.", "",
             "| check | passed |", "|---|---|",
             *[f"| {k} | {'yes' if v else '**NO**'} |" for k, v in r["checks"].items()], ""]
    if "error" in r:
        lines += [f"**Stopped early**: `{r['error']}`", ""]
    lines += [f"HTTP statuses of every call: {r['http_statuses']}; 5xx: {r['http_5xx'] or 'none'}.", ""]
    if "makers" in r:
        lines += ["### 1. Makers after init-db (`GET /api/v1/makers`)", "",
                  "| id | name | base_url | enabled | state |",
                  "|---:|---|---|---|---|", *[f"| {m['id']} | {m['name']} | `{m['base_url']}` | {m['enabled']} | "
                                             f"{m['state']} |" for m in r["makers"]], ""]
    for key, title in (("quote_2_makers", "2. 25,000 SOL -> USDC quote with alpha and beta"),
                       ("quote_3_makers", "3. The same quote with the loopback maker added (30 bps better than mid)")):
        if key in r:
            q = r[key]
            lines += [f"### {title}", "",
                      f"`POST /api/v1/quotes` answered {q['http_status']} in {q['wall_ms']} ms.", "",
                      "| option | available | cost bps | out (USDC atoms) / reason |", "|---|---|---:|---|",
                      *[f"| {o['venue']} | {o['available']} | {o['cost_bps'] or ''} | "
                        f"{o['out_amount_atoms'] or o['reason']} |" for o in q["options"]], "",
                      *_decision_lines(q["decision"]), ""]
    if "loop_wins" in r:
        t, seen = r["loop_wins"]["trade"], r["loop_wins"]["maker_saw"]
        lines += ["### 3. The loopback maker wins a trade", "", *_trade_lines(t),
                  f"- the maker's own counters (`GET /control`): {seen['seen']}", ""]
    if "late" in r:
        late = r["late"]
        lines += ["### 4. The maker answers after the window (delay 700 ms)", "",
                  f"- quote {late['http_status']} in {late['wall_ms']} ms; rfq:loop option: "
                  f"{late['loop_option'] and (late['loop_option']['reason'] or 'available')}",
                  f"- decision legs: {[leg['venue'] for leg in late['decision']['legs']]}",
                  f"- loop's refusals so far (`GET /api/v1/makers/<id>` stats): {late['loop_refusals']}", ""]
    if "last_look_reject" in r:
        t = r["last_look_reject"]["trade"]
        lines += ["### 5. The maker rejects at last look (accept false)", "",
                  f"- the quote just before: decision legs "
                  f"{[leg['venue'] for leg in r['reject_quote']['decision']['legs']]}",
                  *_trade_lines(t), f"- the maker's counters: {r['last_look_reject']['maker_saw']['seen']}", ""]
    if "scorecards" in r:
        d = r["demo"]
        lines += [f"### 6. Scorecards after the demo (`flask --app main simulate --trades {d['trades']} --seed "
                  f"{d['seed']}`, as `make demo`: over the past 30 days; {d['seconds']} s)", "",
                  f"Demo: {d['summary']}", "",
                  "`GET /api/v1/makers/<id>?period=all` (the demo's trades and the script's own):", "",
                  "| figure | " + " | ".join(r["scorecards"]) + " |", "|---|" + "---|" * len(r["scorecards"]),
                  *[f"| {k} | " + " | ".join(_cell(s[k]) for s in r["scorecards"].values()) + " |"
                    for k in SCORE_KEYS], "",
                  "loop's figures are the script's own rounds and trades (disabled during the demo).", ""]
    bench = RESULTS / "rfq_latency.md"
    if bench.exists():
        rows = [line for line in bench.read_text().splitlines() if line.startswith("|")]
        lines += ["### Quote latency with 0, 2 and 5 makers (`python -m bench.rfq_latency`, rfq_latency.md)", "",
                  *rows, ""]
    return "\n".join(lines)


def _decision_lines(d: dict[str, Any]) -> list[str]:
    """The decision block of a quote, as markdown bullets."""
    return [f"- decision: `{d['venue']}` at {d['cost_bps']} bps; cheapest single option `{d['cheapest_option']}`; "
            f"makers used {d['makers_used'] or 'none'}",
            *[f"  - leg `{leg['venue']}`: in {leg['in_amount_atoms']}, out {leg['out_amount_atoms']}, "
              f"{leg['cost_bps']} bps" for leg in d["legs"]],
            f"- explanation: {d['explanation']}"]


def _trade_lines(t: dict[str, Any]) -> list[str]:
    """A trade's answer as markdown bullets."""
    return [f"- `POST /api/v1/trades` → HTTP {t['http_status']}, trade {t['id']} `{t['status']}` venue `{t['venue']}`"
            f"{', ' + str(t['error_code']) + ': ' + str(t['error'] or t['message']) if t['error_code'] else ''}",
            *[f"  - leg `{v}`: in {i}, out {o}" for v, i, o in t["legs"]],
            *[f"  - last look at `{a['venue']}`: {a['state']}{' (' + a['reason'] + ')' if a['reason'] else ''}"
              f"{', re-routed to ' + a['rerouted_to'] if a['rerouted_to'] else ''}, {a['latency_ms']} ms"
              for a in t["rfq_attempts"] or []],
            f"- explanation: {t['explanation']}"]


def _cell(v: Any) -> str:
    """A scorecard value for a table cell."""
    if isinstance(v, dict) and "trades" in v:  # markouts: average bps at each horizon (trades measured)
        return f"{v['trades']} trades; " + ", ".join(f"{h}: {_cell(v.get(h + '_bps'))} ({v.get(h + '_trades')})"
                                                    for h in ("1s", "10s", "60s", "300s"))
    if isinstance(v, dict):
        return ", ".join(f"{k}: {x}" for k, x in v.items()) or "–"
    return "–" if v is None else str(v)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
