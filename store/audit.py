"""Who acts, and the audit log of what they changed."""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from store.models import AuditEntry
from store.types import now


def current_user() -> str:
    """Give back who acts: `TRUEUP_USER`, else the operating-system user (DESIGN 1)."""
    user = os.environ.get("TRUEUP_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # a container user with no passwd entry
        return "unknown"


def audit(
    session: Session, user: str, kind: str, detail: dict[str, Any], at: datetime | None = None
) -> None:
    """Add one entry to the audit log, in the caller's transaction so it commits with the change.

    `detail` is JSON; a change records what it was `before` and what it is `after`.
    """
    session.add(AuditEntry(at=at or now(), made_by=user, kind=kind, detail=detail))
