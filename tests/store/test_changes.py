"""Approved changes out (issue 5.8): what waits for the PSA, and its export, marked once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from engine.contracts import CHANGES
from store import Action, Store, current_cards, import_csv
from store.changes import approved_changes, export_changes
from store.decisions import card_history, decide_cards, last_decision, undo_last_decision
from store.models import AuditEntry
from tests.conftest import MONTH
from tests.store.factories import load_month

AT = datetime(2026, 3, 14, 9, tzinfo=UTC)
LATER = AT + timedelta(hours=1)


def decide(store: Store, keys: list[tuple[str, str]], action: Action, **options: object) -> None:
    cards = current_cards(store).cards
    wanted = pl.DataFrame(keys, schema=["account_id", "product_id"], orient="row")
    chosen = cards.join(wanted, on=["account_id", "product_id"], how="semi")
    done = decide_cards(store, chosen, action, user="ann", at=AT, **options)  # type: ignore[arg-type]
    assert done.decided == len(keys), done.refused


def month_decided(store: Store) -> None:
    load_month(store)
    decide(store, [("100", "M365BP")], Action.APPROVE, effective_date=date(2026, 3, 15))
    decide(store, [("200", "EXO1"), ("400", "M365BP")], Action.APPROVE)
    decide(store, [("500", "M365BP")], Action.APPROVE, contracts={("500", "M365BP"): "AG-NEW"})
    decide(store, [("300", "M365BP")], Action.DISMISS)
    decide(store, [("300", "S1-CORE")], Action.SCHEDULE)


def test_the_approved_changes_are_the_approvals_that_hold_with_their_money(store: Store) -> None:
    month_decided(store)

    changes = approved_changes(store)

    assert changes.schema == pl.Schema(CHANGES)
    rows = changes.select(
        "account_id",
        "product_id",
        "contract_id",
        "line_id",
        "old_quantity",
        "new_quantity",
        "effective_date",
        "prorated_amount",
        "monthly_value",
        "approved_by",
    ).rows()
    D = Decimal
    assert rows == [
        # +3 × 22.00 from 15 March on a prorating monthly line: 66 × 17/31
        ("100", "M365BP", "AG-1", "L1", D(20), D(23), date(2026, 3, 15), D("36.19"), D("66.00"), "ann"),
        # an annual line that does not prorate: no prorated amount
        ("200", "EXO1", "AG-2", "L5", D(5), D(3), date(2026, 4, 1), None, D("-8.00"), "ann"),
        ("400", "M365BP", "AG-4", "L8", D(15), D(0), date(2026, 4, 1), D("-330.00"), D("-330.00"), "ann"),
        # New Revenue on the agreement chosen, which has no line yet to say it prorates (and,
        # with no catalogue synced, no price)
        ("500", "M365BP", "AG-NEW", None, D(0), D(5), date(2026, 4, 1), None, None, "ann"),
    ]  # fmt: skip
    assert changes["approved_at"].to_list() == [AT] * 4
    assert changes.filter(account_id="100")["account_name"].item() == "Acme Corp"


def test_an_approval_that_no_longer_holds_is_not_a_change_to_apply(
    store: Store, tmp_path: Path
) -> None:
    month_decided(store)
    moved = tmp_path / "usage-pax8.csv"
    moved.write_text((MONTH / "usage-pax8.csv").read_text().replace("Premium,23,", "Premium,24,"))
    import_csv(store, "pax8", "usage", moved)

    keys = approved_changes(store).select("account_id", "product_id").rows()

    assert ("100", "M365BP") not in keys and len(keys) == 3


def test_export_marks_the_changes_exported_once_and_audits_it(store: Store) -> None:
    month_decided(store)
    waiting = approved_changes(store)

    exported = export_changes(store, user="bob", at=LATER)

    assert exported.equals(waiting)
    assert approved_changes(store).is_empty()
    assert export_changes(store, user="bob", at=LATER).is_empty()
    assert card_history(store, "100", "M365BP")["write_back"].to_list() == ["exported"]
    # Exported is still approved: the card stays decided until the PSA shows the change.
    cards = current_cards(store).cards
    assert cards.filter(account_id="100", product_id="M365BP")["status"].item() == "approved"
    with store.session() as session:
        entries = session.scalars(
            sa.select(AuditEntry).where(AuditEntry.kind == "decision_export")
        ).all()
    assert [(e.made_by, e.detail["changes"]) for e in entries] == [("bob", 4)]


def test_undo_leaves_an_exported_approval_as_it_is(store: Store) -> None:
    month_decided(store)  # ann's last two actions: a dismissal, then a schedule
    export_changes(store, user="ann", at=LATER)

    assert last_decision(store, "ann") is not None
    assert undo_last_decision(store, user="ann", at=LATER) == 1  # the schedule
    assert undo_last_decision(store, user="ann", at=LATER) == 1  # the dismissal
    # The approvals went out with the export: nothing of them is undone.
    assert undo_last_decision(store, user="ann", at=LATER) == 0
    assert last_decision(store, "ann") is None
    assert card_history(store, "100", "M365BP")["undone"].to_list() == [False]


def test_export_of_the_changes_downloaded_leaves_a_later_approval_waiting(store: Store) -> None:
    month_decided(store)
    downloaded = approved_changes(store).filter(pl.col("account_id") != "400")
    later = decide_cards(
        store,
        current_cards(store).cards.filter(account_id="300", product_id="S1-CORE"),
        Action.APPROVE,
        user="bob",
        at=LATER,
    )
    assert later.decided == 1  # a scheduled card, approved after the download

    exported = export_changes(store, user="ann", at=LATER, only=downloaded)

    assert exported.equals(downloaded)
    waiting = approved_changes(store).select("account_id", "product_id").rows()
    assert waiting == [("300", "S1-CORE"), ("400", "M365BP")]


def test_two_exports_at_once_send_each_change_once(store: Store) -> None:
    month_decided(store)
    results: list[pl.DataFrame] = []
    start = threading.Barrier(2)

    def export(user: str) -> None:
        start.wait()
        results.append(export_changes(store, user=user, at=LATER))

    threads = [threading.Thread(target=export, args=(u,)) for u in ("ann", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(results) == 2
    keys = [k for r in results for k in r.select("account_id", "product_id").rows()]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 4


def test_nothing_approved_exports_nothing(store: Store) -> None:
    load_month(store)

    assert export_changes(store, user="bob", at=LATER).is_empty()
    with store.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) is not None
        kinds = session.scalars(sa.select(AuditEntry.kind)).all()
    assert "decision_export" not in kinds
