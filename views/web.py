"""Server-rendered pages: gather, decide, apply, redirect (Post/Redirect/Get)."""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

import analytics
import services
from forms import ExecuteForm, TradeTicketForm
from models import Quote, Trade, db, utcnow

bp = Blueprint("web", __name__)
PAGE_SIZE = 50


@bp.get("/")
def dashboard():
    """Home: KPIs, recent trades, pool inventory."""
    return render_template("dashboard.html", summary=analytics.summary(), trades=analytics.trade_page(limit=10),
                           pools=analytics.pools())


@bp.route("/trade", methods=["GET", "POST"])
def trade_ticket():
    """The trade ticket: validate, quote every venue, then show the comparison."""
    form = TradeTicketForm()
    if form.validate_on_submit():
        data = {"input": form.input.data, "output": form.output.data, "amount": form.amount.data,
                "swap_mode": form.swap_mode.data, "slippage_bps": form.slippage_bps.data}
        try:
            quote, _ = services.quote(services.parse_order(data))
            return redirect(url_for("web.quote_detail", quote_id=quote.id))
        except services.InputError as exc:
            getattr(form, exc.field or "amount").errors.append(str(exc))
        except services.ServiceError as exc:
            flash(str(exc), "danger")
    return render_template("trade_ticket.html", form=form), 200 if request.method == "GET" or not form.errors else 400


@bp.get("/quotes/<quote_id>")
def quote_detail(quote_id: str):
    """The quote comparison: each venue side by side, the decision, and the execute button."""
    quote = db.session.get(Quote, quote_id)
    if quote is None:
        abort(404, "That quote does not exist.")
    form = ExecuteForm(token=secrets.token_urlsafe(16))
    return render_template("quote.html", quote=quote, q=quote.payload, form=form,
                           expired=utcnow() >= quote.expires_at)


@bp.post("/quotes/<quote_id>/execute")
def execute_quote(quote_id: str):
    """Execute a stored quote once (the form's one-time token makes double-clicks harmless)."""
    form = ExecuteForm()
    if not form.validate_on_submit():
        abort(400, "The execute form was incomplete; reload the quote and try again.")
    try:
        trade, _ = services.execute_request({"quote_id": quote_id}, idempotency_key=f"web:{form.token.data}")
    except services.ServiceError as exc:
        flash(str(exc), "danger")
        if exc.trade is not None:
            return redirect(url_for("web.trade_detail", trade_id=exc.trade.id))
        return redirect(url_for("web.quote_detail", quote_id=quote_id))
    flash(f"Trade #{trade.id} filled on {trade.venue}.", "success")
    return redirect(url_for("web.trade_detail", trade_id=trade.id))


@bp.get("/trades/<int:trade_id>")
def trade_detail(trade_id: int):
    """One trade: what was filled where, both quotes, the legs and the timeline."""
    trade = db.session.get(Trade, trade_id)
    if trade is None:
        abort(404, f"There is no trade #{trade_id}.")
    return render_template("trade_detail.html", trade=trade)


@bp.get("/trades")
def history():
    """Trade history, newest first, keyset-paginated, filtered by venue, status and pair."""
    before = request.args.get("before", type=int)
    filters = {k: request.args.get(k) or None for k in ("venue", "status", "pair")}
    trades = analytics.trade_page(limit=PAGE_SIZE + 1, before_id=before, **filters)
    more = len(trades) > PAGE_SIZE
    trades = trades[:PAGE_SIZE]
    next_url = url_for("web.history", before=trades[-1].id, **{k: v for k, v in filters.items() if v}) if more else None
    return render_template("history.html", trades=trades, filters=filters, next_url=next_url)


@bp.get("/analytics", endpoint="analytics")
def analytics_page():
    """Analytics: savings, route mix and costs over time."""
    return render_template("analytics.html", summary=analytics.summary())


@bp.get("/pools")
def pools():
    """OTC pools: configuration and live inventory."""
    return render_template("pools.html", pools=analytics.pools(), stats=analytics.pool_stats())


@bp.get("/monitoring")
def monitoring():
    """Jupiter latency, errors, breaker state and DB health."""
    return render_template("monitoring.html")


@bp.get("/api")
def api_docs():
    """The rendered API reference."""
    return render_template("api_docs.html")
