"""The store's tables, as typed SQLAlchemy models.

Snapshot rows (`PsaLine`, `UsageLine`, `CatalogLine`) are declared here for the schema and its
migrations, but written and read in bulk by `store.bulk`, never one ORM object at a time.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.types import (
    Action,
    Instant,
    Quantity,
    Role,
    SnapshotKind,
    SourceKind,
    SyncMode,
    SyncStatus,
    WriteBack,
    closed,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names fixed by rule, so that migrations can name what they alter."""

Text = sa.String(400)
"""Ids and names as exports give them; long enough for any real one."""


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


class Source(Base):
    """One configured integration: the PSA, a vendor API, or a named CSV profile."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[SourceKind] = mapped_column(closed(SourceKind, "source_kind"))
    distributor: Mapped[str | None] = mapped_column(sa.String(200))
    columns: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    """The CSV profile: field to header, as the user last chose them."""
    decimal_comma: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(Instant())
    type: Mapped[str] = mapped_column(sa.String(40), default="csv", server_default="csv")
    """How it syncs: "csv" (uploaded files) or an API source type (connectors.registry)."""
    settings: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    """An API source's settings that are not secret."""
    secrets: Mapped[str | None] = mapped_column(sa.Text)
    """An API source's secret settings, encrypted (store.credentials); never in clear text."""
    sync_cursor: Mapped[datetime | None] = mapped_column(Instant())
    """Where the next quick sync starts: the cursor of the last good API sync."""

    def __repr__(self) -> str:
        return f"Source(name={self.name!r}, kind={self.kind}, type={self.type!r})"


class SyncRun(Base):
    """One sync of one source; a good one (`ok`) owns a snapshot of rows."""

    __tablename__ = "sync_runs"
    __table_args__ = (sa.Index(None, "source_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("sources.id"))
    kind: Mapped[SnapshotKind] = mapped_column(closed(SnapshotKind, "snapshot_kind"))
    """What its snapshot holds: the PSA source has two kinds, its lines and its catalogue, each
    with its own current snapshot (a CSV PSA sends them as two files)."""
    mode: Mapped[SyncMode] = mapped_column(closed(SyncMode, "sync_mode"))
    status: Mapped[SyncStatus] = mapped_column(closed(SyncStatus, "sync_status"))
    started_at: Mapped[datetime] = mapped_column(Instant())
    finished_at: Mapped[datetime | None] = mapped_column(Instant())
    file_name: Mapped[str | None] = mapped_column(sa.String(400))
    rows_read: Mapped[int | None]
    """Data rows of the file (blank rows aside)."""
    rows_stored: Mapped[int | None]
    """Snapshot rows: usage rows after repeats added up, PSA lines, or catalogue products."""
    vendors: Mapped[list[str] | None] = mapped_column(sa.JSON)
    """The vendors whose counts this snapshot holds (usage only)."""
    warnings: Mapped[list[str] | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)
    made_by: Mapped[str] = mapped_column(sa.String(200))
    pruned: Mapped[bool] = mapped_column(default=False)
    """Its rows were deleted by the retention rule; the run stays as history."""
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(sa.String(200))
    """The process running it (a background sync), to tell a live run from a dead one."""
    heartbeat_at: Mapped[datetime | None] = mapped_column(Instant())
    """When the process running it last said it was alive."""
    progress: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    """How far it got: pages and records read, and what it is reading."""


class PsaLine(Base):
    """PSA agreement lines of one snapshot: one row per contract line (engine PSA_LINES)."""

    __tablename__ = "psa_lines"

    sync_run_id: Mapped[int] = mapped_column(sa.ForeignKey("sync_runs.id"), primary_key=True)
    row: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    account_id: Mapped[str | None] = mapped_column(Text)
    account_name: Mapped[str | None] = mapped_column(Text)
    contract_id: Mapped[str | None] = mapped_column(Text)
    contract_name: Mapped[str | None] = mapped_column(Text)
    product_id: Mapped[str | None] = mapped_column(Text)
    product_name: Mapped[str | None] = mapped_column(Text)
    line_id: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal | None] = mapped_column(Quantity())
    unit_price: Mapped[Decimal | None] = mapped_column(Quantity())
    unit_cost: Mapped[Decimal | None] = mapped_column(Quantity())
    prorate: Mapped[bool | None]
    billing_months: Mapped[int | None]
    account_website: Mapped[str | None] = mapped_column(Text)


class UsageLine(Base):
    """Vendor usage of one snapshot: one row per vendor, vendor account and product (USAGE)."""

    __tablename__ = "usage_lines"

    sync_run_id: Mapped[int] = mapped_column(sa.ForeignKey("sync_runs.id"), primary_key=True)
    row: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    vendor: Mapped[str | None] = mapped_column(Text)
    distributor: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(Text)
    account_name: Mapped[str | None] = mapped_column(Text)
    product_id: Mapped[str | None] = mapped_column(Text)
    product_name: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal | None] = mapped_column(Quantity())
    unit_cost: Mapped[Decimal | None] = mapped_column(Quantity())
    billing_term: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    account_domain: Mapped[str | None] = mapped_column(Text)
    account_external_id: Mapped[str | None] = mapped_column(Text)


