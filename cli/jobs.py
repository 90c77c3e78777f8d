"""The job runner (Huey): parent-order steps, and the periodic round (ladder refresh, recovery, metrics).

Storage by configuration: SqliteHuey in instance/jobs.db by default (`make run`, no other service), RedisHuey on
REDIS_URL when JOBS_BACKEND=redis (the default when REDIS_URL is set) so consumers on several hosts share one queue,
and Huey's immediate mode under TESTING. `flask --app main jobs consumer` runs a consumer; the web app only enqueues.

A parent order is one chain of `step_parent` tasks, each scheduling the next at the parent's next due time. A chain
lost with a killed consumer is picked up again by the sweep (at consumer start and every minute): every working
parent that is due and not leased is enqueued. A task that finds its parent not due drops out (another chain has it).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper

from cli import worker
from ledger import parent_orders as store
from models import utcnow
from services import parent_orders
from services.market import Market

log = logging.getLogger(__name__)
BACKENDS = ("sqlite", "redis", "memory", "immediate")


def backend_of(config: dict[str, Any]) -> str:
    """JOBS_BACKEND, else immediate under TESTING, redis with REDIS_URL, sqlite otherwise."""
    chosen = (config.get("JOBS_BACKEND") or "").strip().lower()
    if not chosen:
        chosen = "immediate" if config.get("TESTING") else ("redis" if config.get("REDIS_URL") else "sqlite")
    if chosen not in BACKENDS:
        raise ValueError(f"JOBS_BACKEND must be one of {', '.join(BACKENDS)}, got {chosen!r}")
    return chosen


def make_huey(config: dict[str, Any], instance_path: str) -> Huey:
    """The Huey instance the configuration selects (see backend_of)."""
    name, backend = config.get("JOBS_NAME") or "olr", backend_of(config)
    if backend == "redis":
        if not config.get("REDIS_URL"):
            raise ValueError("JOBS_BACKEND=redis needs REDIS_URL")
        return RedisHuey(name, url=config["REDIS_URL"], utc=True)
    if backend == "sqlite":
        path = config.get("JOBS_SQLITE_PATH") or str(Path(instance_path) / "jobs.db")
        return SqliteHuey(name, filename=path, utc=True)
    return MemoryHuey(name, immediate=backend == "immediate", utc=True)


@dataclass(eq=False)
class JobRunner:
    """The app's Huey instance and its tasks; `enqueue_parent` is what the web app calls."""

    app: Flask
    huey: Huey
    step_parent: TaskWrapper
    sweep: TaskWrapper
    periodic: TaskWrapper

    def enqueue_parent(self, parent_id: int) -> None:
        """Start (or nudge) a parent order's chain of steps."""
        self.step_parent(parent_id)


def market_of(app: Flask) -> Market:
    """The app's market (built by create_app)."""
    return app.extensions["market"]


def build_runner(app: Flask) -> JobRunner:
    """The job runner of an app: its Huey instance with the tasks registered on it."""
    huey = make_huey(dict(app.config), app.instance_path)
    settings = parent_orders.ParentSettings.from_config(app.config)

    @huey.task(name="step_parent")
    def step_parent(parent_id: int) -> None:
        """One step of a parent order, then the next step scheduled at its next due time."""
        with app.app_context():
            now = utcnow()
            if not store.is_due(parent_id, now):
                return  # another chain holds it, or it is finished
            next_at = parent_orders.step(market_of(app), settings, parent_id, now)
        if next_at is not None:
            step_parent.schedule((parent_id,), delay=max(0.0, (next_at - utcnow()).total_seconds()))

    @huey.task(name="sweep_parents")
    def sweep() -> int:
        """Enqueue every working parent that is due and not leased (chains a dead consumer lost)."""
        with app.app_context():
            ids = store.due_ids(utcnow())
        for parent_id in ids:
            step_parent(parent_id)
        return len(ids)

    @huey.periodic_task(crontab(minute="*"), name="periodic_round")
    def periodic() -> None:
        """Every minute: the ladder refresh, a metrics snapshot, recovery of stale trades, the parent sweep."""
        worker.tick(app)
        sweep.call_local()

    @huey.on_startup()
    def on_start() -> None:
        """A consumer starting recovers stale trades and picks up every parent order that is due."""
        worker.recover_on_startup(app)
        sweep.call_local()

    return JobRunner(app, huey, step_parent, sweep, periodic)


def register(app: Flask, group: AppGroup) -> None:
    """Attach `flask --app main jobs consumer` to the jobs group."""

    @group.command("consumer")
    @click.option("--workers", type=click.IntRange(1, 64), default=None, help="Worker threads (JOBS_WORKERS).")
    def consumer_command(workers: int | None) -> None:
        """Run a job-runner consumer: parent orders and the periodic round; Ctrl-C stops it."""
        logging.basicConfig(level=logging.INFO, format="%(asctime)s jobs %(levelname)s %(name)s: %(message)s")
        runner: JobRunner = app.extensions["jobs"]
        if runner.huey.immediate:
            raise click.ClickException("JOBS_BACKEND is immediate/memory: nothing to consume (set sqlite or redis)")
        n = workers or int(app.config.get("JOBS_WORKERS", 2))
        click.echo(f"job runner: {type(runner.huey).__name__} '{runner.huey.name}', {n} worker threads")
        runner.huey.create_consumer(workers=n, worker_type="thread", periodic=True, initial_delay=0.1,
                                    backoff=1.15, max_delay=1.0, scheduler_interval=1,
                                    check_worker_health=True).run()
