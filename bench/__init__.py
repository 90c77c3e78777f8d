"""Benchmarks: `python -m bench` runs every module here that defines main(argv); `python -m bench.NAME` runs one.

Each writes its figures to bench/results/NAME.md and prints a summary. They measure; they are not timed tests.
"""
from __future__ import annotations

import importlib.util
import sys

if not all(importlib.util.find_spec(m) for m in ("flask", "sqlalchemy", "alembic")):  # before any import fails
    sys.exit("the benchmarks need the project's virtualenv: `make setup`, then `.venv/bin/python -m bench.NAME`")
