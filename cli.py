"""Flask CLI commands: database set-up and seeding."""
from __future__ import annotations

import click
from flask import Flask


def register_cli(app: Flask) -> None:
    """Attach the project's commands to `flask --app main`."""

    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Apply migrations and seed the default OTC pools (idempotent)."""
        from seed import init_database

        created = init_database()
        click.echo(f"database ready; {created} pool(s) seeded")
