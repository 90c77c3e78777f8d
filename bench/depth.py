"""Depth benchmark of the simulated DEX: cost by size against issue 14's targets, persistent impact, CPU per quote.

`python -m bench.depth` writes bench/results/depth.md. Pure simulator (no app, no database): calm prices
(SOL = 150 USDC), default depth (JUPITER_SIM_DEPTH=1), default half-life (SIM_ARB_HALF_LIFE_S=60).
Shortfall is an N-SOL sell's rate against a 1-SOL quote's rate in the same second; cost is against the reference mid
(fees included). CPU per quote compares in one run: the closed-form ExactOut against the bisection it replaced, and
warm pool tables against tables rebuilt on every call (as before).
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from decimal import Decimal

from bench._common import write
from core.tokens import SOL, USDC, USDT, Token
from jupiter_api import parse_quote
from sim import amm, dex, impact
from sim.price import SimConfig, reference_price

NOW = 1_760_000_000
CALM = SimConfig(annual_vol_pct=Decimal(0))  # arb_half_life_s: the default 60 s
TARGETS = {1_000: Decimal(3), 10_000: Decimal(25), 100_000: Decimal(300)}  # issue 14: shortfall ≤ bps
SIZES = (100, 1_000, 10_000, 100_000)


def _quote(inp: Token, out: Token, amount: int, config: SimConfig = CALM, mode: str = "ExactIn",
           displaced: dict[str, int] | None = None, **extra: str) -> dict:
    """A 200 quote body of the simulator."""
    params = {"inputMint": inp.mint, "outputMint": out.mint, "amount": str(amount), "swapMode": mode, **extra}
    status, body = dex.quote_response(params, NOW, config, displaced or {})
    assert status == 200, body
    return body


def shortfall_bps(quote_token: Token, sol: int, **extra: str) -> Decimal:
    """An N-SOL sell's shortfall against the rate of a 1-SOL quote in the same second (bps)."""
    one = Decimal(_quote(SOL, quote_token, 10**9, **extra)["outAmount"])
    return (1 - Decimal(_quote(SOL, quote_token, sol * 10**9, **extra)["outAmount"]) / (one * sol)) * 10_000


def cost_bps(quote_token: Token, sol: int, config: SimConfig = CALM, now: float = NOW,
             displaced: dict[str, int] | None = None, **extra: str) -> Decimal:
    """An N-SOL sell's all-in cost against the reference mid (bps, fees included)."""
    params = {"inputMint": SOL.mint, "outputMint": quote_token.mint, "amount": str(sol * 10**9), **extra}
    status, body = dex.quote_response(params, now, config, displaced or {})
    assert status == 200, body
    mid = reference_price(SOL.mint, quote_token.mint, now, config) * sol * 10**quote_token.decimals
    return (1 - Decimal(body["outAmount"]) / mid) * 10_000


def impact_rows() -> list[tuple[str, Decimal]]:
    """Cost of a 10,000 SOL sell before, right after a 50,000 SOL execution, and 1, 2, 5 half-lives later."""
    config = CALM
    rows: dict[str, impact.Displacement] = {}
    before = cost_bps(USDC, 10_000, config)
    big = parse_quote(_quote(SOL, USDC, 50_000 * 10**9, config))
    rows.update(impact.moved(rows, big.route_plan, NOW, config))
    found = [("before", before)]
    for label, later in (("right after", 0), ("1 half-life", 1), ("2 half-lives", 2), ("5 half-lives", 5)):
        at = NOW + later * config.arb_half_life_s
        found.append((label, cost_bps(USDC, 10_000, config, at, impact.displacements_at(rows.values(), at, config))))
    return found


def _bisection_exact_out(params: dict[str, str]) -> int:
    """The ExactOut search this module replaced: bisect the input over the whole capacity (for the comparison)."""
    req = dex.parse_request(params)
    hops = dex.find_path(req, NOW, CALM)
    lo, hi = 0, sum(p.cap for p in hops[0])
    while hi - lo > 1:
        mid = (lo + hi) // 2
        result = dex.run_route(hops, mid)
        lo, hi = (lo, mid) if result is None or result[1] >= req.amount else (mid, hi)
    return hi


def _cpu_ms(fn: Callable[[], object], repeat: int) -> Decimal:
    """Mean process CPU time of one call, ms."""
    fn()
    start = time.process_time()
    for _ in range(repeat):
        fn()
    return Decimal(str((time.process_time() - start) * 1000 / repeat)).quantize(Decimal("0.001"))


