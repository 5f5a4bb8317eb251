"""Decisions on cards (DESIGN 6): appended, never overwritten; undone by a new decision."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.schema import QUANTITY, Schema
from store.audit import audit
from store.models import Decision
from store.types import Action, CardStatus, WriteBack

STATUS_OF = {
    Action.APPROVE: CardStatus.APPROVED,
    Action.DISMISS: CardStatus.DISMISSED,
    Action.SCHEDULE: CardStatus.SCHEDULED,
}
DECIDED: Schema = {
    "account_id": pl.String,
    "product_id": pl.String,
    "status": pl.String,
    "decided_vendor_quantity": QUANTITY,
    "effective_date": pl.Date,
}


def decide(
    session: Session,
    cards: pl.DataFrame,
    action: Action,
    user: str,
    at: datetime,
    effective_date: date | None = None,
) -> str:
    """Record one action on the given cards (rows with account_id, product_id, psa_quantity,
    vendor_quantity) and give back its bulk id, which an undo reverses as a whole."""
    if action is Action.UNDO:
        raise ValueError("undo with undo_last, which knows what it reverses")
    bulk_id = uuid.uuid4().hex
    write_back = WriteBack.PENDING if action is Action.APPROVE else None
    rows = [
        Decision(
            account_id=card["account_id"],
            product_id=card["product_id"],
            action=action,
            psa_quantity=card["psa_quantity"],
            vendor_quantity=card["vendor_quantity"],
            effective_date=effective_date,
            made_by=user,
            made_at=at,
            bulk_id=bulk_id,
            write_back=write_back,
        )
        for card in cards.select(
            "account_id", "product_id", "psa_quantity", "vendor_quantity"
        ).iter_rows(named=True)
    ]
    session.add_all(rows)
    audit(
        session,
        user,
        f"decision_{action.value}",
        {"bulk_id": bulk_id, "cards": len(rows), "effective_date": str(effective_date)},
        at,
    )
    return bulk_id


def undo_last(session: Session, user: str, at: datetime) -> int:
    """Reverse the user's last action still in force (one card or one bulk action); give back
    how many decisions it reversed."""
    live = _live(session).where(Decision.made_by == user, Decision.action != Action.UNDO)
    last = session.scalars(live.order_by(Decision.id.desc()).limit(1)).first()
    if last is None:
        return 0
    targets = session.scalars(live.where(Decision.bulk_id == last.bulk_id)).all()
    bulk_id = uuid.uuid4().hex
    session.add_all(
        Decision(
            account_id=d.account_id,
            product_id=d.product_id,
            action=Action.UNDO,
            psa_quantity=d.psa_quantity,
            vendor_quantity=d.vendor_quantity,
            made_by=user,
            made_at=at,
            bulk_id=bulk_id,
            undoes_id=d.id,
        )
        for d in targets
    )
    audit(session, user, "decision_undo", {"bulk_id": bulk_id, "undid": last.bulk_id}, at)
    return len(targets)


def _live(session: Session) -> sa.Select[Decision]:
    """Give back the query of decisions not undone."""
    undone = sa.select(Decision.undoes_id).where(Decision.undoes_id.is_not(None))
    return sa.select(Decision).where(Decision.id.not_in(undone))


def card_decisions(session: Session) -> pl.DataFrame:
    """Give back the decision in force of each decided card, one row per card (DECIDED):
    its last decision not undone, with the vendor quantity it was made at."""
    undone = sa.select(Decision.undoes_id).where(Decision.undoes_id.is_not(None))
    rows = session.execute(
        sa.select(
            Decision.account_id,
            Decision.product_id,
            Decision.action,
            Decision.vendor_quantity,
            Decision.effective_date,
        )
        .where(Decision.action != Action.UNDO, Decision.id.not_in(undone))
        .order_by(Decision.id)
    )
    frame = pl.DataFrame(
        [(a, p, STATUS_OF[action].value, q, d) for a, p, action, q, d in rows],
        schema=DECIDED,
        orient="row",
    )
    return frame.unique(["account_id", "product_id"], keep="last", maintain_order=True)


def with_status(cards: pl.DataFrame, decided: pl.DataFrame) -> pl.DataFrame:
    """Give back the cards with their decision `status` and `effective_date`: a decision holds
    while the card's vendor quantity is the one it was made at (DESIGN 6), else "open"."""
    joined = cards.join(decided, on=["account_id", "product_id"], how="left", maintain_order="left")
    holds = pl.col("status").is_not_null() & pl.col("vendor_quantity").eq_missing(
        pl.col("decided_vendor_quantity")
    )
    return joined.with_columns(
        pl.when(holds)
        .then(pl.col("status"))
        .otherwise(pl.lit(CardStatus.OPEN.value))
        .alias("status"),
        pl.when(holds).then(pl.col("effective_date")).alias("effective_date"),
    ).drop("decided_vendor_quantity")
