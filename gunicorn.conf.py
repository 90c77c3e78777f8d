"""gunicorn settings, read from the working directory by `gunicorn main:app` (and `make run`)."""
from __future__ import annotations

from typing import Any


def post_worker_init(worker: Any) -> None:
    """Each worker, once booted, recovers what a dead predecessor left pending and starts its jobs (cli/worker.py)."""
    from cli import worker as jobs  # imported by the worker, after the app: gunicorn reads this file first

    jobs.start(worker.wsgi)
