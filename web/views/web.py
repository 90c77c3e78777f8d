"""Server-rendered pages: gather, decide, apply, redirect (Post/Redirect/Get)."""
from __future__ import annotations

import secrets
import time
from decimal import Decimal

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from core.tokens import TOKENS, token_by_mint
from ledger import maker_log
from models import OTCPool, Quote, Trade, db, utcnow
from read import analytics, series, tca_series
from read import history as blotter
from read.tca import tca_json
from read.window import make_window
from services import cost_chart, makers, monitoring, parent_estimates, pool_config, quoting, trading
from web import context, serializers
from web.formatting import display_places
from web.forms import ExecuteForm, PoolForm, TradeTicketForm
from web.views import pages
from web.views.charts import RangeError, benchmark_from_request, window_from_request
from web.views.events import remember_quote

bp = Blueprint("web", __name__)
PAGE_SIZE = 50
CSV_MAX_ROWS = 100_000


bp.add_app_template_global(pages.can_url, "can_url")


@bp.get("/")
def dashboard():
    """Home: KPIs, recent trades, pool inventory; dashboard.js refreshes it from /api/v1/analytics/dashboard."""
    return render_template("dashboard.html", data=serializers.dashboard_json(
                               utcnow(), context.market().settings.guardrails.low_water_pct),
                           jupiter=monitoring.jupiter_status(context.market()))


@bp.route("/trade", methods=["GET", "POST"])
def trade_ticket():
    """The trade ticket: validate, quote every venue, then show the comparison."""
    form = TradeTicketForm()
    suggestion = None
    if request.method == "GET":
        pages.prefill_ticket(form, request.args)  # an expired quote's order, or a link's
    if form.validate_on_submit():
        data = {"input": form.input.data, "output": form.output.data, "amount": form.amount.data,
                "swap_mode": form.swap_mode.data, "slippage_bps": form.slippage_bps.data}
        try:
            order = quoting.parse_order(data)
            quote, _ = quoting.quote(context.market(), order, user_id=current_user.id)
            remember_quote(quote.id)  # its expiry raises a toast on the user's pages
            return redirect(url_for("web.quote_detail", quote_id=quote.id), code=303)
        except quoting.InputError as exc:
            getattr(form, exc.field or "amount", form.amount).errors.append(str(exc))
        except quoting.ServiceError as exc:  # COST_LIMIT: with the parent order that would fit
            refusal = parent_estimates.suggest_parent(context.market(), order, exc)
            suggestion = refusal.extra.get("suggestion")
            flash(str(refusal), "danger")
    tokens = {t.symbol: {"decimals": t.decimals, "mint": t.mint, "places": display_places(t)} for t in TOKENS}
    status = 200 if request.method == "GET" or not form.errors else 400
    rails = context.market().settings.guardrails
    return render_template("trade_ticket.html", form=form, tokens=tokens, suggestion=suggestion,
                           thresholds=rails.thresholds(), alerts=pages.ticket_alerts(form, rails.low_water_pct)), status


@bp.get("/quotes/<quote_id>")
def quote_detail(quote_id: str):
    """The quote comparison: each venue side by side, the decision, and the execute button."""
    quote = db.session.get(Quote, quote_id)
    if quote is None:
        abort(404, "That quote does not exist.")
    form = ExecuteForm(token=secrets.token_urlsafe(16))
    q = quote.payload
    mid_text = pages.mid_text(Decimal(q["mid_price"]), q["order"]["input_symbol"], q["order"]["output_symbol"])
    return render_template("quote.html", quote=quote, q=q, form=form, expired=utcnow() >= quote.expires_at,
                           mid_text=mid_text, order_args=pages.order_args(quote),
                           legs=pages.legs_view(q["decision"]["legs"], q["order"]["input_mint"],
                                                q["order"]["output_mint"]))


