"""Run every benchmark in bench/ (each module with a main(argv) function), in name order, then print a summary table.

The summary (also bench/results/summary.md) collects each benchmark's headline figures: the rows it wrote to
bench/results/NAME.summary.json, or for bench.routing the lines of its routing.md.
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import re
import sys
import time
from pathlib import Path

import bench

RESULTS = Path(bench.__file__).resolve().parent / "results"


def _routing_summary() -> list[tuple[str, str]]:
    """Headline figures of bench/results/routing.md (written by bench.routing, which has no summary file)."""
    path = RESULTS / "routing.md"
    if not path.exists():
        return []
    text = path.read_text()
    rows = []
    if found := re.search(r"\| split \| ([\d.-]+) \| ([\d.-]+) \|", text):
        rows.append(("split routing savings vs Jupiter-only (avg / total bps)", f"{found[1]} / {found[2]}"))
    if found := re.search(r"split p50 ([\d.]+) ms, p99 ([\d.]+) ms", text):
        rows.append(("router decide step (pure), all sizes", f"p50 {found[1]} ms, p99 {found[2]} ms"))
    return rows


def summary(names: list[str], seconds: dict[str, float]) -> str:
    """The markdown summary of the benchmarks that ran."""
    lines = ["| benchmark | figure | value |", "|---|---|---|"]
    for name in names:
        path = RESULTS / f"{name}.summary.json"
        rows = _routing_summary() if name == "routing" else (json.loads(path.read_text()) if path.exists() else [])
        lines += [f"| {name} | {figure} | {value} |" for figure, value in rows]
    total = sum(seconds.values())
    timing = ", ".join(f"{n} {s:.0f} s" for n, s in seconds.items())
    return "\n".join(["# Benchmark summary", "", "\n".join(lines), "",
                      f"`python -m bench` ran in {total:.0f} s ({timing}). Details: bench/results/NAME.md.", ""])


def main(argv: list[str]) -> int:
    """Run the benchmarks named in argv (default: all); the worst exit status wins."""
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))
    chosen = [n for n in names if not argv or n in argv]
    status = 0
    ran: dict[str, float] = {}
    for name in chosen:
        module = importlib.import_module(f"bench.{name}")
        if not callable(getattr(module, "main", None)):
            continue
        started = time.perf_counter()
        print(f"==> bench.{name}", flush=True)
        status = max(status, int(module.main([]) or 0))
        ran[name] = time.perf_counter() - started
        print(f"<== bench.{name} in {ran[name]:.1f} s", flush=True)
    text = summary(list(ran), ran)
    if not argv:
        (RESULTS / "summary.md").write_text(text)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
