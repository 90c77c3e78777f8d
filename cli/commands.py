"""Flask CLI commands: database set-up and seeding."""
from __future__ import annotations

import click
from flask import Flask, current_app

from cli import integrity, jobs, users, worker
from cli.demo import simulate
from ledger import rollups
from services.seed import init_database, seed_makers


def register_cli(app: Flask) -> None:
    """Attach the project's commands to `flask --app main`."""
    users.register(app)  # users ..., tokens ... (issue 7)
    integrity.register(app)  # reconcile, recover (issue 6)
    jobs.register(app, worker.register(app))  # jobs tick, jobs consumer (the job runner, issue 16)
    rollups.register_cli(app)  # rollups rebuild (issue 8)

    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Apply migrations and seed the default OTC pools (idempotent)."""
        created = init_database()
        makers = seed_makers() if current_app.config["JUPITER_MODE"] == "sim" else 0
        click.echo(f"database ready; {created} pool(s) and {makers} simulated RFQ maker(s) seeded")
        if hint := users.first_admin_hint():
            click.echo(hint)

    @app.cli.command("simulate")
    @click.option("--trades", "trades", type=click.IntRange(1, 100_000), default=300, show_default=True,
                  help="How many orders to route.")
    @click.option("--days", type=click.FloatRange(0.05, 365), default=30, show_default=True,
                  help="Spread them over this many past days, up to a minute ago (30: the analytics' default view).")
    @click.option("--seed", type=int, default=None, help="Random seed, for a reproducible data set.")
    def simulate_command(trades: int, days: float, seed: int | None) -> None:
        """Fill the database with realistic back-dated trades through the real router (demo data, sim mode only)."""
        with click.progressbar(length=trades, label="Routing simulated trades", show_pos=True) as bar:
            try:
                report = simulate(trades, days=days, seed=seed, on_trade=lambda _outcome: bar.update(1))
            except RuntimeError as exc:
                raise click.ClickException(str(exc)) from None
        outcomes = ", ".join(f"{n} {kind}" for kind, n in sorted(report.outcomes.items()))
        click.echo(f"{trades} orders from {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC: "
                   f"{outcomes}; {report.snapshots} metrics snapshots")
