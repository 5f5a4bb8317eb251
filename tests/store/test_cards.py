"""The current cards: the engine over the current snapshots, and decisions that hold."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from connectors.csv.inputs import read_inputs
from engine import reconcile
from store import Action, Store, current_cards, import_csv, import_maps
from store.decisions import decide, undo_last
from store.models import AccountMap, AuditEntry
from tests.conftest import MONTH
from tests.store.factories import load_month

AT = datetime(2026, 3, 14, 9, tzinfo=UTC)


def card(cards: pl.DataFrame, account: str, product: str) -> dict:
    return cards.filter(account_id=account, product_id=product).row(0, named=True)


def test_the_current_cards_are_the_engines_over_the_same_files(store: Store) -> None:
    load_month(store)
    files = read_inputs(
        MONTH / "psa.csv",
        [MONTH / "usage-pax8.csv", MONTH / "usage-sentinelone.csv"],
        [(MONTH / "account-map.csv", "account"), (MONTH / "product-map.csv", "product")],
    )
    expected = reconcile(files.psa_lines, files.usage, files.account_maps, files.product_maps)

    first = current_cards(store)
    again = current_cards(store)  # now with the auto-maps stored, not made

    for current in (first, again):
        assert_frame_equal(current.result.cards, expected.cards)
        assert_frame_equal(current.result.unmapped, expected.unmapped)
        assert_frame_equal(
            current.result.card_vendors, expected.card_vendors, check_row_order=False
        )
    assert first.cards.get_column("status").unique().to_list() == ["open"]
    # Datto has maps but no snapshot: its line is "no vendor data", never a removal.
    assert card(first.cards, "100", "SAAS-BACKUP")["card_type"] == "no_vendor_data"


def test_auto_maps_are_stored_once_marked_auto(store: Store) -> None:
    load_month(store)

    made = current_cards(store).result.auto_account_maps
    remade = current_cards(store).result.auto_account_maps

    assert made.height > 0 and remade.height == 0
    with store.session() as session:
        auto = session.scalars(sa.select(AccountMap).where(AccountMap.auto)).all()
        assert sorted((m.vendor, m.vendor_account_id, m.psa_account_id) for m in auto) == sorted(
            made.select("vendor", "vendor_account_id", "psa_account_id").rows()
        )
        kinds = session.scalars(sa.select(AuditEntry.kind)).all()
        assert kinds.count("account_maps_auto") == 1


def test_a_map_file_imported_again_changes_only_what_differs(store: Store, tmp_path: Path) -> None:
    first = import_maps(store, MONTH / "account-map.csv")
    edited = tmp_path / "account-map.csv"
    text = (MONTH / "account-map.csv").read_text().replace("pax8,t-cobalt,300", "pax8,t-cobalt,301")
    edited.write_text(text + "pax8,t-new,900,,\n")

    second = import_maps(store, edited)

    assert (second.kind, second.added, second.changed) == ("account", 1, 1)
    assert second.unchanged == first.added - 1
    with store.session() as session:
        entry = session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None
        moved = {c["id"]: (c["before"], c["after"]) for c in entry.detail["changes"]}
        assert moved["t-cobalt"][0]["psa_id"] == "300"
        assert moved["t-cobalt"][1]["psa_id"] == "301"
        assert moved["t-new"] == (None, {**moved["t-new"][1], "psa_id": "900"})


def test_a_decision_holds_while_the_vendor_quantity_stays_what_it_was(
    store: Store, tmp_path: Path
) -> None:
    load_month(store)
    cards = current_cards(store).cards
    acme = cards.filter(account_id="100", product_id="M365BP")  # 20 billed, 23 reported
    beta = cards.filter(account_id="200", product_id="EXO1")
    with store.session() as session:
        decide(session, acme, Action.APPROVE, "ann", AT, date(2026, 4, 1))
        decide(session, beta, Action.DISMISS, "ann", AT)

    decided = current_cards(store).cards
    assert card(decided, "100", "M365BP")["status"] == "approved"
    assert card(decided, "100", "M365BP")["effective_date"] == date(2026, 4, 1)
    assert card(decided, "200", "EXO1")["status"] == "dismissed"

    # Pax8 now reports 24 seats for Acme: the approval no longer holds, the card is open again.
    moved = tmp_path / "usage-pax8.csv"
    moved.write_text((MONTH / "usage-pax8.csv").read_text().replace("Premium,23,", "Premium,24,"))
    import_csv(store, "pax8", "usage", moved)

    after = current_cards(store).cards
    assert card(after, "100", "M365BP")["status"] == "open"
    assert card(after, "100", "M365BP")["effective_date"] is None
    assert card(after, "200", "EXO1")["status"] == "dismissed"


def test_undo_reverses_the_users_last_action_as_a_whole(store: Store) -> None:
    load_month(store)
    cards = current_cards(store).cards
    open_cards = cards.filter(pl.col("card_type").is_in(["increase", "decrease"]))
    with store.session() as session:
        decide(
            session, cards.filter(account_id="400"), Action.SCHEDULE, "ann", AT, date(2026, 4, 1)
        )
        decide(session, open_cards, Action.DISMISS, "ann", AT)
        decide(session, cards.filter(account_id="500"), Action.DISMISS, "bob", AT)

    with store.session() as session:
        assert undo_last(session, "ann", AT) == open_cards.height

    statuses = dict(
        current_cards(store)
        .cards.select(pl.concat_str("account_id", "product_id"), "status")
        .rows()
    )
    assert statuses["400M365BP"] == "scheduled"
    assert statuses["500M365BP"] == "dismissed"  # bob's, not ann's
    assert all(
        statuses[a + p] == "open" for a, p in open_cards.select("account_id", "product_id").rows()
    )

    with store.session() as session:
        assert undo_last(session, "ann", AT) == 1  # then the schedule
        assert undo_last(session, "ann", AT) == 0  # and nothing is left to undo


@pytest.mark.parametrize("action", [Action.UNDO])
def test_undo_is_not_a_decision_to_record_directly(store: Store, action: Action) -> None:
    with store.session() as session, pytest.raises(ValueError, match="undo_last"):
        decide(session, pl.DataFrame(), action, "ann", AT)
