"""Approved changes out: the changes to apply in the PSA, and their export (DESIGN 6).

Writing back through PSA APIs comes with the connectors; until then a person applies the
exported file, and the decisions say "exported" so that a change goes out once.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import aliased

from engine.contracts import APPROVALS, CHANGES, changes_to_apply
from engine.schema import OPEN_TYPES
from store.access import Permission, authorize
from store.audit import audit, current_user
from store.cards import CurrentCards, current_cards
from store.db import Store
from store.models import Decision
from store.types import Action, CardStatus, WriteBack, now

SAME_APPROVAL = ["account_id", "product_id", "new_quantity", "approved_by", "approved_at"]
"""What tells one approval's change from another's of the same card."""


def approved_changes(store: Store) -> pl.DataFrame:
    """Give back the approved changes not yet exported or applied (engine CHANGES), one row per
    card whose approval still holds, in account and product order."""
    return _changes(store)[0]


def export_changes(
    store: Store,
    *,
    user: str | None = None,
    at: datetime | None = None,
    only: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Give back the approved changes to apply (as `approved_changes`), after marking their
    decisions "exported", in one audited transaction.

    A change exported meanwhile by someone else is left out: each goes out once. With `only`
    (rows of `approved_changes` a person has downloaded), just those of them still waiting are
    marked: an approval made since the download is not marked as gone out unseen.
    """
    who, when = user or current_user(), at or now()
    with store.session() as session:
        authorize(session, who, Permission.EXPORT_CHANGES)
    changes, ids = _changes(store)
    if only is not None:
        wanted = set(only.select(SAME_APPROVAL).iter_rows())
        keep = [row in wanted for row in changes.select(SAME_APPROVAL).iter_rows()]
        ids = [i for i, kept in zip(ids, keep, strict=True) if kept]
        changes = changes.filter(pl.Series(keep))
    if changes.is_empty():
        return changes
    with store.session() as session:
        marked = session.scalars(
            sa.update(Decision)
            .where(Decision.id.in_(ids), Decision.write_back == WriteBack.PENDING)
            .values(write_back=WriteBack.EXPORTED)
            .returning(Decision.id)
        ).all()
        # Checked after the write (on SQLite a read first fails, not waits); refused: rolled back.
        authorize(session, who, Permission.EXPORT_CHANGES)
        done = set(marked)
        exported = changes.filter(pl.Series([i in done for i in ids]))
        if not exported.is_empty():
            audit(
                session,
                who,
                "decision_export",
                {"decisions": sorted(done), "changes": exported.height},
                when,
            )
    return exported


def _changes(store: Store, current: CurrentCards | None = None) -> tuple[pl.DataFrame, list[int]]:
    """Give back the changes to apply, and beside each the id of its approval (of `current`
    cards when given, else worked out now)."""
    current = current or current_cards(store)
    approved = current.cards.filter(
        (pl.col("status") == CardStatus.APPROVED.value)
        & pl.col("card_type").is_in([t.value for t in OPEN_TYPES])
    )
    undo = aliased(Decision)
    with store.session() as session:
        rows = session.execute(
            sa.select(
                Decision.id,
                Decision.account_id,
                Decision.product_id,
                Decision.action,
                Decision.contract_id,
                Decision.effective_date,
                Decision.made_by,
                Decision.made_at,
                Decision.write_back,
            )
            .where(
                Decision.action != Action.UNDO, ~sa.exists().where(undo.undoes_id == Decision.id)
            )
            .order_by(Decision.id)
        ).all()
    # The decision in force of each card is its last one not undone; only a pending approval
    # is still to go out.
    in_force = {(r.account_id, r.product_id): r for r in rows}
    pending = [
        r
        for r in in_force.values()
        if r.action is Action.APPROVE and r.write_back is WriteBack.PENDING
    ]
    approvals = pl.DataFrame(
        [
            (r.account_id, r.product_id, r.contract_id, r.effective_date, r.made_by, r.made_at)
            for r in pending
        ],
        schema=APPROVALS,
        orient="row",
    ).with_columns(pl.Series("decision_id", [r.id for r in pending], dtype=pl.Int64))
    changes = changes_to_apply(
        approved, approvals.drop("decision_id"), current.inputs.psa_lines
    ).sort("account_id", "product_id")
    ids = changes.select("account_id", "product_id").join(
        approvals.select("account_id", "product_id", "decision_id"),
        on=["account_id", "product_id"],
        how="left",
        maintain_order="left",
    )
    return changes.select(list(CHANGES)), ids.get_column("decision_id").to_list()


__all__ = ["approved_changes", "export_changes"]