class CommitmentLine(Base):
    """Seats a vendor cannot reduce before a date, of one usage snapshot: one row per vendor,
    account, product and commitment end (Microsoft NCE through Pax8 or Partner Center)."""

    __tablename__ = "commitment_lines"

    sync_run_id: Mapped[int] = mapped_column(sa.ForeignKey("sync_runs.id"), primary_key=True)
    row: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    vendor: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(Text)
    product_id: Mapped[str | None] = mapped_column(Text)
    commitment_end: Mapped[date | None]
    quantity: Mapped[Decimal | None] = mapped_column(Quantity())


class CatalogLine(Base):
    """The PSA's product catalogue of one snapshot: one row per PSA product (engine CATALOG)."""

    __tablename__ = "catalog_lines"

    sync_run_id: Mapped[int] = mapped_column(sa.ForeignKey("sync_runs.id"), primary_key=True)
    row: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    product_id: Mapped[str | None] = mapped_column(Text)
    product_name: Mapped[str | None] = mapped_column(Text)
    unit_price: Mapped[Decimal | None] = mapped_column(Quantity())
    unit_cost: Mapped[Decimal | None] = mapped_column(Quantity())
    billing_months: Mapped[int | None]


class _Map:
    id: Mapped[int] = mapped_column(primary_key=True)
    vendor: Mapped[str] = mapped_column(Text)
    excluded: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    auto: Mapped[bool] = mapped_column(default=False)
    """Made by exact name (DESIGN 4.1), and so undoable as such."""
    made_by: Mapped[str] = mapped_column(sa.String(200))
    made_at: Mapped[datetime] = mapped_column(Instant())


class AccountMap(_Map, Base):
    """Account maps: one row per vendor and vendor account (engine ACCOUNT_MAP)."""

    __tablename__ = "account_maps"
    __table_args__ = (sa.UniqueConstraint("vendor", "vendor_account_id"),)

    vendor_account_id: Mapped[str] = mapped_column(Text)
    psa_account_id: Mapped[str | None] = mapped_column(Text)


class ProductMap(_Map, Base):
    """Product maps: one row per vendor and vendor product (engine PRODUCT_MAP)."""

    __tablename__ = "product_maps"
    __table_args__ = (sa.UniqueConstraint("vendor", "vendor_product_id"),)

    vendor_product_id: Mapped[str] = mapped_column(Text)
    psa_product_id: Mapped[str | None] = mapped_column(Text)


