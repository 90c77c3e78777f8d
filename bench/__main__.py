"""Run every benchmark in bench/ (each module with a main(argv) function), in name order."""
from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench


def main(argv: list[str]) -> int:
    """Run the benchmarks named in argv (default: all); the worst exit status wins."""
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))
    chosen = [n for n in names if not argv or n in argv]
    status = 0
    for name in chosen:
        module = importlib.import_module(f"bench.{name}")
        if not callable(getattr(module, "main", None)):
            continue
        started = time.perf_counter()
        print(f"==> bench.{name}", flush=True)
        status = max(status, int(module.main([]) or 0))
        print(f"<== bench.{name} in {time.perf_counter() - started:.1f} s", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
