"""Who acts, and the audit log of what they changed."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
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


KINDS: dict[str, str] = {
    "sign_in": "Sign-in",
    "sign_in_failed": "Sign-in refused",
    "user_add": "Person added",
    "user_passwd": "Password changed",
    "user_role": "Role changed",
    "user_remove": "Person removed",
    "sync": "Sync",
    "sync_failed": "Sync failed",
    "account_maps_auto": "Account maps made by name",
    "product_maps_auto": "Service maps made by name",
    "decision_approve": "Approval",
    "decision_dismiss": "Dismissal",
    "decision_schedule": "Scheduled change",
    "decision_undo": "Undo of a decision",
    "decision_export": "Export of changes",
    "write_back": "Apply to PSA",
    "setting": "Setting",
    "month_close": "Month closed",
    "month_reopen": "Month reopened",
    "source_added": "Source added",
    "source_changed": "Source changed",
    "source_removed": "Source removed",
}
"""How each kind of entry reads on the Audit log page; maps by hand are worked out (`label`)."""

_MAP_ACTIONS = {
    "map": "mapped",
    "accept": "suggestions accepted",
    "exclude": "excluded",
    "unmap": "unmapped",
    "import": "map file imported",
    "undo": "undone",
}


def label(kind: str) -> str:
    """Give back how a kind of entry reads for a person: `Approval`, `Service maps: excluded`."""
    if kind in KINDS:
        return KINDS[kind]
    for side, noun in (("account", "Account"), ("product", "Service")):
        action = kind.removeprefix(f"{side}_maps_")
        if action != kind:
            return f"{noun} maps: {_MAP_ACTIONS.get(action, action)}"
    return kind.replace("_", " ").capitalize()


def _filtered(
    query: sa.Select[Any],
    users: Collection[str],
    kinds: Collection[str],
    since: datetime | None,
    until: datetime | None,
) -> sa.Select[Any]:
    if users:
        query = query.where(AuditEntry.made_by.in_(users))
    if kinds:
        query = query.where(AuditEntry.kind.in_(kinds))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return query


ENTRIES: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "at": pl.Datetime("us", "UTC"),
    "made_by": pl.String(),
    "kind": pl.String(),
    "what": pl.String(),
    "detail": pl.String(),
}
"""The audit log as read: one row per entry; `what` says what changed, `detail` is its JSON."""


def audit_entries(
    session: Session,
    *,
    users: Collection[str] = (),
    kinds: Collection[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Give back the entries (ENTRIES, newest first) made by any of `users` of any of `kinds`
    from `since` up to, not including, `until` (an empty filter lets everything through), at
    most `limit` of them."""
    query = _filtered(sa.select(AuditEntry), users, kinds, since, until)
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    rows = [
        (e.id, e.at, e.made_by, e.kind, what_changed(e.kind, e.detail), _json(e.detail))
        for e in session.scalars(query)
    ]
    return pl.DataFrame(rows, schema=ENTRIES, orient="row")


