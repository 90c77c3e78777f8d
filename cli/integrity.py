"""CLI commands of execution integrity: `reconcile` (inventory against trades), `recover` (finish lost trades)."""
from __future__ import annotations

import click
from flask import Flask, current_app

from ledger import reconcile
from models import utcnow
from services import execution, rfq_execution


def register(app: Flask) -> None:
    """Attach `reconcile`, `recover` and `rfq-swap-answer` to `flask --app main`."""

    @app.cli.command("reconcile")
    def reconcile_command() -> None:
        """Check each pool: inventory = initial + replenished + received − paid; exit 1 on any mismatch."""
        report = reconcile.check(utcnow(), current_app.config.get("PENDING_TIMEOUT_S", 60))
        for line in reconcile.render(report):
            click.echo(line)
        if not report.ok:
            raise SystemExit(1)

    @app.cli.command("recover")
    @click.option("--older-than", "older_than_s", type=click.FloatRange(0), default=None,
                  help="Seconds a trade must have been pending [default: PENDING_TIMEOUT_S, 60].")
    def recover_command(older_than_s: float | None) -> None:
        """Finish trades a lost process left pending, or unknown: complete OTC-only ones, ask the chain, fail others."""
        timeout_s = current_app.config.get("PENDING_TIMEOUT_S", 60) if older_than_s is None else older_than_s
        done = execution.recover(utcnow(), timeout_s, current_app.extensions["market"])
        for trade in done:
            click.echo(f"trade #{trade.id}: pending -> {trade.status}" + (f" ({trade.error})" if trade.error else ""))
        click.echo(f"recovered {len(done)} pending trade(s)")

    @app.cli.command("rfq-swap-answer")
    @click.argument("quote_id")
    @click.argument("state", type=click.Choice(["accepted", "rejected"]))
    @click.option("--reason", default=None, help="The maker's rejection reason, as it told ops.")
    def rfq_swap_answer_command(quote_id: str, state: str, reason: str | None) -> None:
        """Record a maker's answer to a last-look swap whose answer was lost; the next recovery finishes its trade."""
        try:
            swap = rfq_execution.record_answer(quote_id, state, reason)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        click.echo(f"swap {swap.quote_id} of trade #{swap.trade_id}: {swap.state}; run `recover` to finish the trade")
