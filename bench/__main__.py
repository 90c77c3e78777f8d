"""Run every benchmark in bench/ (each module with a main(argv) function), in name order, then print a summary table.

The summary (also bench/results/summary.md) collects each benchmark's headline figures, each target next to its
figure: the rows it wrote to bench/results/NAME.summary.json.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench
from bench._common import RESULTS, summary_markdown


def summary(seconds: dict[str, float]) -> str:
    """The markdown summary: every benchmark's rows, and how long this run took."""
    timing = ", ".join(f"{n} {s:.0f} s" for n, s in seconds.items())
    return summary_markdown(f"`python -m bench` ran in {sum(seconds.values()):.0f} s ({timing}). "
                            "Details: bench/results/NAME.md.")


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
    text = summary(ran)
    if not argv:
        (RESULTS / "summary.md").write_text(text)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
