"""Server-rendered pages: gather, decide, apply, redirect."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("web", __name__)


@bp.get("/")
def dashboard():
    """Home: KPIs, recent trades, pool inventory."""
    return render_template("dashboard.html")


@bp.get("/trade")
def trade_ticket():
    """Placeholder until the page lands."""
    return render_template("dashboard.html")


@bp.get("/trades")
def history():
    """Placeholder until the page lands."""
    return render_template("dashboard.html")


@bp.get("/analytics")
def analytics():
    """Placeholder until the page lands."""
    return render_template("dashboard.html")


@bp.get("/pools")
def pools():
    """Placeholder until the page lands."""
    return render_template("dashboard.html")


@bp.get("/monitoring")
def monitoring():
    """Placeholder until the page lands."""
    return render_template("dashboard.html")


@bp.get("/api")
def api_docs():
    """Placeholder until the page lands."""
    return render_template("dashboard.html")
