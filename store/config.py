"""Settings kept in the workspace (the settings table): a registry of name, default and help."""

from __future__ import annotations

from sqlalchemy.orm import Session

from settings import Setting as SettingSpec
from store.access import Permission, authorize
from store.audit import audit
from store.models import Setting

REGISTRY = {
    s.name: s
    for s in (
        SettingSpec(
            "keep_snapshots",
            "3",
            "K: the last K good snapshots of each source are kept, besides each month's last.",
        ),
    )
}


def get_setting(session: Session, name: str) -> str:
    """Give back a stored setting's value, else its default."""
    row = session.get(Setting, name)
    return row.value if row is not None else REGISTRY[name].default


def set_setting(session: Session, name: str, value: str, user: str) -> None:
    """Store a setting's value, and audit the change."""
    REGISTRY[name]  # an unknown name is a bug, not a setting to invent
    authorize(session, user, Permission.SETTINGS)
    before = get_setting(session, name)
    row = session.get(Setting, name)
    if row is None:
        session.add(Setting(key=name, value=value))
    else:
        row.value = value
    audit(session, user, "setting", {"name": name, "before": before, "after": value})