def speed_rows() -> list[tuple[str, Decimal, Decimal]]:
    """CPU per simulated quote over a size mix: (case, this model, the way it replaced)."""
    def params(mode: str, sol: int) -> dict[str, str]:
        amount = sol * 10**9 if mode == "ExactIn" else sol * 150 * 10**6
        return {"inputMint": SOL.mint, "outputMint": USDC.mint, "amount": str(amount), "swapMode": mode}

    mix = [params(mode, sol) for mode in ("ExactIn", "ExactOut") for sol in (1, 100, 10_000, 50_000)]
    outs = [p for p in mix if p["swapMode"] == "ExactOut"]

    def warm() -> None:
        for p in mix:
            dex.quote_response(p, NOW, CALM)

    def cold() -> None:
        for p in mix:
            amm.centres.cache_clear()
            dex.quote_response(p, NOW, CALM)

    def closed_form() -> None:
        for p in outs:
            dex.quote_response(p, NOW, CALM)

    def bisection() -> None:
        for p in outs:
            _bisection_exact_out(p)

    n = len(mix)
    return [
        ("size mix, ExactIn+ExactOut: warm tables vs rebuilt per call", _cpu_ms(warm, 20) / n, _cpu_ms(cold, 20) / n),
        ("ExactOut: closed form + short search vs bisection", _cpu_ms(closed_form, 20) / len(outs),
         _cpu_ms(bisection, 5) / len(outs)),
    ]


def report() -> tuple[str, list[tuple[str, str]]]:
    """The markdown report and the summary rows for `python -m bench`."""
    shortfalls = {sol: shortfall_bps(USDC, sol) for sol in SIZES}
    impacts = impact_rows()
    speeds = speed_rows()
    lines = ["# Simulated DEX depth (issue 14 item 2, issue 17 item 1)", "",
             "`python -m bench.depth`; calm prices, SOL = 150 USDC, JUPITER_SIM_DEPTH=1.", "",
             "| SOL sold | SOL/USDC shortfall vs 1-SOL rate | target | met | SOL/USDC cost vs mid "
             "| SOL/USDT cost vs mid |",
             "|---:|---:|---:|:-:|---:|---:|"]
    for sol in SIZES:
        short = shortfalls[sol]
        target = TARGETS.get(sol)
        met = "—" if target is None else ("yes" if short <= target else "NO")
        lines.append(f"| {sol:,} | {short:.2f} bps | {f'≤ {target}' if target else '—'} | {met} | "
                     f"{cost_bps(USDC, sol):.2f} bps | {cost_bps(USDT, sol):.2f} bps |")
    lines += ["", f"HumidiFi alone (prop AMM), 4,000 SOL: {cost_bps(USDC, 4_000, dexes='HumidiFi'):.2f} bps all-in "
              "(published: ~4 bps).", "",
              "## Persistent impact: a 10,000 SOL sell around a 50,000 SOL Jupiter execution", "",
              "| when | cost vs mid |", "|---|---:|"]
    lines += [f"| {label} | {value:.2f} bps |" for label, value in impacts]
    lines += ["", "## CPU per simulated quote (this machine, process time)", "",
              "| case | now | the way it replaced |", "|---|---:|---:|"]
    lines += [f"| {case} | {now:.3f} ms | {old:.3f} ms |" for case, now, old in speeds]
    met = all(shortfalls[sol] <= target for sol, target in TARGETS.items())
    summary = [
        ("sim shortfall at 1k / 10k / 100k SOL (targets ≤ 3 / 25 / 300 bps)",
         " / ".join(f"{shortfalls[sol]:.2f}" for sol in TARGETS) + (" (met)" if met else " (NOT met)")),
        ("10k SOL sell cost: before / right after 50k / after 5 half-lives (bps)",
         f"{impacts[0][1]:.2f} / {impacts[1][1]:.2f} / {impacts[-1][1]:.2f}"),
        ("sim CPU per quote, size mix / ExactOut (ms)", f"{speeds[0][1]:.3f} / {speeds[1][1]:.3f}"),
    ]
    return "\n".join(lines) + "\n", summary


def main(argv: list[str] | None = None) -> int:
    """Write bench/results/depth.md (and its summary rows) and print it."""
    argparse.ArgumentParser(prog="python -m bench.depth", description=__doc__).parse_args(argv)
    text, summary = report()
    write("depth", text, summary)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
