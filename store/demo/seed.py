"""The demo written through the store's own functions, month by month, as a team would have.

Each month: the PSA export, the vendors' usage files and the new maps are synced; the cards are
reconciled; in the twelve months before this one the team approved and dismissed cards, closed
the month on its last day, and the approved changes were made in the PSA before the next month's
export. This month is open, its work to do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import polars as pl
import sqlalchemy as sa

from errors import TrueUpError
from store.cards import current_cards, is_open
from store.db import Store
from store.decisions import decide, undo_last
from store.demo.book import (
    LAST_MONTH,
    MONTHS,
    SEED,
    THIS_MONTH,
    Book,
    Line,
    apply_approvals,
    build_book,
)
from store.demo.files import (
    account_map_file,
    catalog_file,
    product_map_file,
    psa_file,
    usage_file,
)
from store.demo.products import DATTO, DISTRIBUTOR, PAX8, SENTINELONE
from store.mapping import import_maps
from store.models import AccountMap, Decision, ProductMap, Source
from store.month import close_month
from store.sync import import_csv
from store.types import Action, CardStatus

PSA = "ConnectWise PSA"
VENDORS = (PAX8, SENTINELONE, DATTO)
BILLING = "maria.chen"
"""Syncs, maps and approvals: the billing lead."""
SERVICE = "devon.ross"
"""Dismissals: the service manager, who knows which seats are not billable."""

ODDS = {
    # card type: (approve below, dismiss below); the rest wait for next month
    "increase": (0.8, 0.8),
    "new_revenue": (0.8, 0.8),
    "decrease": (0.6, 0.85),
    "removal": (0.7, 0.8),
}


@dataclass(frozen=True)
class Demo:
    """What the demo holds: its customers, its months (first days), syncs and decisions."""

    customers: int
    months: tuple[date, ...]
    syncs: int
    decisions: int


def is_empty(store: Store) -> bool:
    """Give back whether the store holds no work: no source, map or decision."""
    with store.session() as session:
        return all(
            session.scalars(sa.select(model.id).limit(1)).first() is None
            for model in (Source, AccountMap, ProductMap, Decision)
        )


def seed_demo(store: Store, *, today: date) -> Demo:
    """Give back the demo written into an empty store: MONTHS months of syncs up to `today`'s
    month, maps, and decisions in each month before it, each of those closed on its last day.

    Raises TrueUpError when the store already holds work: the demo never mixes with it.
    """
    if not is_empty(store):
        raise TrueUpError(
            "the store is not empty: the demo is only seeded into an empty one "
            "(`trueup demo --reset` deletes everything first)"
        )
    book = build_book()
    months = _month_starts(today)
    lines = list(book.lines)
    syncs = decisions = 0
    for month, first_day in enumerate(months):
        at = _sync_time(first_day, today, month == THIS_MONTH)
        # A customer lost last month: its agreement has ended since.
        lines = [line for line in lines if line.account_id != book.left.get(month - 1)]
        lines += book.joining_lines.get(month, [])
        syncs += _sync(store, book, month, lines, first_day, at)
        current = current_cards(store, user=BILLING, at=at + timedelta(minutes=30))
        if month < THIS_MONTH:
            next_month = months[month + 1]
            approved, made = _decide(
                store, current.cards, month, first_day, next_month, book.left.get(month)
            )
            decisions += made
            lines = apply_approvals(book, lines, approved)
            closing = datetime.combine(next_month - timedelta(days=1), time(18, 0), UTC)
            close_month(store, f"{first_day:%Y-%m}", user=BILLING, at=closing)
    return Demo(len(book.customers), tuple(months), syncs, decisions)


def _month_starts(today: date) -> list[date]:
    """Give back the first days of the demo's months, the last being `today`'s."""
    starts = [today.replace(day=1)]
    while len(starts) < MONTHS:
        starts.insert(0, (starts[0] - timedelta(days=1)).replace(day=1))
    return starts


def _sync_time(first_day: date, today: date, current: bool) -> datetime:
    """Give back when a month's syncs start: the 2nd at 13:00 UTC in past months, today's
    first minutes this month (never later than `today`, whatever the hour)."""
    if current:
        return datetime.combine(today, time(0, 0), UTC)
    return datetime.combine(first_day.replace(day=2), time(13, 0), UTC)


def _sync(
    store: Store, book: Book, month: int, lines: list[Line], first_day: date, at: datetime
) -> int:
    """Sync a month's files: the PSA, its catalogue (first month), each vendor, new maps.
    Give back how many syncs ran. This month's Datto export is broken: its sync fails."""
    stamp = f"{first_day:%Y-%m}"
    import_csv(
        store, PSA, "psa", psa_file(lines), name=f"agreements-{stamp}.csv", user=BILLING, at=at
    )
    syncs = 1
    if month == 0:
        catalog = catalog_file()
        import_csv(store, PSA, "catalog", catalog, name="catalog.csv", user=BILLING, at=at)
        syncs += 1
    for minute, vendor in enumerate(VENDORS, start=1):
        broken = vendor == DATTO and month == THIS_MONTH
        data = usage_file(book, vendor, month, broken=broken)
        try:
            import_csv(
                store,
                vendor,
                "usage",
                data,
                name=f"{vendor.lower()}-{stamp}.csv",
                distributor=DISTRIBUTOR.get(vendor),
                user=BILLING,
                at=at + timedelta(minutes=minute),
            )
        except TrueUpError:
            if not broken:
                raise
        syncs += 1
    maps_at = at + timedelta(minutes=10)
    if month == 0:
        import_maps(store, product_map_file(), name="product-map.csv", user=BILLING, at=maps_at)
    if month < THIS_MONTH:
        # This month's new customers are not mapped yet: the month's work starts there.
        new = account_map_file(book, month)
        if new is not None:
            import_maps(store, new, name=f"account-map-{stamp}.csv", user=BILLING, at=maps_at)
    return syncs


