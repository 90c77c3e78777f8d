"""Application factory: configuration, extensions, blueprints, error handlers and CLI commands."""
from __future__ import annotations

import os
import secrets
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

import jupiter_api
from cli.commands import register_cli
from cli.jobs import build_runner
from ledger.sim_chain_store import DbChainStore
from ledger.sim_pools import SimPoolStore
from models import db
from services.market import Market
from services.onchain import OnChain
from services.settings import JupiterMode, Settings, jupiter_rps, load_config, maker_key
from sim.impact import PoolBook
from sim.price import SimConfig
from sim.rfq_makers import SimMakerBook
from sim.transport import SimMakerTransport, SimPriceTransport, SimRpcTransport, SimSwapTransport, SimTransport
from venues import shared_state, wallet
from venues.jupiter_price import PriceClient
from venues.jupiter_swap import SwapClient
from venues.ladder_store import ladder_store
from venues.price_store import price_store
from venues.rfq_client import RfqClient
from venues.solana_rpc import HttpJsonTransport, SolanaRpc
from web import auth, formatting, openapi_spec, security
from web.errors import api_error, is_api_request
from web.views.admin import bp as admin_bp
from web.views.admin_makers import bp as admin_makers_bp
from web.views.api import bp as api_bp
from web.views.api_admin import bp as api_admin_bp
from web.views.api_makers import bp as api_makers_bp
from web.views.api_orders import bp as api_orders_bp
from web.views.auth import bp as auth_bp
from web.views.bench import bp as bench_bp
from web.views.charts import bp as charts_bp
from web.views.events import bp as events_bp
from web.views.orders import bp as orders_bp
from web.views.sim import bp as sim_bp
from web.views.sim import rfq_bp as sim_rfq_bp
from web.views.sim import solana_bp as sim_solana_bp
from web.views.web import bp as web_bp