@bp.post("/quotes/<quote_id>/execute")
def execute_quote(quote_id: str):
    """Execute a stored quote once (the form's one-time token makes double-clicks harmless)."""
    form = ExecuteForm()
    if not form.validate_on_submit():
        abort(400, "The execute form was incomplete; reload the quote and try again.")
    try:
        body = {"quote_id": quote_id, "acknowledge_cost": bool(form.acknowledge_cost.data)}
        trade, _ = trading.execute_request(context.market(), body, idempotency_key=f"web:{form.token.data}",
                                           user_id=current_user.id, hard_confirm=True)  # the browser always asks
    except quoting.ServiceError as exc:
        flash(str(exc), "danger")
        if exc.trade is not None:
            return redirect(url_for("web.trade_detail", trade_id=exc.trade.id), code=303)
        return redirect(url_for("web.quote_detail", quote_id=quote_id), code=303)
    flash(f"Trade #{trade.id} {trade.status} on {trade.venue}.", "success" if trade.status == "filled" else "info")
    return redirect(url_for("web.trade_detail", trade_id=trade.id), code=303)


@bp.get("/trades/<int:trade_id>")
def trade_detail(trade_id: int):
    """One trade: what was filled where, both quotes, the legs and the timeline."""
    trade = db.session.get(Trade, trade_id)
    if trade is None:
        abort(404, f"There is no trade #{trade_id}.")
    legs = pages.legs_view(trade.legs, trade.input_mint, trade.output_mint)
    return render_template("trade_detail.html", trade=trade, legs=legs, timeline=pages.timeline(trade),
                           tca=tca_json(trade), benchmarks=tca_series.BENCHMARK_LABELS,
                           arrival_text=pages.mid_text(trade.arrival_mid, trade.input_symbol, trade.output_symbol)
                           if trade.arrival_mid else "—",
                           attempts=maker_log.swaps_of_trade(trade.id))


@bp.get("/trades")
def history():
    """Trade history: filtered, sorted, counted and keyset-paginated server-side (?cursor= next, ?before= previous)."""
    query = pages.history_query(request.args, current_user.id)
    try:
        page = blotter.history_page(query, PAGE_SIZE)
    except ValueError:
        flash("That page link is no longer valid; showing the first page.", "warning")
        query = pages.first_page(query)
        page = blotter.history_page(query, PAGE_SIZE)
    args = pages.history_args(query, request.args)
    count = blotter.history_count(query)
    return render_template(
        "history.html", trades=page.rows, query=query, args=args,
        traders=blotter.trader_names(t.user_id for t in page.rows),
        count=count, count_text=pages.count_text(count, blotter.COUNT_CAP),
        next_url=url_for("web.history", **args, cursor=page.next_cursor) if page.next_cursor else None,
        prev_url=url_for("web.history", **args, before=page.prev_cursor) if page.prev_cursor else None,
        first_url=url_for("web.history", **args) if query.cursor or query.before else None,
        csv_url=url_for("web.history_csv", **args), venues=analytics.venues_seen(),
        pairs=analytics.pairs_seen(), sort_url=lambda key: pages.sort_url(query, args, key),
        trader_url=lambda name: pages.history_url(args, ("mine", "trader"), trader=name),
        clear_trader_url=pages.history_url(args, ("trader",)))


@bp.get("/trades.csv")
def history_csv():
    """The filtered history as CSV (every matching trade, up to CSV_MAX_ROWS), streamed."""
    query = pages.first_page(pages.history_query(request.args, current_user.id))
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    rows = stream_with_context(pages.csv_lines(blotter.history_rows(query, CSV_MAX_ROWS), blotter.trader_names()))
    disposition = f'attachment; filename="trades-{stamp}.csv"'
    return Response(rows, mimetype="text/csv", headers={"Content-Disposition": disposition})


