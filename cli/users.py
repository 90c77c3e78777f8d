"""`flask --app main users ...` and `tokens ...`: accounts and API tokens from the command line (audited as 'cli')."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from models import ROLES
from services import accounts

users_cli = AppGroup("users", help="Create and manage desk users (roles: viewer, trader, admin).")
tokens_cli = AppGroup("tokens", help="Create, list and revoke API bearer tokens.")


def _fail(exc: Exception) -> None:
    """Exit non-zero with the error on stderr."""
    raise click.ClickException(str(exc))


def _read_password(from_stdin: bool) -> tuple[str, bool]:
    """The password from stdin's first line, or a fresh one-time password; returns (password, generated)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return accounts.generate_password(), True


def first_admin_hint() -> str | None:
    """How to create the first admin, while no active admin exists (printed by init-db)."""
    if accounts.has_admin():
        return None
    return ("no admin user yet: create one with\n"
            "    .venv/bin/flask --app main users create NAME --role admin\n"
            "  (it prints a generated password once; add --password-stdin to type your own), then sign in at /login;\n"
            "  API clients: .venv/bin/flask --app main tokens create NAME")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password (12+ characters) from standard input.")
def create_user(username: str, role: str, password_stdin: bool) -> None:
    """Create USERNAME; without --password-stdin a one-time password is generated and shown once."""
    password, generated = _read_password(password_stdin)
    try:
        user = accounts.create_user(username, role, password)
    except accounts.AccountError as exc:
        _fail(exc)
    click.echo(f"created {user.role} {user.username!r} (id {user.id})")
    if generated:
        click.echo(f"initial password (shown once; change it with `users set-password {user.username}`): {password}")


@users_cli.command("list")
def list_users() -> None:
    """Every user: id, username, role, state."""
    for u in accounts.users():
        click.echo(f"{u.id:>4}  {u.username:<24} {u.role:<7} {'active' if u.active else 'deactivated'}")


def _update(username: str, done: str, **changes: object) -> None:
    """Apply changes to USERNAME and say what it is now; a clear error and exit 1 otherwise."""
    try:
        user = accounts.update_user(accounts.get_user(username), **changes)
    except accounts.AccountError as exc:
        _fail(exc)
    click.echo(f"{user.username} {done.format(user=user)}")


@users_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
def set_role(username: str, role: str) -> None:
    """Give USERNAME a new ROLE (takes effect on the user's next request)."""
    _update(username, "is now a {user.role}", role=role)


@users_cli.command("deactivate")
@click.argument("username")
def deactivate(username: str) -> None:
    """Block USERNAME at once: sessions and API tokens stop working."""
    _update(username, "is deactivated", active=False)


@users_cli.command("activate")
@click.argument("username")
def activate(username: str) -> None:
    """Allow a deactivated USERNAME back in."""
    _update(username, "is active", active=True)


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def set_password(username: str, password_stdin: bool) -> None:
    """Set a new password for USERNAME (generated and shown once unless --password-stdin)."""
    password, generated = _read_password(password_stdin)
    try:
        user = accounts.update_user(accounts.get_user(username), password=password)
    except accounts.AccountError as exc:
        _fail(exc)
    click.echo(f"password of {user.username} changed")
    if generated:
        click.echo(f"new password (shown once): {password}")


@tokens_cli.command("create")
@click.argument("username")
@click.option("--name", "label", default="", help="A label to recognise the token by, e.g. the script using it.")
def create_token(username: str, label: str) -> None:
    """Create an API token for USERNAME; the token is printed once, alone on the last line."""
    try:
        token, secret = accounts.create_token(accounts.get_user(username), label)
    except accounts.AccountError as exc:
        _fail(exc)
    click.echo(f"token {token.id} ({token.prefix}…) for {username} with role {token.user.role}; "
               "it is stored hashed and shown only now:")
    click.echo(secret)


@tokens_cli.command("list")
@click.option("--user", "username", default=None, help="Only this user's tokens.")
def list_tokens(username: str | None) -> None:
    """Tokens newest first: id, prefix, user, name, last use, state (never the secret)."""
    try:
        rows = accounts.tokens(accounts.get_user(username) if username else None)
    except accounts.AccountError as exc:
        _fail(exc)
    for t in rows:
        used = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never"
        state = "revoked" if t.revoked_at else "live"
        click.echo(f"{t.id:>4}  {t.prefix}…  {t.user.username:<20} {t.name or '-':<20} used {used:<16} {state}")


@tokens_cli.command("revoke")
@click.argument("id_or_prefix")
def revoke_token(id_or_prefix: str) -> None:
    """Revoke a token by id or prefix; it answers 401 from the next request on."""
    try:
        token = accounts.revoke_token(accounts.find_token(id_or_prefix))
    except accounts.AccountError as exc:
        _fail(exc)
    click.echo(f"token {token.id} ({token.prefix}…) of {token.user.username} is revoked")


def register(app: Flask) -> None:
    """Attach the `users` and `tokens` command groups."""
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