class MapChange(Base):
    """Changes made to maps by hand, append-only: one row per vendor item and action, with the
    map before and after (null: no map row), so that an action can be undone as a whole."""

    __tablename__ = "map_changes"
    __table_args__ = (sa.Index(None, "made_by", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[str] = mapped_column(sa.String(32))
    """Shared by the changes of one action (one item or a bulk action)."""
    action: Mapped[str] = mapped_column(sa.String(40))
    """What the user did: map, accept, exclude, unmap, import, undo."""
    kind: Mapped[str] = mapped_column(sa.String(10))
    """"account" or "product"."""
    vendor: Mapped[str] = mapped_column(Text)
    vendor_item_id: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    made_by: Mapped[str] = mapped_column(sa.String(200))
    made_at: Mapped[datetime] = mapped_column(Instant())
    undoes: Mapped[str | None] = mapped_column(sa.String(32))
    """The action this one undid (for an undo)."""


class Decision(Base):
    """Decisions, append-only: one row per card and action (DESIGN 6)."""

    __tablename__ = "decisions"
    __table_args__ = (sa.Index(None, "account_id", "product_id"), sa.Index(None, "undoes_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(Text)
    product_id: Mapped[str] = mapped_column(Text)
    action: Mapped[Action] = mapped_column(closed(Action, "action"))
    psa_quantity: Mapped[Decimal | None] = mapped_column(Quantity())
    vendor_quantity: Mapped[Decimal | None] = mapped_column(Quantity())
    """The vendor quantity when decided: the decision holds while it stays so."""
    effective_date: Mapped[date | None]
    made_by: Mapped[str] = mapped_column(sa.String(200))
    made_at: Mapped[datetime] = mapped_column(Instant())
    bulk_id: Mapped[str] = mapped_column(sa.String(32))
    """Shared by the decisions of one action, so that undo reverses all of them."""
    undoes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("decisions.id"))
    write_back: Mapped[WriteBack | None] = mapped_column(closed(WriteBack, "write_back"))
    contract_id: Mapped[str | None] = mapped_column(Text)
    """The PSA agreement an approved change goes to: the card's, or the one chosen for New
    Revenue (which has no line yet)."""
    period: Mapped[str | None] = mapped_column(sa.String(7), index=True)
    """The month the decision belongs to ("2026-11"): the month it was made in (DESIGN 1)."""
    card_type: Mapped[str | None] = mapped_column(sa.String(16))
    monthly_value: Mapped[Decimal | None] = mapped_column(Quantity())
    """The card's monthly value when decided, rounded to cents (the month summary's money)."""
    vendor: Mapped[str | None] = mapped_column(Text)
    account_name: Mapped[str | None] = mapped_column(Text)
    product_name: Mapped[str | None] = mapped_column(Text)


class WriteBackEntry(Base):
    """The write-back outbox: one row per approved change sent, or to send, to the PSA.

    Its idempotency key is fixed by the approval, so a change goes out once however often
    `apply` runs. `sent_at` is committed before the request leaves: a row sent but with no
    result (the process died, or the answer never came) is `unknown`, and the next attempt
    reads the PSA before writing again.
    """

    __tablename__ = "write_backs"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(sa.ForeignKey("decisions.id"), unique=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    source: Mapped[str] = mapped_column(sa.String(200))
    """The PSA source it goes to."""
    account_id: Mapped[str] = mapped_column(Text)
    product_id: Mapped[str] = mapped_column(Text)
    contract_id: Mapped[str | None] = mapped_column(Text)
    line_id: Mapped[str | None] = mapped_column(Text)
    """The PSA line to change; null for New Revenue (a line to add)."""
    expected_quantity: Mapped[Decimal | None] = mapped_column(Quantity())
    """The PSA quantity the approver saw: another one found before writing is a conflict."""
    new_quantity: Mapped[Decimal] = mapped_column(Quantity())
    effective_date: Mapped[date | None]
    mode: Mapped[str] = mapped_column(sa.String(20))
    """How it is written: "in_place" (held until its effective date) or "effective_dated"."""
    state: Mapped[WriteBack] = mapped_column(closed(WriteBack, "write_back_state"), index=True)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    sent_at: Mapped[datetime | None] = mapped_column(Instant())
    finished_at: Mapped[datetime | None] = mapped_column(Instant())
    applied_quantity: Mapped[Decimal | None] = mapped_column(Quantity())
    """The quantity read back after writing."""
    new_line_id: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(sa.Text)
    request: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    response: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(Instant())
    made_by: Mapped[str] = mapped_column(sa.String(200))


class CardLock(Base):
    """One row per card ever acted on, taken (row-locked) first by every action on the card, so
    that two people deciding the same card at once decide one after the other (store.decisions)."""

    __tablename__ = "card_locks"

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    bulk_id: Mapped[str] = mapped_column(sa.String(32))
    """The last action that took it."""
    made_by: Mapped[str] = mapped_column(sa.String(200))
    made_at: Mapped[datetime] = mapped_column(Instant())


class User(Base):
    """A person who may sign in: a local account (with a password hash) or a single sign-on
    identity given a role by an admin (no password). Usernames of SSO people are their e-mail."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(closed(Role, "role"))
    password_hash: Mapped[str | None] = mapped_column(sa.String(400))
    """A strong one-way hash (never the password); None for a single sign-on identity."""
    created_at: Mapped[datetime] = mapped_column(Instant())
    created_by: Mapped[str] = mapped_column(sa.String(200))


class UserPref(Base):
    """Per-user preferences (a view, a warning not to show again): one row per user and key."""

    __tablename__ = "user_prefs"

    username: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


class AuditEntry(Base):
    """The audit log: one row per change someone made, with what it was before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(Instant())
    made_by: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON)


class Setting(Base):
    """Settings changed in the workspace: one row per setting name."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


class MonthClose(Base):
    """Closed months: one row per month, with its summary frozen when it was closed."""

    __tablename__ = "month_closes"

    period: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    closed_by: Mapped[str] = mapped_column(sa.String(200))
    closed_at: Mapped[datetime] = mapped_column(Instant())
    figures: Mapped[dict[str, Any]] = mapped_column(sa.JSON)


class MonthFigures(Base):
    """The figures of months not closed, as their decisions give them, saved with the state of
    those decisions (store.month): one row per month, replaced when that state moves."""

    __tablename__ = "month_figures"

    period: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100))
    figures: Mapped[dict[str, Any]] = mapped_column(sa.JSON)


class SavedSummary(Base):
    """The figures of the current cards, saved for Home (store.summary): one row, the latest."""

    __tablename__ = "card_summaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64))
    """The state of the workspace the figures are of (store.summary.state_key)."""
    computed_at: Mapped[datetime] = mapped_column(Instant())
    figures: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