migrate = Migrate()
csrf = CSRFProtect()
MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app; test_config overrides the environment."""
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(app.instance_path))
    if test_config:
        app.config.update(test_config)
    _require_secret_key(app)
    app.config.setdefault("MAKER_KEY_BYTES", maker_key(app.config.get("MAKER_KEY"), app.instance_path))
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    auth.init_app(app)  # authentication + the role policy hook (before rate limiting)
    security.init_routing(app)  # bounded <int:> ids, before any route is added
    _register_blueprints(app)
    security.init_app(app)  # security headers, rate limits on registered views
    openapi_spec.init_app(app)  # the spec for the rendered API page
    _register_error_handlers(app)
    formatting.register(app)  # Jinja filters for numbers: templates never do arithmetic
    register_cli(app)
    app.extensions["market"] = build_market(app)
    app.extensions["jobs"] = build_runner(app)  # the job runner: the web app enqueues, `jobs consumer` runs
    return app


def build_market(app: Flask) -> Market:
    """The process's market: settings, the Jupiter client (the simulator's transport in sim mode) and the mid."""
    cfg = app.config
    settings = Settings.from_config(cfg)
    sim_config = SimConfig(seed=cfg["JUPITER_SIM_SEED"], depth_multiplier=Decimal(str(cfg["JUPITER_SIM_DEPTH"])),
                           arb_half_life_s=int(cfg.get("SIM_ARB_HALF_LIFE_S", 60)))
    app.extensions["sim_config"] = sim_config
    with app.app_context():
        store = SimPoolStore(db.engine)  # persistent impact, shared by every worker and host through the database
    pool_book = PoolBook(sim_config, store.rows, store.update)
    app.extensions["sim_pools"] = pool_book
    store_for = shared_state.store_factory(cfg.get("REDIS_URL"))  # limiter + breaker shared by all workers
    client = cfg.get("JUPITER_CLIENT") or jupiter_api.make_client(
        settings.jupiter_mode, api_url=cfg["JUPITER_API_URL"], api_key=cfg["JUPITER_API_KEY"],
        timeout_s=cfg["JUPITER_TIMEOUT_S"], rps=jupiter_rps(cfg),
        sim_transport=SimTransport(sim_config, time.time, pool_book.displaced),
        store_for=store_for)
    sim = settings.jupiter_mode is JupiterMode.SIM
    price_transport = cfg.get("PRICE_TRANSPORT") or (
        SimPriceTransport(sim_config, time.time) if sim else
        jupiter_api.HttpTransport(cfg["JUPITER_PRICE_URL"], cfg["JUPITER_API_KEY"], cfg["JUPITER_TIMEOUT_S"], path=""))
    prices = PriceClient(price_transport, cache_ms=cfg["PRICE_CACHE_MS"], max_age_ms=cfg["PRICE_MAX_AGE_MS"],
                         store=price_store(cfg.get("REDIS_URL")), sends_time=sim)
    # the simulated RFQ makers, served in-process (sim://<name>) and over HTTP at /sim/rfq/<name>
    sim_makers = app.extensions["sim_makers"] = SimMakerBook(sim_config, time.time, time.sleep, threading.Lock())
    rfq = cfg.get("RFQ_CLIENT") or RfqClient(SimMakerTransport(sim_makers) if sim else None)
    # an injected Jupiter client (tests) executes its legs as a re-quote unless SOLANA_CHAIN is given too
    chain = cfg["SOLANA_CHAIN"] if "SOLANA_CHAIN" in cfg else None if cfg.get("JUPITER_CLIENT") else \
        build_chain(app, sim_config, sim, pool_book)
    return Market(settings, client, prices, ladder_store(cfg.get("REDIS_URL")), pool_book if sim else None, rfq,
                  chain)


def build_chain(app: Flask, sim_config: SimConfig, sim: bool, pool_book: PoolBook) -> OnChain:
    """On-chain execution: Jupiter's swap endpoint, the Solana RPC (the simulated node in-process in sim mode) and
    the desk wallet (SOLANA_KEYPAIR_PATH, required live; a development keypair under instance/ in sim mode)."""
    cfg = app.config
    if sim:
        swaps = SimSwapTransport(sim_config, time.time)
        rpc = SimRpcTransport(sim_config, time.time, DbChainStore(pool_book.displaced))
        desk = wallet.load(cfg["SOLANA_KEYPAIR_PATH"]) if cfg.get("SOLANA_KEYPAIR_PATH") else \
            wallet.dev_wallet(app.instance_path)
    else:
        if not cfg.get("SOLANA_KEYPAIR_PATH"):
            raise RuntimeError("SOLANA_KEYPAIR_PATH must name the desk wallet's keypair file when JUPITER_MODE=live")
        key = {"x-api-key": cfg["JUPITER_API_KEY"]} if cfg.get("JUPITER_API_KEY") else {}
        swaps = HttpJsonTransport(cfg["JUPITER_API_URL"].rstrip("/") + "/swap", cfg["JUPITER_TIMEOUT_S"], key)
        rpc = HttpJsonTransport(cfg["SOLANA_RPC_URL"], cfg["SOLANA_TIMEOUT_S"])
        desk = wallet.load(cfg["SOLANA_KEYPAIR_PATH"])
    return OnChain(SwapClient(swaps), SolanaRpc(rpc), desk, poll_interval_s=cfg["SOLANA_CONFIRM_POLL_MS"] / 1000,
                   confirm_timeout_s=cfg["SOLANA_CONFIRM_TIMEOUT_S"], skip_preflight=cfg["SOLANA_SKIP_PREFLIGHT"])


def _require_secret_key(app: Flask) -> None:
    """Refuse to start in production without SECRET_KEY; use a random one in development."""
    if app.config["SECRET_KEY"]:
        return
    if app.config["ENV_NAME"] != "development" and not app.testing:
        raise RuntimeError(f"SECRET_KEY must be set when APP_ENV={app.config['ENV_NAME']} (only development "
                           "may run without one)")
    app.config["SECRET_KEY"] = secrets.token_hex(32) if app.testing else _dev_secret(app)


def _dev_secret(app: Flask) -> str:
    """A development secret kept under instance/ so every gunicorn worker shares it."""
    path = Path(app.instance_path) / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        os.chmod(path, 0o600)
    return path.read_text().strip()


def _register_blueprints(app: Flask) -> None:
    """Attach the web pages, the JSON API and the simulated Jupiter endpoint."""
    app.register_blueprint(web_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(sim_bp)
    app.register_blueprint(sim_rfq_bp)  # simulated RFQ makers (issue 15)
    app.register_blueprint(sim_solana_bp)  # the simulated Solana JSON-RPC node
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(admin_makers_bp)  # RFQ makers page (issue 15)
    app.register_blueprint(api_admin_bp)
    app.register_blueprint(api_makers_bp)  # /api/v1/makers (issue 15)
    app.register_blueprint(api_orders_bp)  # parent orders (issue 16)
    app.register_blueprint(orders_bp)  # the parent-order pages
    app.register_blueprint(charts_bp)  # GET-only JSON of the dashboard, analytics and monitoring widgets
    app.register_blueprint(events_bp)  # GET /api/v1/me/events: the user's toasts
    csrf.exempt(api_bp)  # bearer tokens; session-authenticated API writes are CSRF-checked in auth.authorize
    csrf.exempt(api_admin_bp)
    csrf.exempt(api_makers_bp)
    csrf.exempt(api_orders_bp)
    csrf.exempt(sim_bp)
    csrf.exempt(sim_rfq_bp)
    csrf.exempt(sim_solana_bp)
    if app.config.get("BENCH_ENDPOINTS") and app.config["ENV_NAME"] != "production":  # bench/api.py only
        app.register_blueprint(bench_bp)
        csrf.exempt(bench_bp)


def _register_error_handlers(app: Flask) -> None:
    """JSON errors on the API, styled pages elsewhere; roll back and never leak a traceback."""

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        db.session.rollback()
        if is_api_request():
            return api_error(400, "CSRF_FAILED", exc.description)
        return render_template("errors/error.html", code=400, title="Form expired",
                               message="The form was open too long or came from elsewhere. Reload and try again."), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        extra = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}  # e.g. Allow on a 405
        if is_api_request():
            code = (exc.name or "error").upper().replace(" ", "_")
            response, status = api_error(exc.code or 500, code, exc.description or exc.name)
            return response, status, extra
        return render_template("errors/error.html", code=exc.code, title=exc.name,
                               message=exc.description), exc.code or 500, extra

    @app.errorhandler(Exception)
    def unhandled(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if is_api_request():
            return api_error(500, "INTERNAL", "Something went wrong on our side; the request changed nothing.")
        return render_template("errors/error.html", code=500, title="Something went wrong",
                               message="The error was logged. Nothing was executed."), 500


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: WAL journal, a busy timeout and foreign keys on every connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
