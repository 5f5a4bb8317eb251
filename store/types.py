"""Column types that keep money, quantities and instants exact on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

import settings

SCALE = 10_000
"""Quantities and prices have four places (DESIGN 4.9)."""


class Quantity(sa.TypeDecorator[Decimal]):
    """An exact four-place decimal: NUMERIC(18, 4) on PostgreSQL, a scaled BIGINT on SQLite.

    SQLite has no decimal type: its NUMERIC stores 0.1 as a float. Ten-thousandths as a 64-bit
    integer hold every NUMERIC(18, 4) value exactly and still add up in SQL.
    """

    impl = sa.Numeric(18, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.Numeric(18, 4, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        # A value of more places is rounded half-up, as the importers round (DESIGN 4.9).
        return int(Decimal(value).scaleb(4).to_integral_value(ROUND_HALF_UP))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-4).quantize(Decimal("0.0001"))
        return Decimal(value)


class Instant(sa.TypeDecorator[datetime]):
    """A moment in UTC, given back timezone-aware on both databases (SQLite keeps no offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a stored time must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def now() -> datetime:
    """Give back the current moment in UTC."""
    return datetime.now(UTC)


def team_date(at: datetime) -> date:
    """Give back a moment's date in the team's time zone (the `timezone` setting)."""
    return at.astimezone(ZoneInfo(settings.get("timezone"))).date()


def period_of(at: datetime) -> str:
    """Give back the month ("2026-11") a moment belongs to: its date in the team's time zone,
    so that a decision made late on the 31st stays in its month."""
    return f"{team_date(at):%Y-%m}"


class SourceKind(StrEnum):
    PSA = "psa"
    VENDOR = "vendor"


class SyncMode(StrEnum):
    QUICK = "quick"
    FULL = "full"
    CSV = "csv"


class SnapshotKind(StrEnum):
    """What a sync run's snapshot holds: PSA lines, vendor usage, or the PSA's catalogue."""

    PSA = "psa"
    USAGE = "usage"
    CATALOG = "catalog"


class SyncStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"


class Action(StrEnum):
    APPROVE = "approve"
    DISMISS = "dismiss"
    SCHEDULE = "schedule"
    UNDO = "undo"


class WriteBack(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    NOOP = "noop"
    CONFLICT = "conflict"
    REJECTED = "rejected"
    FAILED = "failed"
    UNKNOWN = "unknown"
    EXPORTED = "exported"


class Role(StrEnum):
    """What a person may do (issue 8): each role may do all the one before it may."""

    VIEWER = "viewer"  # reads every page, exports the month summary
    APPROVER = "approver"  # maps, decides, exports changes
    ADMIN = "admin"  # sources, credentials, users, settings, apply to the PSA


class CardStatus(StrEnum):
    """A card's decision status (DESIGN 6): open unless a decision still holds."""

    OPEN = "open"
    APPROVED = "approved"
    DISMISSED = "dismissed"
    SCHEDULED = "scheduled"


def closed(enum: type[StrEnum], name: str) -> sa.Enum:
    """Give back a text column type limited to an enum's values by a CHECK constraint."""
    return sa.Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
