"""The demo workspace: the shape a new user sees, seeded the same every time, on both databases:
a year of closed months behind this open one."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from engine.schema import CardType
from errors import TrueUpError
from store import Store, current_cards, ensure_demo, import_csv, open_store, reset_demo
from store.config import set_setting
from store.demo import is_empty, seed_demo
from store.demo.seed import BILLING, _month_starts
from store.models import (
    AccountMap,
    AuditEntry,
    Decision,
    MonthClose,
    ProductMap,
    Setting,
    SyncRun,
)
from store.month import month_summary
from store.types import Action, SyncStatus
from tests.conftest import MONTH, run_trueup

TODAY = date(2026, 11, 20)


@pytest.fixture
def demo(store: Store) -> Store:
    seed_demo(store, today=TODAY)
    return store


def test_every_card_type_shows_at_least_three_times(demo: Store) -> None:
    cards = current_cards(demo).cards

    counts = Counter(cards.get_column("card_type").to_list())

    assert {t.value for t in CardType} == set(counts)
    assert min(counts.values()) >= 3, counts
    # New Revenue is priced from the catalogue: Copilot is 378.00 a year.
    copilot = cards.filter(card_type="new_revenue", product_id="M365-COPILOT")
    assert copilot.height >= 1
    assert copilot.get_column("unit_price").unique().to_list() == [Decimal("378.00")]


def test_the_work_of_the_month_starts_with_unmapped_items_and_one_exclusion(demo: Store) -> None:
    unmapped = current_cards(demo).result.unmapped
    with demo.session() as session:
        excluded = session.execute(
            sa.select(AccountMap.vendor, AccountMap.reason).where(AccountMap.excluded)
        ).all()
        account_maps = session.scalars(sa.select(AccountMap.auto)).all()
        product_maps = session.scalars(sa.select(ProductMap.auto)).all()

    assert unmapped.height >= 5
    assert set(unmapped.get_column("kind")) == {"account", "product"}
    assert excluded == [("Pax8", "Our own tenant")]
    # Most maps were made by id, some by exact name.
    assert 0 < account_maps.count(True) < account_maps.count(False)
    assert 0 < product_maps.count(True) < product_maps.count(False)


PAST = [f"2025-{m}" for m in ("11", "12")] + [f"2026-{m:02}" for m in range(1, 11)]
"""The twelve months before TODAY's."""


def test_thirteen_months_of_syncs_and_decisions_in_each_of_the_twelve_before_this_one(
    demo: Store,
) -> None:
    with demo.session() as session:
        runs = session.execute(sa.select(SyncRun.started_at, SyncRun.status)).all()
        decisions = session.execute(sa.select(Decision.period, Decision.action)).all()

    assert {f"{r.started_at:%Y-%m}" for r in runs} == {*PAST, "2026-11"}
    assert all(r.started_at.date() <= TODAY for r in runs)
    assert [r.status for r in runs].count(SyncStatus.FAILED) == 1  # this month's Datto export
    actions = {period: {d.action for d in decisions if d.period == period} for period in PAST}
    assert sorted({d.period for d in decisions}) == PAST
    for period in PAST:
        assert {Action.APPROVE, Action.DISMISS} <= actions[period], period
    assert sum(Action.SCHEDULE in a for a in actions.values()) >= 6
    assert [d.action for d in decisions].count(Action.UNDO) == 1  # a mistaken dismissal


def test_every_month_before_this_one_is_closed_on_its_last_day_and_this_one_is_open(
    demo: Store,
) -> None:
    with demo.session() as session:
        closes = session.execute(
            sa.select(MonthClose.period, MonthClose.closed_by, MonthClose.closed_at)
        ).all()

    assert sorted(c.period for c in closes) == PAST
    assert {c.closed_by for c in closes} == {BILLING}
    last_days = {c.period: c.closed_at.astimezone(UTC) for c in closes}
    assert last_days["2026-02"] == datetime(2026, 2, 28, 18, 0, tzinfo=UTC)
    assert last_days["2025-12"] == datetime(2025, 12, 31, 18, 0, tzinfo=UTC)


def test_the_months_tell_a_story_a_growing_msp_recovering_revenue(demo: Store) -> None:
    summary = month_summary(demo, "2026-11", at=datetime(2026, 11, 20, 12, tzinfo=UTC))
    figures = summary.figures
    past = figures.filter(pl.col("period") != "2026-11")

    assert summary.periods == [*PAST, "2026-11"]
    assert set(summary.closed) == set(PAST)
    # Revenue recovered every month, and open work frozen at each close.
    assert past.filter(pl.col("recovered") <= 0).height == 0
    assert past.get_column("open").null_count() == 0
    # Removals and decreases approved too, and New Revenue that peaks with a rollout.
    assert past.get_column("removal").sum() >= 8
    assert past.get_column("decrease").sum() >= 20
    new_revenue = past.get_column("new_revenue_value")
    assert new_revenue.max() > 4 * new_revenue.median()
    # This month is open: its cards are there to work, nothing decided yet.
    now = figures.filter(pl.col("period") == "2026-11").row(0, named=True)
    assert now["approved"] == 0 and now["open"] > 0


