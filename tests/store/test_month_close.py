"""The month-close checklist: each step done or not, in plain words, with what to do next."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from errors import InputError
from store import Action, Store, current_cards, import_csv, import_maps
from store.cards import is_open
from store.changes import export_changes
from store.decisions import decide_cards
from store.models import Source, SyncRun
from store.month import close_month
from store.month_close import FRESH_DAYS, Checklist, Step, checklist, rhythm
from store.types import SnapshotKind, SyncMode, SyncStatus
from tests.conftest import MONTH

AT = datetime(2026, 11, 20, 9, tzinfo=UTC)
"""Before the 25th: only syncs of the last FRESH_DAYS days are fresh."""


def sync_month(store: Store, at: datetime = AT) -> None:
    """Sync the hand-checked month at `at`, with its maps (one account, one service unmapped)."""
    import_csv(store, "psa", "psa", MONTH / "psa.csv", at=at, user="ann")
    import_csv(store, "pax8", "usage", MONTH / "usage-pax8.csv", at=at, user="ann")
    import_csv(store, "sentinelone", "usage", MONTH / "usage-sentinelone.csv", at=at, user="ann")
    import_maps(store, MONTH / "account-map.csv", user="ann", at=at)
    import_maps(store, MONTH / "product-map.csv", user="ann", at=at)


def map_the_rest(store: Store, folder: Path) -> None:
    (folder / "accounts.csv").write_text(
        "vendor,vendor_account_id,psa_account_id\npax8,t-foxtrot,400\n"
    )
    (folder / "products.csv").write_text(
        "vendor,vendor_product_id,psa_product_id,excluded,reason\n"
        "pax8,CFQ7TTC0RL1,,true,Not billed\n"
    )
    import_maps(store, folder / "accounts.csv", user="ann", at=AT)
    import_maps(store, folder / "products.csv", user="ann", at=AT)


def approve_all(store: Store) -> None:
    cards = current_cards(store).cards.filter(is_open())
    done = decide_cards(
        store,
        cards,
        Action.APPROVE,
        contracts={("500", "M365BP"): "AG-NEW"},
        user="ann",
        at=AT,
    )
    assert done.refused.is_empty()


def steps(checked: Checklist) -> dict[str, Step]:
    return {step.key: step for step in checked.steps}


def test_an_empty_store_lists_every_step_not_done_with_what_to_do_first(store: Store) -> None:
    checked = checklist(store, "2026-11", at=AT)

    assert [s.key for s in checked.steps] == ["psa", "vendors", "unmapped", "cards", "changes"]
    assert (checked.done, checked.total, checked.ready) == (0, 5, False)
    assert checked.next == checked.steps[0]
    psa, vendors = checked.steps[0], checked.steps[1]
    assert (psa.detail, psa.next_step, psa.page) == (
        "No PSA synced yet",
        "Sync the PSA on the Sync page",
        "sync",
    )
    assert vendors.detail == "No vendor synced yet"
    # Nothing to map or decide yet: each later step sends the user to sync first.
    assert {s.page for s in checked.steps} == {"sync"}
    assert checked.closed is None


def test_a_synced_and_fully_mapped_month_turns_the_first_three_steps_done(
    store: Store, tmp_path: Path
) -> None:
    sync_month(store)

    before = steps(checklist(store, "2026-11", at=AT + timedelta(hours=2)))
    map_the_rest(store, tmp_path)
    after = checklist(store, "2026-11", at=AT + timedelta(hours=2))

    assert before["psa"].done and before["vendors"].done
    assert before["vendors"].detail == "pax8 and sentinelone synced, the oldest 2 hours ago"
    assert not before["unmapped"].done
    assert before["unmapped"].detail == "1 account and 1 service unmapped"
    assert (before["unmapped"].page, before["unmapped"].next_step) == (
        "mapping",
        "Map or exclude them on the Mapping page, then sync afresh",
    )
    assert [s.done for s in after.steps] == [True, True, True, False, False]
    assert after.next is not None and after.next.key == "cards"


def test_a_stale_or_failed_vendor_sync_is_named_with_what_to_do(
    store: Store, tmp_path: Path
) -> None:
    sync_month(store, at=AT - timedelta(days=FRESH_DAYS + 3))
    import_csv(store, "psa", "psa", MONTH / "psa.csv", at=AT, user="ann")
    import_csv(store, "pax8", "usage", MONTH / "usage-pax8.csv", at=AT, user="ann")
    bad = tmp_path / "datto.csv"
    bad.write_text("not,a,usage,header\n1,2,3,4\n")
    with pytest.raises(InputError):
        import_csv(store, "datto", "usage", bad, at=AT - timedelta(days=2), user="ann")

    vendors = steps(checklist(store, "2026-11", at=AT))["vendors"]

    assert not vendors.done
    assert vendors.detail.startswith("datto: last sync failed 2 days ago (datto.csv: no quantity")
    assert vendors.detail.endswith("; sentinelone: last synced 6 days ago")
    assert (vendors.next_step, vendors.page) == (
        "Sync datto and sentinelone again on the Sync page",
        "sync",
    )


def test_a_sync_since_the_25th_stays_fresh_to_the_close(store: Store) -> None:
    sync_month(store, at=datetime(2026, 11, 25, 8, tzinfo=UTC))
    on_the_1st = datetime(2026, 12, 1, 8, tzinfo=UTC)

    closing = steps(checklist(store, "2026-11", at=on_the_1st))
    next_month = steps(checklist(store, "2026-12", at=on_the_1st + timedelta(days=FRESH_DAYS)))

    assert closing["psa"].done and closing["vendors"].done
    assert closing["vendors"].detail == "pax8 and sentinelone synced, the oldest 6 days ago"
    assert not next_month["psa"].done
    assert next_month["psa"].detail == "psa: last synced 9 days ago"


def test_the_cards_step_counts_open_cards_and_the_changes_step_waits_for_their_export(
    store: Store, tmp_path: Path
) -> None:
    sync_month(store)
    map_the_rest(store, tmp_path)

    open_ = steps(checklist(store, "2026-11", at=AT))
    approve_all(store)
    approved = steps(checklist(store, "2026-11", at=AT))
    export_changes(store, user="ann", at=AT)
    exported = checklist(store, "2026-11", at=AT)

    # The fixture's six cards, plus t-foxtrot's 4 seats now mapped to Delta Freight (a
    # decrease where there was a removal): 22.00 × 4 less to take off.
    assert not open_["cards"].done
    assert open_["cards"].detail == "6 cards open, -173.00 a month"
    assert not open_["changes"].done
    assert open_["changes"].detail == "No approved change waits to go out, but cards are still open"
    assert approved["cards"].done
    assert not approved["changes"].done
    assert approved["changes"].detail.startswith("6 approved changes not exported or applied yet")
    assert approved["changes"].next_step == (
        "Export them on the Cards page (or apply them to the PSA)"
    )
    assert approved["changes"].page == "cards"
    assert exported.ready and exported.next is None
    assert (exported.done, exported.total) == (5, 5)


@pytest.mark.parametrize(
    ("period", "today", "states"),
    [
        ("2026-11", date(2026, 11, 10), ["today", "next", "later", "later"]),
        ("2026-11", date(2026, 11, 25), ["past", "today", "next", "later"]),
        ("2026-11", date(2026, 11, 27), ["past", "past", "next", "later"]),
        ("2026-11", date(2026, 11, 30), ["past", "past", "today", "next"]),
        ("2026-11", date(2026, 12, 1), ["past", "past", "past", "today"]),
        ("2026-11", date(2026, 12, 9), ["past", "past", "past", "past"]),
        ("2026-12", date(2026, 11, 27), ["next", "later", "later", "later"]),
    ],
)
def test_the_rhythm_marks_each_beat_against_today(
    period: str, today: date, states: list[str]
) -> None:
    beats = rhythm(period, datetime(today.year, today.month, today.day, 12, tzinfo=UTC))

    assert [m.state for m in beats] == states


def test_the_rhythm_ends_the_month_on_its_last_day_and_invoices_on_the_1st() -> None:
    beats = rhythm("2027-02", datetime(2027, 2, 1, tzinfo=UTC))

    assert [m.day for m in beats] == [
        date(2027, 2, 1),
        date(2027, 2, 25),
        date(2027, 2, 28),
        date(2027, 3, 1),
    ]
    assert [m.title for m in beats] == [
        "Syncs run in the background",
        "Clear unmapped items and sync afresh",
        "Every card actioned",
        "The PSA invoices",
    ]


def test_a_closed_month_still_lists_its_steps_and_says_who_closed_it(store: Store) -> None:
    sync_month(store)
    closed_at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    close_month(store, "2026-11", user="bob", at=closed_at)

    checked = checklist(store, "2026-11", at=closed_at)

    assert checked.closed is not None
    assert (checked.closed.by, checked.closed.at) == ("bob", closed_at)
    assert checked.total == 5
    assert checklist(store, "2026-12", at=closed_at).closed is None


def test_a_sync_still_running_leaves_the_last_good_one_to_judge(store: Store) -> None:
    sync_month(store)
    with store.session() as session:
        source = session.scalars(sa.select(Source).where(Source.name == "pax8")).one()
        session.add(
            SyncRun(
                source_id=source.id,
                kind=SnapshotKind.USAGE,
                mode=SyncMode.CSV,
                status=SyncStatus.RUNNING,
                started_at=AT + timedelta(hours=1),
                made_by="ann",
            )
        )

    vendors = steps(checklist(store, "2026-11", at=AT + timedelta(hours=2)))["vendors"]
    stale = steps(checklist(store, "2026-11", at=AT + timedelta(days=FRESH_DAYS + 1)))["vendors"]

    assert vendors.done
    assert stale.detail == "pax8: last synced 4 days ago; sentinelone: last synced 4 days ago"
