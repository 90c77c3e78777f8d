"""What a benchmark needs besides the code: each check says how to get what is missing, never a traceback."""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Callable

from bench._common import PG_SERVER_URL, ROOT, pg_available

WRK = os.environ.get("WRK") or shutil.which("wrk") or "/usr/bin/wrk"
HOW = {
    "venv": "the project's virtualenv: `make setup`, then run `.venv/bin/python -m bench.NAME`",
    "wrk": "wrk, the HTTP load generator: `sudo apt-get install wrk` (Debian/Ubuntu; `make bench` installs it "
           "through scripts/bench-prereqs.sh), or set WRK=/path/to/wrk",
    "gunicorn": "gunicorn in .venv/bin: `make setup`",
    "pyinstrument": "pyinstrument (requirements-dev.txt): `make setup`",
    "postgresql": f"a PostgreSQL server at BENCH_PG_URL ({PG_SERVER_URL}): `make bench` starts Debian's cluster "
                  "(scripts/bench-prereqs.sh), or `sudo pg_ctlcluster 15 main start`, or set BENCH_PG_URL",
}


def _have(name: str) -> bool:
    """True when `name` (a key of HOW) is available here."""
    checks: dict[str, Callable[[], bool]] = {
        "venv": lambda: all(importlib.util.find_spec(m) for m in ("flask", "sqlalchemy", "alembic")),
        "wrk": lambda: os.access(WRK, os.X_OK),
        "gunicorn": lambda: os.access(ROOT / ".venv" / "bin" / "gunicorn", os.X_OK),
        "pyinstrument": lambda: importlib.util.find_spec("pyinstrument") is not None,
        "postgresql": pg_available,
    }
    return checks[name]()


def missing(*needs: str) -> list[str]:
    """The needs (keys of HOW) that are not available here."""
    return [n for n in needs if not _have(n)]


def check(bench: str, *needs: str) -> bool:
    """True when every need is met; else print, for each missing one, how to get it (to stderr), and False."""
    lacking = missing(*needs)
    for name in lacking:
        print(f"bench.{bench} needs {HOW[name]}", file=sys.stderr, flush=True)
    return not lacking
