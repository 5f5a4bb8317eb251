"""Maps changed by hand (map, accept, exclude, unmap, map files, undo) and the Mapping page's lists.

The tests work on the hand-checked month (tests/fixtures/month), reconciled once as the page
does: Foxtrot (pax8 t-foxtrot) and Teams Essentials (pax8 CFQ7TTC0RL1) are its unmapped items,
Cobalt (t-cobalt → 300) a map from a file, Acme (pax8 t-acme, "Acme Corp") an auto-map by name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

from store import Store, current_cards, import_csv, import_maps
from store.audit import current_user
from store.map_lists import map_lists
from store.mapping import (
    accept_suggestions,
    exclude_items,
    export_maps,
    last_map_action,
    map_items,
    undo_map_action,
    unmap_items,
)
from store.models import AccountMap, AuditEntry, MapChange, ProductMap
from tests.conftest import MONTH
from tests.store.factories import load_month

FIRST = datetime(2026, 3, 1, 9, tzinfo=UTC)
LATER = datetime(2026, 3, 14, 9, tzinfo=UTC)
FOXTROT = ("account", "pax8", "t-foxtrot")
TEAMS = ("product", "pax8", "CFQ7TTC0RL1")


def month(store: Store) -> None:
    """Load the month and reconcile it once, which stores its auto-maps (t-acme, t-beta, s-acme)."""
    load_month(store)
    current_cards(store)


def items(*ids: str, vendor: str = "pax8") -> pl.DataFrame:
    """Give back the rows a page sends for the vendor items a user picked."""
    return pl.DataFrame({"vendor": [vendor] * len(ids), "vendor_id": list(ids)})


def unmapped(store: Store) -> set[tuple[str, str, str]]:
    """Give back the unmapped items of the current cards: (kind, vendor, vendor id)."""
    result = current_cards(store).result.unmapped
    return set(result.select("kind", "vendor", "vendor_id").rows())


def card(store: Store, account: str, product: str) -> dict[str, Any]:
    return (
        current_cards(store).cards.filter(account_id=account, product_id=product).row(0, named=True)
    )


def total_vendor_quantity(store: Store) -> Decimal:
    """Give back the usage that reaches some card, in all."""
    return current_cards(store).cards.get_column("vendor_quantity").fill_null(0).sum()


def stored(
    store: Store, kind: str
) -> dict[tuple[str, str], tuple[str | None, bool, str | None, bool]]:
    """Give back every stored map row: (vendor, vendor id) to (psa id, excluded, reason, auto)."""
    model = {"account": AccountMap, "product": ProductMap}[kind]
    with store.session() as session:
        return {
            (m.vendor, getattr(m, f"vendor_{kind}_id")): (
                getattr(m, f"psa_{kind}_id"),
                m.excluded,
                m.reason,
                m.auto,
            )
            for m in session.scalars(sa.select(model))
        }


def history(store: Store) -> tuple[int, int]:
    """Give back how many audit entries and map changes are stored."""
    with store.session() as session:
        count = sa.select(sa.func.count())
        return (
            session.scalar(count.select_from(AuditEntry)) or 0,
            session.scalar(count.select_from(MapChange)) or 0,
        )


ACTIONS = [
    pytest.param(
        lambda s: map_items(s, "account", items("t-foxtrot"), "400", user="ann"),
        FOXTROT, ("400", "M365BP"), ("0", "4"), id="map an account",
    ),
    pytest.param(
        lambda s: accept_suggestions(
            s, "account", items("t-foxtrot").with_columns(psa_id=pl.lit("300")), user="ann"
        ),
        FOXTROT, ("300", "M365BP"), ("6", "10"), id="accept a suggestion",
    ),
    pytest.param(
        lambda s: exclude_items(s, "account", items("t-foxtrot"), "Test tenant", user="ann"),
        FOXTROT, ("400", "M365BP"), ("0", "0"), id="exclude an account",
    ),
    pytest.param(
        lambda s: map_items(s, "product", items("CFQ7TTC0RL1"), "M365BP", user="ann"),
        TEAMS, ("100", "M365BP"), ("23", "26"), id="map a service",
    ),
    pytest.param(
        lambda s: exclude_items(s, "product", items("CFQ7TTC0RL1"), None, user="ann"),
        TEAMS, ("100", "M365BP"), ("23", "23"), id="exclude a service",
    ),
    pytest.param(
        lambda s: unmap_items(s, "account", items("t-cobalt"), user="ann"),
        ("account", "pax8", "t-cobalt"), ("300", "M365BP"), ("6", None),  # pax8 knows no Cobalt: "–"
        id="unmap a map",
    ),
    pytest.param(
        lambda s: unmap_items(s, "product", items("TRIAL-COPILOT"), user="ann"),
        ("product", "pax8", "TRIAL-COPILOT"), ("100", "M365BP"), ("23", "23"),
        id="unmap an exclusion",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("act", "item", "reached", "quantities"), ACTIONS)
def test_an_action_changes_the_maps_and_the_current_cards_follow(
    store: Store,
    act: Callable[[Store], Any],
    item: tuple[str, str, str],
    reached: tuple[str, str],
    quantities: tuple[str, str | None],
) -> None:
    month(store)
    was_unmapped, total = item in unmapped(store), total_vendor_quantity(store)
    assert card(store, *reached)["vendor_quantity"] == Decimal(quantities[0])

    action = act(store)

    assert action.items == 1
    assert (item in unmapped(store)) is (action.action == "unmap") is not was_unmapped
    after = None if quantities[1] is None else Decimal(quantities[1])
    assert card(store, *reached)["vendor_quantity"] == after
    # The item's usage reaches that one card and no other (an excluded item's reaches none).
    moved = (after or 0) - Decimal(quantities[0])
    assert total_vendor_quantity(store) == total + moved


@pytest.mark.parametrize(
    ("vendor", "vendor_id", "reached", "quantity", "reconciled_first"),
    [
        ("pax8", "t-acme", ("100", "M365BP"), 23, True),  # auto-mapped, then unmapped by hand
        ("sentinelone", "s-acme", ("100", "S1-CORE"), 25, False),  # "ACME corp ", no map row yet
    ],
)
def test_an_item_unmapped_by_hand_is_never_auto_mapped_again_until_undone(
    store: Store,
    vendor: str,
    vendor_id: str,
    reached: tuple[str, str],
    quantity: int,
    reconciled_first: bool,
) -> None:
    load_month(store)
    if reconciled_first:
        current_cards(store)
        assert stored(store, "account")[(vendor, vendor_id)] == ("100", False, None, True)
    else:
        assert (vendor, vendor_id) not in stored(store, "account")

    unmap_items(store, "account", items(vendor_id, vendor=vendor), user="ann")

    for _ in range(2):  # its name still equals Acme Corp's, reconciliation after reconciliation
        current = current_cards(store)
        assert ("account", vendor, vendor_id) in set(
            current.result.unmapped.select("kind", "vendor", "vendor_id").rows()
        )
        assert vendor_id not in current.result.auto_account_maps.get_column("vendor_account_id")
    assert stored(store, "account")[(vendor, vendor_id)] == (None, False, None, False)
    assert card(store, *reached)["card_type"] == "no_vendor_data"

    undo_map_action(store, user="ann")

    # Back as it was: the auto-map (auto kept), or no row, which the next reconciliation
    # (`unmapped` below) fills with an auto-map again.
    assert ("account", vendor, vendor_id) not in unmapped(store)
    assert stored(store, "account")[(vendor, vendor_id)] == ("100", False, None, True)
    assert card(store, *reached)["vendor_quantity"] == quantity


def test_undo_reverses_the_users_last_action_as_a_whole_and_only_theirs(store: Store) -> None:
    assert undo_map_action(store, user="ann") is None  # nothing to undo
    assert last_map_action(store, user="ann") is None
    month(store)
    echo = stored(store, "account")[("pax8", "t-echo")]
    excluded = exclude_items(store, "account", items("t-foxtrot", "t-echo"), "Leaving", user="ann")
    mapped = map_items(store, "product", items("CFQ7TTC0RL1"), "M365BP", user="ann")
    unmap_items(store, "account", items("t-cobalt"), user="bob")  # later, and bob's
    cobalt = ("account", "pax8", "t-cobalt")

    last = last_map_action(store, user="ann")
    assert last is not None
    assert (last.action_id, last.describe()) == (mapped.action_id, "map 1 service")

    undone = undo_map_action(store, user="ann")
    assert undone is not None and undone.action_id == mapped.action_id
    assert {TEAMS, cobalt} <= unmapped(store)  # bob's unmap stands
    assert FOXTROT not in unmapped(store)

    undone = undo_map_action(store, user="ann")  # then the action before, both items at once
    assert undone is not None
    assert (undone.action_id, undone.describe()) == (excluded.action_id, "exclude 2 accounts")
    assert FOXTROT in unmapped(store)
    assert stored(store, "account")[("pax8", "t-echo")] == echo
    assert ("pax8", "t-foxtrot") not in stored(store, "account")

    assert undo_map_action(store, user="ann") is None  # the month's map files were not ann's
    undone = undo_map_action(store, user="bob")
    assert undone is not None and undone.action == "unmap"
    assert stored(store, "account")[("pax8", "t-cobalt")][0] == "300"
    assert cobalt not in unmapped(store)


def test_my_undo_leaves_an_item_another_user_changed_since_as_they_left_it(store: Store) -> None:
    month(store)
    map_items(store, "account", items("t-foxtrot"), "300", user="ann")
    map_items(store, "account", items("t-foxtrot"), "400", user="bob")

    undone = undo_map_action(store, user="ann")

    assert undone is not None and undone.skipped == 1
    assert stored(store, "account")[("pax8", "t-foxtrot")][0] == "400"
    assert last_map_action(store, "ann") is None  # her action is undone, though it changed nothing
    bob = undo_map_action(store, user="bob")
    assert bob is not None and bob.skipped == 0
    # Bob's undo puts back what his action replaced: ann's map (her undo had left it alone).
    assert stored(store, "account")[("pax8", "t-foxtrot")][0] == "300"


def test_undo_of_a_map_file_puts_back_the_maps_as_they_were(store: Store, tmp_path: Path) -> None:
    month(store)
    before = stored(store, "account")
    file = tmp_path / "accounts.csv"
    file.write_text(
        "vendor,vendor_account_id,psa_account_id,excluded,reason\n"
        "pax8,t-cobalt,400,,\n"  # a map from a file, moved
        "pax8,t-acme,200,,\n"  # an auto-map, moved
        "pax8,t-internal,100,,\n"  # an exclusion, now a map
        "pax8,t-foxtrot,300,,\n"  # new
        "pax8,t-echo,500,,\n"  # as it was
    )
    imported = import_maps(store, file, user="ann")
    assert (imported.added, imported.changed, imported.unchanged) == (1, 3, 1)
    assert FOXTROT not in unmapped(store)

    undone = undo_map_action(store, user="ann")

    assert undone is not None and (undone.action, undone.items) == ("import", 4)
    # Foxtrot's row is deleted again (an empty row would mean "unmapped by hand"); Acme is auto.
    assert stored(store, "account") == before
    assert FOXTROT in unmapped(store)


def import_again(store: Store) -> int:
    imported = import_maps(store, MONTH / "product-map.csv", user="ann")
    return imported.added + imported.changed


@pytest.mark.parametrize(
    "act",
    [
        pytest.param(
            lambda s: map_items(s, "account", items("t-echo"), "500", user="ann").items,
            id="map to the account it maps to",
        ),
        pytest.param(
            lambda s: (
                exclude_items(s, "product", items("TRIAL-COPILOT"), "Trial SKU", user="ann").items
            ),
            id="exclude again with the same reason",
        ),
        pytest.param(
            lambda s: unmap_items(s, "account", items("t-cobalt"), user="ann").items,
            id="unmap what is unmapped by hand",
        ),
        pytest.param(import_again, id="import the same map file"),
    ],
)
def test_an_action_that_changes_nothing_is_not_recorded_nor_offered_for_undo(
    store: Store, act: Callable[[Store], int]
) -> None:
    month(store)
    earlier = unmap_items(store, "account", items("t-cobalt"), user="ann")
    recorded = history(store)

    assert act(store) == 0

    assert history(store) == recorded  # no audit entry, no change to undo
    last = last_map_action(store, user="ann")
    assert last is not None and last.action_id == earlier.action_id
    undo_map_action(store, user="ann")
    assert stored(store, "account")[("pax8", "t-cobalt")][0] == "300"


def state(psa_id: str | None = None, excluded: bool = False, reason: str | None = None) -> dict:
    """Give back a map as the audit log holds it, made by hand."""
    return {"psa_id": psa_id, "excluded": excluded, "reason": reason, "auto": False}


def test_every_action_leaves_an_audit_entry_with_who_and_each_items_before_and_after(
    store: Store, tmp_path: Path
) -> None:
    month(store)
    with store.session() as session:
        seen = session.scalar(sa.select(sa.func.max(AuditEntry.id)))
    file = tmp_path / "more.csv"
    file.write_text("vendor,vendor_account_id,psa_account_id\npax8,t-golf,500\n")

    map_items(store, "account", items("t-foxtrot", "t-echo"), "300", user="ann")
    exclude_items(store, "product", items("CFQ7TTC0RL1"), "Not billed", user="bob")
    accept_suggestions(store, "account", items("t-delta").with_columns(psa_id=pl.lit("200")))
    unmap_items(store, "account", items("t-acme"), user="ann")
    import_maps(store, file, user="ann")
    undo_map_action(store, user="ann")

    with store.session() as session:
        entries = session.scalars(
            sa.select(AuditEntry).where(AuditEntry.id > seen).order_by(AuditEntry.id)
        ).all()
        logged = [
            (e.made_by, e.kind, [(c["id"], c["before"], c["after"]) for c in e.detail["changes"]])
            for e in entries
        ]
        details = [e.detail for e in entries]
    auto_acme = {**state("100"), "auto": True}
    assert logged == [
        (
            "ann",
            "account_maps_map",
            [("t-foxtrot", None, state("300")), ("t-echo", state("500"), state("300"))],
        ),
        ("bob", "product_maps_exclude", [("CFQ7TTC0RL1", None, state(None, True, "Not billed"))]),
        (current_user(), "account_maps_accept", [("t-delta", state("400"), state("200"))]),
        ("ann", "account_maps_unmap", [("t-acme", auto_acme, state())]),
        ("ann", "account_maps_import", [("t-golf", None, state("500"))]),
        ("ann", "account_maps_undo", [("t-golf", state("500"), None)]),
    ]
    assert details[4]["file"] == str(file)
    assert details[5]["undoes"] == details[4]["action_id"]


@pytest.mark.parametrize(
    ("kind", "unmapped_by_hand", "mapped", "excluded"),
    [
        (
            "account",
            "t-cobalt",
            ("pax8", "t-acme", "100", None, None),  # an auto-map is a map like any other
            ("pax8", "t-internal", None, "yes", "Our own tenant"),
        ),
        (
            "product",
            "CFQ7TTC0LH18",
            ("pax8", "CFQ7TTC0LCHC", "M365BP", None, None),
            ("pax8", "TRIAL-COPILOT", None, "yes", "Trial SKU"),
        ),
    ],
)
def test_exported_maps_are_a_map_file_that_imports_back_with_nothing_changed(
    store: Store,
    tmp_path: Path,
    kind: str,
    unmapped_by_hand: str,
    mapped: tuple[str | None, ...],
    excluded: tuple[str | None, ...],
) -> None:
    month(store)
    unmap_items(store, kind, items(unmapped_by_hand), user="ann")

    exported = export_maps(store, kind)

    assert exported.columns == [
        "vendor",
        f"vendor_{kind}_id",
        f"psa_{kind}_id",
        "excluded",
        "reason",
    ]
    rows = {row[1]: row for row in exported.rows()}
    assert unmapped_by_hand not in rows  # a map file says what maps, not what does not
    assert (rows[mapped[1]], rows[excluded[1]]) == (mapped, excluded)
    assert set(exported.get_column("excluded")) == {"yes", None}
    assert len(rows) == len(stored(store, kind)) - 1

    file = tmp_path / f"{kind}-map.csv"
    exported.write_csv(file)
    again = import_maps(store, file, user="ann")

    assert (again.kind, again.added, again.changed, again.unchanged) == (kind, 0, 0, len(rows))
    last = last_map_action(store, user="ann")
    assert last is not None and last.action == "unmap"
    assert (kind, "pax8", unmapped_by_hand) in unmapped(store)


def first_sync(store: Store, tmp_path: Path) -> None:
    """Sync the month on the 1st, with a SentinelOne site for Beta Dental not mapped yet."""
    sentinelone = tmp_path / "usage-sentinelone.csv"
    sentinelone.write_text(
        (MONTH / "usage-sentinelone.csv").read_text()
        + "sentinelone,s-beta,Beta Dental Group,S1-CORE-SKU,Singularity Core,3\n"
    )
    import_csv(store, "psa", "psa", MONTH / "psa.csv", at=FIRST)
    import_csv(store, "pax8", "usage", MONTH / "usage-pax8.csv", at=FIRST)
    import_csv(store, "sentinelone", "usage", sentinelone, at=FIRST)
    import_maps(store, MONTH / "account-map.csv")
    import_maps(store, MONTH / "product-map.csv")


def later_sync(store: Store, tmp_path: Path) -> None:
    """Sync Pax8 again on the 14th: Cobalt renamed, Echo gone, Golf new, Beta on Teams too."""
    lines = (MONTH / "usage-pax8.csv").read_text().replace("Cobalt Law LLP", "Cobalt Legal LLP")
    later = tmp_path / "usage-pax8-later.csv"
    later.write_text(
        "".join(line for line in lines.splitlines(keepends=True) if ",t-echo," not in line)
        + "pax8,pax8,t-beta,beta  dental,CFQ7TTC0RL1,Microsoft Teams Essentials,2,3.40,monthly\n"
        + "pax8,pax8,t-golf,Golf Partners,CFQ7TTC0LCHC,Microsoft 365 Business Premium,1,18.70,monthly\n"
    )
    import_csv(store, "pax8", "usage", later, at=LATER)


def test_unmapped_items_carry_a_suggestion_and_when_they_were_first_seen(
    store: Store, tmp_path: Path
) -> None:
    first_sync(store, tmp_path)
    later_sync(store, tmp_path)

    lists = map_lists(store)

    accounts = {r["vendor_id"]: r for r in lists.accounts.unmapped.iter_rows(named=True)}
    assert set(accounts) == {"s-beta", "t-foxtrot", "t-golf"}
    beta = accounts["s-beta"]
    assert (beta["psa_id"], beta["psa_name"], beta["quantity"]) == ("200", "Beta Dental", 3)
    assert beta["score"] > 0 and beta["reason"]
    assert (accounts["t-foxtrot"]["first_seen"], accounts["t-golf"]["first_seen"]) == (FIRST, LATER)
    products = {r["vendor_id"]: r for r in lists.products.unmapped.iter_rows(named=True)}
    teams = products["CFQ7TTC0RL1"]
    assert (teams["accounts"], teams["quantity"], teams["first_seen"]) == (2, 5, FIRST)
    assert {"psa_id", "psa_name", "score", "reason"} <= set(lists.products.unmapped.columns)

    suggested = lists.accounts.unmapped.filter(pl.col("psa_id").is_not_null())
    accepted = accept_suggestions(store, "account", lists.accounts.unmapped, user="ann")

    assert accepted.items == suggested.height
    left = {i for k, _, i in unmapped(store) if k == "account"}
    assert left == set(accounts) - set(suggested.get_column("vendor_id"))
    assert card(store, "200", "S1-CORE")["card_type"] == "new_revenue"  # Beta's 3 S1 seats


def test_maps_show_the_psa_name_what_is_gone_and_what_was_renamed(
    store: Store, tmp_path: Path
) -> None:
    first_sync(store, tmp_path)
    earlier = map_lists(store)
    later_sync(store, tmp_path)
    map_items(store, "account", items("t-golf"), "300", user="ann")  # Cobalt's second tenant

    lists = map_lists(store)

    def shown(kind_lists: Any) -> dict[tuple[str, str], tuple[Any, ...]]:
        return {
            (r["vendor"], r["vendor_id"]): (r["vendor_name"], r["psa_id"], r["psa_name"], r["gone"])
            for r in kind_lists.mapped.iter_rows(named=True)
        }

    assert shown(earlier.accounts)[("pax8", "t-echo")] == ("Echo Labs", "500", None, False)
    assert shown(lists.accounts) == {
        ("datto", "d-acme"): (None, "100", "Acme Corp", False),  # no Datto data: nothing gone
        ("pax8", "t-acme"): ("Acme Corp", "100", "Acme Corp", False),
        ("pax8", "t-beta"): ("beta  dental", "200", "Beta Dental", False),
        ("pax8", "t-cobalt"): ("Cobalt Legal LLP", "300", "Cobalt Law", False),
        ("pax8", "t-delta"): (None, "400", "Delta Freight", True),
        ("pax8", "t-echo"): (None, "500", None, True),  # 500 has no PSA lines: no name
        ("pax8", "t-golf"): ("Golf Partners", "300", "Cobalt Law", False),
        ("sentinelone", "s-acme"): ("ACME corp", "100", "Acme Corp", False),
        ("sentinelone", "s-cobalt"): ("Cobalt Law (main site)", "300", "Cobalt Law", False),
    }
    assert earlier.renamed.is_empty()
    assert lists.renamed.rows() == [
        ("vendor account", "pax8", "t-cobalt", "Cobalt Law LLP", "Cobalt Legal LLP")
    ]
    # The map is keyed by id: the renamed tenant still counts for Cobalt, beside Golf (6 + 1).
    assert card(store, "300", "M365BP")["vendor_quantity"] == 7
