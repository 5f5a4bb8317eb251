"""Seats under commitment: kept with each usage snapshot of a vendor that sells terms (Pax8,
Partner Center), read back with the current snapshots, and matched to the cards."""

from __future__ import annotations

from datetime import date

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.commitments import COMMITMENTS, card_commitments
from engine.schema import conform
from store.cards import CurrentCards
from store.db import Store
from store.models import CommitmentLine
from store.snapshots import source_states
from store.types import SourceKind


def write_commitments(session: Session, sync_run_id: int, frame: pl.DataFrame) -> int:
    """Give back how many commitment rows the usage sync `sync_run_id` keeps, after writing
    `frame` (COMMITMENTS) as them in the caller's transaction."""
    rows = conform(frame, COMMITMENTS).collect().with_row_index("row").to_dicts()
    if rows:
        # A few rows per customer at most: one multi-row insert, with the columns' own types.
        session.execute(
            sa.insert(CommitmentLine), [{"sync_run_id": sync_run_id, **row} for row in rows]
        )
    return len(rows)


def current_commitments(session: Session) -> pl.DataFrame:
    """Give back COMMITMENTS of every vendor source's current usage snapshot (a vendor that
    reports none has none)."""
    runs = [
        state.last_good.id
        for state in source_states(session)
        if state.kind is SourceKind.VENDOR and state.last_good is not None
    ]
    if not runs:
        return pl.DataFrame(schema=COMMITMENTS)
    lines = session.execute(
        sa.select(*(getattr(CommitmentLine, name) for name in COMMITMENTS))
        .where(CommitmentLine.sync_run_id.in_(runs))
        .order_by(CommitmentLine.sync_run_id, CommitmentLine.row)
    )
    return pl.DataFrame([tuple(line) for line in lines], schema=COMMITMENTS, orient="row")


def commitments_of_cards(store: Store, current: CurrentCards, today: date) -> pl.DataFrame:
    """Give back the commitments ending after `today` on the decrease and removal cards of
    `current` (engine CARD_COMMITMENTS), through the maps it was worked out with."""
    with store.session() as session:
        commitments = current_commitments(session)
    inputs, result = current.inputs, current.result
    return card_commitments(
        current.cards,
        commitments,
        pl.concat([inputs.account_maps, result.auto_account_maps], how="vertical_relaxed"),
        pl.concat([inputs.product_maps, result.auto_product_maps], how="vertical_relaxed"),
        today,
    )
