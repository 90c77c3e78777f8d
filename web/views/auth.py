"""Sign-in and sign-out pages (Flask-Login sessions; API clients use bearer tokens instead)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from services import accounts
from web import auth

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField("Username", validators=[DataRequired(message="Enter your username."), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password."),
                                                     Length(max=accounts.MAX_PASSWORD_CHARS)],
                             render_kw={"autocomplete": "current-password"})


def safe_next(target: str | None) -> str:
    """A same-site path to return to after sign-in; anything else (other hosts, //evil, control characters such as
    a CR/LF that would split the Location header) goes home."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and target.isprintable()):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("web.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; on valid credentials start a fresh session and go where the user was going."""
    form = LoginForm()
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    status = 200 if request.method == "GET" else 400
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            auth.start_session(user)
            return redirect(safe_next(request.args.get("next")), code=303)
        form.password.errors.append("Wrong username or password, or the account is deactivated.")
        status = 200  # not 401: an HTML form has no WWW-Authenticate challenge, and browsers log 4xx pages as errors
    return render_template("auth/login.html", form=form, locked_out=None), status


@bp.post("/logout")
def logout():
    """End every session of the user (POST with the CSRF token, so another site cannot sign a user out)."""
    auth.end_session()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), code=303)
