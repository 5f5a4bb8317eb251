"""The people who may sign in: local accounts with a password, and single sign-on identities
given a role; adding, changing and removing them, and checking a password.

Passwords are kept only as Argon2id hashes (argon2-cffi's PasswordHasher: a random salt per
hash, memory-hard, the winner of the Password Hashing Competition and OWASP's first choice).
We did not take streamlit-authenticator for the sign-in form: its Hasher is bcrypt (which
silently ignores what lies past a password's 72nd byte), it keeps accounts in a YAML file rather
than our store, and it brings a dozen more dependencies; the form is a few lines of Streamlit.

Every change is audited (who, when, before and after: never a password or a hash) and checked
with store.access.authorize(..., Permission.USERS), except a person changing their own password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from errors import TrueUpError
from store.access import Permission, authorize
from store.audit import audit
from store.models import AuditEntry, User
from store.types import Role, now

MIN_PASSWORD = 12
"""The shortest password accepted: length is what makes a password hard to guess."""

ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)
"""A username refused ATTEMPTS times within LOCKOUT is not let in until LOCKOUT has passed,
even with the right password: it slows anyone guessing passwords to 20 tries an hour."""

SSO = "single sign-on"
"""Who adds the row of a person signed in by single sign-on with the default role."""

_HASHER = PasswordHasher()
# Checked when no such user exists, so that a wrong username takes as long as a wrong password.
_NOBODY = _HASHER.hash("not anyone's password")


class UserError(TrueUpError):
    """A person could not be added or changed as asked."""

    title = "Cannot change this person"


def username_of(name: str) -> str:
    """Give back a username as stored: trimmed and in lower case (people type it either way;
    single sign-on usernames are e-mail addresses)."""
    username = name.strip().lower()
    if not username or any(c.isspace() for c in username) or len(username) > 200:
        raise UserError(
            f'"{name}" cannot be a username: use one word without spaces (an e-mail for '
            "single sign-on), at most 200 characters"
        )
    return username


def check_password(password: str) -> None:
    """Raise UserError when `password` is too weak to keep."""
    if len(password) < MIN_PASSWORD:
        raise UserError(
            f"the password is too short ({len(password)} characters): use at least "
            f"{MIN_PASSWORD}; a few unrelated words make one easy to remember"
        )


def hash_password(password: str) -> str:
    """Give back the Argon2id hash of `password`, after checking it is strong enough."""
    check_password(password)
    return _HASHER.hash(password)


def _found(session: Session, username: str) -> User:
    user = session.get(User, username_of(username))
    if user is None:
        raise UserError(f'there is no user "{username}": see `trueup user list`')
    return user


def _shown(user: User) -> dict[str, Any]:
    """Give back what the audit log records of a person: never the password or its hash."""
    return {
        "role": user.role.value,
        "display_name": user.display_name,
        "sign_in": "password" if user.password_hash else "single sign-on",
    }


def add_user(
    session: Session,
    username: str,
    role: Role,
    *,
    password: str | None,
    display_name: str | None = None,
    by: str,
    at: datetime | None = None,
) -> User:
    """Give back the person added: a local account with `password`, or with None a single
    sign-on identity (their username is the e-mail their identity provider gives)."""
    authorize(session, by, Permission.USERS)
    name = username_of(username)
    if session.get(User, name) is not None:
        raise UserError(f'"{name}" already exists: change them with `trueup user passwd|role`')
    if password is None and "@" not in name:
        raise UserError(f'"{name}" is not an e-mail: single sign-on people sign in by e-mail')
    user = User(
        username=name,
        display_name=(display_name or "").strip() or None,
        role=Role(role),
        password_hash=None if password is None else hash_password(password),
        created_at=at or now(),
        created_by=by,
    )
    session.add(user)
    audit(session, by, "user_add", {"username": name, "before": None, "after": _shown(user)}, at)
    return user


def change_password(
    session: Session, username: str, password: str, *, by: str, at: datetime | None = None
) -> None:
    """Give a local account a new password (a person may always change their own)."""
    user = _found(session, username)
    if user.username != by:
        authorize(session, by, Permission.USERS)
    user.password_hash = hash_password(password)
    audit(session, by, "user_passwd", {"username": user.username}, at)


def change_role(
    session: Session, username: str, role: Role, *, by: str, at: datetime | None = None
) -> None:
    """Give a person another role."""
    authorize(session, by, Permission.USERS)
    user = _found(session, username)
    before = user.role.value
    user.role = Role(role)
    detail = {
        "username": user.username,
        "before": {"role": before},
        "after": {"role": Role(role).value},
    }
    audit(session, by, "user_role", detail, at)


def remove_user(session: Session, username: str, *, by: str, at: datetime | None = None) -> None:
    """Remove a person: they can no longer sign in (what they did stays in the audit log)."""
    authorize(session, by, Permission.USERS)
    user = _found(session, username)
    detail = {"username": user.username, "before": _shown(user), "after": None}
    session.delete(user)
    audit(session, by, "user_remove", detail, at)


def people(session: Session) -> list[User]:
    """Give back everyone who may sign in, by username."""
    return list(session.scalars(sa.select(User).order_by(User.username)))


def has_local_accounts(session: Session) -> bool:
    """True when at least one local account (a person with a password) exists."""
    found = session.scalar(sa.select(User.username).where(User.password_hash.is_not(None)))
    return found is not None


def verify(session: Session, username: str, password: str) -> User | None:
    """Give back the local account `username` when `password` is theirs, else None (whether
    the username or the password was wrong is not told apart)."""
    try:
        name = username_of(username)
    except UserError:
        return None
    user = session.get(User, name)
    stored = user.password_hash if user is not None else None
    try:
        _HASHER.verify(stored or _NOBODY, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None:
        return None
    if _HASHER.check_needs_rehash(stored):  # the hasher's parameters were raised since
        user.password_hash = _HASHER.hash(password)
    return user


REMEMBERED = timedelta(days=7)
"""How long a browser stays signed in to a local account (a reload, a new tab) without asking."""


def remember_token(user: User, key: bytes, at: datetime | None = None) -> str:
    """Give back a token that signs `user` in again until REMEMBERED from `at`: their username,
    its expiry and an HMAC over both and their password hash under `key`, so that a new
    password, or a removed account, ends every token given before."""
    expires = int(((at or now()) + REMEMBERED).timestamp())
    name = base64.urlsafe_b64encode(user.username.encode()).decode().rstrip("=")
    return f"{name}.{expires}.{_signature(user, expires, key)}"


def remembered(session: Session, token: str, key: bytes, at: datetime | None = None) -> User | None:
    """Give back the local account a `remember_token` signs in, or None when the token is not
    one, has expired, or no longer matches the account (removed, new password)."""
    try:
        name, expires_text, signature = token.split(".")
        username = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
        expires = int(expires_text)
    except (ValueError, UnicodeDecodeError):
        return None
    if expires < (at or now()).timestamp():
        return None
    user = session.get(User, username)
    if user is None or user.password_hash is None:
        return None
    if not hmac.compare_digest(signature, _signature(user, expires, key)):
        return None
    return user


def _signature(user: User, expires: int, key: bytes) -> str:
    message = f"{user.username}\n{expires}\n{user.password_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sso_user(
    session: Session, email: str, default: Role | None, at: datetime | None = None
) -> User | None:
    """Give back the row of a person signed in by single sign-on: theirs if an admin added them,
    else one added now with the `default` role (None: such people are refused, and None comes
    back). A row is needed so that the store knows their role when they act."""
    name = username_of(email)
    user = session.get(User, name)
    if user is not None or default is None:
        return user
    user = User(username=name, role=default, created_at=at or now(), created_by=SSO)
    session.add(user)
    audit(session, SSO, "user_add", {"username": name, "before": None, "after": _shown(user)}, at)
    return user


def record_sign_in(
    session: Session, username: str, method: str, at: datetime | None = None
) -> None:
    """Audit that `username` signed in, and how ("password", or the single sign-on provider)."""
    audit(session, username, "sign_in", {"method": method}, at)


def record_failed_sign_in(session: Session, tried: str, at: datetime | None = None) -> None:
    """Audit a refused sign-in: the username tried only (never the password)."""
    tried = tried.strip().lower()[:200] or "(blank)"
    audit(session, tried, "sign_in_failed", {"username": tried}, at)


def locked_out(session: Session, tried: str, at: datetime | None = None) -> bool:
    """True when `tried` was refused ATTEMPTS times within the last LOCKOUT."""
    since = (at or now()) - LOCKOUT
    refused = session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.kind == "sign_in_failed",
            AuditEntry.made_by == (tried.strip().lower()[:200] or "(blank)"),
            AuditEntry.at >= since,
        )
    )
    return (refused or 0) >= ATTEMPTS


__all__ = [
    "MIN_PASSWORD",
    "UserError",
    "add_user",
    "change_password",
    "change_role",
    "has_local_accounts",
    "hash_password",
    "locked_out",
    "people",
    "record_failed_sign_in",
    "record_sign_in",
    "remove_user",
    "sso_user",
    "username_of",
    "verify",
]
