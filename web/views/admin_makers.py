"""Admin pages of the external RFQ makers: the list with state and scorecards, add, edit and remove (audited).

The rules are services.makers' (the JSON API's too); these views parse forms and redirect (Post/Redirect/Get).
The API key field is write-only: the page never shows a stored key.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ledger.maker_tables import Maker
from models import db, utcnow
from read import maker_scorecards
from services import makers
from services.errors import InputError
from web.forms_makers import DeleteMakerForm, MakerForm

bp = Blueprint("admin_makers", __name__, url_prefix="/admin/makers")


def _maker_or_404(maker_id: int) -> Maker:
    """The maker, or a 404 page."""
    m = db.session.get(Maker, maker_id)
    if m is None:
        abort(404)
    return m


def _done():
    """Back to the makers page."""
    return redirect(url_for("admin_makers.makers_page"), code=303)


@bp.get("")
def makers_page():
    """Every maker: state, timeout, pairs and its scorecard over ?period= (default 24h)."""
    now, period = utcnow(), request.args.get("period", "24h")
    if period not in maker_scorecards.PERIODS:
        period = "24h"
    since = maker_scorecards.since_of(period, now)
    rows = [(m, makers.state_of(m, now), maker_scorecards.scorecard(m.id, since)) for m in makers.all_makers()]
    return render_template("admin/makers.html", rows=rows, period=period, periods=list(maker_scorecards.PERIODS),
                           delete_form=DeleteMakerForm())


def _form(form: MakerForm, *, maker_id: int | None = None):
    """The add/edit form page; errors of the service land under their fields (400)."""
    title = "Add a maker" if maker_id is None else f"Edit maker {form.name.data}"
    action = url_for("admin_makers.maker_new") if maker_id is None else url_for("admin_makers.maker_edit",
                                                                                 maker_id=maker_id)
    return render_template("admin/maker_form.html", form=form, title=title, action=action,
                           editing=maker_id is not None), 400 if form.errors else 200


@bp.route("/new", methods=["GET", "POST"])
def maker_new():
    """Add a maker (its /tokens is asked at once)."""
    form = MakerForm()
    if form.validate_on_submit():
        try:
            m = makers.create(current_app.extensions["market"], form.body(editing=False),
                              current_user._get_current_object())
        except InputError as exc:
            getattr(form, exc.field or "name").errors = [f"{str(exc)[:1].upper()}{str(exc)[1:]}."]
            return _form(form)
        flash(f"Maker {m.name} added as {m.venue}.", "success")
        return _done()
    return _form(form)


@bp.route("/<int:maker_id>/edit", methods=["GET", "POST"])
def maker_edit(maker_id: int):
    """Edit a maker; a blank API key keeps the stored one; re-enabling lifts a suspension."""
    m = _maker_or_404(maker_id)
    form = MakerForm(obj=m) if request.method == "GET" else MakerForm()
    if request.method == "GET":
        form.api_key.data = ""
    if form.validate_on_submit():
        try:
            makers.update(current_app.extensions["market"], maker_id, form.body(editing=True),
                          current_user._get_current_object())
        except InputError as exc:
            getattr(form, exc.field or "name").errors = [f"{str(exc)[:1].upper()}{str(exc)[1:]}."]
            return _form(form, maker_id=maker_id)
        flash(f"Maker {form.name.data} saved.", "success")
        return _done()
    return _form(form, maker_id=maker_id)


@bp.post("/<int:maker_id>/delete")
def maker_delete(maker_id: int):
    """Remove a maker (its history stays)."""
    form = DeleteMakerForm()
    if form.validate_on_submit() and form.maker_id.data == str(maker_id):
        name = _maker_or_404(maker_id).name
        makers.delete(maker_id, current_user._get_current_object())
        flash(f"Maker {name} removed.", "success")
    else:
        flash("Nothing was removed: the confirmation did not match.", "danger")
    return _done()
