"""Users and API tokens: creation, roles, deactivation, password checks and token lookup (every change audited)."""
from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import check_password_hash, generate_password_hash

from ledger import audit
from models import ROLES, ApiToken, User, db, utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 256
TOKEN_PREFIX = "olr_"
PREFIX_CHARS = 12  # "olr_" + 8 characters of the secret: enough to name a token in listings, useless to guess it
LAST_USED_RESOLUTION_S = 60  # last_used_at is written at most once a minute per token
# Built once: every API request runs it.
_TOKEN_USER = (select(ApiToken.id, ApiToken.revoked_at, ApiToken.last_used_at, User)
               .join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == bindparam("token_hash")))
# A real hash of a random password: checked when the username is unknown, so timing does not reveal which exist.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A refused account change, with a message for the person at the keyboard."""


def hash_token(secret: str) -> str:
    """SHA-256 hex of a token secret (the secret has 256 random bits, so no slow hash is needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_role(role: str) -> str:
    """The role if it is one of viewer, trader, admin."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    """A password of 12 to 256 characters."""
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise AccountError(f"the password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters long")
    return password


def generate_password() -> str:
    """A random one-time password (about 120 bits)."""
    return secrets.token_urlsafe(15)


def user_by_name(username: str) -> User | None:
    """The user with this username (case-insensitive), or None."""
    return db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def get_user(username: str) -> User:
    """The user with this username, or AccountError."""
    user = user_by_name(username)
    if user is None:
        raise AccountError(f"no user named {username!r}")
    return user


def _snapshot(user: User) -> dict[str, object]:
    """The audited fields of a user (never the password hash)."""
    return {"username": user.username, "role": user.role, "active": user.active}


def create_user(username: str, role: str, password: str, actor: User | None = None) -> User:
    """Create an active user with a hashed password; commit and audit."""
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise AccountError("username: 2 to 64 characters, lowercase letters, digits, '.', '_' or '-'")
    if user_by_name(username) is not None:
        raise AccountError(f"a user named {username!r} exists already")
    user = User(username=username, role=check_role(role), active=True,
                password_hash=generate_password_hash(check_password(password)))
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", f"user:{user.id} {username}", None, _snapshot(user))
    db.session.commit()
    return user


def update_user(user: User, actor: User | None = None, *, role: str | None = None, active: bool | None = None,
                password: str | None = None) -> User:
    """Change a user's role, active flag or password; commit and audit (the password as 'changed' only).

    A new password or a deactivation ends every browser session of the user (see end_sessions).
    """
    before = _snapshot(user)
    if role is not None:
        user.role = check_role(role)
    if active is not None:
        user.active = active
        if not active:
            _bump_session_generation(user)
    if password is not None:
        user.password_hash = generate_password_hash(check_password(password))
        _bump_session_generation(user)
    old, new = audit.diff(before, _snapshot(user))
    if password is not None:
        old["password"], new["password"] = "(hidden)", "changed"
    if new:
        action = "user.set_role" if "role" in new else ("user.set_active" if "active" in new else "user.set_password")
        audit.record(actor, action, f"user:{user.id} {user.username}", old, new)
    db.session.commit()
    return user


def _bump_session_generation(user: User) -> None:
    """Invalidate every session issued to the user so far (the session stores the generation it was issued under)."""
    user.session_generation = (user.session_generation or 0) + 1


def end_sessions(user: User) -> None:
    """End every browser session of the user (sign-out): bump the session generation and commit."""
    _bump_session_generation(user)
    db.session.commit()


def authenticate(username: str, password: str) -> User | None:
    """The active user whose password matches, or None (constant work whether or not the user exists)."""
    user = user_by_name(username) if len(username) <= 64 else None
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def create_token(user: User, name: str = "", actor: User | None = None) -> tuple[ApiToken, str]:
    """A new API token for `user`: returns the row and the secret, which is stored only as its hash."""
    if not user.active:
        raise AccountError(f"{user.username} is deactivated; activate the user before creating a token")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name[:64], token_hash=hash_token(secret), prefix=secret[:PREFIX_CHARS])
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "token.create", f"token:{token.id} {token.prefix}", None,
                 {"user": user.username, "name": token.name, "prefix": token.prefix})
    db.session.commit()
    return token, secret


def find_token(id_or_prefix: str) -> ApiToken:
    """The token with this id or this display prefix (must be unambiguous)."""
    text = id_or_prefix.strip()
    if text.isdigit():
        token = db.session.get(ApiToken, int(text))
        if token is not None:
            return token
    matches = list(db.session.scalars(select(ApiToken).where(ApiToken.prefix.startswith(text, autoescape=True))))
    if len(matches) != 1 or len(text) < 6:
        raise AccountError(f"no single token matches {id_or_prefix!r}; give its id or at least 6 prefix characters")
    return matches[0]


def revoke_token(token: ApiToken, actor: User | None = None) -> ApiToken:
    """Revoke a token now (idempotent); commit and audit."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(actor, "token.revoke", f"token:{token.id} {token.prefix}", {"revoked": False},
                     {"revoked": True, "user": token.user.username})
        db.session.commit()
    return token


def token_user(secret: str) -> tuple[int, User] | None:
    """The live token's id and its active user for a bearer secret, or None; touches last_used_at once a minute.

    One query: the token as plain columns joined to its user (the only ORM object the request needs)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
        return None
    found = db.session.execute(_TOKEN_USER, {"token_hash": hash_token(secret)}).first()
    if found is None or found.revoked_at is not None or not found.User.active:
        return None
    now = utcnow()
    last_used_at = found.last_used_at
    if last_used_at is None or (now - last_used_at).total_seconds() >= LAST_USED_RESOLUTION_S:
        try:
            db.session.execute(update(ApiToken).where(ApiToken.id == found.id).values(last_used_at=now))
            db.session.commit()
        except SQLAlchemyError:  # a busy database must not fail the request over a usage timestamp
            db.session.rollback()
    return found.id, found.User


def users() -> list[User]:
    """Every user by username."""
    return list(db.session.scalars(select(User).order_by(User.username)))


def tokens(user: User | None = None) -> list[ApiToken]:
    """Every token (or one user's), newest first."""
    q = select(ApiToken).order_by(ApiToken.id.desc())
    if user is not None:
        q = q.where(ApiToken.user_id == user.id)
    return list(db.session.scalars(q))


def has_admin() -> bool:
    """True when an active admin exists."""
    return db.session.scalar(select(func.count()).select_from(User).where(User.role == "admin", User.active)) > 0
