"""The demo month: the shape a new user sees, seeded the same every time, on both databases."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date
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
from store.demo.seed import _month_starts
from store.models import AccountMap, AuditEntry, Decision, ProductMap, Setting, SyncRun
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


def test_three_months_of_syncs_and_decisions_in_the_two_before_this_one(demo: Store) -> None:
    with demo.session() as session:
        runs = session.execute(sa.select(SyncRun.started_at, SyncRun.status)).all()
        decisions = session.execute(sa.select(Decision.made_at, Decision.action)).all()

    assert {(r.started_at.year, r.started_at.month) for r in runs} == {
        (2026, 9),
        (2026, 10),
        (2026, 11),
    }
    assert all(r.started_at.date() <= TODAY for r in runs)
    assert [r.status for r in runs].count(SyncStatus.FAILED) == 1
    by_month = Counter((d.made_at.year, d.made_at.month) for d in decisions)
    assert set(by_month) == {(2026, 9), (2026, 10)}
    for month in by_month:
        actions = {d.action for d in decisions if (d.made_at.year, d.made_at.month) == month}
        assert {Action.APPROVE, Action.DISMISS} <= actions


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
        assert session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 13
        assert session.scalars(sa.select(Setting)).all() == []
        audited = session.scalars(sa.select(AuditEntry.kind)).all()
        assert "setting" not in audited


@pytest.mark.parametrize(
    ("today", "firsts"),
    [
        (date(2026, 11, 20), [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]),
        (date(2027, 1, 1), [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]),
        (date(2028, 3, 31), [date(2028, 1, 1), date(2028, 2, 1), date(2028, 3, 1)]),
    ],
)
def test_the_demo_months_end_with_todays(today: date, firsts: list[date]) -> None:
    assert _month_starts(today) == firsts


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
    assert "62 customers, 13 syncs from " in seeded.stdout
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
