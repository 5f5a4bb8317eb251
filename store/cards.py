"""The current cards: the engine over the current snapshots, with each card's decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from engine import Reconciliation, reconcile
from engine.schema import OPEN_TYPES
from store.audit import current_user
from store.db import Store
from store.decisions import card_decisions, with_status
from store.maps import save_auto_maps
from store.snapshots import CurrentInputs, current_inputs
from store.types import CardStatus, now

STILL_OPEN = (CardStatus.OPEN.value, CardStatus.SCHEDULED.value)
"""A scheduled change keeps its card open until it is approved (DESIGN 6)."""


def is_open() -> pl.Expr:
    """Give back whether a card (with `status`) asks for a decision (DESIGN 4.10)."""
    return pl.col("card_type").is_in([t.value for t in OPEN_TYPES]) & pl.col("status").is_in(
        STILL_OPEN
    )


@dataclass(frozen=True)
class CurrentCards:
    """One reconciliation of the current snapshots."""

    result: Reconciliation
    cards: pl.DataFrame
    """The result's cards (CARDS) plus `status` (open, approved, dismissed, scheduled) and the
    `effective_date` of the decision in force; one row per PSA account and PSA product."""
    inputs: CurrentInputs


def current_cards(
    store: Store, *, user: str | None = None, at: datetime | None = None
) -> CurrentCards:
    """Give back the cards of the current snapshots and maps, with their decision status.

    New Revenue takes its price from the PSA's current catalogue (DESIGN 4.8).

    The maps the engine makes by exact name are stored, marked `auto`, the first time they are
    made (DESIGN 4.1); from then on they are ordinary stored maps.
    """
    inputs = current_inputs(store)
    result = reconcile(
        inputs.psa_lines,
        inputs.usage,
        inputs.account_maps,
        inputs.product_maps,
        inputs.catalog,
        vendors_with_data=inputs.vendors_with_data,
    )
    with store.session() as session:
        who, when = user or current_user(), at or now()
        save_auto_maps(session, "account", result.auto_account_maps, who, when)
        save_auto_maps(session, "product", result.auto_product_maps, who, when)
        decided = card_decisions(session)
    return CurrentCards(result, with_status(result.cards, decided), inputs)
