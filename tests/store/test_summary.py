"""The card summary: saved per state of the workspace, recomputed only when that state moves."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from errors import InputError
from store import Action, Store, current_cards, import_csv, import_maps
from store.decisions import decide
from store.summary import card_summary, refresh_summary, saved_summary, state_key
from tests.store.factories import load_month, seats

AT = datetime(2026, 3, 14, 9, tzinfo=UTC)


def key(store: Store) -> str:
    with store.session() as session:
        return state_key(session)


def test_the_summary_holds_the_open_cards_by_type_and_the_unmapped_counts(store: Store) -> None:
    load_month(store)

    summary = refresh_summary(store, at=AT)

    figures = {t: (f.cards, f.monthly_value) for t, f in summary.open_by_type.items()}
    assert figures == {
        "increase": (2, Decimal("120.00")),
        "decrease": (2, Decimal("-51.00")),
        "removal": (1, Decimal("-330.00")),
        "new_revenue": (1, Decimal("0.00")),  # no catalogue: New Revenue has no price
    }
    assert summary.net_monthly_value == Decimal("-261.00")
    assert (summary.unmapped_accounts, summary.unmapped_products) == (1, 1)
    assert summary.no_vendor_data == 1  # Datto's backup line: maps, but no Datto snapshot
    assert summary.open_cards == 6 and summary.decided == 0
    assert saved_summary(store) == summary


def test_the_saved_summary_is_used_while_nothing_changes(store: Store) -> None:
    load_month(store)
    first = refresh_summary(store, at=AT)

    again = card_summary(store)

    assert again == first  # read back, not recomputed: it carries the first one's time
    assert again.computed_at == AT


def test_a_sync_a_map_import_or_a_decision_makes_the_saved_summary_stale(
    store: Store, tmp_path
) -> None:
    load_month(store)
    refresh_summary(store, at=AT)
    keys = [key(store)]

    import_csv(store, "datto", "usage", seats(tmp_path, "datto.csv", "7", vendor="datto"))
    keys.append(key(store))
    # A map changed in place: no row added, no id moved.
    (tmp_path / "moved.csv").write_text(
        "vendor,vendor_account_id,psa_account_id\npax8,t-cobalt,400\n"
    )
    assert import_maps(store, tmp_path / "moved.csv").changed == 1
    keys.append(key(store))
    (tmp_path / "more.csv").write_text(
        "vendor,vendor_account_id,psa_account_id\npax8,t-foxtrot,400\n"
    )
    import_maps(store, tmp_path / "more.csv")
    keys.append(key(store))
    cards = current_cards(store).cards.filter(card_type="increase").head(1)
    keys.append(key(store))  # working the cards out stored no new auto-map: nothing moved
    with store.session() as session:
        decide(session, cards, Action.APPROVE, "ann", AT)
    keys.append(key(store))

    assert keys[4] == keys[3]
    assert len(set(keys)) == 5
    summary = card_summary(store)
    assert summary.key == keys[-1] and summary.computed_at != AT
    # Foxtrot is mapped now; Datto's one tenant and SKU are new and unmapped.
    assert (summary.unmapped_accounts, summary.unmapped_products) == (1, 2)
    assert summary.decided == 1


def test_a_failed_sync_leaves_the_key_as_it_was(store: Store, tmp_path) -> None:
    load_month(store)
    before = key(store)
    bad = seats(tmp_path, "bad.csv", "lots")
    with pytest.raises(InputError):
        import_csv(store, "pax8", "usage", bad)

    assert key(store) == before
