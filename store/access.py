"""Who may do what (issue 8): roles, the permissions each holds, and the check every change
makes in the store, so that a page that forgot to hide a button, a stale page or a crafted
request still cannot act.

People who sign in to the app act under their username; the store finds their role in the
`users` table. Anyone else (the `trueup` command run on the server, the app with sign-in not
configured, which then serves only 127.0.0.1) is the install's operator and may do everything:
whoever has the server's shell has its database anyway.
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from errors import TrueUpError
from store.models import User
from store.types import Role


class Permission(StrEnum):
    READ = "read"  # every page, the audit log
    EXPORT_SUMMARY = "export_summary"  # the month summary: CSV, PNG, PDF
    MAP = "map"  # map, exclude, unmap, import map files, undo them
    DECIDE = "decide"  # approve, dismiss, schedule, undo
    EXPORT_CHANGES = "export_changes"  # download approved changes and mark them exported
    SYNC = "sync"  # upload a file, start a sync, close or reopen a month
    SOURCES = "sources"  # add, change, remove and test API sources and their credentials
    USERS = "users"  # add, change and remove people
    SETTINGS = "settings"  # workspace settings, the demo workspace
    APPLY = "apply"  # send approved changes to the PSA


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ, Permission.EXPORT_SUMMARY}),
    Role.APPROVER: frozenset(
        {
            Permission.READ,
            Permission.EXPORT_SUMMARY,
            Permission.MAP,
            Permission.DECIDE,
            Permission.EXPORT_CHANGES,
            Permission.SYNC,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}
"""The permissions of each role."""


class NotAllowed(TrueUpError):
    """Someone tried what their role does not allow."""

    title = "Not allowed"


def role_of(session: Session, user: str) -> Role | None:
    """Give back the role of a person who signs in, or None for the install's operator (someone
    with no row in `users`)."""
    return session.scalar(sa.select(User.role).where(User.username == user))


def allows(role: Role | None, permission: Permission) -> bool:
    """True when `role` (None: the operator) holds `permission`."""
    return role is None or permission in GRANTS[role]


def authorize(session: Session, user: str, permission: Permission) -> None:
    """Raise NotAllowed unless `user` may do what `permission` covers. Call it first in the
    transaction of every change, with the user the change is recorded under."""
    role = role_of(session, user)
    if not allows(role, permission):
        raise NotAllowed(
            f"{user} is a {role} and may not {permission.value.replace('_', ' ')}: ask an admin "
            "for another role"
        )


__all__ = ["GRANTS", "NotAllowed", "Permission", "allows", "authorize", "role_of"]
