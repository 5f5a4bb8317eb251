"""The card summary: the few figures Home shows, saved when a sync or a map import changes them.

Working out the current cards reads every current snapshot back (seconds for a million usage
rows), far too slow for a page that opens on every visit. So the figures are computed once per
state of the workspace and saved with the key of that state; Home reads the saved row (one
small query) and recomputes only when the key it sees differs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine import GroupBy, group_summary
from engine.schema import OPEN_TYPES, CardType
from store.cards import CurrentCards, current_cards, is_open
from store.db import Store
from store.models import AccountMap, AuditEntry, Decision, ProductMap, SavedSummary, SyncRun
from store.types import CardStatus, SyncStatus, WriteBack, now

VERSION = 3
"""Part of every key: bump it when what a summary holds, or how the engine counts, changes."""
MAPS = (AccountMap, ProductMap)


@dataclass(frozen=True)
class TypeFigures:
    """The open cards of one type: how many, and their net monthly value (rounded per card)."""

    cards: int
    monthly_value: Decimal


@dataclass(frozen=True)
class CardSummary:
    """The figures of the current cards, for one state of the workspace (its `key`)."""

    key: str
    computed_at: datetime
    open_by_type: dict[str, TypeFigures]
    """Card type (the open types only, DESIGN 4.10) to its open cards, every open type present."""
    unmapped_accounts: int
    unmapped_products: int
    no_vendor_data: int
    """Cards shown as information only: PSA lines with no vendor count known."""
    decided: int
    """Cards whose approval or dismissal still holds."""
    snapshots: dict[str, int] = field(default_factory=dict)
    """Source name to the run of its current snapshot, as summed up here."""
    pending: TypeFigures = TypeFigures(0, Decimal("0.00"))
    """Approved changes not yet exported or applied: how many, and their net monthly value."""

    @property
    def open_cards(self) -> int:
        return sum(figures.cards for figures in self.open_by_type.values())

    @property
    def net_monthly_value(self) -> Decimal:
        return sum((f.monthly_value for f in self.open_by_type.values()), Decimal("0.00"))


CHANGES = (
    AuditEntry.kind.like("%map%"),
    AuditEntry.kind.like("decision%"),
    AuditEntry.kind == "write_back",
)
"""The audit entries of changes to maps (by file, by hand or auto), of decisions, and of their
changes sent to the PSA (which move an approval's write-back state)."""


GONE_OUT = [WriteBack.APPLIED.value, WriteBack.NOOP.value, WriteBack.EXPORTED.value]
"""Write-back states of an approved change that has gone out; any other (pending, or a send
that ended in conflict, rejected, failed or unknown) still needs a person."""


def state_key(session: Session) -> str:
    """Give back the key of what the cards depend on: the good syncs, the maps, the decisions.

    A few aggregates that stay cheap at any size: over the sync runs (a short table), the
    primary keys of the maps and decisions, and the audit log, where every change to a map or
    a decision leaves an entry (a map changed in place moves no id). Times sit beside the ids
    because SQLite reuses the ids of deleted rows: after a reset, a new state must not take
    an old state's key.
    """
    good = sa.select(
        sa.func.count(), sa.func.max(SyncRun.id), sa.func.max(SyncRun.finished_at)
    ).where(SyncRun.status == SyncStatus.OK)
    rows = sa.select(
        *(sa.select(sa.func.count()).select_from(m).scalar_subquery() for m in MAPS),
        *(sa.select(sa.func.max(m.id)).scalar_subquery() for m in (*MAPS, Decision)),
    )
    changes = sa.select(sa.func.max(AuditEntry.id), sa.func.max(AuditEntry.at)).where(
        sa.or_(*CHANGES)
    )
    parts = [VERSION, *(list(session.execute(q).one()) for q in (good, rows, changes))]
    text = json.dumps(parts, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def summarise(current: CurrentCards, key: str, at: datetime) -> CardSummary:
    """Give back the summary of one reconciliation of the current snapshots."""
    cards = current.cards
    by_type = {
        row["key"]: row
        for row in group_summary(cards.filter(is_open()), GroupBy.TYPE).iter_rows(named=True)
    }
    open_by_type = {
        t.value: TypeFigures(
            by_type[t.value]["cards"] if t.value in by_type else 0,
            by_type[t.value]["net_monthly_value"] if t.value in by_type else Decimal("0.00"),
        )
        for t in OPEN_TYPES
    }
    kinds = current.result.unmapped.get_column("kind")
    decided = pl.col("status").is_in([CardStatus.APPROVED.value, CardStatus.DISMISSED.value])
    pending = cards.filter(
        (pl.col("status") == CardStatus.APPROVED.value)
        & ~pl.col("write_back").is_in(GONE_OUT)
        & pl.col("card_type").is_in([t.value for t in OPEN_TYPES])
    )
    return CardSummary(
        key=key,
        computed_at=at,
        open_by_type=open_by_type,
        unmapped_accounts=int((kinds == "account").sum()),
        unmapped_products=int((kinds == "product").sum()),
        no_vendor_data=cards.filter(pl.col("card_type") == CardType.NO_VENDOR_DATA.value).height,
        decided=cards.filter(decided).height,
        snapshots=dict(current.inputs.snapshots),
        pending=TypeFigures(
            pending.height,
            sum(pending.get_column("monthly_value").drop_nulls(), Decimal("0.00")),
        ),
    )


def refresh_summary(store: Store, *, at: datetime | None = None) -> CardSummary:
    """Give back the summary of the current cards, computed now and saved in place of the last.

    Call it after anything that changes the cards (a good sync, a map import, decisions). The
    key is taken after the cards are worked out, as that stores the maps made by exact name.
    """
    current = current_cards(store)
    with store.session() as session:
        summary = summarise(current, state_key(session), at or now())
        session.execute(sa.delete(SavedSummary))
        session.add(
            SavedSummary(key=summary.key, computed_at=summary.computed_at, figures=_dump(summary))
        )
    return summary


def saved_summary(store: Store) -> CardSummary | None:
    """Give back the last saved summary, whatever state it was computed for, if there is one."""
    with store.session() as session:
        row = session.scalars(sa.select(SavedSummary).order_by(SavedSummary.id.desc())).first()
    return None if row is None else _load(row.key, row.computed_at, row.figures)


def card_summary(store: Store, key: str | None = None) -> CardSummary:
    """Give back the summary of the current state: the saved one when its key is current
    (`key`, when the caller has just read it), else one computed and saved now."""
    if key is None:
        with store.session() as session:
            key = state_key(session)
    saved = saved_summary(store)
    if saved is not None and saved.key == key:
        return saved
    return refresh_summary(store)


def _dump(summary: CardSummary) -> dict[str, Any]:
    # Money as text: JSON numbers are floats to most readers, and these must stay exact.
    return {
        "open": {t: [f.cards, str(f.monthly_value)] for t, f in summary.open_by_type.items()},
        "unmapped": {"account": summary.unmapped_accounts, "product": summary.unmapped_products},
        "no_vendor_data": summary.no_vendor_data,
        "decided": summary.decided,
        "snapshots": summary.snapshots,
        "pending": [summary.pending.cards, str(summary.pending.monthly_value)],
    }


def _load(key: str, computed_at: datetime, figures: dict[str, Any]) -> CardSummary:
    return CardSummary(
        key=key,
        computed_at=computed_at,
        open_by_type={t: TypeFigures(n, Decimal(v)) for t, (n, v) in figures["open"].items()},
        unmapped_accounts=figures["unmapped"]["account"],
        unmapped_products=figures["unmapped"]["product"],
        no_vendor_data=figures["no_vendor_data"],
        decided=figures["decided"],
        snapshots=figures["snapshots"],
        # A summary saved before it counted them is recomputed (its key is older): zero here.
        pending=TypeFigures(*_pending(figures.get("pending", [0, "0.00"]))),
    )


def _pending(saved: list[Any]) -> tuple[int, Decimal]:
    return int(saved[0]), Decimal(saved[1])