def _decide(
    store: Store,
    cards: pl.DataFrame,
    month: int,
    first_day: date,
    effective: date,
    lost: str | None,
) -> tuple[list[tuple[str, str, int]], int]:
    """Decide a past month's open cards as the team did; give back the approved changes
    (account, product, new quantity) and how many decisions were recorded. The cards of the
    customer `lost` this month, and of a plan changed (a New Revenue card beside a removal),
    are all approved."""
    rng = random.Random(SEED + month)
    cards = cards.sort("account_id", "product_id")
    scheduled = cards.filter(is_open() & (pl.col("status") == CardStatus.SCHEDULED.value))
    waiting = cards.filter(is_open() & (pl.col("status") == CardStatus.OPEN.value))
    choice: dict[str, list[int]] = {"approve": [], "dismiss": [], "wait": []}
    of_type = {
        t: set(waiting.filter(pl.col("card_type") == t).get_column("account_id"))
        for t in ("new_revenue", "removal")
    }
    sure = (of_type["new_revenue"] & of_type["removal"]) | {lost}
    for index, (account, card_type) in enumerate(
        waiting.select("account_id", "card_type").iter_rows()
    ):
        approve_below, dismiss_below = ODDS[card_type]
        draw = 0.0 if account in sure else rng.random()
        kind = "approve" if draw < approve_below else "dismiss" if draw < dismiss_below else "wait"
        choice[kind].append(index)
    accounts = waiting.get_column("account_id")
    doubtful = [i for i in choice["approve"] if accounts[i] not in sure]
    if not choice["dismiss"] and doubtful:
        # Every month the service manager finds a card or two that is not billable.
        choice["approve"].remove(doubtful[-1])
        choice["dismiss"].append(doubtful[-1])
    day = datetime.combine(first_day, time(9, 0), UTC)
    made = 0
    with store.session() as session:
        # Last month's scheduled changes: the notice ran out, they are approved as scheduled.
        for (when,), group in scheduled.group_by("effective_date", maintain_order=True):
            decide(session, group, Action.APPROVE, BILLING, day + timedelta(days=2), when)
            made += group.height
        if month == LAST_MONTH and choice["approve"]:
            # A dismissal by mistake, undone a few minutes later.
            mistaken = waiting[choice["approve"][:1]]
            decide(session, mistaken, Action.DISMISS, SERVICE, day + timedelta(days=4))
            made += undo_last(session, SERVICE, day + timedelta(days=4, minutes=3)) + 1
        # Approvals go in one bulk action per card type, effective the 1st of next month.
        approved = waiting[choice["approve"]]
        for offset, (_, group) in enumerate(approved.group_by("card_type", maintain_order=True)):
            at = day + timedelta(days=5, minutes=10 * offset)
            decide(session, group, Action.APPROVE, BILLING, at, effective)
            made += group.height
        for offset, index in enumerate(choice["dismiss"]):
            at = day + timedelta(days=7, hours=5, minutes=7 * offset)
            decide(session, waiting[[index]], Action.DISMISS, SERVICE, at)
            made += 1
        later = waiting[choice["wait"][:1]]
        if later.height:
            # The customer's notice runs to mid-month: the change is scheduled, not approved.
            at = day + timedelta(days=9)
            decide(session, later, Action.SCHEDULE, BILLING, at, effective + timedelta(days=14))
            made += 1
    changes = (
        pl.concat([scheduled, approved])
        .select("account_id", "product_id", "vendor_quantity")
        .iter_rows()
    )
    return [(account, product, int(quantity)) for account, product, quantity in changes], made