def count_entries(
    session: Session,
    *,
    users: Collection[str] = (),
    kinds: Collection[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Give back how many entries the filter of `audit_entries` lets through, however many."""
    query = _filtered(sa.select(sa.func.count(AuditEntry.id)), users, kinds, since, until)
    return int(session.scalar(query) or 0)


def audit_people(session: Session) -> list[str]:
    """Give back everyone the audit log names, in alphabetical order."""
    return list(session.scalars(sa.select(AuditEntry.made_by).distinct().order_by("made_by")))


def audit_kinds(session: Session) -> list[str]:
    """Give back the kinds of entry in the audit log, in alphabetical order."""
    return list(session.scalars(sa.select(AuditEntry.kind).distinct().order_by("kind")))


def _json(detail: Any) -> str:
    return json.dumps(detail, sort_keys=True, default=str, ensure_ascii=False)


def _value(value: Any) -> str:
    if value is None or value == "":
        return "nothing"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items() if v not in (None, False))
    return str(value)


def _count(number: Any, noun: str) -> str:
    count = int(number or 0)
    return f"{count:,} {noun}{'s' * (count != 1)}"


def _map_state(state: Any) -> str:
    if not state:
        return "no map"
    if state.get("excluded"):
        reason = state.get("reason")
        return f"excluded ({reason})" if reason else "excluded"
    return f"mapped to {state.get('psa_id')}"


def _maps(detail: dict[str, Any]) -> str:
    changes = detail.get("changes") or []
    shown = [
        f"{c.get('vendor')} {c.get('id')}: {_map_state(c.get('before'))} → "
        f"{_map_state(c.get('after'))}"
        for c in changes[:3]
    ]
    more = f"; and {len(changes) - 3:,} more" if len(changes) > 3 else ""
    file = f" from {detail['file']}" if detail.get("file") else ""
    return f"{_count(len(changes), 'map')} changed{file}: " + "; ".join(shown) + more


def _auto_maps(detail: dict[str, Any]) -> str:
    after = detail.get("after") or []
    return f"{_count(len(after), 'map')} made by exact name"


def _sync(detail: dict[str, Any]) -> str:
    what = {"psa": "PSA", "usage": "usage"}.get(detail.get("kind") or "", detail.get("kind"))
    source, rows = detail.get("source"), _count(detail.get("rows"), f"{what or 'data'} row")
    if detail.get("file") or "mode" not in detail:
        file = f" from {detail['file']}" if detail.get("file") else ""
        return f"{rows} imported into {source}{file}"
    rows = _count(detail.get("rows"), "row")
    return f"{rows} synced from {source} ({detail.get('type')}, {detail.get('mode')} sync)"


def _decision(detail: dict[str, Any], done: str) -> str:
    text = f"{_count(detail.get('cards'), 'card')} {done}"
    if detail.get("refused"):
        text += f" ({_count(detail['refused'], 'card')} refused: decided meanwhile)"
    effective = detail.get("effective_date")
    return text + (f", effective {effective}" if effective and effective != "None" else "")


def _source(detail: dict[str, Any], done: str) -> str:
    text = f"{detail.get('type')} source {detail.get('source')} {done}"
    before, after = detail.get("settings_before"), detail.get("settings")
    if before is not None and before != after:
        changed = sorted(
            k for k in set(before) | set(after or {}) if before.get(k) != (after or {}).get(k)
        )
        text += "; " + "; ".join(
            f"{k}: {_value(before.get(k))} → {_value((after or {}).get(k))}" for k in changed
        )
    elif after:
        text += f"; settings {', '.join(f'{k} {v}' for k, v in sorted(after.items()))}"
    if detail.get("secrets"):
        text += f"; credentials given: {', '.join(detail['secrets'])}"
    return text


_WHAT: dict[str, Callable[[dict[str, Any]], str]] = {
    "sign_in": lambda d: "Signed in" + (f" ({d['method']})" if d.get("method") else ""),
    "sign_in_failed": lambda d: f"Sign-in refused for {d.get('username')}",
    "user_add": lambda d: f"{d.get('username')} added: {_value(d.get('after'))}",
    "user_passwd": lambda d: f"{d.get('username')}'s password changed",
    "user_role": lambda d: (
        f"{d.get('username')}: {_value(d.get('before'))} → {_value(d.get('after'))}"
    ),
    "user_remove": lambda d: f"{d.get('username')} removed (was {_value(d.get('before'))})",
    "sync": _sync,
    "sync_failed": lambda d: f"Sync of {d.get('source')} failed: {d.get('error')}",
    "decision_approve": lambda d: _decision(d, "approved"),
    "decision_dismiss": lambda d: _decision(d, "dismissed"),
    "decision_schedule": lambda d: _decision(d, "scheduled"),
    "decision_undo": lambda d: f"Last decision undone: {_count(d.get('cards'), 'card')} open again",
    "decision_export": lambda d: (
        f"{_count(d.get('changes'), 'change')} exported to apply in the PSA"
    ),
    "write_back": lambda d: (
        f"{d.get('card')} in {d.get('source')}: {d.get('old')} → {d.get('new')} ({d.get('state')})"
    ),
    "setting": lambda d: f"{d.get('name')}: {_value(d.get('before'))} → {_value(d.get('after'))}",
    "month_close": lambda d: f"{d.get('period')} closed: its summary frozen",
    "month_reopen": lambda d: f"{d.get('period')} reopened: its figures live again",
    "source_added": lambda d: _source(d, "added"),
    "source_changed": lambda d: _source(d, "changed"),
    "source_removed": lambda d: (
        _source(d, "removed") + ("; its syncs kept" if d.get("syncs_kept") else "")
    ),
}


def what_changed(kind: str, detail: Any) -> str:
    """Give back what an entry changed, in words: `keep_snapshots: 3 → 5`."""
    if not isinstance(detail, dict):
        return _value(detail)
    if kind in _WHAT:
        return _WHAT[kind](detail)
    if kind.endswith("_maps_auto"):
        return _auto_maps(detail)
    if "_maps_" in kind:
        return _maps(detail)
    if "before" in detail or "after" in detail:
        return f"{_value(detail.get('before'))} → {_value(detail.get('after'))}"
    return "; ".join(f"{k}: {_value(v)}" for k, v in detail.items())
