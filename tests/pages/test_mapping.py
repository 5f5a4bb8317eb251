"""The Mapping page, driven through Streamlit's AppTest on a store of its own (see conftest).

A table's selection is injected as the browser would send it; the browser test clicks it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from store import Store, current_cards, import_csv, open_store
from tests.conftest import ROOT

SCENARIO = ROOT / "tests" / "fixtures" / "mapping"
"""A PSA export and a Pax8 file: two accounts to map by suggestion, one exact name (auto-mapped),
an internal tenant, a SKU named unlike its PSA product and a trial SKU."""


@pytest.fixture
def workspace(workspace_url: str) -> Store:
    """Give the test's store, with the scenario synced."""
    opened = open_store(workspace_url)
    import_csv(opened, "psa", "psa", SCENARIO / "psa.csv")
    import_csv(opened, "pax8", "usage", SCENARIO / "usage-pax8.csv")
    return opened


def mapping_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/mapping.py").run()
    assert not at.exception
    assert not at.error
    return at


def select(at: AppTest, table: str, rows: list[int]) -> None:
    """Select rows of a table (e.g. "account.unmapped") as a click in the browser would."""
    version = at.session_state["mapping.version"] if "mapping.version" in at.session_state else 0  # noqa: SIM401 - no .get()
    at.session_state[f"{table}.{version}"] = {"selection": {"rows": rows, "columns": []}}
    at.run()


def unmapped(at: AppTest, kind: str) -> int:
    label = "Unmapped accounts" if kind == "account" else "Unmapped services"
    return int(next(m.value for m in at.metric if m.label == label).replace(",", ""))


def unmapped_ids(store: Store) -> set[tuple[str, str]]:
    frame = current_cards(store).result.unmapped
    return set(frame.select("kind", "vendor_id").iter_rows())


def unmapped_table(at: AppTest, kind: str):
    """Give back the unmapped table of a tab (as a pandas frame), accounts' or services'."""
    tables = [t.value for t in at.dataframe if {"vendor_id", "score"} <= set(t.value.columns)]
    return tables[0 if kind == "account" else 1]


def button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def test_the_page_lists_the_unmapped_with_suggestions_and_counts(workspace: Store) -> None:
    at = mapping_page()

    assert unmapped(at, "account") == 3  # Windward, HPVH, the internal tenant; Cobalt auto-mapped
    assert [t.label for t in at.tabs] == ["Accounts", "Services"]
    assert any(m.value == "**Unmapped: 3 accounts · 2 services**" for m in at.markdown)
    table = unmapped_table(at, "account")
    suggested = dict(zip(table["vendor_name"], table["psa_name"], strict=True))
    assert suggested["Windward Capital"] == "Windward Capital Partners, LLC"
    assert suggested["HPVH Main"] == "Highland Park Veterinary Hospital"
    assert not isinstance(suggested["Pax8 Internal"], str)  # no suggestion: an empty cell


def test_accepting_a_selected_suggestion_maps_the_account_and_undo_takes_it_back(
    workspace: Store,
) -> None:
    at = mapping_page()
    table = unmapped_table(at, "account")
    select(at, "account.unmapped", [list(table["vendor_name"]).index("Windward Capital")])

    button(at, "account.accept").click().run()

    assert unmapped(at, "account") == 2
    assert ("account", "t-1") not in unmapped_ids(workspace)
    assert at.success[0].value == "Mapped 1 account as suggested."
    undo = button(at, "mapping.undo")
    assert undo.label == "Undo: accept suggestions for 1 account"

    undo.click().run()

    assert unmapped(at, "account") == 3
    assert ("account", "t-1") in unmapped_ids(workspace)


def test_excluding_with_a_reason_and_accepting_every_sure_suggestion_clear_the_accounts(
    workspace: Store,
) -> None:
    at = mapping_page()
    table = unmapped_table(at, "account")
    select(at, "account.unmapped", [list(table["vendor_name"]).index("Pax8 Internal")])
    at.selectbox(key="account.reason").set_value("Internal tenant (our own)").run()
    button(at, "account.exclude").click().run()
    assert unmapped(at, "account") == 2

    at.slider(key="account.floor").set_value(85).run()
    button(at, "account.accept_all").click().run()

    assert unmapped(at, "account") == 0
    assert not {kind for kind, _ in unmapped_ids(workspace)} & {"account"}
    assert at.success[0].value.startswith("Mapped 2 accounts as suggested")


def test_a_sku_picked_by_hand_maps_and_a_trial_sku_is_excluded(workspace: Store) -> None:
    at = mapping_page()
    services = unmapped_table(at, "product")
    names = list(services["vendor_name"])

    select(at, "product.unmapped", [names.index("M365 Business Premium NCE Monthly")])
    at.selectbox(key="product.pick").set_value("M365BP").run()
    button(at, "product.map").click().run()
    services = unmapped_table(at, "product")
    select(at, "product.unmapped", [list(services["vendor_name"]).index("Copilot Chat (trial)")])
    at.selectbox(key="product.reason").set_value("Trial SKU").run()
    button(at, "product.exclude").click().run()

    assert unmapped(at, "product") == 0
    assert {kind for kind, _ in unmapped_ids(workspace)} == {"account"}


def test_an_auto_map_can_be_unmapped_and_stays_unmapped(workspace: Store) -> None:
    at = mapping_page()
    at.segmented_control(key="account.part").set_value("Mapped").run()
    mapped = at.dataframe[0].value
    assert list(mapped["how"]) == ["auto"]  # Cobalt Law, by its exact name

    select(at, "account.mapped", [0])
    button(at, "account.unmap").click().run()

    # Unmapped, although its name still equals the PSA account's exactly.
    assert ("account", "t-3") in unmapped_ids(workspace)
    assert unmapped(at, "account") == 4


def test_an_exclusion_can_be_taken_back_from_the_excluded_list(workspace: Store) -> None:
    at = mapping_page()
    table = unmapped_table(at, "account")
    select(at, "account.unmapped", [list(table["vendor_name"]).index("Pax8 Internal")])
    button(at, "account.exclude").click().run()
    at.segmented_control(key="account.part").set_value("Excluded").run()
    excluded = at.dataframe[0].value
    assert list(excluded["vendor_name"]) == ["Pax8 Internal"]

    select(at, "account.excluded", [0])
    button(at, "account.unexclude").click().run()

    assert ("account", "t-9") in unmapped_ids(workspace)
    assert unmapped(at, "account") == 3
