"""gunicorn settings, read from the working directory by `gunicorn main:app` (and `make run`)."""
from __future__ import annotations

from typing import Any


def post_worker_init(worker: Any) -> None:
    """Each worker, once booted, finishes the trades a dead predecessor left pending (execution.recover_on_startup)."""
    from services.execution import recover_on_startup

    recover_on_startup(worker.wsgi)