def test_the_psa_has_the_customers_a_real_msp_has(demo: Store) -> None:
    current = current_cards(demo)
    lines, catalog = current.inputs.psa_lines, current.inputs.catalog

    assert 55 <= lines.get_column("account_id").n_unique() <= 65
    contracts = lines.group_by("account_id").agg(pl.col("contract_id").n_unique())
    assert set(contracts.get_column("contract_id")) == {1, 2}
    # A customer holds the same product on two agreements.
    same_product = lines.group_by("account_id", "product_id").agg(pl.col("contract_id").n_unique())
    assert same_product.filter(pl.col("contract_id") == 2).height == 1
    # A discounted customer: every line below list price.
    priced = lines.join(catalog, on="product_id", suffix="_list")
    below = priced.group_by("account_name").agg(
        (pl.col("unit_price") < pl.col("unit_price_list")).all().alias("discounted")
    )
    assert below.filter("discounted").get_column("account_name").to_list() == [
        "Riverside Community Food Bank"
    ]


def test_the_demo_is_seeded_only_into_an_empty_store(store: Store) -> None:
    import_csv(store, "pax8", "usage", MONTH / "usage-pax8.csv")

    assert not is_empty(store)
    assert ensure_demo(store, TODAY) is None
    with pytest.raises(TrueUpError, match="the store is not empty"):
        seed_demo(store, today=TODAY)
    with store.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 1


def test_ensure_demo_seeds_once_quickly(store: Store) -> None:
    started = time.perf_counter()
    first = ensure_demo(store, TODAY)
    seconds = time.perf_counter() - started

    assert first is not None and first.customers >= 60
    assert ensure_demo(store, TODAY) is None
    # `make run` seeds on first start: it must not keep the user waiting.
    assert seconds < 10


def test_reset_deletes_everything_then_seeds_the_same_demo(demo: Store) -> None:
    before = current_cards(demo).cards
    with demo.session() as session:
        set_setting(session, "keep_snapshots", "5", "ann")

    reset_demo(demo, TODAY)

    assert_frame_equal(current_cards(demo).cards, before)
    with demo.session() as session:
        assert session.scalar(sa.select(sa.func.min(SyncRun.id))) == 1
        # The PSA and its catalogue, then each month the PSA and three vendors.
        assert session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 2 + 12 * 4 + 3
        assert session.scalars(sa.select(Setting)).all() == []
        audited = session.scalars(sa.select(AuditEntry.kind).order_by(AuditEntry.id)).all()
        # The audit log keeps every entry: the setting changed, then the reset, then the seed.
        assert audited.index("setting") < audited.index("demo_reset")


@pytest.mark.parametrize(
    ("today", "first", "last"),
    [
        (date(2026, 11, 20), date(2025, 11, 1), date(2026, 11, 1)),
        (date(2027, 1, 1), date(2026, 1, 1), date(2027, 1, 1)),
        (date(2028, 3, 31), date(2027, 3, 1), date(2028, 3, 1)),
    ],
)
def test_the_demo_months_are_the_year_before_todays_and_todays(
    today: date, first: date, last: date
) -> None:
    months = _month_starts(today)

    assert (months[0], months[-1], len(months)) == (first, last, 13)
    assert sorted(set(months)) == months and {m.day for m in months} == {1}


def test_trueup_demo_refuses_a_store_in_use_and_reset_seeds_the_same_cards(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", store_url)

    seeded = run_trueup("demo")
    again = run_trueup("demo")
    store = open_store(store_url)
    try:
        cards = [current_cards(store).cards]
        resets = []
        for _ in range(2):
            resets.append(run_trueup("demo", "--reset"))
            cards.append(current_cards(store).cards)
    finally:
        store.dispose()

    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stdout.startswith("demo seeded in ")
    assert "62 customers, 53 syncs from " in seeded.stdout
    assert "unmapped: 4 accounts, 2 products" in seeded.stdout
    assert again.returncode == 2
    assert again.stderr == (
        "error: the store already holds sources, maps or decisions; "
        "`trueup demo --reset` deletes everything in it and seeds the demo again\n"
    )
    for reset in resets:
        assert reset.returncode == 0, reset.stderr
    assert_frame_equal(cards[1], cards[0])
    assert_frame_equal(cards[2], cards[0])