@bp.get("/analytics", endpoint="analytics")
def analytics_page():
    """Analytics over a date range: savings, size buckets, route mix, slippage, cost vs size, volume by pair."""
    try:
        window = window_from_request()
    except RangeError as exc:
        flash(f"{exc} Showing the last 30 days.", "warning")
        window = make_window(None, None, None, utcnow(), None)
    try:
        benchmark = benchmark_from_request()
    except RangeError as exc:
        flash(f"{exc}; showing savings against the best single venue.", "warning")
        benchmark = tca_series.DEFAULT_BENCHMARK
    charts = tca_series.with_benchmark(series.all_series(window), window, benchmark)
    return render_template("analytics.html", window=window, series={**charts, "tca": tca_series.all_tca(window)},
                           benchmark=benchmark, benchmarks=tca_series.BENCHMARK_LABELS, tca_twap=_twap_terms(),
                           summary=analytics.summary(window.since, window.until),
                           range_key=request.args.get("range", "") or ("" if request.args.get("from") else "30d"),
                           cost_pairs=cost_chart.PAIRS)


def _twap_terms() -> dict[str, object]:
    """The TWAP benchmark's slices and horizon as the analytics page names them."""
    s = context.market().settings
    minutes = s.tca_twap_horizon_s / 60
    return {"slices": s.tca_twap_slices,
            "horizon": f"{minutes:g} min" if minutes >= 1 else f"{s.tca_twap_horizon_s:g} s"}


@bp.get("/pools")
def pools():
    """OTC pools: configuration, live inventory against targets, trades and savings."""
    now = utcnow()
    return render_template("pools.html", pools=analytics.pools(), stats=analytics.pool_stats(),
                           live={p.id: analytics.pool_live(p, now) for p in analytics.pools()})


@bp.route("/pools/<int:pool_id>/edit", methods=["GET", "POST"])
def pools_edit(pool_id: int):
    """Admin: change a pool's configuration (validated, audited); the next quote uses it."""
    pool = db.session.get(OTCPool, pool_id) or abort(404, f"There is no pool #{pool_id}.")
    base, quote = token_by_mint(pool.base_mint), token_by_mint(pool.quote_mint)
    form = PoolForm(base_decimals=base.decimals, quote_decimals=quote.decimals)
    if request.method == "GET":
        form.fill_from(pool)
    elif form.validate_on_submit():
        try:
            pool_config.apply_changes(pool.id, pool_config.parse_changes(form.changes()),
                                      current_user._get_current_object())
            flash(f"{pool.venue} updated: the next quote uses the new settings.", "success")
            return redirect(url_for("web.pools", _anchor=f"pool-{pool.id}"), code=303)
        except pool_config.PoolConfigError as exc:
            target = form.field_for(exc.field)
            if target is not None:
                target.errors.append(pages.plain_field_error(str(exc), exc.field, target.label.text))
            else:
                flash(str(exc), "danger")
    status = 200 if request.method == "GET" else 400
    return render_template("pool_edit.html", pool=pool, form=form, base=base, quote=quote), status


@bp.get("/monitoring", endpoint="monitoring")
def monitoring_page():
    """Jupiter latency, errors, breaker state, rate-limit headroom, DB health and the metrics history."""
    try:
        window = window_from_request("24h")
    except RangeError as exc:
        flash(f"{exc} Showing the last 24 hours.", "warning")
        window = make_window("24h", None, None, utcnow(), None)
    sim_pools = current_app.extensions["sim_pools"] if context.market().pool_impact is not None else None
    return render_template("monitoring.html", live=monitoring.live_status(context.market()), window=window,
                           history=monitoring.metrics_series(window), snapshots=monitoring.recent_snapshots(),
                           range_key=request.args.get("range", "24h"),
                           pool_deviations=sim_pools.deviations(time.time()) if sim_pools else None,
                           makers=makers.monitoring_rows(utcnow()))


@bp.get("/api")
def api_docs():
    """The rendered API reference."""
    return render_template("api_docs.html")
