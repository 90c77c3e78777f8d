"""Sequence test (issue 14 item 7): a 100,000 SOL sell sent whole (Jupiter one-shot), split by the router, or as a
TWAP, each followed by a second order, to show what persistent impact costs the next trade.

`python -m bench.sequence [--first SOL] [--second SOL] [--slices N] [--interval S]` writes
bench/results/sequence.md; `python -m bench.routing` runs it too and appends it to routing.md. Every scenario runs on
a fresh app (own SQLite database, full OTC pools, fresh simulated market) on a simulated clock, and executes
through the real apply path (trade_logger.reserve → execution.run's Jupiter swap → settle), so it measures whatever
market the simulator has: with pools that forget every trade the second order costs the same in every scenario;
with persistent impact (sim pools whose reserves our swaps move, pulled back with a half-life) it does not.
Costs are implementation shortfall vs each trade's arrival mid (the trades' own TCA).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from bench._sim import T0_S, fill, sim_market

RESULTS = Path(__file__).resolve().parent / "results" / "sequence.md"
FIRST_SOL, SECOND_SOL, SLICES, INTERVAL_S, GAP_S = 100_000, 10_000, 10, 60, 1


@dataclass(frozen=True)
class Outcome:
    """One scenario: the first order's trades and cost, then the second order's cost (bps vs arrival)."""

    name: str
    first_trades: int
    first_shortfall_bps: Decimal | None
    first_out_usdc: Decimal
    second_venue: str
    second_shortfall_bps: Decimal
    second_cost_bps: Decimal
    second_jupiter_bps: Decimal | None  # Jupiter's quote for the second order, execution cost vs its arrival mid
    second_at_s: float


def scenario(name: str, first_sol: int, second_sol: int, slices: int, interval_s: int,
             second_at_s: float | None = None) -> Outcome:
    """Run one scenario on a fresh app and market: none, whole, split or twap, then the second order (at
    second_at_s, default 1 s after the first order's last fill)."""
    from core import tca
    from core.orders import Order
    from core.tokens import SOL, USDC
    from ledger.tca_store import order_of

    with sim_market() as sm:
        now_s, first = float(T0_S), []
        if name == "twap":
            base, extra = divmod(first_sol * 10**SOL.decimals, slices)
            for i in range(slices):
                first.append(fill(sm, Order(SOL, USDC, base + (i < extra)), T0_S + i * interval_s))
            now_s = float(T0_S + (slices - 1) * interval_s)
        elif name in ("whole", "split"):
            first.append(fill(sm, Order(SOL, USDC, first_sol * 10**SOL.decimals), now_s,
                              "jupiter" if name == "whole" else "router"))
        lost = fair = Decimal(0)
        for t in first:
            worth = tca.fair_atoms(order_of(t), t.arrival_mid)
            fair += Decimal(worth.numerator) / worth.denominator
            lost += Decimal(t.tca.shortfall_atoms)
        at_s = now_s + GAP_S if second_at_s is None else second_at_s
        second = fill(sm, Order(SOL, USDC, second_sol * 10**SOL.decimals), at_s)
        jup = next((o for o in second.options if o["venue"] == "jupiter" and o["available"]), None)
        return Outcome(name, len(first), (lost * 10_000 / fair).quantize(Decimal("0.01")) if fair else None,
                       Decimal(sum(t.out_amount_atoms for t in first)) / 10**USDC.decimals,
                       second.venue, second.tca.shortfall_bps, second.cost_bps,
                       None if jup is None else Decimal(jup["execution_cost_bps"]), at_s)


def report(rows: list[tuple[Outcome, Outcome]], first_sol: int, second_sol: int, slices: int,
           interval_s: int) -> str:
    """The markdown results: each scenario next to the second order alone on a fresh market at the same instant."""
    lines = [
        "## Sequence: a block, then a second order", "",
        f"Reproduce: `python -m bench.sequence --first {first_sol} --second {second_sol} --slices {slices} "
        f"--interval {interval_s}`. A {first_sol:,} SOL → USDC sell sent whole on Jupiter (one-shot), split by the "
        f"router, or as a TWAP of {slices} router-decided slices {interval_s} s apart; then a {second_sol:,} SOL "
        f"sell {GAP_S} s after the last fill, compared with the same second order on a fresh market at the same "
        "instant. Shortfall is vs each trade's arrival mid (bps of value); everything executes through the real "
        "apply path on a simulated clock.", "",
        "| first order | trades | first: shortfall (bps) | first: USDC received | second: venue | "
        "second: shortfall (bps) | second: extra vs fresh market (bps) | second: Jupiter quote (bps), after / fresh |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r, fresh in rows:
        lines.append(f"| {r.name} | {r.first_trades} | {r.first_shortfall_bps} | {r.first_out_usdc:,.2f} | "
                     f"{r.second_venue} | {r.second_shortfall_bps:.2f} | "
                     f"{r.second_shortfall_bps - fresh.second_shortfall_bps:+.2f} | "
                     f"{r.second_jupiter_bps} / {fresh.second_jupiter_bps} |")
    whole = next(pair for pair in rows if pair[0].name == "whole")
    forgets = whole[0].second_jupiter_bps == whole[1].second_jupiter_bps
    lines += ["", "Jupiter's simulated pools forget trades here (its quote for the second order is the same after a "
              f"{first_sol:,} SOL Jupiter sell as on a fresh market): only the dealers' inventory carries memory, so "
              "these figures must be re-run once the simulator has persistent impact." if forgets else
              "Jupiter's quote for the second order is worse after the block: persistent impact in the simulated "
              "pools, decaying with their half-life."]
    return "\n".join(lines) + "\n"


def run(first_sol: int = FIRST_SOL, second_sol: int = SECOND_SOL, slices: int = SLICES,
        interval_s: int = INTERVAL_S) -> str:
    """Every scenario; the markdown section (also written to bench/results/sequence.md)."""
    rows = []
    for name in ("whole", "split", "twap"):
        after = scenario(name, first_sol, second_sol, slices, interval_s)
        rows.append((after, scenario("none", first_sol, second_sol, slices, interval_s, after.second_at_s)))
    text = report(rows, first_sol, second_sol, slices, interval_s)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    return text


def main(argv: list[str]) -> int:
    """Run the sequence test and print it."""
    args = argparse.ArgumentParser(prog="python -m bench.sequence")
    args.add_argument("--first", type=int, default=FIRST_SOL, help="the block, SOL")
    args.add_argument("--second", type=int, default=SECOND_SOL, help="the order after it, SOL")
    args.add_argument("--slices", type=int, default=SLICES)
    args.add_argument("--interval", type=int, default=INTERVAL_S, help="seconds between TWAP slices")
    opts = args.parse_args(argv)
    print(run(opts.first, opts.second, opts.slices, opts.interval))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
