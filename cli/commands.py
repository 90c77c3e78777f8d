"""Flask CLI commands: database set-up and seeding."""
from __future__ import annotations

import click
from flask import Flask


def register_cli(app: Flask) -> None:
    """Attach the project's commands to `flask --app main`."""
    from cli import users

    users.register(app)  # users ..., tokens ... (issue 7)
    from cli import integrity

    integrity.register(app)  # reconcile, recover (issue 6)
    from ledger import rollups

    rollups.register_cli(app)  # rollups rebuild (issue 8)

    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Apply migrations and seed the default OTC pools (idempotent)."""
        from services.seed import init_database

        created = init_database()
        click.echo(f"database ready; {created} pool(s) seeded")
        from cli.users import first_admin_hint

        if hint := first_admin_hint():
            click.echo(hint)

    @app.cli.command("simulate")
    @click.option("--trades", "trades", type=click.IntRange(1, 100_000), default=300, show_default=True,
                  help="How many orders to route.")
    @click.option("--days", type=click.FloatRange(0.05, 365), default=14, show_default=True,
                  help="Spread them over this many past days, up to a minute ago.")
    @click.option("--seed", type=int, default=None, help="Random seed, for a reproducible data set.")
    def simulate_command(trades: int, days: float, seed: int | None) -> None:
        """Fill the database with realistic back-dated trades through the real router (demo data, sim mode only)."""
        from services.demo import simulate

        with click.progressbar(length=trades, label="Routing simulated trades", show_pos=True) as bar:
            try:
                report = simulate(trades, days=days, seed=seed, on_trade=lambda _outcome: bar.update(1))
            except RuntimeError as exc:
                raise click.ClickException(str(exc)) from None
        outcomes = ", ".join(f"{n} {kind}" for kind, n in sorted(report.outcomes.items()))
        click.echo(f"{trades} orders from {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC: "
                   f"{outcomes}; {report.snapshots} metrics snapshots")
